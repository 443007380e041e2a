// The single executable compiles the bundle as a vm.Script, which has no dynamic-import
// callback: an `import('node:fs')` that esbuild leaves in the bundle (it keeps import() of
// externals, and Node's builtins are external) throws "A dynamic import callback was not
// specified" at run time, on the one path that reaches it (build from a tarball did, until
// this test). Builtins loaded late go through process.getBuiltinModule instead.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';

const SRC = path.resolve(__dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** `import('node:x')` used as a value (awaited, or .then), not as a type (`import('node:x').T`, `typeof import(...)`). */
function dynamicBuiltinImports(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/import\(\s*['"](node:[^'"]+)['"]\s*\)/g)) {
    const before = text.slice(Math.max(0, m.index - 12), m.index);
    const after = text.slice(m.index + m[0].length, m.index + m[0].length + 6);
    if (/await\s*$/.test(before) || /^\s*\.then/.test(after)) found.push(m[1]);
  }
  return found;
}

describe('no dynamic import() of a Node builtin in src/', () => {
  test('the detector sees the forms that fail and passes the type-only ones', () => {
    expect(dynamicBuiltinImports("const { x } = await import('node:fs');")).toEqual(['node:fs']);
    expect(dynamicBuiltinImports("new (await import('node:stream')).Writable()")).toEqual(['node:stream']);
    expect(dynamicBuiltinImports("import('node:zlib').then((z) => z)")).toEqual(['node:zlib']);
    expect(dynamicBuiltinImports("let r: import('node:stream').Readable; typeof import('node:sea')")).toEqual([]);
  });

  test('every file of src/ loads late builtins through process.getBuiltinModule', () => {
    const offenders = sourceFiles(SRC).flatMap((f) =>
      dynamicBuiltinImports(fs.readFileSync(f, 'utf8')).map((b) => `${path.relative(SRC, f)}: import('${b}')`));
    expect(offenders).toEqual([]);
  });
});
