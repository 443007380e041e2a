// main.ts parses a command line with the one command it names (src/cli/one-command.ts, loading
// that command's module from the generated src/cli/command-table.ts) and falls back to every
// command (src/cli/index.ts) for help, nouns and errors. Both ways must give the same command.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..', '..', '..');
const src = (p: string) => JSON.stringify(path.join(root, 'src', p));

type Mods = typeof import('../../../src/cli/one-command') & typeof import('../../../src/cli/command-table')
  & typeof import('../../../src/cli/index') & { SkiffCommand: typeof import('../../../src/cli/base').SkiffCommand };
let m: Mods;
let tmp: string;

// bundled as the real executable is (clipanion's ES module build cannot be loaded by vitest)
beforeAll(async () => {
  const esbuild = await import('esbuild');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-one-command-'));
  const out = path.join(tmp, 'cli.cjs');
  await esbuild.build({
    stdin: {
      contents: [`export * from ${src('cli/one-command.ts')};`, `export * from ${src('cli/command-table.ts')};`,
        `export { buildCli, COMMANDS } from ${src('cli/index.ts')};`, `export { SkiffCommand } from ${src('cli/base.ts')};`].join('\n'),
      resolveDir: root, loader: 'ts',
    },
    outfile: out, bundle: true, format: 'cjs', platform: 'node', target: 'node20',
    define: { __SKIFF_NATIVE_HASH__: '""', __SKIFF_NATIVE_DIGESTS__: '{}' }, logLevel: 'error',
  });
  m = createRequire(out)(out) as Mods;
}, 60_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A parsed command's class, typed path and option values (what execute() reads). */
function shape(command: object): unknown {
  const values = Object.fromEntries(Object.entries(command).filter(([k]) => k !== 'context' && k !== 'cli'));
  return { cls: Object.getPrototypeOf(Object.getPrototypeOf(command)).constructor.name, values: JSON.parse(JSON.stringify(values)) };
}

describe('parsing with the named command only', () => {
  it('the table lists every command of index.ts, in order, with its paths and its own class', async () => {
    expect(m.COMMAND_TABLE.map((e) => e.paths), 'src/cli/command-table.ts is stale: run npm run gen-docs').toEqual(m.COMMANDS.map((c) => c.paths));
    for (const [i, e] of m.COMMAND_TABLE.entries()) expect(await e.load()).toBe(m.COMMANDS[i]);
  });

  it.each([
    ['run', '--rm', '-e', 'A=1', '--name', 'web', '-it', 'img', 'sh', '-c', 'echo hi'],
    ['container', 'run', '--network', 'none', 'img', 'true'],
    ['create', '--hostname', 'h', '--label', 'a=b', '-e', 'X', 'img'],
    ['ps', '-a', '--format', 'json'],
    ['container', 'ls', '-q'],
    ['image', 'ls'],
    ['rm', '-f', 'a', 'b'],
    ['exec', '-it', 'c1', 'sh'],
    ['stop', '-t', '3', 'c1'],
  ])('%s: the same command, path and values as with every command', async (...argv) => {
    const named = await m.parseNamedCommand(argv);
    expect(named).toBeInstanceOf(m.SkiffCommand);
    const full = m.buildCli(argv).process(argv);
    expect(shape(named!)).toEqual(shape(full));
    expect(named!.path).toEqual(full.path);
  });

  it.each([['buidl'], ['image'], ['image', 'nosuchverb'], ['run', '--no-such-flag', 'img'], ['run'], []])(
    '%s: not answered here (the full way explains it)', async (...argv) => {
      const named = await m.parseNamedCommand(argv);
      expect(named === undefined || !(named instanceof m.SkiffCommand)).toBe(true);
    });
});
