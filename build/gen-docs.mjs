#!/usr/bin/env node
// npm run gen-docs: shell completions (bash, zsh, fish) and man pages, generated from the
// clipanion command definitions in src/cli/index.ts (buildCli), read through
// src/cli/help/spec.ts (value types, defaults, argument synopsis: the same as --help shows),
// and the global options in src/cli/globals.ts (GLOBAL_OPTIONS), so the command line is
// described in one place only.
//
//   node build/gen-docs.mjs [--out DIR]     (default: the repository; writes DIR/completions, DIR/man
//                                            and DIR/src/cli/command-table.ts)
//
// Output is deterministic (no dates), so test/unit/docs-in-sync.test.ts can compare it with the
// committed files.

import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------------------------------------
// Load the command definitions: bundle the CLI with esbuild into a private temp dir, require it.

async function loadCli() {
  const esbuild = await import('esbuild');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-gen-docs-'));
  try {
    const hasGlobals = fs.existsSync(path.join(root, 'src', 'cli', 'globals.ts'));
    const entry = [
      `export { buildCli, COMMANDS } from ${JSON.stringify(path.join(root, 'src', 'cli', 'index.ts'))};`,
      `export { commandSpec, argsSynopsis } from ${JSON.stringify(path.join(root, 'src', 'cli', 'help', 'spec.ts'))};`,
      hasGlobals
        ? `export { GLOBAL_OPTIONS } from ${JSON.stringify(path.join(root, 'src', 'cli', 'globals.ts'))};`
        : 'export const GLOBAL_OPTIONS = [];',
    ].join('\n');
    const out = path.join(tmp, 'cli.cjs');
    await esbuild.build({
      stdin: { contents: entry, resolveDir: root, loader: 'ts' },
      outfile: out,
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      define: { __SKIFF_NATIVE_HASH__: '""', __SKIFF_NATIVE_DIGESTS__: '{}' },
      keepNames: true, // the command classes' names, which the command table maps to their modules
      logLevel: 'error',
    });
    return createRequire(out)(out);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Model: commands with all their paths (aliases), options, groups.

const clean = (s) =>
  (s ?? '')
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n')
    .trim();

// One option as src/cli/help/spec.ts reads it (the same value types as `skiff VERB --help`).
function optionModel(o) {
  return {
    flags: o.names,
    short: o.short ? [o.short] : [],
    long: o.long,
    arity: o.takesValue ? 1 : 0,
    type: o.type,
    description: clean(o.description).replace(/\s*\n\s*/g, ' '),
    defaultText: o.defaultText,
  };
}

function buildModel(mod) {
  const cli = mod.buildCli();
  const defs = cli.definitions();
  // definitions() gives each command's first path only; aliases come from the command classes
  // (same registration order, same filter: commands without usage are hidden).
  const classes = [...cli.registrations.keys()].filter((c) => typeof c.usage !== 'undefined');
  if (classes.length !== defs.length) throw new Error('clipanion definitions and registrations disagree');
  const binary = cli.binaryName;
  const version = cli.binaryVersion ?? '';
  const commands = defs.map((d, i) => {
    const paths = (classes[i].paths ?? [[]]).map((p) => p.join(' ')).filter((p) => p !== '');
    const primary = d.path.replace(new RegExp(`^${binary}\\s*`), '');
    const spec = mod.commandSpec(classes[i]);
    const options = spec.options.filter((o) => !o.hidden).map(optionModel);
    if (!options.some((o) => o.long.includes('help'))) {
      const short = options.some((o) => o.short.includes('h')) ? [] : ['h'];
      options.push({ flags: [...short.map((s) => `-${s}`), '--help'], short, long: ['help'], arity: 0, type: '', description: 'Print usage' });
    }
    return {
      name: primary,
      paths: [primary, ...paths.filter((p) => p !== primary)],
      usage: mod.argsSynopsis(spec.args),
      category: clean(d.category),
      description: clean(d.description),
      details: clean(d.details),
      examples: (d.examples ?? []).map(([label, cmd]) => [clean(label), clean(cmd)]),
      options,
    };
  });
  commands.sort((a, b) => a.name.localeCompare(b.name));
  const globals = (mod.GLOBAL_OPTIONS ?? []).map((g) => ({
    flags: [g.flag],
    short: [],
    long: [g.flag.replace(/^--/, '')],
    arity: 1,
    type: 'string',
    description: clean(g.description),
  }));
  // Command tree: prefix ("" = top level, "container", ...) -> child words, and leaf paths.
  const leaves = new Map(); // "container run" -> command
  const children = new Map([['', new Set()]]);
  for (const c of commands) {
    for (const p of c.paths) {
      leaves.set(p, c);
      const words = p.split(' ');
      for (let i = 0; i < words.length; i++) {
        const prefix = words.slice(0, i).join(' ');
        if (!children.has(prefix)) children.set(prefix, new Set());
        children.get(prefix).add(words[i]);
      }
    }
  }
  const describe = (prefix, word) => {
    const p = prefix ? `${prefix} ${word}` : word;
    return leaves.has(p) ? leaves.get(p).description : `${word} commands`;
  };
  const tree = [...children.entries()]
    .map(([prefix, words]) => ({ prefix, words: [...words].sort().map((w) => ({ word: w, description: describe(prefix, w) })) }))
    .sort((a, b) => a.prefix.localeCompare(b.prefix));
  return { binary, version, commands, globals, leaves, tree };
}

// ---------------------------------------------------------------------------------------------
// bash

const shq = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

function genBash(m) {
  const B = m.binary;
  const fn = `_${B.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const leaves = [...m.leaves].sort((a, b) => a[0].localeCompare(b[0]));
  // Keys are "@" + command path: bash refuses an empty associative-array key.
  const L = [];
  L.push(`# bash completion for ${B}. Generated by build/gen-docs.mjs from the command definitions; do not edit.`);
  L.push(`${fn}() {`);
  L.push('  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"');
  L.push('  # bash splits --opt=value at "=" (COMP_WORDBREAKS)');
  L.push('  if [[ "$cur" == "=" ]]; then cur=""; fi');
  L.push('  if [[ "$prev" == "=" ]]; then prev="${COMP_WORDS[COMP_CWORD-2]}"; elif [[ "${COMP_WORDS[COMP_CWORD]}" == "=" ]]; then prev="${COMP_WORDS[COMP_CWORD-1]}"; fi');
  L.push('  local -A children=(');
  for (const t of m.tree) L.push(`    [${shq('@' + t.prefix)}]=${shq(t.words.map((w) => w.word).join(' '))}`);
  L.push('  )');
  L.push('  local -A opts=(');
  for (const [p, c] of leaves) L.push(`    [${shq('@' + p)}]=${shq(c.options.flatMap((o) => o.flags).join(' '))}`);
  L.push('  )');
  L.push('  local -A argopts=(');
  for (const [p, c] of leaves) L.push(`    [${shq('@' + p)}]=${shq(c.options.filter((o) => o.arity > 0).flatMap((o) => o.flags).join(' '))}`);
  L.push('  )');
  L.push(`  local globals=${shq(m.globals.flatMap((g) => g.flags).join(' '))}`);
  L.push('  local key="@" i=1 w');
  L.push('  # global options (and their values) come first');
  L.push('  while (( i < COMP_CWORD )); do');
  L.push('    w="${COMP_WORDS[i]}"');
  L.push('    if [[ " $globals " == *" $w "* ]]; then');
  L.push('      if [[ "${COMP_WORDS[i+1]}" == "=" ]]; then (( i += 3 )); else (( i += 2 )); fi');
  L.push('      continue');
  L.push('    fi');
  L.push('    break');
  L.push('  done');
  L.push('  # then the command path, as long as the words form one');
  L.push('  while (( i < COMP_CWORD )); do');
  L.push('    w="${COMP_WORDS[i]}"');
  L.push('    [[ -n "${children[$key]+x}" && " ${children[$key]} " == *" $w "* ]] || break');
  L.push('    if [[ "$key" == "@" ]]; then key="@$w"; else key="$key $w"; fi');
  L.push('    (( i++ ))');
  L.push('  done');
  L.push('  if [[ -z "${opts[$key]+x}" ]]; then');
  L.push('    if [[ "$key" == "@" && " $globals " == *" $prev "* ]]; then COMPREPLY=( $(compgen -f -- "$cur") ); return; fi');
  L.push('    if [[ "$key" == "@" && "$cur" == -* ]]; then COMPREPLY=( $(compgen -W "$globals --help --version" -- "$cur") ); return; fi');
  L.push('    COMPREPLY=( $(compgen -W "${children[$key]}" -- "$cur") )');
  L.push('    return');
  L.push('  fi');
  L.push('  if [[ " ${argopts[$key]} " == *" $prev "* ]]; then COMPREPLY=( $(compgen -f -- "$cur") ); return; fi');
  L.push('  if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W "${opts[$key]}" -- "$cur") ); return; fi');
  L.push('  COMPREPLY=( $(compgen -f -- "$cur") )');
  L.push('}');
  L.push(`complete -o filenames -F ${fn} ${B}`);
  return L.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// zsh

const zq = (s) => s.replace(/\\/g, '\\\\').replace(/'/g, `'\\''`).replace(/\[/g, '\\[').replace(/\]/g, '\\]').replace(/:/g, '\\:');

function zshOptionSpecs(options) {
  return options.map((o) => {
    const desc = zq(o.description);
    const value = o.arity > 0 ? `:${zq(o.long[0] ?? o.short[0] ?? 'value')}:_files` : '';
    if (o.flags.length === 1) return `'${o.flags[0]}[${desc}]${value}'`;
    return `'(${o.flags.join(' ')})'{${o.flags.join(',')}}'[${desc}]${value}'`;
  });
}

function genZsh(m) {
  const B = m.binary;
  const fname = (prefix) => `_${B}${prefix ? '_' + prefix.replace(/[^A-Za-z0-9]+/g, '_') : ''}`;
  const L = [`#compdef ${B}`, `# zsh completion for ${B}. Generated by build/gen-docs.mjs from the command definitions; do not edit.`, ''];
  for (const t of m.tree) {
    const f = fname(t.prefix);
    L.push(`${f}() {`);
    L.push('  local curcontext="$curcontext" state line ret=1');
    L.push('  local -a subcmds');
    L.push('  subcmds=(');
    for (const w of t.words) L.push(`    '${zq(w.word)}:${w.description.replace(/'/g, `'\\''`)}'`);
    L.push('  )');
    const globals = t.prefix === '' ? zshOptionSpecs(m.globals).map((s) => ` \\\n    ${s}`).join('') : '';
    const top = t.prefix === '' ? ` \\\n    '(- *)--version[Show the version]' \\\n    '(- *)--help[Show help]'` : '';
    L.push(`  _arguments -C${globals}${top} \\\n    '1: :->cmd' \\\n    '*:: :->args' && ret=0`);
    L.push('  case $state in');
    L.push(`    cmd) _describe -t commands '${B}${t.prefix ? ' ' + t.prefix : ''} command' subcmds && ret=0 ;;`);
    L.push(`    args) _call_function ret ${f}_"\${words[1]//[^A-Za-z0-9]/_}" ;;`);
    L.push('  esac');
    L.push('  return ret');
    L.push('}');
    L.push('');
  }
  for (const [p, c] of [...m.leaves].sort((a, b) => a[0].localeCompare(b[0]))) {
    L.push(`${fname(p)}() {`);
    const specs = zshOptionSpecs(c.options).map((s) => ` \\\n    ${s}`).join('');
    L.push(`  _arguments -s -S${specs} \\\n    '*:argument:_files'`);
    L.push('}');
    L.push('');
  }
  L.push(`${fname('')} "$@"`);
  return L.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// fish

const fq = (s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function fishOption(B, cond, o) {
  const parts = [`complete -c ${B} -n ${fq(cond)}`];
  for (const s of o.short) parts.push(`-s ${s}`);
  for (const l of o.long) parts.push(`-l ${l}`);
  if (o.arity > 0) parts.push('-r');
  parts.push(`-d ${fq(o.description)}`);
  return parts.join(' ');
}

function genFish(m) {
  const B = m.binary;
  const fn = `__${B}_path`;
  const L = [`# fish completion for ${B}. Generated by build/gen-docs.mjs from the command definitions; do not edit.`, ''];
  L.push(`# The command path typed so far ("" at top level, "run", "container ls", ...).`);
  L.push(`function ${fn}`);
  L.push('    set -l toks (commandline -opc)');
  L.push('    set -e toks[1]');
  L.push(`    set -l globals ${m.globals.flatMap((g) => g.flags).join(' ')}`);
  L.push('    set -l path');
  L.push('    set -l skip 0');
  L.push('    for t in $toks');
  L.push('        if test $skip = 1');
  L.push('            set skip 0');
  L.push('            continue');
  L.push('        end');
  L.push('        if test -z "$path"; and contains -- $t $globals');
  L.push('            set skip 1');
  L.push('            continue');
  L.push('        end');
  L.push("        if string match -q -- '-*' $t");
  L.push('            test -z "$path"; and continue');
  L.push('            break');
  L.push('        end');
  L.push(`        contains -- $t (${fn}_children (string join " " $path)); or break`);
  L.push('        set path $path $t');
  L.push('    end');
  L.push('    string join " " $path');
  L.push('end');
  L.push('');
  L.push(`function ${fn}_is`);
  L.push(`    set -l p (${fn})`);
  L.push('    test "$p" = "$argv[1]"');
  L.push('end');
  L.push('');
  L.push(`function ${fn}_children`);
  L.push('    switch "$argv[1]"');
  for (const t of m.tree) {
    L.push(`        case ${fq(t.prefix)}`);
    L.push(`            printf '%s\\n' ${t.words.map((w) => fq(w.word)).join(' ')}`);
  }
  L.push('    end');
  L.push('end');
  L.push('');
  L.push(`complete -c ${B} -f`);
  for (const g of m.globals) L.push(fishOption(B, `${fn}_is ''`, g).replace(' -r ', ' -r -F '));
  L.push(`complete -c ${B} -n ${fq(`${fn}_is ''`)} -l version -d 'Show the version'`);
  for (const t of m.tree) {
    for (const w of t.words) {
      L.push(`complete -c ${B} -n ${fq(`${fn}_is ${fq(t.prefix)}`)} -a ${fq(w.word)} -d ${fq(w.description)}`);
    }
  }
  for (const [p, c] of [...m.leaves].sort((a, b) => a[0].localeCompare(b[0]))) {
    const cond = `${fn}_is ${fq(p)}`;
    L.push(`complete -c ${B} -n ${fq(cond)} -F`);
    for (const o of c.options) L.push(fishOption(B, cond, o));
  }
  return L.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// man pages (roff, man(7) macros)

function roffEscape(s) {
  return s.replace(/\\/g, '\\e').replace(/-/g, '\\-');
}
// Inline markup: `code` -> bold. Lines starting with . or ' are protected.
function roffText(s) {
  return s
    .split('\n')
    .map((line) => roffEscape(line).replace(/`([^`]+)`/g, '\\fB$1\\fR'))
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');
}
function roffParagraphs(s) {
  return s
    .split(/\n\s*\n/)
    .map((p) => roffText(p.trim()))
    .join('\n.PP\n');
}
function manFile(cmd) {
  return `${cmd.replace(/ /g, '-')}.1`;
}
function optionSynopsis(o) {
  const flags = o.flags.map((f) => `\\fB${roffEscape(f)}\\fR`).join(', ');
  const arg = o.arity > 0 ? ` \\fI${roffEscape(o.type || 'value')}\\fR` : '';
  return flags + arg;
}
function th(title, m) {
  return `.TH ${roffEscape(title.toUpperCase())} 1 "" "${m.binary} ${m.version}" "${m.binary} manual"`;
}

function genManMain(m) {
  const B = m.binary;
  const L = [`.\\" Generated by build/gen-docs.mjs from the command definitions; do not edit.`, th(B, m), '.SH NAME'];
  L.push(`${B} \\- rootless, daemonless, Docker\\-compatible container engine`);
  L.push('.SH SYNOPSIS');
  L.push(`.B ${B}`);
  L.push('[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARG\\fR...]');
  L.push('.br');
  L.push(`.B ${B}`);
  L.push('\\fB\\-\\-version\\fR');
  L.push('.SH DESCRIPTION');
  L.push(`${B} runs OCI containers without a daemon and without root. Its command line follows`);
  L.push(`Docker's, so scripts written for \\fBdocker\\fR(1) work with \\fB${B}\\fR.`);
  if (m.globals.length) {
    L.push('.SH GLOBAL OPTIONS');
    L.push('Given before the command name.');
    for (const g of m.globals) {
      L.push('.TP');
      L.push(optionSynopsis(g));
      L.push(roffText(g.description));
    }
  }
  const byCategory = new Map();
  for (const c of m.commands) {
    const k = c.category || 'Commands';
    if (!byCategory.has(k)) byCategory.set(k, []);
    byCategory.get(k).push(c);
  }
  L.push('.SH COMMANDS');
  for (const [cat, cmds] of [...byCategory].sort((a, b) => a[0].localeCompare(b[0]))) {
    if (byCategory.size > 1) L.push(`.SS ${roffText(cat)}`);
    for (const c of cmds) {
      L.push('.TP');
      L.push(`\\fB${roffEscape(B)}\\-${roffEscape(c.name.replace(/ /g, '-'))}\\fR(1)`);
      L.push(roffText(c.description || ''));
    }
  }
  L.push('.SH EXIT STATUS');
  L.push('As Docker: the container\'s exit code for \\fBrun\\fR and \\fBstart \\-a\\fR; 125 when');
  L.push(`${B} itself fails, 126 when the command cannot be run, 127 when it is not found.`);
  L.push('.SH SEE ALSO');
  L.push([...m.commands.map((c) => `\\fB${roffEscape(B)}\\-${roffEscape(c.name.replace(/ /g, '-'))}\\fR(1)`), '\\fBdocker\\fR(1)'].join(',\n'));
  return L.join('\n') + '\n';
}

function genManCommand(m, c) {
  const B = m.binary;
  const title = `${B}-${c.name.replace(/ /g, '-')}`;
  const L = [`.\\" Generated by build/gen-docs.mjs from the command definitions; do not edit.`, th(title, m), '.SH NAME'];
  L.push(`${roffEscape(title)} \\- ${roffText(c.description.replace(/\.$/, ''))}`);
  L.push('.SH SYNOPSIS');
  const usage = c.usage;
  L.push(`\\fB${roffEscape(`${B} ${c.name}`)}\\fR${c.options.length ? ' [\\fIOPTIONS\\fR]' : ''}${usage ? ' ' + roffEscape(usage) : ''}`);
  if (c.paths.length > 1) {
    L.push('.SH ALIASES');
    L.push(c.paths.slice(1).map((p) => `\\fB${roffEscape(`${B} ${p}`)}\\fR`).join(', '));
  }
  L.push('.SH DESCRIPTION');
  L.push(roffParagraphs(c.details || c.description));
  if (c.options.length) {
    L.push('.SH OPTIONS');
    for (const o of c.options) {
      L.push('.TP');
      L.push(optionSynopsis(o));
      L.push(roffText(o.description + (o.defaultText ?? '')));
    }
  }
  if (c.examples.length) {
    L.push('.SH EXAMPLES');
    for (const [label, cmd] of c.examples) {
      L.push('.PP');
      L.push(roffText(label));
      L.push('.PP');
      L.push('.RS 4');
      L.push('.nf');
      L.push(roffText(`$ ${cmd}`));
      L.push('.fi');
      L.push('.RE');
    }
  }
  L.push('.SH SEE ALSO');
  L.push(`\\fB${roffEscape(B)}\\fR(1)`);
  return L.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// src/cli/command-table.ts: every command's paths and a loader for its module alone, so that
// main.ts can parse a command line without evaluating every command module (src/cli/one-command.ts).
// The module of each class is read from index.ts's imports.

const COMMAND_TABLE_FILE = 'src/cli/command-table.ts';

function genCommandTable(mod) {
  const index = fs.readFileSync(path.join(root, 'src', 'cli', 'index.ts'), 'utf8');
  const modules = new Map([...index.matchAll(/^import \{ (\w+) \} from '(\.\/commands\/[\w/.-]+)';$/gm)].map((m) => [m[1], m[2]]));
  const rows = mod.COMMANDS.map((c) => {
    const from = modules.get(c.name);
    if (!from) throw new Error(`gen-docs: command class ${c.name} is not imported in src/cli/index.ts as "import { ${c.name} } from './commands/...'"`);
    return `  { paths: ${JSON.stringify(c.paths)}, load: async () => (await import('${from}')).${c.name} },`;
  });
  return [
    '// Generated by build/gen-docs.mjs (npm run gen-docs) from src/cli/index.ts: do not edit.',
    '// Each command\'s paths (noun forms included) and a loader for its module alone (one-command.ts).',
    "import type { CommandClass } from 'clipanion';",
    '',
    'export const COMMAND_TABLE: readonly { paths: string[][]; load: () => Promise<CommandClass> }[] = [',
    ...rows,
    '];',
    '',
  ].join('\n');
}

export async function generate(outDir) {
  const mod = await loadCli();
  const m = buildModel(mod);
  const files = new Map();
  files.set(COMMAND_TABLE_FILE, genCommandTable(mod));
  files.set(`completions/${m.binary}.bash`, genBash(m));
  files.set(`completions/_${m.binary}`, genZsh(m));
  files.set(`completions/${m.binary}.fish`, genFish(m));
  files.set(`man/${m.binary}.1`, genManMain(m));
  for (const c of m.commands) files.set(`man/${manFile(`${m.binary} ${c.name}`)}`, genManCommand(m, c));

  for (const dir of ['completions', 'man', path.dirname(COMMAND_TABLE_FILE)]) fs.mkdirSync(path.join(outDir, dir), { recursive: true });
  for (const [rel, text] of files) {
    const p = path.join(outDir, rel);
    if (fs.existsSync(p) && fs.readFileSync(p, 'utf8') === text) continue;
    fs.writeFileSync(`${p}.tmp`, text);
    fs.renameSync(`${p}.tmp`, p);
  }
  // Pages of commands that no longer exist.
  for (const f of fs.readdirSync(path.join(outDir, 'man'))) {
    if (f.startsWith(`${m.binary}`) && f.endsWith('.1') && !files.has(`man/${f}`)) fs.rmSync(path.join(outDir, 'man', f));
  }
  return [...files.keys()].sort();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const outDir = i > 0 ? path.resolve(process.argv[i + 1]) : root;
  const written = await generate(outDir);
  console.log(`gen-docs: ${written.length} files in ${path.relative(process.cwd(), outDir) || '.'}/{completions,man}`);
}
