// An esbuild plugin that keeps clipanion (pinned at 3.2.1 in package.json) from touching the
// process's stdio when it is loaded. As published, evaluating clipanion/lib/advanced/Cli.js
// reads process.stdin, process.stdout and process.stderr for Cli.defaultContext and asks tty for
// the colour depth, and Cli#process() copies that context: every command then pays for a stdin
// stream (fs.ReadStream loads fs/promises and readline), tty and net, ~20 ms of start-up
// (measured with --cpu-prof, docs/PERFORMANCE.md), though `run` never reads stdin nor writes
// stdout itself. Here the default context's stdio and colour depth become getters, copied as
// getters, and tty is required when the colour depth is first asked for. It also gives
// clipanion/lib/core.js a simplifyMachine that builds the same state machine without the
// quadratic scan that cost `run` ~15-20 ms of every start (see REWRITES below).
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
  // simplifyMachine, run on every parse: the same merge of each shortcut's transitions, in the
  // same order, but a dynamic transition's (test, target) pair is looked up in an index instead
  // of by scanning the node's whole list (`some()`). For `run` (a hundred options, each reachable
  // from several nodes) that scan was quadratic: ~15-20 ms of every start. And a node that has
  // nothing of its own but one shortcut (the end of every option's value: back to where options
  // are read) takes over its target's lists instead of copying them, when those can no longer
  // change (the target has no shortcut left to merge) and hold no duplicates the copy would drop:
  // `run`'s machine has ~4,900 dynamic transitions, nearly all such copies, built on every start
  // by cold, interpreted code (~25 ms of CPU). Nothing changes a machine once it is simplified.
  // The machine built is the same (test/unit/clipanion-machine.test.ts compares it with
  // upstream's for every command).
  'lib/core.js': [
    [
      `function simplifyMachine(input) {
    const visited = new Set();
    const process = (node) => {
        if (visited.has(node))
            return;
        visited.add(node);
        const nodeDef = input.nodes[node];
        for (const transitions of Object.values(nodeDef.statics))
            for (const { to } of transitions)
                process(to);
        for (const [, { to }] of nodeDef.dynamics)
            process(to);
        for (const { to } of nodeDef.shortcuts)
            process(to);
        const shortcuts = new Set(nodeDef.shortcuts.map(({ to }) => to));
        while (nodeDef.shortcuts.length > 0) {
            const { to } = nodeDef.shortcuts.shift();
            const toDef = input.nodes[to];
            for (const [segment, transitions] of Object.entries(toDef.statics)) {
                const store = !Object.prototype.hasOwnProperty.call(nodeDef.statics, segment)
                    ? nodeDef.statics[segment] = []
                    : nodeDef.statics[segment];
                for (const transition of transitions) {
                    if (!store.some(({ to }) => transition.to === to)) {
                        store.push(transition);
                    }
                }
            }
            for (const [test, transition] of toDef.dynamics)
                if (!nodeDef.dynamics.some(([otherTest, { to }]) => test === otherTest && transition.to === to))
                    nodeDef.dynamics.push([test, transition]);
            for (const transition of toDef.shortcuts) {
                if (!shortcuts.has(transition.to)) {
                    nodeDef.shortcuts.push(transition);
                    shortcuts.add(transition.to);
                }
            }
        }
    };
    process(constants.NODE_INITIAL);
}`,
      `function simplifyMachine(input) {
    const visited = new Set();
    const duplicateFree = new Map();
    const hasNoDuplicates = (def) => {
        let known = duplicateFree.get(def);
        if (known !== undefined)
            return known;
        known = true;
        const pairs = new Map();
        for (const [test, { to }] of def.dynamics) {
            let targets = pairs.get(test);
            if (targets === undefined)
                pairs.set(test, targets = new Set());
            if (targets.has(to))
                known = false;
            targets.add(to);
        }
        for (const transitions of Object.values(def.statics))
            if (new Set(transitions.map(({ to }) => to)).size !== transitions.length)
                known = false;
        duplicateFree.set(def, known);
        return known;
    };
    const takeOverTarget = (nodeDef) => {
        if (nodeDef.shortcuts.length !== 1 || nodeDef.dynamics.length !== 0 || Object.keys(nodeDef.statics).length !== 0)
            return false;
        const toDef = input.nodes[nodeDef.shortcuts[0].to];
        if (toDef === nodeDef || toDef.shortcuts.length !== 0 || !hasNoDuplicates(toDef))
            return false;
        nodeDef.shortcuts.shift();
        nodeDef.dynamics = toDef.dynamics;
        nodeDef.statics = toDef.statics;
        return true;
    };
    const process = (node) => {
        if (visited.has(node))
            return;
        visited.add(node);
        const nodeDef = input.nodes[node];
        for (const transitions of Object.values(nodeDef.statics))
            for (const { to } of transitions)
                process(to);
        for (const [, { to }] of nodeDef.dynamics)
            process(to);
        for (const { to } of nodeDef.shortcuts)
            process(to);
        if (nodeDef.shortcuts.length === 0)
            return;
        if (takeOverTarget(nodeDef))
            return;
        const dynamicTargets = new Map();
        const addDynamic = (test, to) => {
            let targets = dynamicTargets.get(test);
            if (targets === undefined)
                dynamicTargets.set(test, targets = new Set());
            targets.add(to);
        };
        for (const [test, { to }] of nodeDef.dynamics)
            addDynamic(test, to);
        const shortcuts = new Set(nodeDef.shortcuts.map(({ to }) => to));
        while (nodeDef.shortcuts.length > 0) {
            const { to } = nodeDef.shortcuts.shift();
            const toDef = input.nodes[to];
            for (const [segment, transitions] of Object.entries(toDef.statics)) {
                const store = !Object.prototype.hasOwnProperty.call(nodeDef.statics, segment)
                    ? nodeDef.statics[segment] = []
                    : nodeDef.statics[segment];
                for (const transition of transitions) {
                    if (!store.some(({ to }) => transition.to === to)) {
                        store.push(transition);
                    }
                }
            }
            for (const [test, transition] of toDef.dynamics) {
                if (!dynamicTargets.get(test)?.has(transition.to)) {
                    nodeDef.dynamics.push([test, transition]);
                    addDynamic(test, transition.to);
                }
            }
            for (const transition of toDef.shortcuts) {
                if (!shortcuts.has(transition.to)) {
                    nodeDef.shortcuts.push(transition);
                    shortcuts.add(transition.to);
                }
            }
        }
    };
    process(constants.NODE_INITIAL);
}`,
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

const CLIPANION_FILE = /[\\/]node_modules[\\/]clipanion[\\/]lib[\\/](?:advanced[\\/]Cli|platform[\\/]node|core)\.js$/;

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
