// The CLI modules for unit tests, bundled by esbuild as build/gen-docs.mjs does: clipanion's
// ES module build imports a directory, which Node's ESM loader (and so vitest) refuses, while
// its CommonJS build, which the real bundle uses, loads fine.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const src = (p: string) => JSON.stringify(path.join(root, 'src', p));

export type HelpModules = typeof import('../../src/cli/index') & typeof import('../../src/cli/help/render')
  & typeof import('../../src/cli/help/spec') & typeof import('../../src/cli/help/argv') & typeof import('../../src/cli/nouns')
  & typeof import('../../src/cli/program') & { Command: typeof import('clipanion').Command; Option: typeof import('clipanion').Option; Cli: typeof import('clipanion').Cli;
    t: typeof import('typanion') };

export async function loadHelpModules(): Promise<HelpModules> {
  const esbuild = await import('esbuild');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-help-test-'));
  try {
    const out = path.join(tmp, 'help.cjs');
    await esbuild.build({
      stdin: {
        contents: [
          `export * from ${src('cli/index.ts')};`, `export * from ${src('cli/help/render.ts')};`,
          `export * from ${src('cli/help/spec.ts')};`, `export * from ${src('cli/help/argv.ts')};`,
          `export * from ${src('cli/nouns.ts')};`, `export * from ${src('cli/program.ts')};`,
          `export { Command, Option, Cli } from 'clipanion';`, `export * as t from 'typanion';`,
        ].join('\n'),
        resolveDir: root,
        loader: 'ts',
      },
      outfile: out, bundle: true, format: 'cjs', platform: 'node', target: 'node20',
      define: { __SKIFF_NATIVE_HASH__: '""' }, logLevel: 'error',
    });
    return createRequire(out)(out) as HelpModules;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
