// Start-up is the product: the cheap commands must not evaluate the code of the expensive ones.
// The bundle is built as the real one (test/unit/module-trace.ts records which modules' top-level
// code ran, and which of Node's built-ins were loaded); a future eager import of the registry
// client, the archive code or the seccomp compiler into the path of --version, ps or images
// fails here. Why it matters and what it saves: docs/PERFORMANCE.md, "Loading only what a command needs".
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHelpModules } from './help-bundle';
import { buildTraceBundle, type ModuleTrace } from './module-trace';

// What only pull, push, load, save, import or a container's start need.
const HEAVY = [
  /^node_modules\/(undici|tar-stream|cli-progress|fzstd)\//,
  /^src\/util\/undici\.ts$/,
  /^src\/image\/registry\/(client|resolve|blob-download|credentials|www-authenticate)\.ts$/,
  /^src\/image\/(archive|archive-input|progress)\.ts$/,
  /^src\/runtime\/seccomp\//,
  // storage/layout.ts only names paths and storage/overlay-options.ts only names mount options
  // (rootfs.ts, which lost-container.ts uses): read-only commands may use them (they import
  // nothing heavy).
  /^src\/storage\/(?!(layout|overlay-options)\.ts$)/,
  /^src\/engine\/(pull|push|load|save|import|create|start)\.ts$/,
];
// Built-ins that ps and images do not use: crypto (~10 ms), net and tty (~15 ms), readline.
const HEAVY_BUILTINS = ['crypto', 'net', 'tty', 'readline', 'zlib', 'child_process', 'http', 'https'];

let tmp: string;
let bundle: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-startup-modules-'));
  bundle = path.join(tmp, 'skiff-trace.cjs');
  await buildTraceBundle(bundle);
}, 60_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs the traced bundle on an empty store; stdout and stderr go to a file (a pipe would load net). */
function trace(...args: string[]): ModuleTrace {
  return traceExpecting(0, ...args);
}

/** trace() of a command line that must exit with `code`. */
function traceExpecting(code: number, ...args: string[]): ModuleTrace {
  const out = path.join(tmp, 'trace.json');
  const log = fs.openSync(path.join(tmp, 'output.txt'), 'w');
  try {
    execFileSync(process.execPath, [bundle, '--root', path.join(tmp, 'data'), '--runroot', path.join(tmp, 'run'), ...args], {
      stdio: ['ignore', log, log], env: { PATH: process.env.PATH, HOME: tmp, SKIFF_TRACE_MODULES: out },
    });
    expect(0).toBe(code);
  } catch (e) {
    if ((e as { status?: number }).status !== code) throw e;
  } finally {
    fs.closeSync(log);
  }
  return JSON.parse(fs.readFileSync(out, 'utf8')) as ModuleTrace;
}

const heavyIn = (t: ModuleTrace) => [
  ...t.modules.filter((m) => HEAVY.some((re) => re.test(m))),
  ...t.builtins.filter((b) => HEAVY_BUILTINS.includes(b)),
];

describe('modules evaluated at start-up', () => {
  it('--version runs main and the global options only', () => {
    expect(trace('--version').modules.sort()).toEqual(['src/cli/globals.ts', 'src/cli/output/stdout.ts', 'src/cli/program.ts', 'src/cli/version-flag.ts', 'src/main.ts', 'src/util/reader-gone.ts', 'src/util/version.ts']);
  });

  // typanion: clipanion loads it only to check a schema; skiff's int flags (ps -n, stop -t, run's
  // --stop-timeout...) validate without it (cli/options/int-flag.ts).
  it.each([['ps', '-a', '-n', '3'], ['stop', '-t', '1', 'nosuch'], ['rm', '-t', '1', 'nosuch']])('%s %s %s evaluates no typanion', (...args) => {
    const t = traceExpecting(args[0] === 'ps' ? 0 : 1, ...args);
    expect(t.modules).toContain('src/cli/options/int-flag.ts');
    expect(t.modules.filter((m) => m.includes('node_modules/typanion/'))).toEqual([]);
  });

  it.each(['ps -a', 'images', 'image ls'])('%s loads none of the registry, archive, storage or seccomp code', (command) => {
    const args = command.split(' ');
    const t = trace(...args);
    // the trace sees the command's own engine module: it is not vacuous
    expect(t.modules).toContain(args[0] === 'ps' ? 'src/engine/ps.ts' : 'src/engine/images.ts');
    expect(heavyIn(t)).toEqual([]);
    // only the named command's module (cli/one-command.ts), not every command's through cli/index.ts
    expect(t.modules.filter((m) => m.startsWith('src/cli/commands/'))).toEqual([args[0] === 'ps' ? 'src/cli/commands/container/ps.ts' : 'src/cli/commands/image/images.ts']);
    expect(t.modules).not.toContain('src/cli/index.ts');
    // the table goes out with write(2) on fd 1 (cli/output/stdout.ts): no process.stdout, whose
    // stream modules cost ~4 ms of start-up (stdout is a file here: a SyncWriteStream)
    expect(t.builtins.filter((b) => b === 'stream' || b.startsWith('internal/streams/') || b === 'internal/fs/sync_write_stream')).toEqual([]);
  });
});

describe('what run loads', () => {
  // Loading node:crypto cost run ~11 ms of CPU, node:net ~6 ms (docs/PERFORMANCE.md, "Issue 9's
  // start-up targets"): ids and names come from util/random.ts, the monitor's reports are read
  // with fs.read. A run that fails on its image has already evaluated create, start and every
  // module they import, so a top-level import of either anywhere on run's path fails here.
  it('run evaluates create and start without node:crypto or node:net', () => {
    const t = traceExpecting(125, 'run', '--pull', 'never', '--network', 'none', 'no-such-image', 'true');
    expect(t.modules).toContain('src/engine/create.ts');
    expect(t.modules).toContain('src/engine/start.ts');
    expect(t.builtins.filter((b) => ['crypto', 'net', 'tty', 'child_process'].includes(b))).toEqual([]);
  });
});

describe('what clipanion compiles on each start', () => {
  // Its state machine grows with every registered path: for run's 20-odd options a second path
  // (container run) was ~10 ms of CPU. The command keeps all its paths for help and gen-docs.
  it('a command line naming a command registers that command under the path typed only', async () => {
    const { buildCli, COMMANDS } = await loadHelpModules();
    expect(buildCli(['container', 'run', 'img']).definitions().map((d) => d.path)).toEqual(['skiff container run']);
    expect(buildCli(['run', 'img']).definitions().map((d) => d.path)).toEqual(['skiff run']);
    expect(buildCli(['image', 'ls']).definitions().map((d) => d.path)).toEqual(['skiff image ls']);
    expect(COMMANDS.find((c) => c.name === 'RunCommand')?.paths).toEqual([['run'], ['container', 'run']]);
  });
});
