import { describe, expect, it } from 'vitest';
import { resolveArgs } from '../../src/engine/create';

// Docker (daemon merge + CLI): the image Cmd is used only when neither a command nor an
// --entrypoint is given; --entrypoint replaces the image Entrypoint and resets its Cmd;
// --entrypoint '' clears the Entrypoint.
describe('resolveArgs', () => {
  const both = { Entrypoint: ['/entry.sh', '--flag'], Cmd: ['serve', '--port', '80'] };

  it('image Entrypoint + Cmd', () => {
    expect(resolveArgs(both, undefined, [])).toEqual(['/entry.sh', '--flag', 'serve', '--port', '80']);
  });

  it('image Cmd only', () => {
    expect(resolveArgs({ Cmd: ['sh', '-c', 'echo hi'] }, undefined, [])).toEqual(['sh', '-c', 'echo hi']);
  });

  it('image Entrypoint only', () => {
    expect(resolveArgs({ Entrypoint: ['/bin/app'] }, undefined, [])).toEqual(['/bin/app']);
  });

  it('a command replaces the image Cmd and keeps its Entrypoint', () => {
    expect(resolveArgs(both, undefined, ['version'])).toEqual(['/entry.sh', '--flag', 'version']);
    expect(resolveArgs({ Cmd: ['sh'] }, undefined, ['echo', 'x'])).toEqual(['echo', 'x']);
  });

  it('--entrypoint replaces the Entrypoint and resets the image Cmd', () => {
    expect(resolveArgs(both, '/bin/sh', [])).toEqual(['/bin/sh']);
    expect(resolveArgs({ Cmd: ['serve'] }, '/bin/other', [])).toEqual(['/bin/other']);
  });

  it('--entrypoint with a command', () => {
    expect(resolveArgs(both, '/bin/sh', ['-c', 'id'])).toEqual(['/bin/sh', '-c', 'id']);
  });

  it('--entrypoint is one argv element, never split on spaces', () => {
    expect(resolveArgs({}, '/bin/my app', ['x'])).toEqual(['/bin/my app', 'x']);
  });

  it("--entrypoint '' clears the Entrypoint and the image Cmd", () => {
    expect(resolveArgs(both, '', [])).toEqual([]);
    expect(resolveArgs(both, '', ['echo', 'hi'])).toEqual(['echo', 'hi']);
  });

  it('nothing at all gives no arguments', () => {
    expect(resolveArgs({}, undefined, [])).toEqual([]);
    expect(resolveArgs({ Entrypoint: [], Cmd: [] }, undefined, [])).toEqual([]);
  });

  it('does not alias the image config arrays', () => {
    const cfg = { Entrypoint: ['/e'], Cmd: ['c'] };
    const out = resolveArgs(cfg, undefined, []);
    out.push('mutated');
    expect(cfg).toEqual({ Entrypoint: ['/e'], Cmd: ['c'] });
  });
});
