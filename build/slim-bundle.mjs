// A command's slim bundle (src/sea-main.ts runs it for that command): src/main.ts bundled with a
// command table (src/cli/command-table.ts) that holds that one command, and with stand-ins for
// the two modules that need every command, src/cli/index.ts and src/cli/help/dispatch.ts (help,
// management nouns, unknown commands, usage errors). The stand-in hands the command line over to
// the full bundle (src/cli/full-bundle.ts) and never settles, so nothing of the slim bundle runs
// after it; it is reached only before a command executes, when nothing was printed or changed.
//
// Why: the full bundle is ~0.95 MB and every command paid for all of it at start: the copy of the
// script into the heap and the code cache's top level (one closure per function of every module).
// `exec`'s slim bundle is ~0.15 MB, its cache half the size: docs/PERFORMANCE.md, "Slim bundles".

import * as fs from 'node:fs';
import * as path from 'node:path';

/** The modules a slim bundle leaves out, relative to the repository. */
export const FULL_ONLY_MODULES = ['src/cli/index.ts', 'src/cli/help/dispatch.ts'];

/**
 * The command table's source with the one entry whose paths are `paths` (as in COMMAND_TABLE);
 * every other entry's line is dropped, so esbuild never sees their import()s. The table is
 * generated one entry a line (build/gen-docs.mjs); anything else fails the build.
 */
export function tableWithOnly(source, paths) {
  const marker = `paths: ${JSON.stringify(paths)},`;
  const lines = source.split('\n');
  const entries = lines.filter((l) => /^\s*\{ paths: .*load: /.test(l));
  const kept = entries.filter((l) => l.includes(marker));
  if (entries.length < 2 || kept.length !== 1) {
    throw new Error(`build/slim-bundle.mjs: src/cli/command-table.ts has ${entries.length} entry lines, ${kept.length} for ${marker} (expected one a line, exactly one for it)`);
  }
  return lines.filter((l) => !entries.includes(l) || l === kept[0]).join('\n');
}

/** The esbuild plugin that makes main.ts's bundle the slim bundle of the command with `paths`. */
export function slimBundle(root, paths) {
  const table = path.join(root, 'src', 'cli', 'command-table.ts');
  const fullOnly = new Set(FULL_ONLY_MODULES.map((m) => path.join(root, m)));
  const handOver = path.join(root, 'src', 'cli', 'full-bundle.ts');
  return {
    name: 'skiff-slim-bundle',
    setup(build) {
      build.onLoad({ filter: /[\\/]command-table\.ts$/ }, (args) =>
        args.path === table ? { contents: tableWithOnly(fs.readFileSync(table, 'utf8'), paths), loader: 'ts' } : undefined,
      );
      build.onLoad({ filter: /[\\/](index|dispatch)\.ts$/ }, (args) => {
        if (!fullOnly.has(args.path)) return undefined;
        return {
          // `await import(...)` of this module resolves through `then`, which never calls back:
          // the slim main stops there while the full bundle runs the same command line.
          contents: `import { runFullBundle } from ${JSON.stringify(handOver)};\nrunFullBundle();\nexport function then() {}\n`,
          loader: 'ts',
          resolveDir: path.dirname(args.path),
        };
      });
    },
  };
}
