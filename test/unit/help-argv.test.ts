// Command lines read as Docker's flag parser reads them: the first bad flag in pflag's words,
// help flags, and the rewriting of what pflag accepts into what clipanion parses.
import { describe, expect, it } from 'vitest';
import { loadHelpModules } from './help-bundle';

const { Command, Option, t, commandSpec, scanArgs, arityError } = await loadHelpModules();

class Run extends Command {
  static override paths = [['run']];
  env = Option.Array('-e,--env', []);
  name = Option.String('--name');
  hostname = Option.String('-h,--hostname');
  time = Option.String('-t,--time', { validator: t.isNumber() });
  rm = Option.Boolean('--rm', false);
  interactive = Option.Boolean('-i,--interactive', false);
  detach = Option.Boolean('-d,--detach', false);
  tls = Option.String('--tls-verify', { tolerateBoolean: true });
  image = Option.String({ name: 'IMAGE' });
  command = Option.Proxy({ name: 'COMMAND' });
  async execute() { return 0; }
}
class Ps extends Command {
  static override paths = [['ps']];
  all = Option.Boolean('-a,--all', false);
  quiet = Option.Boolean('-q,--quiet', false);
  format = Option.String('--format');
  async execute() { return 0; }
}
class Rm extends Command {
  force = Option.Boolean('-f,--force', false);
  containers = Option.Rest({ required: 1, name: 'CONTAINER' });
  async execute() { return 0; }
}
class Tag extends Command {
  source = Option.String({ name: 'SOURCE' });
  target = Option.String({ name: 'TARGET' });
  async execute() { return 0; }
}
class Images extends Command {
  reference = Option.String({ name: 'REPOSITORY', required: false });
  async execute() { return 0; }
}
const run = commandSpec(Run);
const ps = commandSpec(Ps);

describe('flag errors, in pflag\'s words', () => {
  const cases: [string, ReturnType<typeof commandSpec>, string[], string][] = [
    ['unknown long flag', run, ['--foo', 'img'], 'unknown flag: --foo'],
    ['unknown long flag with a value', run, ['--foo=1', 'img'], 'unknown flag: --foo'],
    ['unknown shorthand', run, ['-Z'], "unknown shorthand flag: 'Z' in -Z"],
    ['unknown shorthand inside a cluster: the rest of the cluster is named', ps, ['-aZq'], "unknown shorthand flag: 'Z' in -Zq"],
    ['a long flag without its value', run, ['--name'], 'flag needs an argument: --name'],
    ['a shorthand without its value', run, ['-h'], "flag needs an argument: 'h' in -h"],
    ['a bad boolean value', ps, ['--all=x'], 'invalid argument "x" for "-a, --all" flag: strconv.ParseBool: parsing "x": invalid syntax'],
    ['a value an int flag cannot hold', run, ['-t', 'soon', 'img'], 'invalid argument "soon" for "-t, --time" flag: strconv.ParseInt: parsing "soon": invalid syntax'],
    ['an int beyond 64 bits', run, ['-t', '9223372036854775808', 'img'], 'invalid argument "9223372036854775808" for "-t, --time" flag: strconv.ParseInt: parsing "9223372036854775808": value out of range'],
  ];
  for (const [what, spec, args, message] of cases) {
    it(what, () => expect(scanArgs(spec, args, spec !== run)).toEqual({ kind: 'flag-error', message }));
  }
  it('the first error wins over a later --help (pflag stops at the first error)', () => {
    expect(scanArgs(ps, ['--foo', '--help'], true).kind).toBe('flag-error');
  });
});

describe('help flags', () => {
  it('--help anywhere among the flags, -h where the command has no -h of its own', () => {
    expect(scanArgs(ps, ['-a', '--help'], true)).toEqual({ kind: 'help' });
    expect(scanArgs(ps, ['-h'], true)).toEqual({ kind: 'help' });
    expect(scanArgs(run, ['--help'], false)).toEqual({ kind: 'help' });
  });
  it('run -h is the hostname, and after IMAGE everything is the container\'s', () => {
    expect(scanArgs(run, ['-h', 'box', 'img'], false).kind).toBe('ok');
    expect(scanArgs(run, ['img', 'sh', '--help'], false)).toMatchObject({ kind: 'ok', positionals: ['img', 'sh', '--help'] });
    expect(scanArgs(run, ['img', '--foo'], false)).toMatchObject({ kind: 'ok', positionals: ['img', '--foo'] });
  });
});

describe('rewriting pflag\'s spellings for clipanion', () => {
  it('values: attached, bound, and starting with a dash', () => {
    expect(scanArgs(run, ['-eA=1', '--name', '-x', '-e', 'B', 'img'], false))
      .toEqual({ kind: 'ok', positionals: ['img'], normalized: ['-e=A=1', '--name=-x', '-e=B', 'img'] });
  });
  it('booleans with a value: true stays, false is negated', () => {
    expect(scanArgs(run, ['--rm=false', '-d=true', '--tls-verify=false', 'img'], false))
      .toEqual({ kind: 'ok', positionals: ['img'], normalized: ['--no-rm', '-d', '--tls-verify=false', 'img'] });
  });
  it('a cluster of switches ending in a flag that takes a value', () => {
    expect(scanArgs(run, ['-it5', 'img'], false)).toEqual({ kind: 'ok', positionals: ['img'], normalized: ['-i', '-t=5', 'img'] });
  });
  it('-- ends the flags', () => {
    expect(scanArgs(ps, ['--', '-a'], true)).toEqual({ kind: 'ok', positionals: ['-a'], normalized: ['--', '-a'] });
  });
});

describe('argument counts, in Docker\'s words', () => {
  it('none, exact, at least, at most', () => {
    expect(arityError(ps, 1)).toEqual({ message: 'accepts no arguments', hint: 'Run' });
    expect(arityError(commandSpec(Tag), 1)).toEqual({ message: 'requires 2 arguments', hint: 'Run' });
    expect(arityError(commandSpec(Rm), 0)).toEqual({ message: 'requires at least 1 argument', hint: 'See' });
    expect(arityError(run, 0)).toEqual({ message: 'requires at least 1 argument', hint: 'See' });
    expect(arityError(commandSpec(Images), 2)).toEqual({ message: 'requires at most 1 argument', hint: 'Run' });
    expect(arityError(commandSpec(Tag), 2)).toBeUndefined();
    expect(arityError(run, 5)).toBeUndefined();
  });
});
