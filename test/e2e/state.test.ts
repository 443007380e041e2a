// Container state without a daemon: detached --rm cleanup racing skiff's own record writes,
// and a monitor that dies without leaving an exit code.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { BUSYBOX, destroyStore, fixture, hostProcessesMatching, isRootless, newStore, psAll, sh, shq, skiff, store, useStore, waitFor } from './harness';

useStore();

const containersDir = () => path.join(store().root, 'containers');
const containerIds = () => (fs.existsSync(containersDir()) ? fs.readdirSync(containersDir()) : []);

describe('detached --rm', () => {
  // The monitor removes the container dir as soon as `true` exits, which is often before
  // `run -d` has written the "running" record: the two must take turns on containers.lock, and
  // the late write must not bring a removed container back.
  test('50 x run -d --rm true: every run succeeds and nothing is left', { timeout: 240_000 }, async () => {
    const failures: string[] = [];
    for (let i = 0; i < 50; i++) {
      const r = await skiff(['run', '-d', '--rm', BUSYBOX, 'true']);
      if (r.code !== 0 || !/^[0-9a-f]{64}\n$/.test(r.stdout)) failures.push(`run ${i}: exit ${r.code}: ${r.stderr.trim()}`);
    }
    expect(failures).toEqual([]);
    // the last monitors may still be removing their containers
    await waitFor(() => containerIds().length === 0, 20_000, 'the containers dir to empty').catch(() => undefined);
    expect(containerIds()).toEqual([]);
    expect(await psAll()).toEqual([]);
  });
});

describe('a monitor that dies without an exit code', () => {
  const record = (id: string) => JSON.parse(fs.readFileSync(path.join(containersDir(), id, 'container.json'), 'utf8'));
  /** Gone, or a zombie nobody reaps (an exited process's pid stays until its parent reaps it). */
  const dead = (pid: number) => {
    try { return /^\d+ \(.*\) [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return true; }
  };
  const killMonitor = async (id: string) => {
    const { monitorPid, pid } = record(id).state;
    expect(monitorPid).toBeGreaterThan(0);
    expect(dead(pid)).toBe(false);
    process.kill(monitorPid, 'SIGKILL');
    await waitFor(() => dead(monitorPid), 10_000, 'the monitor to die');
    return pid as number;
  };

  test('ps -a shows Exited (137), the record says why, and the container process is killed', async () => {
    const r = await skiff(['run', '-d', BUSYBOX, 'sleep', '1000']);
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    const pid = await killMonitor(id);
    const row = (await psAll()).find((x) => x['CONTAINER ID'] === id);
    expect(row?.STATUS).toMatch(/^Exited \(137\) /);
    const st = record(id).state;
    expect(st).toMatchObject({ status: 'exited', exitCode: 137 });
    expect(st.error).toMatch(/monitor .* died/);
    await waitFor(() => dead(pid), 10_000, 'the container process to be killed');
    // the settled record stands on its own: still 137 later, and rm needs no -f
    expect((await psAll()).find((x) => x['CONTAINER ID'] === id)?.STATUS).toMatch(/^Exited \(137\) /);
    const rm = await skiff(['rm', id]);
    expect(rm.code, rm.stderr).toBe(0);
  });

  test('an --rm container is removed by the next command, with its anonymous volume', async () => {
    const r = await skiff(['run', '-d', '--rm', '-v', '/anon', BUSYBOX, 'sleep', '1000']);
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    const [anon] = record(id).config.mounts.filter((m: { anonymous?: boolean }) => m.anonymous).map((m: { source: string }) => m.source);
    expect((await skiff(['volume', 'ls', '-q'])).stdout).toContain(anon);
    const pid = await killMonitor(id);
    await psAll();
    expect(containerIds()).not.toContain(id);
    expect((await skiff(['volume', 'ls', '-q'])).stdout).not.toContain(anon);
    expect((await psAll()).map((x) => x['CONTAINER ID'])).not.toContain(id);
    await waitFor(() => dead(pid), 10_000, 'the container process to be killed');
  });

  // fuse-overlayfs needs /dev/fuse, which some hosts open to root only (this one: crw-------).
  const fuseUsable = (() => {
    try { fs.accessSync('/dev/fuse', fs.constants.R_OK | fs.constants.W_OK); return true; } catch { return false; }
  })();
  test.runIf(fuseUsable)('with fuse-overlayfs, the fuse-overlayfs serving its root is killed too', { timeout: 120_000 }, async () => {
    const s = newStore();
    const env = { SKIFF_STORAGE_DRIVER: 'fuse-overlayfs' };
    try {
      const load = await skiff(['load', '-i', fixture('busybox.docker.tar')], { store: s, env, timeoutMs: 110_000 });
      expect(load.code, load.stderr).toBe(0);
      const r = await skiff(['run', '-d', BUSYBOX, 'sleep', '1000'], { store: s, env });
      expect(r.code, r.stderr).toBe(0);
      const id = r.stdout.trim();
      const merged = path.join(s.root, 'containers', id, 'merged');
      const fusePids = () => hostProcessesMatching(` ${merged}`).filter((p) => !dead(p));
      expect(fusePids()).toHaveLength(1);
      const { monitorPid } = JSON.parse(fs.readFileSync(path.join(s.root, 'containers', id, 'container.json'), 'utf8')).state;
      process.kill(monitorPid, 'SIGKILL');
      await waitFor(() => dead(monitorPid), 10_000, 'the monitor to die');
      const row = (await psAll({ store: s, env })).find((x) => x['CONTAINER ID'] === id);
      expect(row?.STATUS).toMatch(/^Exited \(137\) /);
      await waitFor(() => fusePids().length === 0, 10_000, 'fuse-overlayfs to be killed');
    } finally {
      await destroyStore(s);
    }
  });
});

describe('staging dirs in $root/tmp', () => {
  const tmpDir = () => path.join(store().root, 'tmp');
  const staged = () => (fs.existsSync(tmpDir()) ? fs.readdirSync(tmpDir()) : []);

  /**
   * Start `load` reading a fifo, wait until its staging dir exists, feed it `bytes` of the
   * archive, then run `then` (shell) while the load is still waiting for the rest.
   */
  const loadScript = (fifo: string, bytes: number, then: string[]) => [
    `mkfifo ${shq(fifo)}`,
    `"$SKIFF" load < ${shq(fifo)} > ${shq(fifo)}.out 2>&1 & pid=$!`,
    `exec 3> ${shq(fifo)}`,
    `i=0; until ls ${shq(tmpDir())} 2>/dev/null | grep -q '^load-'; do i=$((i+1)); [ $i -lt 200 ] || exit 9; sleep 0.05; done`,
    `head -c ${bytes} ${shq(fixture('busybox.docker.tar'))} >&3`,
    'sleep 0.5',
    ...then,
  ].join('\n');

  test('a load killed midway leaves its staging dir; the next command removes it', async () => {
    const fifo = path.join(store().dir, 'fifo-killed');
    const r = await sh(loadScript(fifo, 300_000, ['kill -9 $pid; wait $pid; echo "load exit $?"', 'exec 3>&-']));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('load exit 137\n');
    const left = staged().filter((n) => n.startsWith('load-'));
    expect(left).toHaveLength(1);
    expect(fs.readdirSync(path.join(tmpDir(), left[0])).length, 'the load had staged part of the archive').toBeGreaterThan(0);
    const run = await skiff(['run', '--rm', BUSYBOX, 'true']);
    expect(run.code, run.stderr).toBe(0);
    expect(staged()).toEqual([]);
  });

  // A killed pull leaves layer files owned by subordinate IDs, which we cannot remove as
  // ourselves: made here with util-linux unshare (newuidmap), as apply-tar would have.
  test.runIf(isRootless())('a leftover holding sub-ID owned files is removed too (through the helper)', async () => {
    const left = path.join(tmpDir(), 'layer-leftover');
    const d = path.join(left, 'diff', 'd');
    fs.mkdirSync(path.dirname(d), { recursive: true });
    const r = await sh(`unshare -U --map-auto --map-root-user sh -c ${shq(`mkdir ${d} && touch ${d}/f && chown -R 1000:1000 ${d} && chmod 700 ${d}`)}`);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.statSync(d).uid).not.toBe(process.getuid!());
    expect(() => fs.rmSync(left, { recursive: true, force: true }), 'we cannot remove it ourselves').toThrow();
    const run = await skiff(['run', '--rm', BUSYBOX, 'true']);
    expect(run.code, run.stderr).toBe(0);
    expect(staged()).toEqual([]);
  });

  test('a staging dir in use by a running load is left alone by a concurrent command', async () => {
    const fifo = path.join(store().dir, 'fifo-busy');
    const r = await sh(loadScript(fifo, 300_000, [
      `ls ${shq(tmpDir())} | grep -c '^load-'`,
      `"$SKIFF" run --rm ${BUSYBOX} true || exit 8`,
      `ls ${shq(tmpDir())} | grep -c '^load-'`,
      `tail -c +300001 ${shq(fixture('busybox.docker.tar'))} >&3; exec 3>&-`,
      'wait $pid; echo "load exit $?"',
      `cat ${shq(fifo)}.out`,
    ]));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`1\n1\nload exit 0\nLoaded image: ${BUSYBOX}\n`);
    expect(staged()).toEqual([]);
  });
});

describe('rm -f and PID reuse', () => {
  // A record's container PID may by now name another process (the container ended, its PID was
  // given to a newcomer): rm -f signals it only while its start time matches the record, and
  // then stops the container through its monitor instead.
  test('a recorded PID that now belongs to another process is not killed; the container still goes', async () => {
    const r = await skiff(['run', '-d', BUSYBOX, 'sleep', '4242']);
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    const file = path.join(containersDir(), id, 'container.json');
    const rec = JSON.parse(fs.readFileSync(file, 'utf8'));
    const containerPid: number = rec.state.pid;
    expect(rec.state.pidStart).toMatch(/^\d+$/);
    const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const bystanderGone = new Promise<string>((resolve) => bystander.on('exit', (_c, sig) => resolve(`exited (${sig})`)));
      // the reused PID: the record keeps the container's start time, which the bystander does not have
      rec.state.pid = bystander.pid;
      fs.writeFileSync(file, JSON.stringify(rec));
      const rm = await skiff(['rm', '-f', id]);
      expect(rm.code, rm.stderr).toBe(0);
      expect(containerIds()).not.toContain(id);
      await waitFor(() => hostProcessesMatching('sleep 4242', { exact: true }).length === 0, 10_000, 'the container process to die');
      expect(fs.existsSync(`/proc/${containerPid}`) && !/\) [ZX] /.test(fs.readFileSync(`/proc/${containerPid}/stat`, 'utf8'))).toBe(false);
      const outcome = await Promise.race([bystanderGone, new Promise((res) => setTimeout(() => res('still running'), 300))]);
      expect(outcome).toBe('still running');
    } finally {
      bystander.kill('SIGKILL');
    }
  });
});
