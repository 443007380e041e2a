// build/shared-esm-interop.mjs: esbuild's CommonJS interop wrapper made once per module instead of
// once per importing file (the copy cost ps -a ~25 ms; docs/PERFORMANCE.md). Bundles are built the
// way build/build.mjs builds skiff's (cjs, platform node, minified) and run in a child Node.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shareEsmInterop } from '../../build/shared-esm-interop.mjs';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-esm-interop-'));
  // Two files import node:fs and are loaded lazily (as skiff's command and engine modules
  // are: esbuild then gives each its own interop wrapper); the entry imports fs's namespace and
  // a CommonJS file of ours.
  // a and b are the interop wrappers themselves (what `import * as` gives; a default import reads
  // `.default` off the same wrapper).
  fs.writeFileSync(path.join(tmp, 'a.ts'), "import * as fs from 'node:fs';\nimport fsd from 'node:fs';\nexport const a = fs;\nexport const ad = fsd;\n");
  fs.writeFileSync(path.join(tmp, 'b.ts'), "import * as fs from 'node:fs';\nexport const b = fs;\n");
  fs.writeFileSync(path.join(tmp, 'lib.cjs'), 'module.exports = { answer: 42 };\n');
  fs.writeFileSync(
    path.join(tmp, 'main.ts'),
    [
      "import * as ns from 'node:fs';",
      "import lib from './lib.cjs';",
      'void (async () => {',
      "  const { a, ad } = await import('./a');",
      "  const { b } = await import('./b');",
      '  console.log(JSON.stringify({ same: a === b, readFile: a.readFileSync === ns.readFileSync && ad.readFileSync === ns.readFileSync && typeof a.readFileSync === "function", answer: lib.answer }));',
      '})();',
    ].join('\n'),
  );
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function bundle(): Promise<string> {
  const esbuild = await import('esbuild');
  const out = await esbuild.build({
    entryPoints: [path.join(tmp, 'main.ts')], bundle: true, format: 'cjs', platform: 'node', target: 'node20', minify: true, write: false, logLevel: 'error',
  });
  return out.outputFiles[0].text;
}

function run(code: string): { same: boolean; readFile: boolean; answer: number } {
  const file = path.join(tmp, `out-${Math.random().toString(36).slice(2)}.cjs`);
  fs.writeFileSync(file, code);
  return JSON.parse(execFileSync(process.execPath, [file], { encoding: 'utf8' })) as { same: boolean; readFile: boolean; answer: number };
}

describe('shareEsmInterop', () => {
  it('gives every lazily loaded file that imports a module the same wrapper, which still reads through to the module', async () => {
    const code = await bundle();
    expect(run(code).same).toBe(false); // esbuild alone: one copy per importing file
    expect(run(shareEsmInterop(code))).toEqual({ same: true, readFile: true, answer: 42 });
  });

  it("fails the build when esbuild's helper is not found in the expected shape", async () => {
    const code = (await bundle()).replace('.__esModule', '.__esModule2');
    expect(() => shareEsmInterop(code)).toThrow(/expected esbuild's __toESM helper once in the bundle, found it 0 times/);
  });
});
