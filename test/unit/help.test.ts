// skiff's help in Docker's format: golden files for the top level and a few verbs (skiff's own
// output, checked in; UPDATE_GOLDEN=1 rewrites them), the shape rules checked on those and on
// the real docker's output, value types read from clipanion's option definitions, and the
// management-noun spellings.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHelpModules } from './help-bundle';
import { helpShapeProblems } from './help-shape';

const m = await loadHelpModules();
const { COMMANDS, resolveTarget, commandHelp, nounHelp, topHelp, commandSpec, usageTail, withNounForms, asProgram, programName, Command, Option, t } = m;

const goldenDir = path.join(__dirname, 'golden');

function expectGolden(file: string, text: string): void {
  const p = path.join(goldenDir, 'skiff', file);
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(p, text);
  // A changed command definition changes these on purpose: review the diff, then
  // UPDATE_GOLDEN=1 npx vitest run --config vitest.unit.config.ts test/unit/help.test.ts
  expect(text, `${file} differs from golden/skiff/${file} (UPDATE_GOLDEN=1 rewrites it)`).toBe(fs.readFileSync(p, 'utf8'));
}

function target(words: string[]) {
  const r = resolveTarget(words);
  if (r.kind !== 'command') throw new Error(`${words.join(' ')} is not a command`);
  return r;
}

const HELPS: [string, () => string][] = [
  ['help.txt', () => topHelp('skiff', 79)],
  ['container.txt', () => nounHelp('skiff', 'container')],
  ['image.txt', () => nounHelp('skiff', 'image')],
  ...['run', 'ps', 'images', 'pull'].map((v): [string, () => string] => [`${v}.txt`, () => commandHelp('skiff', [v], target([v]).command, 79)]),
];

describe('golden help texts (what skiff prints at 80 columns)', () => {
  for (const [file, render] of HELPS) it(file, () => expectGolden(file, render()));
});

describe("Docker's help shape", () => {
  const dockers = fs.readdirSync(path.join(goldenDir, 'docker'));
  for (const f of dockers) {
    it(`the rules hold for docker's own ${f} (so that they describe Docker)`, () => {
      expect(helpShapeProblems(fs.readFileSync(path.join(goldenDir, 'docker', f), 'utf8'))).toEqual([]);
    });
  }
  it('the rules catch what clipanion printed before (placeholders, colour)', () => {
    const old = '\x1b[1m━━━ Usage ━━━\x1b[0m\n\n  skiff run <IMAGE> ...\n\n━━━ Options ━━━\n\n  -e,--env #0    Set environment variables\n';
    expect(helpShapeProblems(old).length).toBeGreaterThan(2);
  });
  it('every skiff command, noun and the top level have it, as skiff and as docker', () => {
    for (const name of ['skiff', 'docker'] as const) {
      expect(helpShapeProblems(topHelp(name, 79))).toEqual([]);
      for (const n of ['container', 'image', 'system']) expect(helpShapeProblems(nounHelp(name, n)), n).toEqual([]);
      for (const c of COMMANDS) {
        for (const p of c.paths ?? []) expect(helpShapeProblems(commandHelp(name, p, c, 79)), p.join(' ')).toEqual([]);
      }
    }
  });
  it('top level: Docker\'s sections in Docker\'s order', () => {
    const heads = topHelp('skiff', 79).split('\n').filter((l) => /^[A-Z][A-Za-z ]*:$/.test(l));
    expect(heads).toEqual(['Common Commands:', 'Management Commands:', 'Commands:', 'Global Options:']);
  });
});

describe('option value types and defaults, from the clipanion definitions', () => {
  class Sample extends Command {
    static override paths = [['sample']];
    env = Option.Array('-e,--env', [], { description: 'a list' });
    name = Option.String('--name', { description: 'a string' });
    pull = Option.String('--pull', 'missing', { description: 'a string with a default' });
    stop = Option.String('-t,--time', '10', { validator: t.isNumber(), description: 'an int' });
    level = Option.String('--level', { validator: t.isEnum(['a', 'b']), description: 'an enum' });
    rm = Option.Boolean('--rm', false, { description: 'a switch' });
    on = Option.Boolean('--on', true, { description: 'a switch that is on' });
    tls = Option.String('--tls-verify', { tolerateBoolean: true, description: 'on/off with a value' });
    image = Option.String({ name: 'IMAGE' });
    tag = Option.String({ name: 'TAG', required: false });
    async execute() { return 0; }
  }
  const spec = commandSpec(Sample);
  const byName = (n: string) => spec.options.find((o) => o.long[0] === n)!;

  it('Option.Array is a list, Option.String a string, a number validator an int, a switch has none', () => {
    expect(byName('env').type).toBe('list');
    expect(byName('name').type).toBe('string');
    expect(byName('level').type).toBe('string');
    expect(byName('time').type).toBe('int');
    expect(byName('rm').type).toBe('');
    expect(byName('tls-verify').type).toBe('');
    expect(byName('tls-verify').takesValue).toBe(false);
  });
  it('defaults as Docker shows them: quoted strings, bare numbers, nothing for zero values', () => {
    expect(byName('pull').defaultText).toBe(' (default "missing")');
    expect(byName('time').defaultText).toBe(' (default 10)');
    expect(byName('on').defaultText).toBe(' (default true)');
    expect(byName('env').defaultText).toBe('');
    expect(byName('rm').defaultText).toBe('');
    expect(byName('name').defaultText).toBe('');
  });
  it('the usage line: [OPTIONS], required and optional positionals', () => {
    expect(usageTail(spec)).toBe('[OPTIONS] IMAGE [TAG]');
  });
  it('skiff run as Docker writes it, value types included', () => {
    const help = commandHelp('skiff', ['run'], target(['run']).command, 79);
    expect(help.split('\n')[0]).toBe('Usage:  skiff run [OPTIONS] IMAGE [COMMAND] [ARG...]');
    expect(help).toMatch(/^ {2}-e, --env list {3,}Set environment/m);
    expect(help).toMatch(/^ {6}--name string {3,}Assign a name/m);
    expect(help).not.toMatch(/#0/);
  });
});

describe('management nouns', () => {
  it('Docker\'s noun spellings are added to the verbs that have one', () => {
    expect(withNounForms([['rm']])).toEqual([['rm'], ['container', 'rm'], ['container', 'remove']]);
    expect(withNounForms([['images'], ['image', 'ls']])).toEqual([['images'], ['image', 'ls'], ['image', 'list']]);
    expect(withNounForms([['info']])).toEqual([['info'], ['system', 'info']]);
    expect(withNounForms([['login']])).toEqual([['login']]);
  });
  const aliases: [string[], string[]][] = [
    [['container', 'ls'], ['ps']], [['container', 'ps'], ['ps']], [['container', 'list'], ['ps']], [['container', 'run'], ['run']],
    [['container', 'create'], ['create']], [['container', 'start'], ['start']], [['container', 'rm'], ['rm']], [['container', 'remove'], ['rm']],
    [['image', 'ls'], ['images']], [['image', 'pull'], ['pull']], [['image', 'push'], ['push']], [['image', 'rm'], ['rmi']],
    [['image', 'tag'], ['tag']], [['image', 'save'], ['save']], [['image', 'load'], ['load']], [['image', 'import'], ['import']],
    [['image', 'history'], ['history']], [['system', 'info'], ['info']],
  ];
  for (const [noun, verb] of aliases) {
    it(`${noun.join(' ')} runs the command of ${verb.join(' ')}`, () => {
      expect(target([...noun, 'x']).command).toBe(target(verb).command);
      expect(target([...noun, 'x']).path).toEqual(noun);
    });
  }
  it('image inspect and image prune exist only under the noun', () => {
    expect(target(['image', 'inspect']).path).toEqual(['image', 'inspect']);
    expect(target(['image', 'prune']).path).toEqual(['image', 'prune']);
  });
  it('a noun alone, and an unknown word, are not commands', () => {
    expect(resolveTarget(['container'])).toEqual({ kind: 'noun', noun: 'container' });
    expect(resolveTarget(['container', 'nope'])).toEqual({ kind: 'noun', noun: 'container' });
    expect(resolveTarget(['buidl'])).toEqual({ kind: 'none' });
  });
  it('each noun lists its verbs once, by the first name', () => {
    const verbs = nounHelp('skiff', 'container').split('\n').filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(/\s+/)[0]);
    expect(verbs).toEqual(['attach', 'commit', 'cp', 'create', 'diff', 'exec', 'exists', 'export', 'inspect', 'kill', 'logs', 'ls', 'pause', 'port', 'prune', 'rename', 'restart', 'rm', 'run', 'start', 'stats', 'stop', 'top', 'unpause', 'update', 'wait']);
  });
});

describe('program name', () => {
  it('docker when argv[1] (the name the SEA was run by) is docker, else skiff', () => {
    expect(programName(['/opt/skiff', '/usr/local/bin/docker'])).toBe('docker');
    expect(programName(['/opt/skiff', 'docker', 'ps'])).toBe('docker');
    expect(programName(['/opt/skiff', '/opt/skiff'])).toBe('skiff');
    expect(programName(['/usr/bin/node', '/repo/dist/skiff.cjs'])).toBe('skiff');
  });
  it('renames the word, not paths or longer names', () => {
    expect(asProgram("run 'skiff login' first; skiff-helper in /var/lib/skiff and ~/.config/skiff/x", 'docker'))
      .toBe("run 'docker login' first; skiff-helper in /var/lib/skiff and ~/.config/skiff/x");
    expect(asProgram('skiff: x', 'skiff')).toBe('skiff: x');
  });
});
