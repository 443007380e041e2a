// cp both ways (running and stopped containers, `-` tar streams, -a owners, Docker's path
// rules), symlinks that point out of the container's root (CVE-2018-15664 class, also swapped
// while cp runs), diff, export and commit.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { BUSYBOX, isRootless, sh, shq, skiff, skiffPty, store, uniqueName, useStore, waitFor, type RunResult } from './harness';

useStore();

async function ok(args: string[], input?: string | Buffer) {
  const r = await skiff(args, { input });
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

/** A directory on the host for this test, writable by anyone: a leak through it would work. */
function hostDir(name: string): string {
  const d = path.join(store().dir, name);
  fs.mkdirSync(d, { recursive: true });
  fs.chmodSync(store().dir, 0o755);
  fs.chmodSync(d, 0o777);
  return d;
}

const running: string[] = [];
afterAll(async () => {
  if (running.length) await skiff(['rm', '-f', ...running]);
});

async function runningContainer(script = 'sleep 300'): Promise<string> {
  const name = uniqueName('cp');
  await ok(['run', '-d', '--name', name, BUSYBOX, 'sh', '-c', script]);
  running.push(name);
  return name;
}

/**
 * A running container that does SETUP, then waits until the test copies /go into it, then runs
 * FINISH: its output is what the container saw after the copies (attached: no exec needed).
 */
async function liveContainer(setup: string, finish: string): Promise<{ name: string; finish: () => Promise<RunResult> }> {
  const name = uniqueName('live');
  const run = skiff(['run', '--name', name, BUSYBOX, 'sh', '-c', `${setup}; touch /ready; while [ ! -e /go ]; do sleep 0.1; done; ${finish}`],
    { timeoutMs: 100_000 });
  running.push(name);
  await waitFor(async () => (await skiff(['cp', `${name}:/ready`, '-'])).code === 0, 30_000, `${name} ready`);
  const go = path.join(hostDir(`go-${name}`), 'go');
  fs.writeFileSync(go, '');
  return { name, finish: async () => { await ok(['cp', go, `${name}:/go`]); return run; } };
}

describe('cp out of a container', () => {
  test('a file, a directory (by name, and its contents with /.), from a stopped container', async () => {
    const name = uniqueName('cpout');
    await ok(['run', '--name', name, BUSYBOX, 'sh', '-c', 'mkdir -p /data/sub && echo one > /data/a && echo two > /data/sub/b']);
    const out = hostDir(`out-${name}`);
    await ok(['cp', `${name}:/data/a`, out]);
    expect(fs.readFileSync(path.join(out, 'a'), 'utf8')).toBe('one\n');
    await ok(['cp', `${name}:/data/a`, path.join(out, 'renamed')]);
    expect(fs.readFileSync(path.join(out, 'renamed'), 'utf8')).toBe('one\n');
    await ok(['cp', `${name}:/data`, out]);
    expect(fs.readFileSync(path.join(out, 'data/sub/b'), 'utf8')).toBe('two\n');
    await ok(['cp', `${name}:/data/.`, path.join(out, 'renamed-dir')]);
    expect(fs.readFileSync(path.join(out, 'renamed-dir/sub/b'), 'utf8')).toBe('two\n');
    // relative to the container's root, as Docker
    await ok(['cp', `${name}:data/sub/b`, path.join(out, 'rel')]);
    expect(fs.readFileSync(path.join(out, 'rel'), 'utf8')).toBe('two\n');
    // owned by whoever runs cp
    expect(fs.statSync(path.join(out, 'a')).uid).toBe(process.getuid!());
  });

  test('`-` writes a tar stream to stdout', async () => {
    const name = uniqueName('cpstream');
    await ok(['run', '--name', name, BUSYBOX, 'sh', '-c', 'mkdir /s && echo x > /s/f']);
    const r = await sh(`"$SKIFF" cp ${shq(`${name}:/s`)} - | tar tf -`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['s/', 's/f']);
  });

  test('a missing source, a missing container, both sides local: Docker\'s errors', async () => {
    const name = uniqueName('cperr');
    await ok(['create', '--name', name, BUSYBOX, 'true']);
    const missing = await skiff(['cp', `${name}:/nope`, store().dir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`Could not find the file /nope in container ${name}`);
    const noCtr = await skiff(['cp', 'no-such-ctr:/x', store().dir]);
    expect(noCtr.code).toBe(1);
    expect(noCtr.stderr).toContain('No such container: no-such-ctr');
    const local = await skiff(['cp', 'a', 'b']);
    expect(local.code).toBe(1);
    expect(local.stderr).toContain('must specify at least one container source');
    const across = await skiff(['cp', `${name}:/a`, `${name}:/b`]);
    expect(across.stderr).toContain('copying between containers is not supported');
  });
});

describe('cp into a container', () => {
  test('into a running container: visible inside at once; a new name; into a directory; a directory tree', async () => {
    const live = await liveContainer('true', 'cat /tmp/f /renamed /tree/deep/g');
    const name = live.name;
    const src = hostDir(`in-${name}`);
    fs.writeFileSync(path.join(src, 'f'), 'host file\n');
    fs.mkdirSync(path.join(src, 'tree/deep'), { recursive: true });
    fs.writeFileSync(path.join(src, 'tree/deep/g'), 'deep\n');
    await ok(['cp', path.join(src, 'f'), `${name}:/tmp/`]);
    await ok(['cp', path.join(src, 'f'), `${name}:/renamed`]);
    await ok(['cp', path.join(src, 'tree'), `${name}:/`]);
    const noDir = await skiff(['cp', path.join(src, 'f'), `${name}:/no/such/dir/f`]);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toContain(`Could not find the file /no/such/dir in container ${name}`);
    const noSrc = await skiff(['cp', path.join(src, 'nope'), `${name}:/tmp/`]);
    expect(noSrc.code).toBe(1);
    expect(noSrc.stderr).toContain(`lstat ${path.join(src, 'nope')}: no such file or directory`);
    expect((await live.finish()).stdout).toBe('host file\nhost file\ndeep\n');
  });

  test('into a stopped container: the file is there when it runs', async () => {
    const name = uniqueName('cpstopped');
    await ok(['create', '--name', name, BUSYBOX, 'cat', '/etc/added']);
    const src = hostDir(`stopped-${name}`);
    fs.writeFileSync(path.join(src, 'added'), 'added while stopped\n');
    await ok(['cp', path.join(src, 'added'), `${name}:/etc/added`]);
    expect((await ok(['start', '-a', name])).stdout).toBe('added while stopped\n');
  });

  test('a file never replaces a directory there (Docker\'s rule): the copy fails and the directory stays', async () => {
    const name = uniqueName('cpkeep');
    await ok(['run', '--name', name, BUSYBOX, 'sh', '-c', 'mkdir -p /d/sub && touch /d/sub/keep && ls /d/sub']);
    const src = hostDir(`keep-${name}`);
    fs.mkdirSync(path.join(src, 'd'));
    fs.writeFileSync(path.join(src, 'd/sub'), 'a file\n');
    const r = await skiff(['cp', path.join(src, 'd'), `${name}:/`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot overwrite a directory with a non-directory');
    const again = await skiff(['start', '-a', name]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe('keep\n');
  });

  test('copied files belong to container root; with -a they keep their uid/gid', async () => {
    const live = await liveContainer('true', 'stat -c %u:%g /plain /kept');
    const name = live.name;
    const src = hostDir(`owners-${name}`);
    const file = path.join(src, 'owned');
    fs.writeFileSync(file, 'x');
    if (!isRootless()) fs.chownSync(file, 1234, 2345);
    const st = fs.statSync(file);
    await ok(['cp', file, `${name}:/plain`]);
    await ok(['cp', '-a', file, `${name}:/kept`]);
    expect((await live.finish()).stdout).toBe(`0:0\n${st.uid}:${st.gid}\n`);
  });

  test('`-` reads a tar stream from stdin into a directory; a non-directory destination is refused', async () => {
    const live = await liveContainer('true', 'cat /tmp/streamed');
    const name = live.name;
    const src = hostDir(`tarin-${name}`);
    fs.writeFileSync(path.join(src, 'streamed'), 'via tar\n');
    const tar = await sh(`tar cf - -C ${shq(src)} streamed | "$SKIFF" cp - ${shq(`${name}:/tmp`)}`);
    expect(tar.code, tar.stderr).toBe(0);
    const notDir = await sh(`tar cf - -C ${shq(src)} streamed | "$SKIFF" cp - ${shq(`${name}:/etc/passwd`)}`);
    expect(notDir.code).toBe(1);
    expect(notDir.stderr).toContain(`destination "${name}:/etc/passwd" must be a directory`);
    expect((await live.finish()).stdout).toBe('via tar\n');
  });

  test('a hostile tar on stdin cannot climb out of the destination', async () => {
    const name = await runningContainer();
    const out = hostDir(`hostile-${name}`);
    // a tar whose entry is ../../../../<host dir>/evil
    const work = hostDir(`hostile-src-${name}`);
    fs.writeFileSync(path.join(work, 'evil'), 'evil\n');
    const climb = `${'../'.repeat(12)}${out.slice(1)}/evil`;
    const r = await sh(`tar cf - -C ${shq(work)} --transform ${shq(`s|^evil$|${climb}|`)} -P evil | "$SKIFF" cp - ${shq(`${name}:/tmp`)}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('points outside');
    expect(fs.existsSync(path.join(out, 'evil'))).toBe(false);
  });
});

describe('symlinks never lead out of the container', () => {
  test('a symlink to a host path resolves inside the container, both ways', async () => {
    const host = hostDir('victim');
    fs.writeFileSync(path.join(host, 'secret'), 'HOST SECRET\n');
    fs.chmodSync(path.join(host, 'secret'), 0o666);
    const live = await liveContainer(`ln -s ${host} /abs && ln -s ${'../'.repeat(15)}${host.slice(1)} /rel && mkdir -p ${host} && echo inside > ${host}/secret`,
      `ls ${host}`);
    const name = live.name;
    const out = hostDir(`symout-${name}`);
    for (const link of ['/abs', '/rel']) {
      await ok(['cp', `${name}:${link}/secret`, path.join(out, `got${link.slice(1)}`)]);
      expect(fs.readFileSync(path.join(out, `got${link.slice(1)}`), 'utf8')).toBe('inside\n');
      await ok(['cp', path.join(out, `got${link.slice(1)}`), `${name}:${link}/written${link.slice(1)}`]);
    }
    expect(fs.readdirSync(host)).toEqual(['secret']);
    expect(fs.readFileSync(path.join(host, 'secret'), 'utf8')).toBe('HOST SECRET\n');
    expect((await live.finish()).stdout).toBe('secret\nwrittenabs\nwrittenrel\n');
  });

  test('-L follows the source symlink inside the container; without it the link itself is copied', async () => {
    const name = await runningContainer('echo target > /t && ln -s /t /l && sleep 300');
    await waitFor(async () => (await skiff(['cp', `${name}:/l`, '-'])).code === 0, 30_000, 'the link');
    const out = hostDir(`follow-${name}`);
    await ok(['cp', `${name}:/l`, path.join(out, 'link')]);
    expect(fs.readlinkSync(path.join(out, 'link'))).toBe('/t');
    await ok(['cp', '-L', `${name}:/l`, path.join(out, 'followed')]);
    expect(fs.readFileSync(path.join(out, 'followed'), 'utf8')).toBe('target\n');
  });

  test('a directory swapped for a symlink to the host while cp runs: the host is never read or written', async () => {
    const host = hostDir('swapvictim');
    fs.writeFileSync(path.join(host, 'f'), 'HOST SECRET\n');
    fs.chmodSync(path.join(host, 'f'), 0o666);
    // /d flips between a real directory (with f) and a symlink to the host dir's path
    const name = await runningContainer(
      `touch /ready; while :; do mkdir -p /d.new && echo inside > /d.new/f && rm -rf /d && mv /d.new /d; ln -s ${host} /d.l && rm -rf /d && mv /d.l /d; done`);
    await waitFor(async () => (await skiff(['cp', `${name}:/ready`, '-'])).code === 0, 30_000, 'the swapping loop');
    const out = hostDir(`swapout-${name}`);
    const payload = path.join(out, 'payload');
    fs.writeFileSync(payload, 'FROM CP\n');
    for (let i = 0; i < 25; i++) {
      const got = path.join(out, `got${i}`);
      // each copy may succeed or miss /d mid-swap; what it must never do is touch the host
      await skiff(['cp', `${name}:/d/f`, got]);
      if (fs.existsSync(got)) expect(fs.readFileSync(got, 'utf8')).toBe('inside\n');
      await skiff(['cp', payload, `${name}:/d/f`]);
      await skiff(['cp', `${name}:/d`, path.join(out, `tree${i}`)]);
    }
    expect(fs.readdirSync(host)).toEqual(['f']);
    expect(fs.readFileSync(path.join(host, 'f'), 'utf8')).toBe('HOST SECRET\n');
    // a copy that caught /d as a symlink copied the link itself (as Docker); one that caught
    // the directory has the container's file, never the host's
    for (const f of fs.readdirSync(out).filter((n) => n.startsWith('tree'))) {
      const inner = path.join(out, f, 'f');
      if (fs.lstatSync(path.join(out, f)).isDirectory() && fs.existsSync(inner)) expect(fs.readFileSync(inner, 'utf8')).toBe('inside\n');
    }
  }, 120_000);
});

describe('diff, export, commit', () => {
  test('diff lists additions, changes and deletions (whiteouts), sorted, without runtime mount points', async () => {
    const name = uniqueName('diff');
    await ok(['run', '--name', name, BUSYBOX, 'sh', '-c', 'echo a > /new && rm /etc/motd && mkdir /tmp/d && echo x >> /etc/group']);
    expect((await ok(['diff', name])).stdout).toBe('C /etc\nC /etc/group\nD /etc/motd\nA /new\nC /tmp\nA /tmp/d\n');
    const fresh = uniqueName('diff');
    await ok(['run', '--name', fresh, BUSYBOX, 'true']);
    expect((await ok(['container', 'diff', fresh])).stdout).toBe('');
  });

  test('export writes the container\'s filesystem as a tar (-o or stdout), refusing a terminal', async () => {
    const name = uniqueName('export');
    await ok(['run', '--name', name, BUSYBOX, 'sh', '-c', 'echo exported > /marker && rm /etc/motd']);
    const listing = await sh(`"$SKIFF" export ${shq(name)} | tar tf -`);
    expect(listing.code, listing.stderr).toBe(0);
    const entries = listing.stdout.split('\n');
    expect(entries).toContain('marker');
    expect(entries).toContain('bin/busybox');
    expect(entries).not.toContain('etc/motd');
    // a reader that stops early (`| head`) ends export and `cp -` quietly: exit 0, no error line
    for (const cmd of [`export ${shq(name)}`, `cp ${shq(name)}:/bin -`, `save ${BUSYBOX}`]) {
      const early = await sh(`{ "$SKIFF" ${cmd}; echo "exit=$?" >&2; } | head -c 100 >/dev/null`);
      expect(early.stderr, cmd).toBe('exit=0\n');
    }
    const file = path.join(hostDir(`export-${name}`), 'fs.tar');
    await ok(['export', '-o', file, name]);
    const r = await sh(`tar xOf ${shq(file)} marker`);
    expect(r.stdout).toBe('exported\n');
    const tty = await skiffPty(['export', name]);
    expect(tty.code).toBe(1);
    expect(tty.stdout).toContain('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  });

  test('commit makes an image of the changes (with -c and -m) that runs with them', async () => {
    const name = uniqueName('commit');
    await ok(['run', '--name', name, BUSYBOX, 'sh', '-c', 'echo committed > /hello && rm /etc/motd']);
    const tag = `skiff-test/committed-${name}:v1`;
    const id = (await ok(['commit', '-m', 'my change', '-a', 'Me <me@example.com>', '-c', 'CMD ["cat", "/hello"]', name, tag])).stdout.trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await ok(['run', '--rm', tag])).stdout).toBe('committed\n');
    const motd = await skiff(['run', '--rm', tag, 'ls', '/etc/motd']);
    expect(motd.code).toBe(1);
    const info = JSON.parse((await ok(['image', 'inspect', tag])).stdout)[0];
    expect(info.Id).toBe(id);
    expect(info.Author).toBe('Me <me@example.com>');
    expect(info.Config.Cmd).toEqual(['cat', '/hello']);
    expect(info.RootFS.Layers).toHaveLength(2);
    expect(info.Comment).toBe('my change');
  });

  // Rootful only: a kernel whose overlay has metacopy and redirect_dir on by default (module
  // parameters, settable by root at run time) writes a chown as a metadata-only copy and a
  // directory rename as a redirect xattr into the upper dir, which commit reads as plain files:
  // an empty busybox and a missing directory in the image. skiff mounts with both off
  // (storage/overlay-options.ts). The defaults are put back at the end; every skiff mount
  // meanwhile passes its own options, so tests running alongside are not affected.
  const overlayParam = (k: string) => `/sys/module/overlay/parameters/${k}`;
  test.runIf(!isRootless() && fs.existsSync(overlayParam('metacopy')) && fs.existsSync(overlayParam('redirect_dir')))(
    'commit with the kernel\'s overlay defaults set to metacopy=on and redirect_dir=on: the image has the data and the renamed directory\'s content', async () => {
      const saved = ['metacopy', 'redirect_dir'].map((k) => [k, fs.readFileSync(overlayParam(k), 'utf8').trim()] as const);
      const name = uniqueName('metacopy');
      try {
        fs.writeFileSync(overlayParam('redirect_dir'), 'Y');
        fs.writeFileSync(overlayParam('metacopy'), 'Y');
        const sum = (await ok(['run', '--rm', BUSYBOX, 'md5sum', '/bin/busybox'])).stdout;
        await ok(['run', '--name', name, BUSYBOX, 'sh', '-c', 'chown 1:1 /bin/busybox && mv /usr /usr-moved']);
        for (const [k, v] of saved) fs.writeFileSync(overlayParam(k), v);
        const tag = `skiff-test/metacopy-${name}:v1`;
        await ok(['commit', name, tag]);
        const r = await ok(['run', '--rm', tag, 'sh', '-c', 'md5sum /bin/busybox; stat -c %u:%g /bin/busybox; ls /usr-moved/bin | wc -l']);
        const [md5, owner, moved] = r.stdout.trim().split('\n');
        expect(md5.split(/\s+/)[0]).toBe(sum.split(/\s+/)[0]);
        expect(owner).toBe('1:1');
        expect(Number(moved)).toBeGreaterThan(0);
      } finally {
        for (const [k, v] of saved) fs.writeFileSync(overlayParam(k), v);
        await skiff(['rm', '-f', name]);
      }
    });

  test('commit of a running container (--pause, the default, and --pause=false) leaves it running, not frozen', async () => {
    const name = uniqueName('commitlive');
    await ok(['run', '-d', '--name', name, BUSYBOX, 'sh', '-c', 'echo live > /state; while :; do date +%s%N > /tick; sleep 0.1; done']);
    for (const flags of [[], ['--pause=false'], ['-p']]) {
      const tag = `skiff-test/committed-${name}:${flags.length ? 'x' : 'default'}`;
      await ok(['commit', ...flags, name, tag]);
      expect((await ok(['run', '--rm', tag, 'cat', '/state'])).stdout).toBe('live\n');
      // still ticking: a container left in a frozen cgroup would not write /tick again
      const before = (await ok(['exec', name, 'cat', '/tick'])).stdout;
      await waitFor(async () => (await ok(['exec', name, 'cat', '/tick'])).stdout !== before, 10_000, 'the container to go on');
      expect((await ok(['inspect', '-f', '{{.State.Status}}', name])).stdout).toBe('running\n');
    }
    await ok(['rm', '-f', name]);
  });
});
