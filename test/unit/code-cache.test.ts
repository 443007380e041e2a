// The single executable's bundles and code caches: which bundle a command line gets
// (src/cli/code-cache.ts, used by src/sea-main.ts), the index the build derives from the command
// table, and the build's runner (build/code-cache-run.cjs), whose cache made after a run must hold
// what that run compiled and be one V8 accepts. The build itself checks the finished executable
// (checkCodeCaches in build/code-cache.mjs); the slim bundles' plugin is in slim-bundle.test.ts.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleIndex, HANDED_OVER_EXIT, makeCodeCaches, WARM_RUNS, wrapBundle } from '../../build/code-cache.mjs';
import { codeCacheAsset, slimBundleAsset, slimBundleFor } from '../../src/cli/code-cache';

const root = path.resolve(__dirname, '..', '..');

describe('slimBundleFor', () => {
  const index = { ps: 'ps', 'container ls': 'ps', exec: 'exec', 'container exec': 'exec', rm: null, 'container rm': null, 'container exists': null };

  it('picks the slim bundle of the command named, by any of its paths, after the global options', () => {
    expect(slimBundleFor(['ps', '-a'], index)).toBe('ps');
    expect(slimBundleFor(['container', 'ls', '--format', 'json'], index)).toBe('ps');
    expect(slimBundleFor(['--root', '/x', '--runroot=/y', 'exec', '-it', 'c1', 'sh'], index)).toBe('exec');
    expect(slimBundleFor(['container', 'exec', 'c1', 'true'], index)).toBe('exec');
  });

  it('leaves every other command line to the full bundle', () => {
    expect(slimBundleFor([], index)).toBeUndefined();
    expect(slimBundleFor(['rm', '-f', 'c1'], index)).toBeUndefined();
    expect(slimBundleFor(['container'], index)).toBeUndefined();
    expect(slimBundleFor(['container', 'rm', 'ps'], index)).toBeUndefined();
    expect(slimBundleFor(['--root'], index)).toBeUndefined(); // a global option without its value
    expect(slimBundleFor(['c1', 'ps'], index)).toBeUndefined();
    expect(slimBundleFor(['--help'], index)).toBeUndefined();
  });

  it('goes by the longest path, as the full command table does, not by the first word alone', () => {
    // `container` alone would begin `container ls`; `container exists` is another command
    expect(slimBundleFor(['container', 'exists', 'c1'], index)).toBeUndefined();
    expect(slimBundleFor(['container', 'exec', 'c1', 'ps'], { ...index, 'container exec c1': null })).toBeUndefined();
  });

  it('names the assets the build stores them under', () => {
    expect(codeCacheAsset('ps')).toBe('code-cache/ps');
    expect(slimBundleAsset('ps')).toBe('slim/ps.js');
  });
});

describe('the build', () => {
  it('indexes every command path, noun forms included: a slim bundle for each cached command, the full bundle for the rest', async () => {
    const esbuild = await import('esbuild');
    const { index, paths } = await bundleIndex(root, esbuild);
    expect(index).toMatchObject({
      ps: 'ps', 'container ls': 'ps', 'container list': 'ps', 'container ps': 'ps',
      exec: 'exec', 'container exec': 'exec', run: 'run', 'container run': 'run',
      images: 'images', 'image ls': 'images', rm: 'rm', 'container rm': 'rm', kill: null, 'container kill': null, 'image inspect': null,
    });
    // every slim bundle is reachable, and its command's table paths are the ones indexed for it
    expect(new Set(Object.values(index).filter((n) => n !== null))).toEqual(new Set(WARM_RUNS.map((w) => w.name)));
    expect(paths.ps).toEqual([['ps'], ['container', 'ls'], ['container', 'list'], ['container', 'ps']]);
  });

  describe('code-cache-run.cjs', () => {
    let tmp: string;
    let caches: Record<string, string>;
    const runtime = process.execPath;
    // A stand-in bundle: main compiles `used` only when given `go`, as a command compiles its own code.
    const bundle = [
      'function used(n) { let s = 0; for (let i = 0; i < n; i++) s += i * 3; return s; }',
      'function unused(n) { return [n, n * 2, n * 3].map((x) => x + 1).join(","); }',
      'if (process.argv[2] === "go") used(10);',
      'process.exit(process.argv[2] === "go" ? 3 : 0);',
    ].join('\n');

    beforeAll(() => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-code-cache-test-'));
      fs.writeFileSync(path.join(tmp, 'bundle.js'), wrapBundle(bundle));
      caches = {};
      for (const [name, argv] of [['cold', []], ['go', ['go']], ['stay', ['stay']]] as const) {
        const out = path.join(tmp, `${name}.v8`);
        try {
          execFileSync(runtime, [path.join(root, 'build', 'code-cache-run.cjs'), path.join(tmp, 'bundle.js'), out, ...argv], { stdio: 'pipe' });
        } catch (e) {
          expect((e as { status?: number }).status).toBe(3); // the run's own exit code, after the cache was written
        }
        caches[name] = out;
      }
    });
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

    /** Whether V8, in a fresh process, takes `cache` for the bundle. */
    function accepted(cache: string): boolean {
      const probe = `const vm=require("vm"),fs=require("fs");
        const s=new vm.Script(fs.readFileSync(process.argv[1],"latin1"),{cachedData:fs.readFileSync(process.argv[2])});
        process.stdout.write(String(!s.cachedDataRejected))`;
      return execFileSync(runtime, ['-e', probe, path.join(tmp, 'bundle.js'), cache], { encoding: 'utf8' }) === 'true';
    }

    it('writes a cache V8 accepts, after the run: larger than the cold one by what the run compiled', () => {
      expect(accepted(caches.cold)).toBe(true);
      expect(accepted(caches.go)).toBe(true);
      expect(fs.statSync(caches.go).size).toBeGreaterThan(fs.statSync(caches.cold).size);
    });

    it('holds the functions the run compiled: a run that called `used` leaves a larger cache than one that did not', () => {
      // V8 serialises the bytecode of compiled functions; one never called keeps only its source range.
      expect(accepted(caches.stay)).toBe(true);
      expect(fs.statSync(caches.go).size).toBeGreaterThan(fs.statSync(caches.stay).size + 50);
    });

    it('makeCodeCaches fails loudly when a run leaves no cache', () => {
      fs.writeFileSync(path.join(tmp, 'broken.js'), 'this is not javascript');
      const runs = [{ name: 'x', wrapped: path.join(tmp, 'broken.js'), argv: ['go'] }];
      expect(() => makeCodeCaches({ runtime, runs, outDir: path.join(tmp, 'out'), nativeEnv: {} })).toThrow(/left no code cache/);
    });

    it('makeCodeCaches fails loudly when a slim bundle hands its command line over to the full bundle', () => {
      // what src/cli/full-bundle.ts's runFullBundle does, in a bundle of its own
      const handsOver = 'globalThis[Symbol.for("skiff.runFullBundle")](); process.exit(0);';
      fs.writeFileSync(path.join(tmp, 'hands-over.js'), wrapBundle(handsOver));
      const runs = [{ name: 'x', wrapped: path.join(tmp, 'hands-over.js'), argv: ['ps'] }];
      expect(() => makeCodeCaches({ runtime, runs, outDir: path.join(tmp, 'out'), nativeEnv: {} })).toThrow(/handed over to the full bundle/);
      expect(HANDED_OVER_EXIT).toBe(86); // the number code-cache-run.cjs exits with
    });
  });
});
