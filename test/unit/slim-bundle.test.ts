// A command's slim bundle (build/slim-bundle.mjs, run by src/sea-main.ts): main.ts with that one
// command's modules, which runs its command as the full bundle would, and hands everything that
// needs the list of all commands (help, usage errors) over to the full bundle
// (src/cli/full-bundle.ts) before it printed anything.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lazyClipanion } from '../../build/lazy-clipanion.mjs';
import { FULL_ONLY_MODULES, slimBundle, tableWithOnly } from '../../build/slim-bundle.mjs';

const root = path.resolve(__dirname, '..', '..');
const tableSource = fs.readFileSync(path.join(root, 'src', 'cli', 'command-table.ts'), 'utf8');
const PS_PATHS = [['ps'], ['container', 'ls'], ['container', 'list'], ['container', 'ps']];

describe('tableWithOnly', () => {
  it('keeps the one command whose paths are given, with the rest of the file', () => {
    const slim = tableWithOnly(tableSource, PS_PATHS);
    const entries = slim.split('\n').filter((l) => l.includes('load: async'));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toContain("import('./commands/container/ps')");
    expect(slim).toContain('export const COMMAND_TABLE');
    expect(slim).not.toContain("import('./commands/container/run')");
  });

  it('fails the build for paths that are no command of the table, or a table not one entry a line', () => {
    expect(() => tableWithOnly(tableSource, [['no-such-command']])).toThrow(/exactly one/);
    expect(() => tableWithOnly(tableSource.replace(/\n\s*\{ paths: /g, ' { paths: '), PS_PATHS)).toThrow(/one a line/);
  });
});

describe("ps's slim bundle", () => {
  let tmp: string;
  let bundle: string;
  let code: string;

  beforeAll(async () => {
    const esbuild = await import('esbuild');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-slim-test-'));
    bundle = path.join(tmp, 'ps.cjs');
    await esbuild.build({
      entryPoints: [path.join(root, 'src', 'main.ts')], outfile: bundle, bundle: true, format: 'cjs', platform: 'node',
      target: 'node20', logLevel: 'error', // unminified: esbuild names each module in a comment
      define: { __SKIFF_NATIVE_HASH__: '""', __SKIFF_NATIVE_DIGESTS__: '{}', __SKIFF_SEA_SNAPSHOT__: 'false' },
      plugins: [lazyClipanion, slimBundle(root, PS_PATHS)],
    });
    code = fs.readFileSync(bundle, 'utf8');
  }, 60_000);
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** The bundle run as sea-main.ts runs it, with a full bundle that only says it was asked for. */
  function runSlim(...argv: string[]) {
    const harness = [
      'globalThis[Symbol.for("skiff.runFullBundle")] = () => { process.stdout.write("FULL BUNDLE\\n"); process.exit(0); };',
      `process.argv = [process.argv[0], 'skiff', ...${JSON.stringify(argv)}];`,
      `require(${JSON.stringify(bundle)});`,
    ].join('\n');
    const env = { PATH: process.env.PATH, HOME: tmp, SKIFF_ROOT: path.join(tmp, 'root'), SKIFF_RUNROOT: path.join(tmp, 'run') };
    return spawnSync(process.execPath, ['-e', harness], { env, encoding: 'utf8' });
  }

  it('holds ps and none of the other commands, nor the modules that list them all', () => {
    expect(code).toContain('// src/cli/commands/container/ps.ts');
    expect(code).not.toContain('// src/cli/commands/container/run.ts');
    expect(code).not.toContain('// src/cli/commands/image/pull.ts');
    // those two are stand-ins that hand over (esbuild still names them in a comment)
    expect(FULL_ONLY_MODULES).toEqual(['src/cli/index.ts', 'src/cli/help/dispatch.ts']);
    for (const fn of ['buildCli', 'answerHelp', 'explainParseError']) expect(code).not.toMatch(new RegExp(`function ${fn}\\b`));
    expect(code.match(/runFullBundle\(\);/g)).toHaveLength(2);
  });

  it('runs ps itself', () => {
    const r = runSlim('ps', '-a');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^CONTAINER ID +IMAGE +COMMAND/);
    expect(r.status).toBe(0);
  });

  it('hands help and usage errors over to the full bundle, having printed nothing', () => {
    for (const argv of [['ps', '--help'], ['container', 'ls', '--no-such-flag'], ['ps', 'extra-argument']]) {
      const r = runSlim(...argv);
      expect({ argv, stdout: r.stdout, stderr: r.stderr, status: r.status }).toEqual({ argv, stdout: 'FULL BUNDLE\n', stderr: '', status: 0 });
    }
  });
});
