// The layering rule of src/ (docs/ARCHITECTURE.md, "Layers"), checked on the real import graph.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layers of src/, top first. Data flows one way: a file may import files of its own
 * directory and of any LOWER layer, never of a higher one nor of another directory in the same
 * layer. Why: the engine composes the modules, so a module that reached up into the engine or
 * the CLI (or sideways into another module) would tie what should be reusable, testable alone,
 * to one caller, and make import cycles possible. What two modules both need moves down.
 *  - main.ts: the entry point (sea-main.ts: the single executable's, which compiles main.ts's
 *    bundle with a code cache); cli: argument parsing and output; engine: one function per verb,
 *    composing the modules;
 *  - image, storage, runtime, network, volume, build: the modules (images and registries;
 *    layers and rootfs drivers; container specs and user namespaces; networks; volumes;
 *    Dockerfiles and build contexts), peers that never import each other;
 *  - state: atomic files and locks, which the modules share;
 *  - native: the addon and skiff-helper (spawning it, its namespace options);
 *  - util: pure helpers that import nothing of skiff but errors.ts;
 *  - errors.ts: the error kinds and their exit codes, which every layer throws.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['main.ts', 'sea-main.ts'],
  ['cli'],
  ['engine'],
  ['image', 'storage', 'runtime', 'network', 'volume', 'build'],
  ['state'],
  ['native'],
  ['util'],
  ['errors.ts'],
];

const root = path.resolve(__dirname, '..', '..');

/** The top-level entry of src/ a file belongs to ('engine', 'main.ts'), or undefined outside src/. */
function unitOf(file: string): string | undefined {
  const rel = path.relative(path.join(root, 'src'), path.resolve(root, file));
  return rel.startsWith('..') ? undefined : rel.split(path.sep)[0];
}

function rankOf(unit: string): number {
  const rank = LAYERS.findIndex((layer) => layer.includes(unit));
  if (rank < 0) throw new Error(`src/${unit} is in no layer: add it to LAYERS in ${path.relative(root, __filename)}`);
  return rank;
}

/** Whether an import from one file of src/ to another keeps the rule. */
export function allowed(from: string, to: string): boolean {
  const a = unitOf(from)!, b = unitOf(to)!;
  return a === b || rankOf(b) > rankOf(a);
}

/**
 * Every import between files of src/, as "from -> to" (paths relative to the repository).
 * esbuild's metafile gives the graph the bundle really has, lazy import() and require included;
 * it erases type-only imports first, so the static import and export declarations of every
 * source file are read as well (a type is coupling too).
 */
async function importEdges(): Promise<Set<string>> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [path.join(root, 'src', 'main.ts')], absWorkingDir: root, bundle: true, write: false,
    metafile: true, format: 'cjs', platform: 'node', logLevel: 'silent',
  });
  const edges = new Set<string>();
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    for (const imp of input.imports) {
      if (!imp.external && unitOf(file) && unitOf(imp.path)) edges.add(`${file} -> ${imp.path}`);
    }
  }
  const declaration = /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (const file of sourceFiles(path.join(root, 'src'))) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(declaration)) {
      const target = resolveSource(path.resolve(path.dirname(file), m[1]));
      if (target) edges.add(`${path.relative(root, file)} -> ${path.relative(root, target)}`);
    }
  }
  return edges;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function resolveSource(base: string): string | undefined {
  return [`${base}.ts`, path.join(base, 'index.ts'), base].find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
}

describe('layering (cli -> engine -> image/storage/runtime -> state -> native -> util)', () => {
  it('no file of src/ imports a layer above its own, or another directory of its layer', async () => {
    const edges = await importEdges();
    expect(edges.size).toBeGreaterThan(100); // the graph was really read
    const violations = [...edges].filter((e) => {
      const [from, to] = e.split(' -> ');
      return !allowed(from, to);
    }).sort();
    expect(violations).toEqual([]);
  });

  it('the rule itself: down and within a directory are allowed; up and sideways are not', () => {
    expect(allowed('src/engine/pull.ts', 'src/image/store.ts')).toBe(true);
    expect(allowed('src/state/lock.ts', 'src/native/addon.ts')).toBe(true);
    expect(allowed('src/storage/driver.ts', 'src/storage/layer-store.ts')).toBe(true);
    expect(allowed('src/image/registry/client.ts', 'src/cli/index.ts')).toBe(false);
    expect(allowed('src/storage/driver.ts', 'src/runtime/userns.ts')).toBe(false);
    expect(allowed('src/util/paths.ts', 'src/native/addon.ts')).toBe(false);
  });
});
