import { describe, expect, test } from 'vitest';
import { BuildError } from '../../../src/errors';
import { ArgScope, BuildArgs, platformArgs, PROXY_ARGS } from '../../../src/build/dockerfile/args';
import { expandInstruction, undefinedVariableWarnings } from '../../../src/build/dockerfile/expand';
import { parseDockerfile } from '../../../src/build/dockerfile/parser';
import { planBuild } from '../../../src/build/dockerfile/plan';
import { expandText, expandWord, rawWords } from '../../../src/build/dockerfile/shell-lex';
import type { ArgInstruction, Instruction } from '../../../src/build/dockerfile/types';

const vars = (o: Record<string, string>) => (n: string) => o[n];
const env = vars({ A: 'a', EMPTY: '', PATH_: '/usr/local/bin:/usr/bin', FILE: 'archive.tar.gz', SP: 'x  y' });
const w = (word: string, escape = '\\') => expandWord(word, env, escape).word;

describe('word expansion (BuildKit shell lexer)', () => {
  test('$VAR, ${VAR}, unset is empty, $ alone stays', () => {
    expect(w('$A-${A}-$NOPE-${NOPE}')).toBe('a-a--');
    expect(w('cost: 5$')).toBe('cost: 5$');
    expect(w('$1x')).toBe('x');
  });

  test('defaults and alternatives, with and without the colon', () => {
    expect(w('${NOPE:-d} ${EMPTY:-d} ${EMPTY-d} ${A:-d}')).toBe('d d  a');
    expect(w('${NOPE:+x} ${EMPTY:+x} ${EMPTY+x} ${A:+x}')).toBe('  x x');
    expect(w('${NOPE:-${A}/sub}')).toBe('a/sub');
  });

  test('${VAR:?msg} is an error when unset or empty', () => {
    expect(() => w('${NOPE:?must be set}')).toThrow('NOPE: must be set');
    expect(() => w('${EMPTY:?}')).toThrow('EMPTY: is not allowed to be empty');
    expect(w('${EMPTY?}')).toBe('');
  });

  test('pattern removal and replacement', () => {
    expect(w('${FILE%.*} ${FILE%%.*} ${FILE#*.} ${FILE##*.}')).toBe('archive.tar archive tar.gz gz');
    expect(w('${PATH_/usr/opt} ${PATH_//usr/opt}')).toBe('/opt/local/bin:/usr/bin /opt/local/bin:/opt/bin');
  });

  test('quotes: removed; single quotes stop expansion, double quotes do not', () => {
    expect(w(`"$A b" '$A b' "it's" 'say "hi"'`)).toBe(`a b $A b it's say "hi"`);
    expect(w('\\$A \\"q\\" "a\\"b" "\\$A"')).toBe('$A "q" a"b $A');
    expect(w('a\\ b')).toBe('a b');
  });

  test('the backtick escape directive', () => {
    expect(w('`$A c:\\dir', '`')).toBe('$A c:\\dir');
  });

  test('syntax errors', () => {
    expect(() => w('${A')).toThrow("syntax error: missing '}'");
    expect(() => w('${}')).toThrow('bad substitution');
    expect(() => w('${A:!x}')).toThrow('unsupported modifier (:!) in substitution');
    expect(() => w('"open')).toThrow('matching double-quote');
    expect(() => w("'open")).toThrow('matching single-quote');
  });

  test('words: split at unquoted whitespace, expansions split too', () => {
    expect(expandWord('80 "443 8443" $SP', env, '\\').words).toEqual(['80', '443 8443', 'x', 'y']);
    expect(rawWords('RUN cat <<"EOF" > /x', '\\')).toEqual(['RUN', 'cat', '<<"EOF"', '>', '/x']);
  });

  test('heredoc bodies: variables replaced, quotes kept', () => {
    expect(expandText('say "$A" \'$A\'\n', env).word).toBe('say "a" \'a\'\n');
  });

  test('the unset variables are reported', () => {
    expect([...expandWord('$A $X ${Y:-d} ${A:+$Z}', env, '\\').unset]).toEqual(['X', 'Y', 'Z']);
  });
});

describe('expandInstruction', () => {
  const instrs = (text: string) => parseDockerfile(`FROM busybox\n${text}`, 'Dockerfile').stages[0].instructions;
  const ex = (text: string, o: Record<string, string> = { A: 'a', B: 'b c' }) => {
    const [i] = instrs(text);
    return expandInstruction(i, vars(o));
  };

  test('ENV and LABEL: quotes removed, variables replaced, all against the values before', () => {
    expect(ex('ENV A=new X=$A Y="${B}" Z=\'$A\'').instruction).toMatchObject({ pairs: [['A', 'new'], ['X', 'a'], ['Y', 'b c'], ['Z', '$A']] });
    expect(ex('LABEL "k $A"=v').instruction).toMatchObject({ pairs: [['k a', 'v']] });
    expect(ex('ENV legacy "q" $A').instruction).toMatchObject({ pairs: [['legacy', 'q a']] });
  });

  test('COPY: sources, dest and flags expanded; --from not; heredoc bodies by their quoting', () => {
    const [copy] = instrs('COPY --chown=$A:$A --from=build --exclude=$A.md $A/*.txt "$B" /dst/$A/\n');
    expect(expandInstruction(copy, vars({ A: 'a', B: 'b c' })).instruction).toMatchObject({
      sources: ['a/*.txt', 'b c'], dest: '/dst/a/', chown: 'a:a', from: 'build', exclude: ['a.md'],
    });
    const [h] = instrs('COPY <<x <<"y" /d/\n$A "q"\nx\n$A\ny\n');
    const out = expandInstruction(h, vars({ A: 'a' })).instruction;
    expect(out).toMatchObject({ sources: ['x', 'y'], heredocs: [{ content: 'a "q"\n' }, { content: '$A\n' }] });
  });

  test('EXPOSE splits expanded words; VOLUME, WORKDIR, USER, STOPSIGNAL expand', () => {
    expect(ex('EXPOSE $P 443', { P: '80 8080/udp' }).instruction).toMatchObject({ ports: ['80', '8080/udp', '443'] });
    expect(ex('VOLUME /data/$A').instruction).toMatchObject({ paths: ['/data/a'] });
    expect(ex('WORKDIR /srv/${A}').instruction).toMatchObject({ path: '/srv/a' });
    expect(ex('USER ${U:-1000}').instruction).toMatchObject({ user: '1000' });
    expect(ex('STOPSIGNAL $S', { S: 'SIGQUIT' }).instruction).toMatchObject({ signal: 'SIGQUIT' });
  });

  test('RUN, CMD, ENTRYPOINT, HEALTHCHECK and ONBUILD stay as written; RUN --mount values expand', () => {
    for (const text of ['RUN echo $A', 'CMD echo $A', 'ENTRYPOINT ["$A"]', 'HEALTHCHECK CMD $A', 'ONBUILD RUN $A', 'MAINTAINER $A']) {
      const [i] = instrs(text);
      expect(expandInstruction(i, vars({ A: 'a' })).instruction, text).toEqual(i);
    }
    expect(ex('RUN --mount=type=cache,id=$A,target=/c/$A x').instruction).toMatchObject({ mounts: [{ type: 'cache', id: 'a', target: '/c/a' }] });
    expect(() => ex('RUN --mount=type=cache,target=/c,sharing=$S x', { S: 'bogus' })).toThrow(new BuildError('unsupported sharing value "bogus"', { file: 'Dockerfile', line: 2 }));
  });

  test('unset variables are reported, as Docker warns', () => {
    const [i] = instrs('WORKDIR /$NOPE/$A');
    const { unset } = expandInstruction(i, vars({ A: 'a' }));
    expect(unset).toEqual(['NOPE']);
    expect(undefinedVariableWarnings(i, unset)).toEqual([{ file: 'Dockerfile', line: 2, rule: 'UndefinedVar', message: "UndefinedVar: Usage of undefined variable '$NOPE'" }]);
    // an ARG declared without a value is no undefined variable
    expect(undefinedVariableWarnings(i, unset, (n) => n === 'NOPE')).toEqual([]);
  });

  test('a bad substitution is a BuildError at the line', () => {
    const [, i] = instrs('RUN x\nWORKDIR ${NOPE:?set it}');
    expect(() => expandInstruction(i, vars({}))).toThrow(new BuildError('NOPE: set it', { file: 'Dockerfile', line: 3 }));
  });

  test('the backtick escape', () => {
    const df = parseDockerfile('# escape=`\nFROM a\nWORKDIR c:\\x\\`$A', 'Dockerfile');
    expect(expandInstruction(df.stages[0].instructions[0], vars({ A: 'a' }), df.directives.escape).instruction).toMatchObject({ path: 'c:\\x\\$A' });
  });
});

describe('build args and scopes', () => {
  const argLine = (text: string) => parseDockerfile(`ARG ${text}\nFROM a`, 'Dockerfile').globalArgs[0] as ArgInstruction;

  test('a stage ARG: --build-arg, else its default, else the global value, else unset', () => {
    const build = new BuildArgs(new Map([['GIVEN', 'cli']]));
    const scope = new ArgScope(build, new Map([['G', 'global'], ['GIVEN', 'global']]));
    scope.declare(argLine('GIVEN=default G D=d${G}x NONE'));
    expect(scope.get('GIVEN')).toBe('cli');
    expect(scope.get('G')).toBe('global');
    // a default sees the args declared before it on the line? no: G is set before D
    expect(scope.get('D')).toBe('dglobalx');
    expect(scope.get('NONE')).toBeUndefined();
    expect(scope.isDeclared('NONE')).toBe(true);
    expect(build.unconsumed()).toEqual([]);
  });

  test('unconsumed --build-args are listed; proxies are consumed by RUN without ARG', () => {
    const build = new BuildArgs(new Map([['UNUSED', '1'], ['HTTP_PROXY', 'http://p:3128'], ['B', '2']]));
    const scope = new ArgScope(build, new Map());
    scope.declare(argLine('B'));
    expect(scope.runEnvironment()).toEqual(new Map([['HTTP_PROXY', 'http://p:3128'], ['B', '2']]));
    expect(build.unconsumed()).toEqual(['UNUSED']);
    expect(PROXY_ARGS).toContain('no_proxy');
  });

  test('platform args', () => {
    const p = platformArgs({ os: 'linux', architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'amd64' });
    expect(Object.fromEntries(p)).toMatchObject({ TARGETPLATFORM: 'linux/arm/v7', TARGETARCH: 'arm', TARGETVARIANT: 'v7', BUILDPLATFORM: 'linux/amd64', BUILDARCH: 'amd64' });
  });

  test('Instruction type stays serialisable (no functions, no cycles)', () => {
    const df = parseDockerfile('FROM a\nONBUILD RUN x\nCOPY <<EOF /x\nhi\nEOF\n', 'Dockerfile');
    const i: Instruction[] = df.stages[0].instructions;
    expect(JSON.parse(JSON.stringify(i))).toEqual(i);
  });
});

describe('hostile input', () => {
  /** A deterministic pseudo-random generator (mulberry32), so a failure can be replayed. */
  function rng(seed: number): () => number {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const pieces = ['FROM ', 'RUN ', 'COPY ', 'ADD ', 'ENV ', 'ARG ', 'LABEL ', 'ONBUILD ', 'HEALTHCHECK ', 'SHELL ', 'CMD ', 'EXPOSE ',
    '--mount=', '--from=', 'type=cache,', 'target=/x', '<<EOF', '<<-"E"', 'EOF', '\\', '\n', '\t', '#', '# escape=`\n', '`', '"', "'",
    '$', '${', '}', ':-', ':+', '[', ']', '","', '=', ' ', 'AS ', 'x', '\0', '\u00e9', '\r\n', '{', '%%', '//'];

  test('random Dockerfiles parse, plan and expand or fail with a BuildError, nothing else', () => {
    const next = rng(Number(process.env.SEED ?? 12));
    for (let n = 0; n < Number(process.env.N ?? 3000); n++) {
      let text = '';
      const len = 1 + Math.floor(next() * 30);
      for (let i = 0; i < len; i++) text += pieces[Math.floor(next() * pieces.length)];
      try {
        const df = parseDockerfile(text, 'Dockerfile');
        planBuild(df);
        for (const stage of df.stages) for (const i of stage.instructions) expandInstruction(i, () => 'v', df.directives.escape);
      } catch (e) {
        if (!(e instanceof BuildError)) throw new Error(`${JSON.stringify(text)}: ${(e as Error).stack}`);
      }
    }
  });
});

