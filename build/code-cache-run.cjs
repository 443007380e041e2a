// Run by the pinned runtime for build/code-cache.mjs:
//   node code-cache-run.cjs WRAPPED_BUNDLE OUT [ARG...]
// compiles the wrapped bundle as src/sea-main.ts does, runs its main with ARG... as the command
// line, and when the process exits writes the V8 code cache of the script: by then it holds
// every function the command compiled. With no ARG the cache is written right after compiling,
// before anything runs (what Node's own SEA code cache holds).
// A slim bundle that hands its command line over to the full one (src/cli/full-bundle.ts) exits
// 86 (HANDED_OVER_EXIT in code-cache.mjs) instead: the build fails on it.
'use strict';
const fs = require('node:fs');
const vm = require('node:vm');

const HANDED_OVER_EXIT = 86;
const [bundle, out, ...args] = process.argv.slice(2);
const script = new vm.Script(fs.readFileSync(bundle, 'latin1'), { filename: bundle });
const write = () => fs.writeFileSync(out, script.createCachedData());
if (args.length === 0) {
  write();
} else {
  process.argv = [process.argv[0], 'skiff', ...args];
  process.on('exit', write);
  // the key src/cli/full-bundle.ts registers sea-main.ts's runner under
  globalThis[Symbol.for('skiff.runFullBundle')] = () => {
    process.stderr.write(`the slim bundle handed \`${args.join(' ')}\` over to the full bundle\n`);
    process.exit(HANDED_OVER_EXIT);
  };
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, require, mod, bundle, __dirname);
}
