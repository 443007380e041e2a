// Host files that a container or another user could reach: the skiff-helper file itself (the
// CVE-2019-5736 class), the cached native assets, the pause process's state files, and the
// predictable /tmp run root.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  BUSYBOX,
  errorLines,
  fixture,
  isRootless,
  newStore,
  newStoreFor,
  runCommand,
  skiff,
  skiffBin,
  store,
  useStore,
  userInfo,
  type Store,
} from './harness';

useStore();

const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const mode = (file: string): number => fs.statSync(file).mode & 0o7777;

/** A private asset cache, so that tampering with it cannot disturb other test files. */
function privateCache(): { env: Record<string, string>; helper: () => string; monitor: () => string } {
  const dir = fs.mkdtempSync(path.join(store().dir, 'cache-'));
  const asset = (name: string): string => {
    const base = path.join(dir, 'skiff');
    const native = fs.readdirSync(base).filter((n) => /^native-[0-9a-f]+$/.test(n));
    expect(native).toHaveLength(1);
    return path.join(base, native[0]!, name);
  };
  return { env: { XDG_CACHE_HOME: dir }, helper: () => asset('skiff-helper'), monitor: () => asset('skiff-monitor') };
}

/** As its owner could: make the file and its directory writable, change it, put the modes back. */
function flipAByte(file: string): void {
  const dir = path.dirname(file);
  fs.chmodSync(dir, 0o700);
  fs.chmodSync(file, 0o700);
  const fd = fs.openSync(file, 'r+');
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, 1000);
  b[0] ^= 0xff;
  fs.writeSync(fd, b, 0, 1, 1000);
  fs.closeSync(fd);
  fs.chmodSync(file, 0o500);
  fs.chmodSync(dir, 0o500);
}

// ---------------------------------------------------------------------------------------------
// /proc/self/exe from inside a container
// ---------------------------------------------------------------------------------------------

// The helper is dynamically linked, so when a container execs /proc/self/exe the kernel loads
// the image's /lib64/ld-linux-x86-64.so.2 to run it, with /proc/self/exe naming the file that
// was exec'd. The image below ships a stand-in ld.so (no libc, raw system calls) that reports
// what a hostile one would see and tries what it would try.
const FAKE_LD = String.raw`
#include <fcntl.h>
#include <sys/syscall.h>
static long sys(long n, long a, long b, long c, long d) {
  long r;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return r;
}
static void out(const char *s) { long n = 0; while (s[n]) n++; sys(SYS_write, 1, (long)s, n, 0); }
static void num(long v) {
  char b[24]; int i = 23, neg = v < 0; b[i] = 0; if (neg) v = -v;
  do { b[--i] = '0' + v % 10; v /= 10; } while (v);
  if (neg) b[--i] = '-';
  out(b + i);
}
void _start(void) {
  char link[4096];
  long n = sys(SYS_readlinkat, AT_FDCWD, (long)"/proc/self/exe", (long)link, sizeof link - 1);
  link[n < 0 ? 0 : n] = 0;
  out("exe="); out(link); out("\n");
  long fd = sys(SYS_openat, AT_FDCWD, (long)"/proc/self/exe", O_WRONLY, 0);
  out("open-wronly="); num(fd); out("\n");
  if (fd >= 0) { out("write="); num(sys(SYS_write, fd, (long)"pwned", 5, 0)); out("\n"); }
  out("chmod="); num(sys(SYS_fchmodat, AT_FDCWD, (long)"/proc/self/exe", 0777, 0)); out("\n");
  sys(SYS_exit_group, 0, 0, 0, 0);
}
`;
const FAKE_LD_IMAGE = 'skiff-test/fake-ld:latest';

describe.skipIf(process.arch !== 'x64')('a container cannot reach the host\'s skiff-helper through /proc/self/exe', () => {
  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(store().dir, 'fake-ld-'));
    fs.mkdirSync(path.join(dir, 'root/lib64'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'fake-ld.c'), FAKE_LD);
    const cc = spawnSync('cc', ['-O2', '-static-pie', '-nostdlib', '-fPIE', '-ffreestanding', '-fno-stack-protector',
      '-o', path.join(dir, 'root/lib64/ld-linux-x86-64.so.2'), path.join(dir, 'fake-ld.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`setup: cc failed: ${cc.stderr}`);
    fs.writeFileSync(path.join(dir, 'root/lib64/script'), '#!/proc/self/exe\n', { mode: 0o755 });
    const tar = spawnSync('tar', ['-C', path.join(dir, 'root'), '--owner=0', '--group=0', '-cf', path.join(dir, 'image.tar'), 'lib64']);
    if (tar.status !== 0) throw new Error(`setup: tar failed: ${tar.stderr}`);
    const r = await skiff(['import', path.join(dir, 'image.tar'), FAKE_LD_IMAGE]);
    if (r.code !== 0) throw new Error(`setup: skiff import failed: ${r.stderr}`);
  });

  for (const [what, entrypoint] of [['an entrypoint of /proc/self/exe', '/proc/self/exe'], ['a #!/proc/self/exe script', '/lib64/script']]) {
    test(`${what} runs a sealed in-memory copy: the host file is neither written nor chmod'ed`, async () => {
      const cache = privateCache();
      const r = await skiff(['run', '--rm', '--entrypoint', entrypoint, FAKE_LD_IMAGE], { env: cache.env });
      expect(r.code, r.stderr).toBe(0);
      const monitor = cache.monitor(); // the container's init is a clone of the monitor
      const seen = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=') as [string, string]));
      // What the container's process is running: the memfd, not the file on the host.
      expect(seen.exe).toMatch(/^\/memfd:skiff-helper/);
      expect(Number(seen['open-wronly'])).toBeLessThan(0);
      expect(seen.write).toBeUndefined();
      // Its chmod reached the private copy at most; the host file is as extracted.
      expect(mode(monitor)).toBe(0o500);
      const again = await skiff(['run', '--rm', BUSYBOX, 'true'], { env: cache.env });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).not.toMatch(/WARN: skiff's cached native helpers failed/);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// the cached native assets
// ---------------------------------------------------------------------------------------------

describe('the cached native assets (~/.cache/skiff/native-<hash>/)', () => {
  test('are read-only: files 0500/0400, directory 0500', async () => {
    const cache = privateCache();
    const r = await skiff(['run', '--rm', BUSYBOX, 'true'], { env: cache.env });
    expect(r.code, r.stderr).toBe(0);
    const helper = cache.helper();
    const dir = path.dirname(helper);
    expect(mode(dir)).toBe(0o500);
    expect(mode(helper)).toBe(0o500);
    expect(mode(path.join(dir, 'skiff-monitor'))).toBe(0o500);
    expect(mode(path.join(dir, 'skiff_native.node'))).toBe(0o400);
    expect(mode(path.join(dir, 'libisal.so.2'))).toBe(0o400);
  });

  test('a changed byte in the helper is noticed by the next command, which extracts it again and works', async () => {
    const cache = privateCache();
    expect((await skiff(['run', '--rm', BUSYBOX, 'true'], { env: cache.env })).code).toBe(0);
    const helper = cache.helper();
    const good = sha256(helper);
    flipAByte(helper);
    expect(sha256(helper)).not.toBe(good);
    const r = await skiff(['run', '--rm', BUSYBOX, 'echo', 'ok'], { env: cache.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('ok\n');
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(/^WARN: skiff's cached native helpers failed their check \(.*skiff-helper does not match this build\); extracting them again$/)]);
    expect(sha256(helper)).toBe(good);
    expect(mode(helper)).toBe(0o500);
  });

  test('a changed mode is noticed too, and put back', async () => {
    const cache = privateCache();
    expect((await skiff(['run', '--rm', BUSYBOX, 'true'], { env: cache.env })).code).toBe(0);
    const helper = cache.helper();
    fs.chmodSync(helper, 0o755);
    const r = await skiff(['run', '--rm', BUSYBOX, 'echo', 'ok'], { env: cache.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('ok\n');
    expect(mode(helper)).toBe(0o500);
  });
});

// ---------------------------------------------------------------------------------------------
// the pause process's state files (rootless: only there is a pause process)
// ---------------------------------------------------------------------------------------------

describe.skipIf(!isRootless())('the pause process\'s files in the run root are never followed through symlinks', () => {
  const fresh = (): { s: Store; victim: string } => {
    const s = newStore();
    const victim = path.join(s.dir, 'victim');
    return { s, victim };
  };

  test('a symlink at pause.pid.tmp is replaced, not written through', async () => {
    const { s, victim } = fresh();
    fs.writeFileSync(victim, 'precious\n');
    fs.symlinkSync(victim, path.join(s.runroot, 'pause.pid.tmp'));
    const r = await skiff(['load', '-i', fixture('busybox.docker.tar')], { store: s });
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(fs.lstatSync(path.join(s.runroot, 'pause.pid')).isFile()).toBe(true);
    expect(fs.existsSync(path.join(s.runroot, 'pause.pid.tmp'))).toBe(false);
  });

  test('a symlink at pause.pid.lock is refused with one line, and creates nothing', async () => {
    const { s, victim } = fresh();
    const lock = path.join(s.runroot, 'pause.pid.lock');
    fs.symlinkSync(victim, lock);
    const r = await skiff(['load', '-i', fixture('busybox.docker.tar')], { store: s });
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(`refusing to follow the symlink ${lock}; remove it`);
    expect(fs.existsSync(victim)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// the run root without XDG_RUNTIME_DIR (as root: needs two other users)
// ---------------------------------------------------------------------------------------------

const SUB = process.env.SKIFF_E2E_SUB_USER;
const NOSUB = process.env.SKIFF_E2E_NOSUB_USER;
const user = !isRootless() && SUB ? userInfo(SUB) : undefined;
const other = !isRootless() && NOSUB ? userInfo(NOSUB) : undefined;

describe.skipIf(!user || !other)('the $TMPDIR/skiff-UID run root (no XDG_RUNTIME_DIR)', () => {
  /** A shared, sticky directory like /tmp, so the test never touches the real one. */
  const newTmp = (): string => {
    const d = fs.mkdtempSync(path.join(process.env.SKIFF_E2E_TMP || os.tmpdir(), 'tmp-'));
    fs.chmodSync(d, 0o1777);
    return d;
  };
  const asOther = (...cmd: string[]): void => {
    const r = spawnSync('runuser', ['-u', other!.name, '--', ...cmd], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`runuser ${cmd.join(' ')}: ${r.stderr}`);
  };
  /**
   * `skiff load` as the user, without XDG_RUNTIME_DIR or a run root option. run.sh made
   * /run/user/UID, which skiff would choose first: a private mount namespace hides it, so the
   * $TMPDIR fallback is what runs.
   */
  const loadAsUser = (s: Store, tmp: string) => {
    const env = { HOME: user!.home, USER: user!.name, PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', TMPDIR: tmp, ...s.env };
    delete (env as Record<string, string | undefined>).SKIFF_RUNROOT;
    const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    return runCommand('unshare', ['-m', '--', 'sh', '-c', 'mount -t tmpfs -o mode=0755 skiff-test /run/user && exec "$@"', 'sh',
      'runuser', '-u', user!.name, '--', 'env', '-i', ...envArgs, skiffBin(), 'load', '-i', fixture('busybox.docker.tar')], { envOverride: process.env });
  };
  const runRootIn = (tmp: string): string => path.join(tmp, `skiff-${user!.uid}`);

  test('is created private to the user and used', async () => {
    const tmp = newTmp();
    const r = await loadAsUser(newStoreFor(user!), tmp);
    expect(r.code, r.stderr).toBe(0);
    const st = fs.lstatSync(runRootIn(tmp));
    expect(st.isDirectory()).toBe(true);
    expect(st.uid).toBe(user!.uid);
    expect(st.mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(runRootIn(tmp))).toContain('pause.pid');
    process.kill(Number(fs.readFileSync(path.join(runRootIn(tmp), 'pause.pid'), 'utf8')), 'SIGKILL');
  });

  test('made first by another user, it is refused with one line and nothing is written into it', async () => {
    const tmp = newTmp();
    asOther('mkdir', '-m', '0777', runRootIn(tmp));
    const r = await loadAsUser(newStoreFor(user!), tmp);
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toEqual([
      `skiff: run root ${runRootIn(tmp)} belongs to uid ${other!.uid}, not to you (uid ${user!.uid}); remove it, or set XDG_RUNTIME_DIR (or --runroot) to a directory of your own`,
    ]);
    expect(fs.readdirSync(runRootIn(tmp))).toEqual([]);
  });

  test('a symlink there (to a directory of the other user) is refused, and nothing is written through it', async () => {
    const tmp = newTmp();
    const theirs = path.join(tmp, 'theirs');
    asOther('mkdir', '-m', '0777', theirs);
    asOther('ln', '-s', theirs, runRootIn(tmp));
    const r = await loadAsUser(newStoreFor(user!), tmp);
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toEqual([expect.stringContaining(`run root ${runRootIn(tmp)} is a symlink; remove it`)]);
    expect(fs.readdirSync(theirs)).toEqual([]);
  });
});
