// Volumes and mounts (issue 11): the volume verbs, -v / --mount / --tmpfs / --read-only /
// --volumes-from in real containers, copy-up of image content into a new volume, rm -v, and
// who owns what a container writes through a bind mount, rootless and rootful.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { BUSYBOX, errorLines, isRootless, lines, skiff, store, uniqueName, useStore } from './harness';

useStore();

const run = (args: string[]) => skiff(['run', '--rm', ...args]);
const volumeNames = async () => lines((await skiff(['volume', 'ls', '-q'])).stdout);

/** A host directory the test user owns, inside the file's store (removed with it). */
function hostDir(name: string): string {
  const d = path.join(store().dir, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

describe('volume verbs', () => {
  test('create, ls (filters, -q, --format), inspect, rm', async () => {
    const name = uniqueName('vol');
    expect((await skiff(['volume', 'create', '--label', 'team=a', name])).stdout.trim()).toBe(name);
    // creating it again is no error and keeps it
    expect((await skiff(['volume', 'create', name])).code).toBe(0);
    const ls = await skiff(['volume', 'ls']);
    expect(ls.stdout).toMatch(/^DRIVER\s+VOLUME NAME\n/);
    expect(ls.stdout).toMatch(new RegExp(`local\\s+${name}\\n`));
    expect(lines((await skiff(['volume', 'ls', '-q', '-f', 'label=team=a'])).stdout)).toEqual([name]);
    expect(lines((await skiff(['volume', 'ls', '-q', '-f', 'label=team=b'])).stdout)).toEqual([]);
    expect(lines((await skiff(['volume', 'ls', '--format', '{{.Name}} {{.Driver}}', '-f', `name=${name}`])).stdout)).toEqual([`${name} local`]);
    const inspect = await skiff(['volume', 'inspect', name]);
    expect(inspect.code, inspect.stderr).toBe(0);
    const [v] = JSON.parse(inspect.stdout);
    expect(v).toMatchObject({ Name: name, Driver: 'local', Scope: 'local', Labels: { team: 'a' } });
    expect(fs.statSync(v.Mountpoint).isDirectory()).toBe(true);
    // `inspect` finds volumes too, after containers and images (Docker's order)
    expect((await skiff(['inspect', '-f', '{{.Name}} {{.Scope}}', name])).stdout).toBe(`${name} local\n`);
    expect((await skiff(['volume', 'rm', name])).stdout.trim()).toBe(name);
    expect(await volumeNames()).not.toContain(name);
  });

  test('missing volumes: inspect and rm fail with one line, rm -f does not', async () => {
    const r = await skiff(['volume', 'rm', 'no-such-volume']);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toEqual(['skiff: get no-such-volume: no such volume']);
    expect((await skiff(['volume', 'rm', '-f', 'no-such-volume'])).code).toBe(0);
    expect((await skiff(['volume', 'inspect', 'no-such-volume'])).code).toBe(1);
  });

  test('bad names and options are refused before anything is made', async () => {
    const r = await skiff(['volume', 'create', 'a/b']);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('includes invalid characters for a local volume name');
    const o = await skiff(['volume', 'create', '-o', 'bogus=1', uniqueName('vol')]);
    expect(o.code).toBe(1);
    expect(o.stderr).toContain('invalid option key: "bogus"');
    expect(await volumeNames()).toEqual(expect.not.arrayContaining(['a/b']));
  });

  test('prune takes anonymous volumes only, -a named ones too, never one in use', async () => {
    const named = uniqueName('keep');
    const used = uniqueName('used');
    await skiff(['volume', 'create', named]);
    const anon = (await skiff(['volume', 'create'])).stdout.trim();
    const holder = uniqueName('c');
    expect((await skiff(['create', '--name', holder, '-v', `${used}:/u`, BUSYBOX, 'true'])).code).toBe(0);
    const p = await skiff(['volume', 'prune', '-f']);
    expect(p.stdout).toContain(`Deleted Volumes:\n${anon}\n`);
    expect(await volumeNames()).toEqual(expect.arrayContaining([named, used]));
    const a = await skiff(['volume', 'prune', '-a', '-f']);
    expect(a.stdout).toContain(named);
    expect(await volumeNames()).toContain(used);
    const rm = await skiff(['volume', 'rm', used]);
    expect(rm.code).toBe(1);
    expect(errorLines(rm.stderr)).toEqual([expect.stringMatching(new RegExp(`^skiff: remove ${used}: volume is in use - \\[[0-9a-f]{64}\\]$`))]);
    await skiff(['rm', holder]);
    expect((await skiff(['volume', 'rm', used])).code).toBe(0);
    // the report counts what the removed volumes held
    const sized = uniqueName('sized');
    await skiff(['volume', 'create', '--label', `sized=${sized}`, sized]);
    expect((await skiff(['run', '--rm', '--network', 'none', '-v', `${sized}:/d`, BUSYBOX, 'sh', '-c', 'head -c 5000 /dev/zero >/d/f'])).code).toBe(0);
    const s = await skiff(['volume', 'prune', '-a', '-f', '--filter', `label=sized=${sized}`]);
    expect(s.stdout).toBe(`Deleted Volumes:\n${sized}\n\nTotal reclaimed space: 5kB\n`);
  });

  test('prune without -f asks, and no answer removes nothing', async () => {
    const anon = (await skiff(['volume', 'create'])).stdout.trim();
    const r = await skiff(['volume', 'prune'], { input: '' });
    expect(r.stdout).toContain('WARNING! This will remove anonymous local volumes not used by at least one container.');
    expect(await volumeNames()).toContain(anon);
    await skiff(['volume', 'rm', anon]);
  });
});

describe('volumes in containers', () => {
  test('a named volume keeps its content across containers, and read-only mounts refuse writes', async () => {
    const v = uniqueName('data');
    expect((await run(['-v', `${v}:/data`, BUSYBOX, 'sh', '-c', 'echo persisted > /data/f'])).code).toBe(0);
    const r = await run(['--mount', `type=volume,src=${v},dst=/mnt/d`, BUSYBOX, 'cat', '/mnt/d/f']);
    expect(r.stdout).toBe('persisted\n');
    const ro = await run(['-v', `${v}:/data:ro`, BUSYBOX, 'sh', '-c', 'echo x > /data/g']);
    expect(ro.code).not.toBe(0);
    expect(ro.stderr).toContain('Read-only file system');
    await skiff(['volume', 'rm', v]);
  });

  test('a new volume over image content is filled with it (copy-up), with the directory\'s owner and mode', async () => {
    const seed = uniqueName('seed');
    const img = `${uniqueName('withvol')}:1`;
    expect((await skiff(['run', '--name', seed, BUSYBOX, 'sh', '-c', 'mkdir -p /srv/app && echo from-image > /srv/app/f && chown 12:34 /srv/app && chmod 750 /srv/app'])).code).toBe(0);
    expect((await skiff(['commit', '--change', 'VOLUME /srv/app', seed, img])).code).toBe(0);
    await skiff(['rm', seed]);
    const v = uniqueName('fill');
    const r = await run(['-v', `${v}:/srv/app`, img, 'sh', '-c', 'cat /srv/app/f; stat -c "%u:%g %a" /srv/app; echo changed > /srv/app/f']);
    expect(r.stdout).toBe('from-image\n12:34 750\n');
    // filled once: a volume that has content keeps it
    expect((await run(['-v', `${v}:/srv/app`, img, 'cat', '/srv/app/f'])).stdout).toBe('changed\n');
    // nocopy leaves a new volume empty
    expect((await run(['-v', `${uniqueName('empty')}:/srv/app:nocopy`, img, 'ls', '-A', '/srv/app'])).stdout).toBe('');
    // the image's VOLUME alone makes an anonymous volume, filled too; rm -v removes it
    const c = uniqueName('anon');
    const before = await volumeNames();
    expect((await skiff(['run', '--name', c, img, 'cat', '/srv/app/f'])).stdout).toBe('from-image\n');
    const mounts = JSON.parse((await skiff(['inspect', '-f', '{{json .Mounts}}', c])).stdout);
    // no flag gave it a mode: Docker shows "" (a volume named in -v/--mount shows "z")
    expect(mounts).toEqual([expect.objectContaining({ Type: 'volume', Destination: '/srv/app', Driver: 'local', Mode: '', RW: true })]);
    expect(await volumeNames()).toContain(mounts[0].Name);
    expect(before).not.toContain(mounts[0].Name);
    expect((await skiff(['rm', '-v', c])).code).toBe(0);
    expect(await volumeNames()).not.toContain(mounts[0].Name);
    await skiff(['rmi', img]);
  });

  test('rm without -v keeps anonymous volumes, run --rm removes them', async () => {
    const c = uniqueName('keepanon');
    expect((await skiff(['run', '--name', c, '-v', '/scratch', BUSYBOX, 'true'])).code).toBe(0);
    const name = JSON.parse((await skiff(['inspect', '-f', '{{json .Mounts}}', c])).stdout)[0].Name;
    await skiff(['rm', c]);
    expect(await volumeNames()).toContain(name);
    await skiff(['volume', 'rm', name]);
    const before = await volumeNames();
    expect((await run(['-v', '/scratch', BUSYBOX, 'true'])).code).toBe(0);
    expect(await volumeNames()).toEqual(before);
  });

  test('--volumes-from mounts the other container\'s volumes and binds, :ro read-only', async () => {
    const v = uniqueName('shared');
    const donor = uniqueName('donor');
    const h = hostDir('from');
    expect((await skiff(['run', '--name', donor, '-v', `${v}:/shared`, '-v', `${h}:/h`, BUSYBOX, 'sh', '-c', 'echo hello > /shared/f'])).code).toBe(0);
    const r = await run(['--volumes-from', donor, BUSYBOX, 'sh', '-c', 'cat /shared/f && ls -d /h']);
    expect(r.stdout).toBe('hello\n/h\n');
    const ro = await run(['--volumes-from', `${donor}:ro`, BUSYBOX, 'sh', '-c', 'echo x > /shared/g']);
    expect(ro.stderr).toContain('Read-only file system');
    const missing = await run(['--volumes-from', 'no-such-container', BUSYBOX, 'true']);
    expect(missing.code).toBe(125);
    expect(errorLines(missing.stderr)).toEqual(['skiff: No such container: no-such-container']);
    await skiff(['rm', donor]);
    await skiff(['volume', 'rm', v]);
  });

  test('inspect shows Binds, Mounts, ReadonlyRootfs', async () => {
    const c = uniqueName('insp');
    const h = hostDir('insp');
    const v = uniqueName('iv');
    expect((await skiff(['create', '--name', c, '--read-only', '-v', `${h}:/h:ro`, '--mount', `type=volume,src=${v},dst=/v`, BUSYBOX, 'true'])).code).toBe(0);
    const hc = JSON.parse((await skiff(['inspect', '-f', '{{json .HostConfig}}', c])).stdout);
    expect(hc.Binds).toEqual([`${h}:/h:ro`]);
    expect(hc.ReadonlyRootfs).toBe(true);
    expect(hc.Mounts).toEqual([{ Type: 'volume', Source: v, Target: '/v' }]);
    const mounts = JSON.parse((await skiff(['inspect', '-f', '{{json .Mounts}}', c])).stdout);
    expect(mounts).toEqual([
      { Type: 'bind', Source: h, Destination: '/h', Mode: 'ro', RW: false, Propagation: 'rprivate' },
      expect.objectContaining({ Type: 'volume', Name: v, Destination: '/v', Mode: 'z', RW: true }),
    ]);
    await skiff(['rm', c]);
    await skiff(['volume', 'rm', v]);
  });
});

describe('binds, tmpfs, read-only root', () => {
  test('ownership both ways: the host user\'s files are root\'s in the container, container root writes as the host user', async () => {
    const h = hostDir('own');
    fs.writeFileSync(path.join(h, 'from-host'), 'x');
    const r = await run(['-v', `${h}:/h`, BUSYBOX, 'sh', '-c', 'stat -c %u:%g /h/from-host && echo y > /h/from-container && mkdir /h/dir']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('0:0\n');
    const me = process.getuid!();
    expect(fs.statSync(path.join(h, 'from-container')).uid).toBe(me);
    expect(fs.statSync(path.join(h, 'dir')).uid).toBe(me);
  });

  test(':U gives the bind source to the container\'s user', async () => {
    const h = hostDir('chown');
    fs.writeFileSync(path.join(h, 'f'), 'x');
    const denied = await run(['-u', '1000:1000', '-v', `${h}:/h`, BUSYBOX, 'sh', '-c', 'echo y > /h/g']);
    expect(denied.code).not.toBe(0);
    const r = await run(['-u', '1000:1000', '-v', `${h}:/h:U`, BUSYBOX, 'sh', '-c', 'echo y > /h/g && stat -c %u:%g /h /h/f /h/g']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('1000:1000\n1000:1000\n1000:1000\n');
  });

  test('--read-only root, with writable volumes and tmpfs on it', async () => {
    const r = await run(['--read-only', '--tmpfs', '/run', '-v', `${uniqueName('rw')}:/data`, BUSYBOX, 'sh', '-c',
      'touch /x 2>&1; echo a > /run/a && echo b > /data/b && echo ok']);
    expect(r.stdout).toContain('Read-only file system');
    expect(r.stdout).toContain('ok\n');
  });

  test('--mount type=tmpfs and --tmpfs', async () => {
    const r = await run(['--mount', 'type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770', '--tmpfs', '/u:size=2m', BUSYBOX, 'sh', '-c', 'grep -E " /(t|u) " /proc/mounts; stat -c %a /t']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/tmpfs \/t tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=1770/);
    expect(r.stdout).toMatch(/tmpfs \/u tmpfs .*size=2048k/);
    expect(r.stdout).toMatch(/1770\n$/);
  });

  test('a bind destination that is a symlink in the image resolves inside the container', async () => {
    const seed = uniqueName('lnk');
    const img = `${uniqueName('lnkimg')}:1`;
    await skiff(['run', '--name', seed, BUSYBOX, 'ln', '-s', '/../../../../tmp/escape', '/target']);
    await skiff(['commit', seed, img]);
    await skiff(['rm', seed]);
    const h = hostDir('lnk');
    fs.writeFileSync(path.join(h, 'f'), 'in\n');
    const r = await run(['-v', `${h}:/target`, img, 'cat', '/tmp/escape/f']);
    expect(r.stdout).toBe('in\n');
    expect(fs.existsSync('/tmp/escape/f')).toBe(false);
    await skiff(['rmi', img]);
  });
});

describe('bad specs (one line, exit 125, nothing made)', () => {
  const bad: [string[], string][] = [
    [['-v', 'a:b:c:d'], "invalid volume specification: 'a:b:c:d'"],
    [['-v', 'data:relative'], `invalid mount config for type "volume": invalid mount path: 'relative' mount path must be absolute`],
    [['-v', '/tmp:/x:bogus'], 'invalid mode: bogus'],
    [['-v', '/no/such/dir:/x'], 'invalid mount config for type "bind": bind source path does not exist: /no/such/dir'],
    [['--mount', 'type=bind,dst=/x'], 'field Source must not be empty'],
    [['--mount', 'type=volume,src=v1'], 'target is required'],
    [['-v', '/x', '--tmpfs', '/x'], 'Duplicate mount point: /x'],
    [['-v', 'x:/x'], 'volume name is too short'],
  ];
  for (const [flags, message] of bad) {
    test(flags.join(' '), async () => {
      const before = await volumeNames();
      const ps = lines((await skiff(['ps', '-aq'])).stdout).length;
      const r = await skiff(['run', '--rm', ...flags, BUSYBOX, 'true']);
      expect(r.code).toBe(125);
      expect(errorLines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toContain(message);
      expect(await volumeNames()).toEqual(before);
      expect(lines((await skiff(['ps', '-aq'])).stdout)).toHaveLength(ps);
    });
  }

  test('a bind source that is a symlink into a directory this user cannot read', async () => {
    const link = path.join(store().dir, 'link-to-root');
    fs.symlinkSync('/root', link);
    const r = await run(['-v', `${link}:/x`, BUSYBOX, 'true']);
    if (isRootless()) {
      expect(r.code).toBe(125);
      expect(errorLines(r.stderr)).toEqual([expect.stringContaining(`bind source path ${link} (it resolves to /root) is not readable by this user: permission denied`)]);
    } else {
      expect(r.code).toBe(0); // root reads /root
    }
  });
});

describe('--userns=keep-id', () => {
  test.runIf(isRootless())('the container user is the host user, and what it writes through a bind is the host user\'s', async () => {
    const h = hostDir('keepid');
    fs.writeFileSync(path.join(h, 'from-host'), 'x');
    const me = process.getuid!(), myGid = process.getgid!();
    const r = await run(['--userns=keep-id', '-v', `${h}:/h`, BUSYBOX, 'sh', '-c', 'id -u; id -g; whoami; stat -c %u:%g /h/from-host; echo y > /h/from-container']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${me}\n${myGid}\n${(await import('node:os')).userInfo().username}\n${me}:${myGid}\n`);
    // nothing from fuse-overlayfs reaches the container's output (its warnings go to the monitor)
    expect(r.stderr).toBe('');
    const st = fs.statSync(path.join(h, 'from-container'));
    expect([st.uid, st.gid]).toEqual([me, myGid]);
    // the image's own owners are kept: through fuse-overlayfs's ID mapping where it is installed
    if (fs.existsSync('/usr/bin/fuse-overlayfs')) {
      expect((await run(['--userns=keep-id', BUSYBOX, 'stat', '-c', '%u:%g', '/bin/busybox'])).stdout).toBe('0:0\n');
    }
    // root of the container is still root there, and another UID can be asked for
    expect((await run(['--userns=keep-id', '-u', '0', BUSYBOX, 'id', '-u'])).stdout).toBe('0\n');
    expect((await run(['--userns=keep-id:uid=500,gid=500', '-v', `${h}:/h`, BUSYBOX, 'sh', '-c', 'id -u; echo z > /h/as500'])).stdout).toBe('500\n');
    expect(fs.statSync(path.join(h, 'as500')).uid).toBe(me);
  });

  test.runIf(isRootless())('exec in a keep-id container runs as the host user', async () => {
    const c = uniqueName('keepid');
    expect((await skiff(['run', '-d', '--name', c, '--userns=keep-id', BUSYBOX, 'sleep', '60'])).code).toBe(0);
    expect((await skiff(['exec', c, 'id', '-u'])).stdout).toBe(`${process.getuid!()}\n`);
    await skiff(['rm', '-f', c]);
  });

  test.runIf(!isRootless())('rootful: refused as Podman does', async () => {
    const r = await run(['--userns=keep-id', BUSYBOX, 'true']);
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toEqual(['skiff: keep-id is only supported in rootless mode']);
  });

  test('a bad --userns value is one line, exit 125', async () => {
    const r = await run(['--userns=auto', BUSYBOX, 'true']);
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toHaveLength(1);
  });
});
