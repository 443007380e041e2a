// The V8 code caches the single executable carries (src/sea-main.ts, src/cli/code-cache.ts): one
// per command below, each made by running the bundle with that command line under the pinned
// runtime (build/code-cache-run.cjs) and taking the cache when it exits, plus the cold one made
// before anything runs, for every other command.
//
// The runs happen at build time, without containers, images or namespaces, in an empty
// throw-away store: `exec` and `run` go as far as their missing container or image, which
// already covers the argument parsing, the engine's context and records, and the error path.
// docs/PERFORMANCE.md, "Code caches made after a run", has what each saves.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';

/** Each cache's name, and the command line whose run fills it. */
export const WARM_RUNS = [
  { name: 'ps', argv: ['ps', '-a'] },
  { name: 'images', argv: ['images'] },
  { name: 'exec', argv: ['exec', 'no-such-container', 'true'] },
  { name: 'run', argv: ['run', '--rm', '--pull', 'never', '--network', 'none', 'no-such-image', 'true'] },
];

/** The bundle as the function sea-main.ts calls: the CommonJS wrapper Node would put around it. */
export function wrapBundle(code) {
  return `(function (exports, require, module, __filename, __dirname) {${code}\n})`;
}

/**
 * Command paths by cache name, read from src/cli/command-table.ts (each command's paths, noun
 * forms included): `ps` also for `container ls`, `container list` and `container ps`.
 */
export async function cacheIndex(root, esbuild) {
  const source = fs.readFileSync(path.join(root, 'src', 'cli', 'command-table.ts'), 'utf8');
  // Only the paths are read: the loaders' import() calls are never made.
  const { code } = await esbuild.transform(source, { loader: 'ts', format: 'cjs' });
  const mod = { exports: {} };
  vm.runInThisContext(`(function (exports, module, require) {${code}\n})`)(mod.exports, mod, () => ({}));
  const table = mod.exports.COMMAND_TABLE;
  const index = {};
  for (const { name, argv } of WARM_RUNS) {
    const entry = table.find((e) => e.paths.some((p) => p.every((w, i) => argv[i] === w)));
    if (!entry) throw new Error(`build/code-cache.mjs: no command in src/cli/command-table.ts for \`${argv.join(' ')}\``);
    for (const p of entry.paths) index[p.join(' ')] = name;
  }
  return index;
}

/**
 * Writes `cold` and each warm run's cache into outDir (NAME.v8), running the wrapped bundle with
 * `runtime`; returns { name: file }. nativeEnv points the bundle at the freshly built addon and
 * helper (outside the SEA it cannot extract them).
 */
export function makeCodeCaches({ runtime, wrapped, outDir, nativeEnv }) {
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const runner = path.join(path.dirname(new URL(import.meta.url).pathname), 'code-cache-run.cjs');
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-code-cache-'));
  const files = {};
  try {
    // A clean environment and an empty store of its own: nothing of the builder's leaks in,
    // nothing of theirs is touched.
    const env = {
      PATH: process.env.PATH, HOME: scratch, LANG: 'C.UTF-8', ...nativeEnv,
      SKIFF_ROOT: path.join(scratch, 'root'), SKIFF_RUNROOT: path.join(scratch, 'run'), XDG_RUNTIME_DIR: path.join(scratch, 'xdg'),
    };
    fs.mkdirSync(env.XDG_RUNTIME_DIR, { mode: 0o700 });
    for (const { name, argv } of [{ name: 'cold', argv: [] }, ...WARM_RUNS]) {
      const out = path.join(outDir, `${name}.v8`);
      try {
        execFileSync(runtime, [runner, wrapped, out, ...argv], { env, cwd: scratch, stdio: 'pipe' });
      } catch {
        // exec and run fail on their missing container and image, as they are meant to
      }
      if (!fs.existsSync(out) || fs.statSync(out).size === 0) throw new Error(`build/code-cache.mjs: \`skiff ${argv.join(' ')}\` left no code cache`);
      files[name] = out;
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return files;
}

/**
 * Runs the finished executable once per cache with SKIFF_CODE_CACHE_REPORT=1 (src/sea-main.ts)
 * and throws unless V8 took the cache meant for that command line: a cache it rejects (another
 * runtime's flags or version) would be compiled over in silence, at full cost.
 */
export function checkCodeCaches(exe) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-code-cache-check-'));
  try {
    const env = { PATH: process.env.PATH, HOME: scratch, SKIFF_CODE_CACHE_REPORT: '1', SKIFF_ROOT: path.join(scratch, 'root'), SKIFF_RUNROOT: path.join(scratch, 'run') };
    for (const { name, argv } of [{ name: 'cold', argv: ['no-such-command'] }, ...WARM_RUNS]) {
      const { stderr } = spawnSync(exe, argv, { env, cwd: scratch, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      const line = (stderr ?? '').split('\n')[0];
      if (line !== `code cache ${name}: accepted`) throw new Error(`\`skiff ${argv.join(' ')}\` did not use code cache ${name}: ${line || 'no report'}`);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
