// The single executable's code caches: which one a command line gets (src/cli/code-cache.ts, used
// by src/sea-main.ts), the index the build derives from the command table, and the build's
// runner (build/code-cache-run.cjs), whose cache made after a run must hold what that run
// compiled and be one V8 accepts. The build itself checks the finished executable's caches
// (checkCodeCaches in build/code-cache.mjs).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheIndex, makeCodeCaches, WARM_RUNS, wrapBundle } from '../../build/code-cache.mjs';
import { COLD_CODE_CACHE, codeCacheAsset, codeCacheFor } from '../../src/cli/code-cache';

const root = path.resolve(__dirname, '..', '..');

describe('codeCacheFor', () => {
  const index = { ps: 'ps', 'container ls': 'ps', exec: 'exec', 'container exec': 'exec' };

  it('picks the cache of the command named, by any of its paths, after the global options', () => {
    expect(codeCacheFor(['ps', '-a'], index)).toBe('ps');
    expect(codeCacheFor(['container', 'ls', '--format', 'json'], index)).toBe('ps');
    expect(codeCacheFor(['--root', '/x', '--runroot=/y', 'exec', '-it', 'c1', 'sh'], index)).toBe('exec');
    expect(codeCacheFor(['container', 'exec', 'c1', 'true'], index)).toBe('exec');
  });

  it('falls back to the cold cache for every other command line', () => {
    expect(codeCacheFor([], index)).toBe(COLD_CODE_CACHE);
    expect(codeCacheFor(['rm', '-f', 'c1'], index)).toBe(COLD_CODE_CACHE);
    expect(codeCacheFor(['container'], index)).toBe(COLD_CODE_CACHE);
    expect(codeCacheFor(['container', 'rm', 'ps'], index)).toBe(COLD_CODE_CACHE);
    expect(codeCacheFor(['--root'], index)).toBe(COLD_CODE_CACHE); // a global option without its value
    expect(codeCacheFor(['c1', 'ps'], index)).toBe(COLD_CODE_CACHE);
  });

  it('names the asset the build stores it under', () => {
    expect(codeCacheAsset('ps')).toBe('code-cache/ps');
  });
});

describe('the build', () => {
  it('indexes every path of each cached command, noun forms included', async () => {
    const esbuild = await import('esbuild');
    const index = await cacheIndex(root, esbuild);
    expect(index).toMatchObject({
      ps: 'ps', 'container ls': 'ps', 'container list': 'ps', 'container ps': 'ps',
      exec: 'exec', 'container exec': 'exec', run: 'run', 'container run': 'run',
      images: 'images', 'image ls': 'images',
    });
    // every cache but the cold one is reachable
    expect(new Set(Object.values(index))).toEqual(new Set(WARM_RUNS.map((w) => w.name)));
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
      expect(() => makeCodeCaches({ runtime, wrapped: path.join(tmp, 'broken.js'), outDir: path.join(tmp, 'out'), nativeEnv: {} })).toThrow(/left no code cache/);
    });
  });
});
