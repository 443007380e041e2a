// skiff's bundle as build/build.mjs makes it (esbuild, CJS, one file), with one line added at
// the top of every module that records the module's path when its top-level code runs. Run
// with SKIFF_TRACE_MODULES=FILE, the bundle writes to FILE on exit { modules, builtins }: the
// modules (repository-relative paths, in order of evaluation) and Node's built-in modules
// loaded. test/unit/startup-modules.test.ts checks with it what each command loads.
import * as path from 'node:path';
import type { Plugin } from 'esbuild';
import { bundledSource } from '../../build/lazy-clipanion.mjs';

const root = path.resolve(__dirname, '..', '..');

// Also lists the built-in modules (crypto, net, tty, ...) that were loaded after the bundle began.
const RECORDER = [
  'globalThis.__skiffModuleEvaluated = (p) => (globalThis.__skiffModules ??= []).push(p);',
  'const __skiffBuiltinsBefore = new Set(process.moduleLoadList);',
  "process.on('exit', () => { const f = process.env.SKIFF_TRACE_MODULES; if (!f) return;",
  "  const builtins = process.moduleLoadList.filter((m) => !__skiffBuiltinsBefore.has(m) && m.startsWith('NativeModule '))",
  "    .map((m) => m.slice('NativeModule '.length));",
  "  require('node:fs').writeFileSync(f, JSON.stringify({ modules: globalThis.__skiffModules ?? [], builtins })); });",
].join('\n');

// A leading 'use strict' (or other directive prologue) must stay first to keep its meaning.
const DIRECTIVES = /^(?:#![^\n]*\n)?(?:\s*(?:'[^']*'|"[^"]*");?)*/;

const tracePlugin: Plugin = {
  name: 'trace-module-evaluation',
  setup(build) {
    build.onLoad({ filter: /\.(?:[cm]?js|ts)$/ }, (args) => {
      const source = bundledSource(args.path); // with the real bundle's rewrites
      const rel = path.relative(root, args.path);
      const mark = `globalThis.__skiffModuleEvaluated(${JSON.stringify(rel)});\n`;
      const prologue = DIRECTIVES.exec(source)?.[0] ?? '';
      const loader = args.path.endsWith('.ts') ? 'ts' : 'js';
      return { contents: `${prologue}\n${mark}${source.slice(prologue.length)}`, loader };
    });
  },
};

/** Writes the traced bundle to `outfile` (unminified, so a reader can find its way in it). */
/** What one run of the traced bundle evaluated. */
export interface ModuleTrace { modules: string[]; builtins: string[] }

export async function buildTraceBundle(outfile: string): Promise<void> {
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [path.join(root, 'src', 'main.ts')],
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    banner: { js: RECORDER },
    define: { __SKIFF_NATIVE_HASH__: '"trace"', __SKIFF_NATIVE_DIGESTS__: '{}' },
    plugins: [tracePlugin],
    logLevel: 'error',
  });
}
