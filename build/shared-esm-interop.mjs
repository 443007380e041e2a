// esbuild's CommonJS interop (`__toESM`) builds a new wrapper object for every file that
// default-imports a CommonJS module (`import fs from 'node:fs'`: 79 such imports in src/), copying
// a getter for each of the module's properties: fs alone has ~100. `ps -a` spent ~7.6 ms in that
// copy (`--cpu-prof`, self time of `__copyProps`), a pull ~16 ms. The wrappers are only read
// (esbuild's code never writes to them) and forward every read to the module itself, so one
// wrapper per module serves every importer: this rewrites the minified helper to keep it in a
// WeakMap. The build fails if the helper's shape changes (an esbuild update), like
// build/lazy-clipanion.mjs. Measured in docs/PERFORMANCE.md ("The SEA's start-up").

// var D=(t,e,A)=>(A=t!=null?vR(HR(t)):{},PR(e||!t||!t.__esModule?vc(A,"default",{value:t,enumerable:!0}):A,t));
const TO_ESM =
  /var ([\w$]+)=\(([\w$]),([\w$]),([\w$])\)=>\(\4=\2!=null\?[\w$]+\([\w$]+\(\2\)\):\{\},[\w$]+\(\3\|\|!\2\|\|!\2\.__esModule\?[\w$]+\(\4,"default",\{value:\2,enumerable:!0\}\):\4,\2\)\);/g;

/** The bundle's text with esbuild's __toESM made to build one wrapper per (module, mode). */
export function shareEsmInterop(code) {
  const found = [...code.matchAll(TO_ESM)];
  if (found.length !== 1) {
    throw new Error(`build/shared-esm-interop.mjs: expected esbuild's __toESM helper once in the bundle, found it ${found.length} times (esbuild changed it?)`);
  }
  const [helper, name] = found[0];
  const original = `${name}$copy`;
  const shared =
    `${helper.replace(`var ${name}=`, `var ${original}=`)}` +
    `var ${name}$wrappers=new WeakMap,${name}=(t,e)=>{if(t==null||typeof t!="object"&&typeof t!="function")return ${original}(t,e);` +
    `let w=${name}$wrappers.get(t);w||${name}$wrappers.set(t,w=[]);return w[e?1:0]??=${original}(t,e)};`;
  return code.replace(helper, shared);
}
