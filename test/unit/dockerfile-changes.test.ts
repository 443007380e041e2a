import { describe, expect, test } from 'vitest';
import { applyChanges, expand, words } from '../../src/image/dockerfile-changes';

describe('applyChanges (import -c)', () => {
  test('CMD and ENTRYPOINT: JSON (exec) form and shell form', () => {
    expect(applyChanges({}, ['CMD ["/bin/sh", "-c", "echo hi"]']).Cmd).toEqual(['/bin/sh', '-c', 'echo hi']);
    expect(applyChanges({}, ['CMD echo $HOME']).Cmd).toEqual(['/bin/sh', '-c', 'echo $HOME']);
    expect(applyChanges({}, ['entrypoint ["/bin/echo"]']).Entrypoint).toEqual(['/bin/echo']);
    // a broken JSON array is shell form, as Docker's parser
    expect(applyChanges({}, ['CMD [not json']).Cmd).toEqual(['/bin/sh', '-c', '[not json']);
  });

  test('ENTRYPOINT drops a CMD not set by these changes, keeps one that is', () => {
    expect(applyChanges({ Cmd: ['sh'] }, ['ENTRYPOINT ["x"]']).Cmd).toBeUndefined();
    expect(applyChanges({}, ['CMD ["a"]', 'ENTRYPOINT ["x"]']).Cmd).toEqual(['a']);
  });

  test('ENV: key=value pairs with quotes, legacy form, replacement in place, expansion', () => {
    const c = applyChanges({ Env: ['PATH=/bin', 'A=old'] }, [
      'ENV A=new B="two words" C=\'$A single\'',
      'ENV D ${A}-and-$B',
      'ENV E=${NOPE:-dflt} F=${A:+set}',
    ]);
    expect(c.Env).toEqual(['PATH=/bin', 'A=new', 'B=two words', "C=$A single", 'D=new-and-two words', 'E=dflt', 'F=set']);
  });

  test('LABEL, USER, WORKDIR (relative to the previous one), STOPSIGNAL', () => {
    const c = applyChanges({}, ['LABEL a=1 "b c"="d e"', 'LABEL legacy value here', 'USER app:app', 'WORKDIR /srv', 'WORKDIR data/../x', 'STOPSIGNAL SIGTERM']);
    expect(c.Labels).toEqual({ a: '1', 'b c': 'd e', legacy: 'value here' });
    expect(c.User).toBe('app:app');
    expect(c.WorkingDir).toBe('/srv/x');
    expect(c.StopSignal).toBe('SIGTERM');
  });

  test('EXPOSE with protocols and ranges, VOLUME in both forms', () => {
    const c = applyChanges({}, ['EXPOSE 80 53/udp 8000-8001', 'VOLUME ["/data", "/logs"]', 'VOLUME /cache /tmp/x']);
    expect(c.ExposedPorts).toEqual({ '80/tcp': {}, '53/udp': {}, '8000/tcp': {}, '8001/tcp': {} });
    expect(Object.keys(c.Volumes!)).toEqual(['/data', '/logs', '/cache', '/tmp/x']);
  });

  test('ONBUILD and HEALTHCHECK', () => {
    const c = applyChanges({}, ['ONBUILD run echo hi', 'HEALTHCHECK --interval=30s --retries=3 CMD curl -f http://localhost/']);
    expect(c.OnBuild).toEqual(['RUN echo hi']);
    expect(c.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'curl -f http://localhost/'], Interval: 30e9, Retries: 3 });
    expect(applyChanges({}, ['HEALTHCHECK NONE']).Healthcheck).toEqual({ Test: ['NONE'] });
  });

  test.each([
    ['RUN echo hi', /run is not a valid change command/],
    ['FROM busybox', /from is not a valid change command/],
    ['EXPOSE http', /invalid containerPort/],
    ['ENV A="unterminated', /matching "/],
    ['ENV A=1 B', /can't find = in "B"/],
    ['ONBUILD ONBUILD RUN x', /isn't allowed/],
    ['USER', /requires exactly one argument/],
  ])('%s is refused with exit 125', (change, re) => {
    expect(() => applyChanges({}, [change])).toThrow(re);
    try { applyChanges({}, [change]); } catch (e) { expect((e as { exitCode: number }).exitCode).toBe(125); }
  });

  test('the base config is not modified', () => {
    const base = { Env: ['A=1'] };
    applyChanges(base, ['ENV A=2']);
    expect(base.Env).toEqual(['A=1']);
  });
});

describe('words and expand', () => {
  test('words keep quotes for expand to resolve', () => {
    expect(words('a "b c" d\\ e')).toEqual(['a', '"b c"', 'd\\ e']);
    expect(expand('d\\ e', new Map())).toBe('d e');
    expect(expand('"a\\"b"', new Map())).toBe('a"b');
    expect(expand("'$X'", new Map([['X', '1']]))).toBe('$X');
    expect(expand('\\$X', new Map([['X', '1']]))).toBe('$X');
  });
});
