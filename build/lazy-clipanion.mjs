// An esbuild plugin that keeps clipanion (pinned at 3.2.1 in package.json) from touching the
// process's stdio when it is loaded. As published, evaluating clipanion/lib/advanced/Cli.js
// reads process.stdin, process.stdout and process.stderr for Cli.defaultContext and asks tty for
// the colour depth, and Cli#process() copies that context: every command then pays for a stdin
// stream (fs.ReadStream loads fs/promises and readline), tty and net, ~20 ms of start-up
// (measured with --cpu-prof, docs/PERFORMANCE.md), though `run` never reads stdin nor writes
// stdout itself. Here the default context's stdio and colour depth become getters, copied as
// getters, and tty is required when the colour depth is first asked for.
// Every rewrite must match exactly: a clipanion that differs fails the build rather than
// silently losing the rewrite.

import * as fs from 'node:fs';

const REWRITES = {
  'lib/advanced/Cli.js': [
    [
      `Cli.defaultContext = {
    env: process.env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    colorDepth: platform.getDefaultColorDepth(),
};`,
      `Cli.defaultContext = {
    env: process.env,
    get stdin() { return process.stdin; },
    get stdout() { return process.stdout; },
    get stderr() { return process.stderr; },
    get colorDepth() { return platform.getDefaultColorDepth(); },
};`,
    ],
    // twice: in process() and in run()
    [
      `const context = {
            ...Cli.defaultContext,
            ...userContext,
        };`,
      `const context = Object.defineProperties({}, {
            ...Object.getOwnPropertyDescriptors(Cli.defaultContext),
            ...Object.getOwnPropertyDescriptors(userContext !== null && userContext !== void 0 ? userContext : {}),
        });`,
      2,
    ],
  ],
  'lib/platform/node.js': [
    [`var tty = require('tty');\n`, ''],
    [
      `var tty__default = /*#__PURE__*/_interopDefaultLegacy(tty);`,
      `var tty__default = { get default() { return require('tty'); } };`,
    ],
  ],
};

const CLIPANION_FILE = /[\\/]node_modules[\\/]clipanion[\\/]lib[\\/](?:advanced[\\/]Cli|platform[\\/]node)\.js$/;

/** The source of `file` as skiff bundles it: rewritten if it is one of the clipanion files above. */
export function bundledSource(file) {
  let text = fs.readFileSync(file, 'utf8');
  if (!CLIPANION_FILE.test(file)) return text;
  const key = Object.keys(REWRITES).find((k) => file.replace(/\\/g, '/').endsWith(`/clipanion/${k}`));
  for (const [from, to, times = 1] of REWRITES[key]) {
    const found = text.split(from).length - 1;
    if (found !== times) {
      throw new Error(`lazy-clipanion: expected ${times} of ${JSON.stringify(from.slice(0, 40))}... in clipanion/${key}, found ${found}: update build/lazy-clipanion.mjs for this clipanion`);
    }
    text = text.split(from).join(to);
  }
  return text;
}

/** @type {import('esbuild').Plugin} */
export const lazyClipanion = {
  name: 'lazy-clipanion',
  setup(build) {
    build.onLoad({ filter: CLIPANION_FILE }, (args) => ({ contents: bundledSource(args.path), loader: 'js' }));
  },
};
