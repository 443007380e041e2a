// build/lazy-clipanion.mjs gives the bundle's clipanion a cheaper simplifyMachine (an index
// instead of a scan per transition). It must build the very machine upstream's builds, or the
// command line would parse differently in the executable than in these tests: for every
// command, under every path it is registered with, and for all commands at once (what help and
// the unknown-command path register), both simplifications run on freshly compiled machines
// and the results are compared node by node, transition by transition.
import { createRequire } from 'node:module';
import type { Cli, CommandClass } from 'clipanion';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundledSource } from '../../build/lazy-clipanion.mjs';
import { loadHelpModules, type HelpModules } from './help-bundle';

// the commands and the Cli they register with, from one bundle (clipanion recognises options by
// a symbol of its own module instance)
let m: HelpModules;
beforeAll(async () => {
  m = await loadHelpModules();
});

const requireHere = createRequire(__filename);
const corePath = requireHere.resolve('clipanion/lib/core.js');

type Machine = { nodes: unknown[] };
interface Core {
  makeAnyOfMachine(machines: Machine[]): Machine;
  simplifyMachine(machine: Machine): void;
  makeStateMachine(): Machine;
  makeNode(): unknown;
  injectNode(machine: Machine, node: unknown): number;
  registerDynamic(machine: Machine, from: number, test: unknown, to: number, reducer: unknown): void;
  registerShortcut(machine: Machine, from: number, to: number): void;
  registerStatic(machine: Machine, from: number, test: string, to: number, reducer: unknown): void;
}
interface Builder { compile(): { machine: Machine } }

const upstream = requireHere('clipanion/lib/core.js') as Core;

/** clipanion's core.js as the bundle has it, evaluated as its own CommonJS module. */
function rewrittenCore(): Core {
  const source = bundledSource(corePath);
  expect(source).not.toBe(requireHere('node:fs').readFileSync(corePath, 'utf8')); // the rewrite applied
  const module = { exports: {} as Record<string, unknown> };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- evaluating the bundled source is the point
  new Function('exports', 'require', 'module', source)(module.exports, createRequire(corePath), module);
  return module.exports as unknown as Core;
}
const rewritten = rewrittenCore();

/** The unsimplified machine of `cli`'s commands, compiled afresh (each call: new nodes, new test arrays). */
function compiled(cli: Cli): Machine {
  const builders = (cli as unknown as { builder: { builders: Builder[] } }).builder.builders;
  return upstream.makeAnyOfMachine(builders.map((b) => b.compile().machine));
}

function expectSameMachine(cli: Cli): void {
  const a = compiled(cli);
  const b = compiled(cli);
  upstream.simplifyMachine(a);
  rewritten.simplifyMachine(b);
  expect(b.nodes.length).toBe(a.nodes.length);
  expect(b).toEqual(a);
}

function cliWith(commands: CommandClass[]): Cli {
  const cli = new m.Cli({ binaryName: 'skiff' });
  for (const c of commands) cli.register(c);
  return cli;
}

describe('the bundle\'s simplifyMachine', () => {
  it('builds the same machine as upstream for every command under each of its paths', () => {
    for (const command of m.COMMANDS) {
      for (const path of command.paths ?? []) {
        const one = class extends (command as unknown as new () => object) { static paths = [path]; };
        expectSameMachine(cliWith([one as unknown as CommandClass]));
      }
    }
  });

  it('builds the same machine as upstream with every command registered', () => {
    expectSameMachine(cliWith(m.COMMANDS));
  });

  // skiff's commands never offer the same (test, target) pair through two shortcuts, so the
  // dedupe is checked on a machine made for it: shared test arrays and strings, a cycle of
  // shortcuts, a shortcut to itself, and statics under the same segment.
  it('merges shortcuts, duplicates and cycles as upstream does', () => {
    const build = (): Machine => {
      const c = upstream;
      const mm = c.makeStateMachine();
      const n = Array.from({ length: 5 }, () => c.injectNode(mm, c.makeNode()));
      const shared = ['isOption', '--x'];
      c.registerShortcut(mm, 0, n[0]);
      for (const i of [0, 1, 2]) {
        c.registerDynamic(mm, n[i], shared, n[4], 'pushTrue');
        c.registerDynamic(mm, n[i], 'isNotOptionLike', n[3], 'pushPositional');
        c.registerDynamic(mm, n[i], ['isOption', '--x'], n[4], 'pushTrue'); // equal, not the same array
        c.registerStatic(mm, n[i], '\u0001', 1, ['setSelectedIndex', i]);
      }
      c.registerDynamic(mm, n[2], 'isNotOptionLike', n[4], 'pushExtra');
      c.registerShortcut(mm, n[0], n[1]);
      c.registerShortcut(mm, n[0], n[2]);
      c.registerShortcut(mm, n[1], n[2]);
      c.registerShortcut(mm, n[2], n[1]);
      c.registerShortcut(mm, n[3], n[3]);
      c.registerShortcut(mm, n[3], n[0]);
      return mm;
    };
    const a = build();
    const b = build();
    upstream.simplifyMachine(a);
    rewritten.simplifyMachine(b);
    expect(b).toEqual(a);
  });

  // A node with nothing but one shortcut takes over its target's lists only when upstream's copy
  // would equal them for good: not while the target still has shortcuts to merge (it is on the
  // traversal's stack: upstream copies what it has so far, then that target's shortcuts; a guard
  // kept although this case comes out the same either way), nor when the copy would drop duplicates.
  it('gives upstream\'s result for a target still being merged, and copies one holding duplicates', () => {
    const c = upstream;
    const onStack = (): Machine => {
      const mm = c.makeStateMachine();
      const [t, x, u] = [0, 1, 2].map(() => c.injectNode(mm, c.makeNode()));
      c.registerShortcut(mm, 0, t);
      c.registerDynamic(mm, t, 'isNotOptionLike', x, 'pushPositional'); // visits x before t merges u
      c.registerShortcut(mm, x, t);
      c.registerShortcut(mm, t, u);
      c.registerDynamic(mm, u, ['isOption', '--late'], u, 'pushTrue');
      c.registerStatic(mm, u, '\u0001', 1, 'late');
      return mm;
    };
    const duplicates = (): Machine => {
      const mm = c.makeStateMachine();
      const [t, x] = [0, 1].map(() => c.injectNode(mm, c.makeNode()));
      const test = ['isOption', '--twice'];
      c.registerDynamic(mm, t, test, t, 'pushTrue');
      c.registerDynamic(mm, t, test, t, 'pushTrue');
      c.registerStatic(mm, t, '\u0001', 1, 'a');
      c.registerStatic(mm, t, '\u0001', 1, 'b');
      c.registerShortcut(mm, 0, x);
      c.registerShortcut(mm, x, t);
      return mm;
    };
    for (const build of [onStack, duplicates]) {
      const a = build();
      const b = build();
      upstream.simplifyMachine(a);
      rewritten.simplifyMachine(b);
      expect(b).toEqual(a);
    }
  });
});
