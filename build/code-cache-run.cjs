// Run by the pinned runtime for build/code-cache.mjs:
//   node code-cache-run.cjs WRAPPED_BUNDLE OUT [ARG...]
// compiles the wrapped bundle as src/sea-main.ts does, runs its main with ARG... as the command
// line, and when the process exits writes the V8 code cache of the script: by then it holds
// every function the command compiled. With no ARG the cache is written right after compiling,
// before anything runs (what Node's own SEA code cache holds).
'use strict';
const fs = require('node:fs');
const vm = require('node:vm');

const [bundle, out, ...args] = process.argv.slice(2);
const script = new vm.Script(fs.readFileSync(bundle, 'latin1'), { filename: bundle });
const write = () => fs.writeFileSync(out, script.createCachedData());
if (args.length === 0) {
  write();
} else {
  process.argv = [process.argv[0], 'skiff', ...args];
  process.on('exit', write);
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, require, mod, bundle, __dirname);
}
