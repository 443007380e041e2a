// `--version` is answered by the single executable's main script before the bundle is compiled
// (src/sea-main.ts) and by main.ts outside it, both through src/cli/version-flag.ts.
import { describe, expect, it } from 'vitest';
import { versionLine, versionLineOf } from '../../../src/cli/version-flag';
import { VERSION } from '../../../src/util/version';

describe('versionLineOf', () => {
  it('answers --version and -v, after well-formed global options', () => {
    expect(versionLineOf(['--version'])).toBe(`skiff version ${VERSION}\n`);
    expect(versionLineOf(['-v'])).toBe(`skiff version ${VERSION}\n`);
    expect(versionLineOf(['--root', '/x', '--log-level=debug', '--version'])).toBe(`skiff version ${VERSION}\n`);
  });

  it('leaves every other command line to main.ts, global option errors included', () => {
    expect(versionLineOf([])).toBeUndefined();
    expect(versionLineOf(['version'])).toBeUndefined();
    expect(versionLineOf(['--version', 'extra'])).toBeUndefined();
    expect(versionLineOf(['ps', '--version'])).toBeUndefined();
    expect(versionLineOf(['--root'])).toBeUndefined(); // no value: main.ts says so
    expect(versionLineOf(['--log-level', 'loud', '--version'])).toBeUndefined(); // main.ts: "Unable to parse logging level"
  });

  it('versionLine looks at what follows the global options only', () => {
    expect(versionLine(['--version'])).toBe(`skiff version ${VERSION}\n`);
    expect(versionLine(['--root', '/x', '--version'])).toBeUndefined();
  });
});
