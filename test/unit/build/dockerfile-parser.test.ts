import { describe, expect, test } from 'vitest';
import { BuildError, exitCodeOf } from '../../../src/errors';
import { parseDockerfile } from '../../../src/build/dockerfile/parser';
import { runScript, summarizeHeredoc } from '../../../src/build/dockerfile/heredoc';
import type { Instruction, RunInstruction } from '../../../src/build/dockerfile/types';

/** The instruction type(s) with this kind ('CMD' → the CMD/ENTRYPOINT interface). */
type InstructionOf<K> = Instruction extends infer I ? (I extends { kind: infer L } ? (K extends L ? I : never) : never) : never;
const parse = (text: string, file = 'Dockerfile') => parseDockerfile(text, file);
/** The instructions of the first stage. */
const body = (text: string): Instruction[] => parse(`FROM busybox\n${text}`).stages[0].instructions;
const one = <K extends Instruction['kind']>(text: string, kind?: K) => {
  const [i] = body(text);
  if (kind) expect(i.kind).toBe(kind);
  return i as InstructionOf<K>;
};
/** The BuildError a Dockerfile gives (fails the test when it parses). */
function parseError(text: string, file = 'Dockerfile'): BuildError {
  try {
    parse(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(BuildError);
    return e as BuildError;
  }
  throw new Error('expected a BuildError');
}

describe('lines: comments, continuations, directives', () => {
  test('comments and blank lines are dropped; line numbers are the first physical line', () => {
    const df = parse('# a comment\n\nFROM busybox\n  # indented comment\nRUN a \\\n  b \\\n  c\nRUN d\n');
    const [run1, run2] = df.stages[0].instructions as RunInstruction[];
    expect(run1.loc).toEqual({ file: 'Dockerfile', line: 5 });
    expect(run1.command).toEqual({ form: 'shell', text: 'a   b   c' });
    expect(run2.loc.line).toBe(8);
  });

  test('comment lines inside a continuation are skipped, empty ones warned about', () => {
    const df = parse('FROM busybox\nRUN a \\\n# inner\n\n  && b\n');
    expect((df.stages[0].instructions[0] as RunInstruction).command).toEqual({ form: 'shell', text: 'a   && b' });
    expect(df.warnings).toEqual([{ file: 'Dockerfile', line: 5, rule: 'NoEmptyContinuation', message: 'NoEmptyContinuation: Empty continuation line' }]);
  });

  test('a double escape at the end is no continuation; a continuation at EOF ends the file', () => {
    expect(body('RUN echo a\\\\\nRUN b')).toHaveLength(2);
    const run = one('RUN echo \\', 'RUN');
    expect(run.command).toEqual({ form: 'shell', text: 'echo' });
  });

  test('CRLF line endings and a byte-order mark', () => {
    const df = parse('\uFEFFFROM busybox\r\nRUN a \\\r\n b\r\n');
    expect((df.stages[0].instructions[0] as RunInstruction).command).toEqual({ form: 'shell', text: 'a  b' });
  });

  test('directives: syntax, escape, check at the top only', () => {
    const df = parse('# syntax=docker/dockerfile:1.7\n# escape=`\n# check=skip=all\nFROM busybox\nRUN a `\n b\n');
    expect(df.directives).toEqual({ syntax: 'docker/dockerfile:1.7', escape: '`', check: 'skip=all' });
    expect((df.stages[0].instructions[0] as RunInstruction).command).toEqual({ form: 'shell', text: 'a  b' });
    // after another line it is just a comment: the escape stays \
    const late = parse('FROM busybox\n# escape=`\nRUN a \\\n b\n');
    expect(late.directives.escape).toBe('\\');
    // an unknown directive ends the directives
    expect(parse('# foo=bar\n# escape=`\nFROM busybox\n').directives.escape).toBe('\\');
    // a blank line ends them too
    expect(parse('\n# escape=`\nFROM busybox\n').directives.escape).toBe('\\');
  });

  test('bad directives: twice, or an escape that is neither \\ nor `', () => {
    expect(parseError('# escape=\\\n# escape=`\nFROM busybox').message).toBe('Dockerfile:2: only one escape parser directive can be used');
    expect(parseError('# escape=x\nFROM busybox').message).toMatch(/^Dockerfile:1: invalid escape token 'x'/);
  });
});

describe('instructions', () => {
  test('FROM: image, AS name (lower-cased), --platform, bad forms', () => {
    const df = parse('FROM --platform=linux/amd64 Busybox:1.36 AS Build\nFROM build\n');
    expect(df.stages[0].from).toMatchObject({ image: 'Busybox:1.36', as: 'build', platform: 'linux/amd64' });
    expect(df.stages[0].name).toBe('build');
    expect(df.stages[1].name).toBeUndefined();
    expect(parseError('FROM a b').message).toBe('Dockerfile:1: FROM requires either one or three arguments');
    expect(parseError('FROM a AS 1x').message).toMatch(/invalid name for build stage: "1x"/);
    expect(parseError('FROM a AS x\nFROM b AS X').message).toBe('Dockerfile:2: duplicate stage name "x" (first defined on line 1)');
  });

  test('RUN: shell and exec form, flags, network', () => {
    expect(one('RUN echo "$HOME"', 'RUN').command).toEqual({ form: 'shell', text: 'echo "$HOME"' });
    expect(one('RUN ["echo", "a b"]', 'RUN').command).toEqual({ form: 'exec', args: ['echo', 'a b'] });
    expect(one('RUN [ -f /etc/passwd ]', 'RUN').command).toEqual({ form: 'shell', text: '[ -f /etc/passwd ]' });
    expect(one('RUN [ "$A" = x ] && echo', 'RUN').command.form).toBe('shell');
    const r = one('RUN --network=none --mount=type=cache,target=/c echo', 'RUN');
    expect(r.network).toBe('none');
    expect(r.mounts).toEqual([{ type: 'cache', target: '/c', readonly: false }]);
    expect(parseError('FROM a\nRUN --network=bridge x').message).toMatch(/^Dockerfile:2: unsupported network mode "bridge"/);
    expect(parseError('FROM a\nRUN').message).toBe('Dockerfile:2: RUN requires at least one argument');
  });

  test('RUN --mount: every type, aliases, defaults and checks', () => {
    const r = one(
      'RUN --mount=type=bind,from=build,source=/out,target=/in,rw ' +
      '--mount=type=tmpfs,dst=/tmp,size=64m ' +
      '--mount=type=secret,id=token,target=/run/secrets/t,required,mode=0400,uid=1,gid=2 ' +
      '--mount=type=cache,id=go,target=/root/.cache,sharing=locked ' +
      '--mount=target=/src make',
      'RUN',
    );
    expect(r.mounts).toEqual([
      { type: 'bind', from: 'build', source: '/out', target: '/in', readonly: false },
      { type: 'tmpfs', target: '/tmp', size: '64m', readonly: false },
      { type: 'secret', id: 'token', target: '/run/secrets/t', required: true, mode: '0400', uid: '1', gid: '2', readonly: true },
      { type: 'cache', id: 'go', target: '/root/.cache', sharing: 'locked', readonly: false },
      { type: 'bind', target: '/src', readonly: true },
    ]);
    const bad = (m: string) => parseError(`FROM a\nRUN --mount=${m} x`).message.replace(/^Dockerfile:2: /, '');
    expect(bad('type=nfs,target=/x')).toBe('unsupported mount type "nfs"');
    expect(bad('type=cache,target=/x,sharing=maybe')).toBe('unsupported sharing value "maybe"');
    expect(bad('type=bind,target=/x,mode=0700')).toBe('mode not allowed for "bind" type mounts');
    expect(bad('type=secret,from=x,id=a')).toBe('secret mount should not have a from');
    expect(bad('type=secret,src=/a,id=a')).toBe("both source and id can't be set");
    expect(bad('type=cache,target=/x,bogus=1')).toBe("unexpected key 'bogus' in 'bogus=1'");
    expect(bad('type=cache,target=/x,sticky')).toBe("invalid field 'sticky' must be a key=value pair");
    expect(bad('type=cache')).toBe('mount type cache requires a target');
    expect(bad('type=bind,target=/x,required')).toBe("unexpected key 'required' for mount type 'bind'");
    expect(bad('type=bind,target=/x,from=$STAGE')).toMatch(/doesn't support variable expansion/);
  });

  test('exec form: malformed JSON that plainly meant an array is an error; non-strings too', () => {
    expect(parseError('FROM a\nCMD ["echo", \'hi\']').message).toMatch(/^Dockerfile:2: malformed JSON in exec form: \["echo", 'hi'\]/);
    expect(parseError('FROM a\nENTRYPOINT ["echo" "hi"]').message).toMatch(/malformed JSON/);
    expect(parseError('FROM a\nRUN ["echo", "hi"').message).toMatch(/malformed JSON/);
    expect(parseError('FROM a\nCMD ["echo", 1]').message).toBe('Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only');
    // what Docker too reads as shell form stays shell form
    expect(one('CMD [not json', 'CMD').command).toEqual({ form: 'shell', text: '[not json' });
  });

  test('COPY and ADD: sources, destination, flags, JSON form', () => {
    const c = one('COPY --from=build --chown=1:2 --chmod=0755 --link --parents --exclude=*.md --exclude=x a b* /dest/', 'COPY');
    expect(c).toMatchObject({ sources: ['a', 'b*'], dest: '/dest/', from: 'build', chown: '1:2', chmod: '0755', link: true, parents: true, exclude: ['*.md', 'x'] });
    expect(one('COPY ["a b", "/c d/"]', 'COPY')).toMatchObject({ sources: ['a b'], dest: '/c d/' });
    expect(one('COPY --link=false a /b', 'COPY').link).toBe(false);
    const a = one('ADD --checksum=sha256:abc https://example.com/x.tgz /x', 'ADD');
    expect(a).toMatchObject({ kind: 'ADD', sources: ['https://example.com/x.tgz'], dest: '/x', checksum: 'sha256:abc' });
    expect(parseError('FROM a\nCOPY onlyone').message).toMatch(/^Dockerfile:2: COPY requires at least two arguments/);
    expect(parseError('FROM a\nCOPY --from=x --from=y a b').message).toBe('Dockerfile:2: duplicate flag specified: from');
    expect(parseError('FROM a\nCOPY --checksum=x a b').message).toBe('Dockerfile:2: unknown flag: checksum');
    expect(parseError('FROM a\nCOPY --link=maybe a b').message).toBe('Dockerfile:2: expecting boolean value for flag link, not: maybe');
    expect(parseError('FROM a\nCOPY --chown a b').message).toBe('Dockerfile:2: missing a value on flag: chown');
    expect(parseError('FROM a\nCOPY a <<EOF\nx\nEOF').message).toBe('Dockerfile:2: COPY cannot accept a heredoc as a destination');
  });

  test('ENV and LABEL: pairs keep their quotes until expansion; the legacy form takes the rest', () => {
    expect(one('ENV A=1 B="two words" C=\'$x\' D=a\\ b', 'ENV').pairs).toEqual([['A', '1'], ['B', '"two words"'], ['C', "'$x'"], ['D', 'a\\ b']]);
    expect(one('ENV PATH /usr/bin:/bin  and more', 'ENV').pairs).toEqual([['PATH', '/usr/bin:/bin  and more']]);
    expect(one('LABEL "com.example.a b"="v" x=', 'LABEL').pairs).toEqual([['"com.example.a b"', '"v"'], ['x', '']]);
    expect(parseError('FROM a\nENV A').message).toBe('Dockerfile:2: ENV must have two arguments');
    expect(parseError('FROM a\nENV').message).toBe('Dockerfile:2: ENV requires at least one argument');
    expect(parseError('FROM a\nLABEL a=1 b').message).toMatch(/can't find = in "b"/);
    expect(parseError('FROM a\nENV =x').message).toBe('Dockerfile:2: ENV names can not be blank');
  });

  test('ARG: names and defaults, before the first FROM too', () => {
    const df = parse('ARG V=1.36 OTHER\nFROM busybox:$V\nARG V\nARG X="a b"\n');
    expect(df.globalArgs[0].args).toEqual([{ name: 'V', default: '1.36' }, { name: 'OTHER' }]);
    expect(df.stages[0].instructions).toMatchObject([{ kind: 'ARG', args: [{ name: 'V' }] }, { kind: 'ARG', args: [{ name: 'X', default: '"a b"' }] }]);
    expect(parseError('FROM a\nARG =1').message).toBe('Dockerfile:2: ARG names can not be blank');
  });

  test('WORKDIR, USER, STOPSIGNAL, MAINTAINER take the rest of the line', () => {
    expect(one('WORKDIR /a b', 'WORKDIR').path).toBe('/a b');
    expect(one('USER app:app', 'USER').user).toBe('app:app');
    expect(one('STOPSIGNAL SIGINT', 'STOPSIGNAL').signal).toBe('SIGINT');
    expect(one('MAINTAINER Jane <j@x>', 'MAINTAINER').name).toBe('Jane <j@x>');
    expect(parseError('FROM a\nWORKDIR').message).toBe('Dockerfile:2: WORKDIR requires exactly one argument');
  });

  test('CMD/ENTRYPOINT/SHELL/EXPOSE/VOLUME', () => {
    expect(one('ENTRYPOINT ["/bin/sh", "-c"]', 'ENTRYPOINT').command).toEqual({ form: 'exec', args: ['/bin/sh', '-c'] });
    expect(one('CMD []', 'CMD').command).toEqual({ form: 'exec', args: [] });
    expect(one('SHELL ["/bin/bash", "-o", "pipefail", "-c"]', 'SHELL').shell).toEqual(['/bin/bash', '-o', 'pipefail', '-c']);
    expect(parseError('FROM a\nSHELL /bin/bash -c').message).toBe('Dockerfile:2: SHELL requires the arguments to be in JSON form');
    expect(one('EXPOSE 80/tcp  443 $P', 'EXPOSE').ports).toEqual(['80/tcp', '443', '$P']);
    expect(one('VOLUME ["/data", "/logs"]', 'VOLUME').paths).toEqual(['/data', '/logs']);
    expect(one('VOLUME /a /b', 'VOLUME').paths).toEqual(['/a', '/b']);
    expect(parseError('FROM a\nVOLUME [""]').message).toBe('Dockerfile:2: VOLUME specified can not be an empty string');
  });

  test('HEALTHCHECK: CMD forms, NONE, options in nanoseconds, bad values', () => {
    expect(one('HEALTHCHECK --interval=30s --timeout=3s --start-period=1m --start-interval=500ms --retries=3 CMD curl -f http://x/ || exit 1', 'HEALTHCHECK')).toMatchObject({
      test: ['CMD-SHELL', 'curl -f http://x/ || exit 1'],
      options: { interval: 30e9, timeout: 3e9, startPeriod: 60e9, startInterval: 500e6, retries: 3 },
    });
    expect(one('HEALTHCHECK CMD ["true"]', 'HEALTHCHECK').test).toEqual(['CMD', 'true']);
    expect(one('HEALTHCHECK none', 'HEALTHCHECK').test).toBeNull();
    expect(parseError('FROM a\nHEALTHCHECK NONE x').message).toBe('Dockerfile:2: HEALTHCHECK NONE takes no arguments');
    expect(parseError('FROM a\nHEALTHCHECK RUN x').message).toBe('Dockerfile:2: Unknown type "RUN" in HEALTHCHECK (try CMD)');
    expect(parseError('FROM a\nHEALTHCHECK CMD').message).toBe('Dockerfile:2: Missing command after HEALTHCHECK CMD');
    expect(parseError('FROM a\nHEALTHCHECK --interval=1us CMD x').message).toBe('Dockerfile:2: Interval "interval" cannot be less than 1ms');
    expect(parseError('FROM a\nHEALTHCHECK --retries=-1 CMD x').message).toBe('Dockerfile:2: --retries cannot be negative (-1)');
    expect(parseError('FROM a\nHEALTHCHECK --timeout=soon CMD x').message).toMatch(/invalid duration "soon"/);
  });

  test('ONBUILD: the trigger parsed as an instruction; forbidden triggers', () => {
    const o = one('ONBUILD COPY --chown=1 . /app', 'ONBUILD');
    expect(o.trigger).toMatchObject({ kind: 'COPY', sources: ['.'], dest: '/app', chown: '1', text: 'COPY --chown=1 . /app' });
    expect(o.text).toBe('ONBUILD COPY --chown=1 . /app');
    expect(parseError('FROM a\nONBUILD ONBUILD RUN x').message).toMatch(/Chaining ONBUILD/);
    expect(parseError('FROM a\nONBUILD FROM x').message).toBe("Dockerfile:2: FROM isn't allowed as an ONBUILD trigger");
    expect(parseError('FROM a\nONBUILD MAINTAINER x').message).toBe("Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger");
    expect(parseError('FROM a\nONBUILD BOGUS x').message).toMatch(/unknown instruction: BOGUS/);
  });

  test('instruction names in any case; the text keeps what was written', () => {
    const r = one('run   echo   hi', 'RUN');
    expect(r.text).toBe('run   echo   hi');
    expect(r.command).toEqual({ form: 'shell', text: 'echo   hi' });
  });
});

describe('heredocs', () => {
  test('RUN <<EOF: the body, expanded or not, chomped with <<-', () => {
    const [a, b, c] = body('RUN <<EOF\necho $A\n  indented\nEOF\nRUN <<-"END"\n\t\techo x\n\tEND\nRUN 3<<\'X\' cat\nbody\nX\n') as RunInstruction[];
    expect(a.heredocs).toEqual([{ name: 'EOF', content: 'echo $A\n  indented\n', chomp: false, expand: true }]);
    expect(b.heredocs).toEqual([{ name: 'END', content: 'echo x\n', chomp: true, expand: false }]);
    expect(c.heredocs).toEqual([{ name: 'X', content: 'body\n', chomp: false, expand: false }]);
  });

  test('several heredocs in one line are read in order; line numbers go on after them', () => {
    const df = parse('FROM a\nRUN cat <<A - <<B > /out\na\nA\nb\nB\nRUN next\n');
    const [run, next] = df.stages[0].instructions as RunInstruction[];
    expect(run.heredocs.map((h) => [h.name, h.content])).toEqual([['A', 'a\n'], ['B', 'b\n']]);
    expect(next.loc.line).toBe(7);
  });

  test('COPY heredocs: the delimiter is the source name', () => {
    const c = one('COPY <<one.txt <<two.txt /dest/\n1\none.txt\n2\ntwo.txt', 'COPY');
    expect(c.sources).toEqual(['one.txt', 'two.txt']);
    expect(c.heredocs.map((h) => h.content)).toEqual(['1\n', '2\n']);
  });

  test('exec form and other instructions open no heredoc; << in quotes is text', () => {
    expect(body('RUN ["cat", "<<EOF"]\nRUN next')).toHaveLength(2);
    expect(body('ENV A=<<EOF\nRUN next')).toHaveLength(2);
    expect((one('RUN echo "<<EOF"', 'RUN') as RunInstruction).heredocs).toEqual([]);
  });

  test('an unterminated heredoc is an error at its instruction', () => {
    expect(parseError('FROM a\nRUN <<EOF\necho\n').message).toBe('Dockerfile:2: unterminated heredoc EOF');
  });

  test('runScript: single heredoc, shebang file, heredoc inside a command, plain shell', () => {
    const [a, b, c, d, e] = body('RUN <<EOF\necho hi\nEOF\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\nRUN cat <<EOF > /x\nhello\nEOF\nRUN echo plain\nRUN ["x"]') as RunInstruction[];
    expect(runScript(a)).toEqual({ kind: 'shell', text: 'echo hi\n' });
    expect(runScript(b)).toEqual({ kind: 'file', name: 'EOF', content: '#!/usr/bin/env python3\nprint(1)\n' });
    expect(runScript(c)).toEqual({ kind: 'shell', text: 'cat <<EOF > /x\nhello\nEOF' });
    expect(runScript(d)).toEqual({ kind: 'shell', text: 'echo plain' });
    expect(runScript(e)).toBeUndefined();
    expect(summarizeHeredoc('echo a\necho b\n')).toBe('echo a...');
  });
});

describe('bad input: one BuildError naming file and line, exit 1', () => {
  test('unknown instruction, with a suggestion for a typo', () => {
    const e = parseError('FROM busybox\nRUNN echo\n', 'build/Containerfile');
    expect(e.message).toBe('build/Containerfile:2: unknown instruction: RUNN (did you mean run?)');
    expect(e.location).toEqual({ file: 'build/Containerfile', line: 2 });
    expect(exitCodeOf(e)).toBe(1);
    expect(parseError('FROM a\nFROBNICATE x').message).toBe('Dockerfile:2: unknown instruction: FROBNICATE');
  });

  test('an instruction before the first FROM (only ARG may come before it)', () => {
    expect(parseError('# c\nRUN x\nFROM a').message).toMatch(/^Dockerfile:2: no build stage in current context: RUN comes before the first FROM/);
    expect(parseError('ARG A=1\n').message).toMatch(/^Dockerfile:1: no build stage in current context/);
  });

  test('an empty Dockerfile, one with only comments, one with NUL bytes', () => {
    expect(parseError('').message).toBe('the Dockerfile (Dockerfile) cannot be empty');
    expect(parseError('# only\n\n   \n').message).toMatch(/cannot be empty/);
    expect(parseError('FROM a\0').message).toMatch(/not a text file/);
  });

  test('hostile input: huge lines, deep continuations, odd bytes do not throw anything but BuildError', () => {
    expect(body(`RUN ${'x'.repeat(200_000)}`)).toHaveLength(1);
    expect((body(`RUN a${' \\\n b'.repeat(5000)}`)[0] as RunInstruction).command.form).toBe('shell');
    for (const text of ['FROM', 'FROM a\nCOPY', 'FROM a\nRUN --mount=', 'FROM a\nRUN --=x y', 'FROM a\nENV "a=b', 'FROM a\nLABEL \'=\'',
      'FROM a\nRUN <<', 'FROM a\nRUN <<""\n\n', 'FROM a\nCOPY ["a",', 'FROM a\nHEALTHCHECK', 'FROM a\nONBUILD', 'FROM a\nRUN --mount=type=cache,target="/x']) {
      try {
        parse(text);
      } catch (e) {
        expect(e, text).toBeInstanceOf(BuildError);
        expect((e as Error).message, text).toMatch(/^Dockerfile(:\d+)?: |^the Dockerfile/);
      }
    }
  });
});
