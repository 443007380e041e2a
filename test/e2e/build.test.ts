// skiff build: every instruction into the image config, RUN in a container of the image so far,
// COPY/ADD from the context, multi-stage COPY --from, the layer cache (hits, misses, --no-cache),
// a failing RUN (nothing left behind), owners and whiteouts kept in the layers, heredocs, a
// Dockerfile on STDIN, RUN --mount, -q/--iidfile, ADD of a URL, --build-arg, --platform and the
// progress output.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { BUSYBOX, skiff, store, uniqueName, useStore, walk } from './harness';
import { typeInPty } from './pty-driver';

useStore();

let n = 0;
/** A fresh context directory with FILES (name → content) and a Dockerfile. */
function context(dockerfile: string, files: Record<string, string> = {}): string {
  const dir = path.join(store().dir, `ctx-${++n}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  fs.chmodSync(store().dir, 0o755);
  for (const e of [dir, ...walk(dir).map((w) => w.path)]) fs.chmodSync(e, fs.statSync(e).isDirectory() ? 0o755 : 0o644);
  return dir;
}

async function ok(args: string[], input?: string) {
  const r = await skiff(args, { input, timeoutMs: 120_000 });
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

async function build(dir: string, ...args: string[]) {
  return ok(['build', '--progress', 'plain', ...args, dir]);
}

/** The plain progress line of a RUN's own output `ran-N` (not the step's label, which names it too). */
const ran = (i: number) => new RegExp(`#\\d+ \\d+\\.\\d{3} ran-${i}\\n`);

async function inspectConfig(image: string): Promise<Record<string, unknown>> {
  const r = await ok(['image', 'inspect', '--format', '{{json .Config}}', image]);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** What is left in the store's staging area (a failed build must leave nothing). */
function staging(): string[] {
  const dirs = [path.join(store().root, 'tmp'), path.join(store().dir, 'data', 'skiff', 'tmp')];
  return dirs.flatMap((d) => { try { return fs.readdirSync(d); } catch { return []; } });
}

describe('build', () => {
  test('instructions into the config; RUN sees ENV, ARG and WORKDIR; history per instruction', async () => {
    const tag = `${uniqueName('b')}:v1`;
    const dir = context(`FROM ${BUSYBOX}
ARG GREETING=hello
ENV WHO=world PATH=/usr/local/bin:/usr/bin:/bin
LABEL org.example.a="one" b=two
WORKDIR /app
WORKDIR sub
RUN echo "$GREETING $WHO" > greeting && pwd > where
EXPOSE 8080 53/udp
VOLUME /data
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=5s --retries=2 CMD true
SHELL ["/bin/sh", "-ec"]
USER 1000:1000
ENTRYPOINT ["/bin/cat"]
CMD ["greeting"]
ONBUILD RUN echo child
MAINTAINER someone@example.com
`);
    const r = await build(dir, '-t', tag, '--label', 'extra=yes');
    expect(r.stderr).toMatch(/#\d+ \[4\/4\] RUN echo "\$GREETING \$WHO"/);
    expect(r.stderr).toMatch(/#\d+ \[2\/4\] WORKDIR \/app\n/);
    expect(r.stderr).toMatch(/naming to .*b/);
    const cfg = await inspectConfig(tag);
    expect(cfg.Env).toContain('WHO=world');
    expect(cfg.Labels).toEqual({ 'org.example.a': 'one', b: 'two', extra: 'yes' });
    expect(cfg.WorkingDir).toBe('/app/sub');
    expect(cfg.ExposedPorts).toEqual({ '8080/tcp': {}, '53/udp': {} });
    expect(cfg.Volumes).toEqual({ '/data': {} });
    expect(cfg.StopSignal).toBe('SIGQUIT');
    expect(cfg.Healthcheck).toMatchObject({ Test: ['CMD-SHELL', 'true'], Interval: 5e9, Retries: 2 });
    expect(cfg.User).toBe('1000:1000');
    expect(cfg.Entrypoint).toEqual(['/bin/cat']);
    expect(cfg.Cmd).toEqual(['greeting']);
    expect(cfg.OnBuild).toEqual(['RUN echo child']);
    const run = await ok(['run', '--rm', tag]);
    expect(run.stdout).toBe('hello world\n');
    const where = await ok(['run', '--rm', tag, 'where']);
    expect(where.stdout).toBe('/app/sub\n');
    const child = context(`FROM ${tag}\nUSER 0\nRUN test -d /app/sub && echo child-built > /app/sub/child\n`);
    const childTag = uniqueName('child');
    const c = await build(child, '-t', childTag);
    expect(c.stderr).toMatch(/ONBUILD RUN echo child\n#\d+ \d+\.\d{3} child\n/); // the parent's trigger ran first
    expect((await inspectConfig(childTag)).OnBuild ?? null).toBeNull();
    const hist = await ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}', tag]);
    expect(hist.stdout).toContain('RUN /bin/sh -c echo "$GREETING $WHO" > greeting && pwd > where');
    expect(hist.stdout).toContain('WORKDIR /app');
    expect(hist.stdout).toContain('EXPOSE 8080 53/udp');
  });

  test('the cache: a rebuild with no change runs nothing and makes the same image; a changed file rebuilds from its COPY on; --no-cache', async () => {
    const dir = context(`FROM ${BUSYBOX}
COPY a.txt /a.txt
RUN echo ran-1 && cat /a.txt > /copy1
COPY b.txt /b.txt
RUN echo ran-2 && cat /b.txt > /copy2
`, { 'a.txt': 'A\n', 'b.txt': 'B\n' });
    const first = await build(dir, '--iidfile', path.join(dir, '..', `iid-${n}`));
    expect(first.stderr).toMatch(ran(1));
    const id1 = fs.readFileSync(path.join(dir, '..', `iid-${n}`), 'utf8');
    expect(id1).toMatch(/^sha256:[0-9a-f]{64}$/);

    const again = await build(dir, '-q');
    expect(again.stdout.trim()).toBe(id1);
    const plain = await build(dir);
    expect(plain.stderr).not.toMatch(ran(1));
    expect(plain.stderr).not.toMatch(ran(2));
    expect(plain.stderr.match(/CACHED/g)?.length).toBeGreaterThanOrEqual(5);

    fs.writeFileSync(path.join(dir, 'b.txt'), 'B2\n');
    const changed = await build(dir, '-t', 'changed:1');
    expect(changed.stderr).not.toMatch(ran(1));
    expect(changed.stderr).toMatch(ran(2));
    expect((await ok(['run', '--rm', 'changed:1', 'cat', '/copy2'])).stdout).toBe('B2\n');

    fs.chmodSync(path.join(dir, 'b.txt'), 0o600); // a mode change is a change
    const mode = await build(dir);
    expect(mode.stderr).toMatch(ran(2));

    const nocache = await build(dir, '--no-cache');
    expect(nocache.stderr).toMatch(ran(1));
    expect(nocache.stderr).toMatch(ran(2));
  });

  test('multi-stage: COPY --from a named stage and by index, --target builds only what it needs', async () => {
    const tag = uniqueName('ms');
    const dir = context(`FROM ${BUSYBOX} AS builder
RUN mkdir -p /out && echo built > /out/artifact && echo stage-builder-ran
FROM ${BUSYBOX} AS unused
RUN echo stage-unused-ran
FROM ${BUSYBOX}
COPY --from=builder /out/artifact /artifact
COPY --from=0 /out /outdir/
RUN cat /artifact /outdir/artifact
`);
    const r = await build(dir, '-t', tag);
    expect(r.stderr).toContain('stage-builder-ran');
    expect(r.stderr).not.toContain('stage-unused-ran');
    expect(r.stderr).toMatch(/\[builder 2\/2\] RUN/);
    expect((await ok(['run', '--rm', tag, 'cat', '/artifact', '/outdir/artifact'])).stdout).toBe('built\nbuilt\n');
    const t = await build(dir, '--target', 'unused', '-t', `${tag}-unused`);
    expect(t.stderr).toContain('stage-unused-ran');
    expect(t.stderr).not.toMatch(/\[builder/);
  });

  test('a failing RUN: exit 1, the step, command and code named, its output shown, nothing left behind', async () => {
    const dir = context(`FROM ${BUSYBOX}
RUN echo before-failure
RUN echo the-output-of-the-step && exit 3
RUN echo never
`);
    const before = staging();
    const ps = (await ok(['ps', '-a', '-q'])).stdout;
    const r = await skiff(['build', '--progress', 'plain', dir], { timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the-output-of-the-step');
    expect(r.stderr).not.toContain('never\n');
    expect(r.stderr).toMatch(/Dockerfile:3: process "\/bin\/sh -c echo the-output-of-the-step && exit 3" did not complete successfully: exit code: 3/);
    expect(staging()).toEqual(before);
    expect((await ok(['ps', '-a', '-q'])).stdout).toBe(ps);
    const q = await skiff(['build', '-q', dir], { timeoutMs: 120_000 });
    expect(q.code).toBe(1);
    expect(q.stderr).toContain('the-output-of-the-step'); // -q shows the log when it fails
  });

  test('files of a non-root user keep their owner; a deleted base file is a whiteout in the image', async () => {
    const tag = uniqueName('own');
    const dir = context(`FROM ${BUSYBOX}
RUN mkdir -p /home/u && echo x > /home/u/file && chown -R 1234:2345 /home/u && chmod 0750 /home/u
RUN rm /bin/vi && rm -r /etc/ 2>/dev/null; mkdir -p /etc && echo fresh > /etc/new
COPY --chown=42:43 --chmod=0640 f.txt /owned/f.txt
`, { 'f.txt': 'f\n' });
    await build(dir, '-t', tag);
    const r = await ok(['run', '--rm', tag, 'sh', '-c', 'stat -c "%u:%g %a %n" /home/u /home/u/file /owned/f.txt; ls /bin/vi 2>&1; ls /etc']);
    expect(r.stdout).toContain('1234:2345 750 /home/u\n');
    expect(r.stdout).toContain('1234:2345 644 /home/u/file\n');
    expect(r.stdout).toContain('42:43 640 /owned/f.txt\n');
    expect(r.stdout).toMatch(/\/bin\/vi: No such file or directory/);
  });

  test('heredocs in RUN and COPY; a Dockerfile on STDIN', async () => {
    const tag = uniqueName('hd');
    const dir = context(`FROM ${BUSYBOX}
ARG NAME=here
RUN <<EOF
echo one > /one
echo two >> /one
EOF
RUN cat > /two <<EOT
doc \${NAME}
EOT
COPY <<EOF /three
three $NAME
EOF
`);
    await build(dir, '-t', tag);
    const r = await ok(['run', '--rm', tag, 'cat', '/one', '/two', '/three']);
    expect(r.stdout).toBe('one\ntwo\ndoc here\nthree here\n');
    const stdinTag = uniqueName('stdin');
    await ok(['build', '-q', '-t', stdinTag, '-'], `FROM ${BUSYBOX}\nRUN echo from-stdin > /s\n`);
    expect((await ok(['run', '--rm', stdinTag, 'cat', '/s'])).stdout).toBe('from-stdin\n');
  });

  test('WORKDIR creates its directory (owned by USER); RUN runs as USER; ADD extracts a local tar; --network none', async () => {
    const tag = uniqueName('wd');
    const dir = context(`FROM ${BUSYBOX}
USER 1234:1234
WORKDIR /made/by/workdir
RUN id -u > /tmp/uid && touch mine
USER root
ADD files.tar /extracted/
ADD files.tar.gz /gz/
RUN cat /sys/class/net/*/operstate 2>/dev/null | wc -l > /ifaces
`);
    const tarDir = path.join(store().dir, `tarsrc-${n}`);
    fs.mkdirSync(path.join(tarDir, 'inner'), { recursive: true });
    fs.writeFileSync(path.join(tarDir, 'inner', 'x.txt'), 'from tar\n');
    const { execFileSync } = await import('node:child_process');
    execFileSync('tar', ['-C', tarDir, '-cf', path.join(dir, 'files.tar'), 'inner']);
    execFileSync('tar', ['-C', tarDir, '-czf', path.join(dir, 'files.tar.gz'), 'inner']);
    fs.chmodSync(path.join(dir, 'files.tar'), 0o644);
    fs.chmodSync(path.join(dir, 'files.tar.gz'), 0o644);
    await build(dir, '-t', tag, '--network', 'none');
    const r = await ok(['run', '--rm', tag, 'sh', '-c', 'stat -c "%u %n" /made/by/workdir /made/by/workdir/mine; cat /tmp/uid /extracted/inner/x.txt /gz/inner/x.txt; cat /ifaces']);
    expect(r.stdout).toBe('1234 /made/by/workdir\n1234 /made/by/workdir/mine\n1234\nfrom tar\nfrom tar\n1\n');
  });

  test('ADD of a URL (from a server on 127.0.0.1), --build-arg, COPY --parents and --link, --platform of this host only', async () => {
    const http = await import('node:http');
    const server = http.createServer((req, res) => {
      if (req.url === '/payload.txt') res.writeHead(200, { 'Content-Type': 'text/plain' }).end('downloaded\n');
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as import('node:net').AddressInfo).port;
    try {
      const tag = uniqueName('url');
      const dir = context(`FROM ${BUSYBOX}
ARG GREETING=default
ADD http://127.0.0.1:${port}/payload.txt /dl/
COPY --parents a/b/c.txt /kept/
COPY --link a/b/c.txt /linked.txt
RUN echo "$GREETING" > /greeting
`, { 'a/b/c.txt': 'nested\n' });
      // the RUN-less ADD fetches from the host's loopback: the host network is fine for the build's own download
      await build(dir, '-t', tag, '--build-arg', 'GREETING=hello');
      const r = await ok(['run', '--rm', tag, 'cat', '/dl/payload.txt', '/kept/a/b/c.txt', '/linked.txt', '/greeting']);
      expect(r.stdout).toBe('downloaded\nnested\nnested\nhello\n');
      // a URL that answers 404: one line naming the step, exit 1
      const bad = context(`FROM ${BUSYBOX}\nADD http://127.0.0.1:${port}/missing /x\n`);
      const b = await skiff(['build', '--progress', 'plain', bad], { timeoutMs: 120_000 });
      expect(b.code).toBe(1);
      expect(b.stderr).toMatch(/404/);
    } finally {
      server.close();
    }
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    const same = context(`FROM --platform=linux/${arch} ${BUSYBOX}\nRUN true\n`);
    await build(same, '--platform', `linux/${arch}`);
    const other = await skiff(['build', '--platform', 'linux/s390x', same], { timeoutMs: 120_000 });
    expect(other.code).toBe(1);
    expect(other.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('.dockerignore (** and ! exceptions), globs, a tar context on STDIN, --build-context NAME=DIR', async () => {
    const tag = uniqueName('ign');
    const dir = context(`FROM ${BUSYBOX}
COPY . /ctx/
COPY sub/*.txt /globbed/
COPY --from=extra note /note
`, {
      '.dockerignore': '**/*.log\n!logs/keep.log\n**/*.tmp\nsecret/\n',
      'keep.txt': 'k\n', 'top.log': 'x\n', 'logs/a.log': 'x\n', 'logs/keep.log': 'kept\n',
      'sub/deep/x.tmp': 'x\n', 'sub/y.txt': 'y\n', 'sub/z.txt': 'z\n', 'secret/key': 'no\n',
    });
    const extra = path.join(store().dir, `extra-${n}`);
    fs.mkdirSync(extra);
    fs.writeFileSync(path.join(extra, 'note'), 'from the named context\n');
    fs.chmodSync(extra, 0o755);
    fs.chmodSync(path.join(extra, 'note'), 0o644);
    await build(dir, '-t', tag, '--build-context', `extra=${extra}`);
    const r = await ok(['run', '--rm', tag, 'sh', '-c', 'cd /ctx && find . | sort; ls /globbed; cat /note']);
    expect(r.stdout).toBe(['.', './.dockerignore', './Dockerfile', './keep.txt', './logs', './logs/keep.log', './sub', './sub/deep', './sub/y.txt', './sub/z.txt',
      'y.txt', 'z.txt', 'from the named context', ''].join('\n'));

    const { execFileSync } = await import('node:child_process');
    const tarTag = uniqueName('tarctx');
    const tarDir = context(`FROM ${BUSYBOX}\nCOPY hello /hello\n`, { hello: 'from a tar context\n' });
    const tar = execFileSync('tar', ['-C', tarDir, '-cf', '-', '.']);
    const t = await skiff(['build', '-q', '-t', tarTag, '-'], { input: tar, timeoutMs: 120_000 });
    expect(t.code, t.stderr).toBe(0);
    expect((await ok(['run', '--rm', tarTag, 'cat', '/hello'])).stdout).toBe('from a tar context\n');
    // the same context as a gzipped tarball named on the command line
    const tgz = path.join(store().dir, `ctx-${n}.tar.gz`);
    execFileSync('tar', ['-C', tarDir, '-czf', tgz, '.']);
    fs.chmodSync(tgz, 0o644);
    const fromFile = await skiff(['build', '-q', '-t', `${tarTag}-file`, tgz], { timeoutMs: 120_000 });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect((await ok(['run', '--rm', `${tarTag}-file`, 'cat', '/hello'])).stdout).toBe('from a tar context\n');
  });

  test('bad input: one line naming the file and line, exit 1, nothing left behind', async () => {
    const before = staging();
    const unknown = context(`FROM ${BUSYBOX}\nRUNN echo\n`);
    const r1 = await skiff(['build', unknown]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/Dockerfile:2: unknown instruction: RUNN/);
    const outside = context(`FROM ${BUSYBOX}\nCOPY ../secret /x\n`);
    const r2 = await skiff(['build', outside]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/Dockerfile:2: .*outside the build context: \.\.\/secret/);
    const missing = await skiff(['build', '-f', path.join(store().dir, 'no-such-Dockerfile'), unknown]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/failed to read dockerfile: open .*no-such-Dockerfile: no such file or directory/);
    expect(staging()).toEqual(before);
  });

  test('RUN --mount: cache kept between builds, tmpfs, a secret; the mounts are not in the layer', async () => {
    const tag = uniqueName('mnt');
    const secret = path.join(store().dir, `secret-${n}`);
    fs.writeFileSync(secret, 's3cret\n');
    fs.chmodSync(secret, 0o644);
    const dir = context(`FROM ${BUSYBOX}
RUN --mount=type=cache,target=/cache echo x >> /cache/count && wc -l < /cache/count > /count
RUN --mount=type=tmpfs,target=/scratch touch /scratch/t && grep -q /scratch /proc/mounts
RUN --mount=type=secret,id=tok cat /run/secrets/tok > /seen
`);
    await build(dir, '-t', tag, '--secret', `id=tok,src=${secret}`);
    await build(dir, '--no-cache', '-t', tag, '--secret', `id=tok,src=${secret}`);
    const r = await ok(['run', '--rm', tag, 'sh', '-c', 'cat /count /seen; ls /cache /scratch /run/secrets 2>/dev/null | wc -l']);
    expect(r.stdout).toBe('2\ns3cret\n0\n');
  });

  test('RUN --mount=type=bind from a stage and from the context; a changed bound file re-runs the step', async () => {
    const tag = uniqueName('bind');
    const dir = context(`FROM ${BUSYBOX} AS src
RUN mkdir -p /out/sub && echo from-stage > /out/sub/f && echo top > /out/t
FROM ${BUSYBOX}
RUN --mount=type=bind,from=src,source=/out,target=/in cat /in/sub/f /in/t > /seen-stage
RUN --mount=type=bind,from=src,source=/out/t,target=/one cat /one > /seen-file
RUN --mount=type=bind,source=bound.txt,target=/bound.txt cat /bound.txt > /seen-ctx
`, { 'bound.txt': 'v1\n' });
    await build(dir, '-t', tag);
    const seen = async () => (await ok(['run', '--rm', tag, 'sh', '-c', 'cat /seen-stage /seen-file /seen-ctx; ls /in /one /bound.txt 2>/dev/null | wc -l'])).stdout;
    expect(await seen()).toBe('from-stage\ntop\ntop\nv1\n0\n');
    fs.writeFileSync(path.join(dir, 'bound.txt'), 'v2\n');
    await build(dir, '-t', tag);
    expect(await seen()).toBe('from-stage\ntop\ntop\nv2\n0\n');
  });
  test('RUN networks: default is a namespace of its own with a route out (run\'s user-mode helper), none has loopback only, host is the host\'s; RUN --network; a bad --network is one line', async () => {
    const hostNs = fs.readlinkSync('/proc/self/ns/net');
    const probe = 'readlink /proc/self/ns/net; grep -vc "^Iface" /proc/net/route; cat /etc/hostname';
    const dir = context(`FROM ${BUSYBOX}
RUN (${probe}) > /net-build
RUN --network=none (${probe}) > /net-run
`);
    const seen = async (tag: string, file: string) => (await ok(['run', '--rm', '--network', 'none', tag, 'cat', file])).stdout.split('\n');
    const tags: Record<string, string> = {};
    for (const mode of ['default', 'none', 'host']) {
      tags[mode] = uniqueName(`net-${mode}`);
      await build(dir, '-t', tags[mode], '--network', mode);
    }
    const [dNs, dRoutes, dHost] = await seen(tags.default, '/net-build');
    expect(dNs).not.toBe(hostNs);
    expect(Number(dRoutes)).toBeGreaterThan(0); // pasta copies the host's routes, slirp4netns routes via 10.0.2.2
    expect(dHost).toBe('buildkitsandbox');
    const [nNs, nRoutes] = await seen(tags.none, '/net-build');
    expect(nNs).not.toBe(hostNs);
    expect(nRoutes).toBe('0');
    expect((await seen(tags.host, '/net-build'))[0]).toBe(hostNs);
    // RUN --network=none inside a default-network build
    const [rNs, rRoutes] = await seen(tags.default, '/net-run');
    expect(rNs).not.toBe(hostNs);
    expect(rRoutes).toBe('0');
    const before = staging();
    const bad = await skiff(['build', '--network', 'container:foo', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toEqual(['skiff: --network: network mode "container:foo" not supported by build: use default, host or none']);
    expect(staging()).toEqual(before);
  });
  test('progress on a terminal: the live view redrawn in place (running output, CACHED, FINISHED); plain in a pipe', async () => {
    const tag = uniqueName('tty');
    const dir = context(`FROM ${BUSYBOX}
RUN echo live-1; sleep 1; echo live-2
RUN echo second > /second
`);
    const first = await typeInPty(['build', '-t', tag, dir], [], { size: [30, 64] });
    expect(first.code, first.screen).toBe(0);
    expect(first.screen).toMatch(/\x1b\[\d+A/); // frames drawn over each other
    expect(first.screen).toContain(' => => # live-1'); // the running step's output under it
    expect(first.screen).toMatch(/\[\+\] Building \d+\.\ds \(4\/4\) FINISHED/);
    expect(first.screen).toMatch(/ => \[2\/3\] RUN echo live-1; sleep 1; echo live-2 +\d+\.\ds/);
    expect(first.screen).not.toContain('#1 ');
    // cut to the terminal's 64 columns, so no line wraps and the redraw stays in place
    const shown = first.screen.replace(/\x1b\[\d*[A-Z]/g, '\n').split('\n');
    expect(Math.max(...shown.map((l) => l.length))).toBeLessThan(64);
    expect(shown.filter((l) => l.startsWith(' => => writing image sha256:')).every((l) => l.length === 63)).toBe(true);
    expect(shown.some((l) => l.startsWith(' => => writing image sha256:'))).toBe(true);
    const again = await typeInPty(['build', '--progress', 'tty', '-t', tag, dir], [], { size: [30, 64] });
    expect(again.code, again.screen).toBe(0);
    expect(again.screen).toMatch(/ => CACHED \[2\/3\] RUN echo live-1/);
    // the same build in a pipe: plain lines, no control sequences
    const piped = await ok(['build', '-t', tag, dir]);
    expect(piped.stderr).toMatch(/^#\d+ \[2\/3\] RUN echo live-1.*\n#\d+ CACHED$/m);
    expect(piped.stderr).not.toContain('\x1b');
  });
  test('--squash: the layers the build made become one over the base image\'s (whiteouts and replaced directories kept), history marked empty plus a merge entry', async () => {
    const dir = context(`FROM ${BUSYBOX}
RUN mkdir /d && echo one > /d/a && echo keep > /d/b && echo x > /gone
RUN rm /gone /etc/motd
RUN rm -rf /d && mkdir /d && echo two > /d/c
COPY f /f
`, { f: 'copied\n' });
    const plain = uniqueName('unsquashed'), squashed = uniqueName('squashed');
    await build(dir, '-t', plain);
    const r = await build(dir, '--squash', '-t', squashed);
    expect(r.stderr).toMatch(/#\d+ squashing layers\n#\d+ DONE/);
    const layers = async (t: string) => JSON.parse((await ok(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', t])).stdout) as string[];
    const base = await layers(BUSYBOX);
    const [p, q] = [await layers(plain), await layers(squashed)];
    expect(p.length).toBe(base.length + 4);
    expect(q.length).toBe(base.length + 1);
    expect(q.slice(0, base.length)).toEqual(base);
    const show = 'ls /d; cat /d/c /f; ls /gone /etc/motd 2>&1 | wc -l';
    const seen = (await ok(['run', '--rm', '--network', 'none', squashed, 'sh', '-c', show])).stdout;
    expect(seen).toBe('c\ntwo\ncopied\n2\n');
    expect((await ok(['run', '--rm', '--network', 'none', plain, 'sh', '-c', show])).stdout).toBe(seen);
    const history = (await ok(['history', '--no-trunc', '--format', '{{.Size}}|{{.Comment}}', squashed])).stdout.trim().split('\n');
    expect(history[0]).toMatch(/^[1-9][0-9.]*k?B\|merge sha256:[0-9a-f]{64} to sha256:[0-9a-f]{64}$/);
    expect(history.slice(1, 5).every((h) => h.startsWith('0B|'))).toBe(true);
    // one layer: nothing to merge, the same image as without --squash
    const one = context(`FROM ${BUSYBOX}\nRUN echo solo > /solo\n`);
    const a = (await ok(['build', '-q', one])).stdout.trim();
    expect((await ok(['build', '-q', '--squash', one])).stdout.trim()).toBe(a);
  });
  test('the runtime\'s mount points stay out of a step\'s layer, also below a directory the user cannot read (rootless: the tar path)', async () => {
    const tag = uniqueName('closed');
    // busybox has no /etc/hosts, hostname or resolv.conf: the RUN's mounts create them in its upper
    // dir; /etc then belongs to a sub-ID with mode 700, which the user's skiff cannot look into
    const dir = context(`FROM ${BUSYBOX}\nRUN echo extra > /etc/extra && chown 1000:1000 /etc && chmod 700 /etc\n`);
    await build(dir, '-t', tag);
    const archive = path.join(store().dir, `${tag}.tar`);
    await ok(['save', '-o', archive, tag]);
    const { execFileSync } = await import('node:child_process');
    const manifest = JSON.parse(execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' })) as { Layers: string[] }[];
    const layer = execFileSync('tar', ['-xOf', archive, manifest[0].Layers.at(-1)!]);
    const listing = execFileSync('tar', ['-tvf', '-', '--numeric-owner'], { input: layer, encoding: 'utf8' }).trim().split('\n');
    const names = listing.map((l) => l.split(/\s+/).at(-1)).sort();
    expect(names).toEqual(['etc/', 'etc/extra']);
    expect(listing.find((l) => l.endsWith(' etc/'))).toMatch(/^drwx------ 1000\/1000 /);
    const r = await ok(['run', '--rm', '--network', 'none', tag, 'cat', '/etc/extra']);
    expect(r.stdout).toBe('extra\n');
  });
});
