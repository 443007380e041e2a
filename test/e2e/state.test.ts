// Container state without a daemon: detached --rm cleanup racing skiff's own record writes,
// a monitor that dies without leaving an exit code, names whose container is gone, cp racing start.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { BUSYBOX, destroyStore, fixture, hostProcessesMatching, isRootless, newStore, psAll, sh, shq, skiff, store, uniqueName, useStore, waitFor } from './harness';

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

describe('container names without a daemon', () => {
  const namesDir = () => path.join(store().root, 'container-names');
  const createNamed = (name: string) => skiff(['create', '--name', name, BUSYBOX, 'true']);

  // Docker keeps names in the daemon's memory and rebuilds them from the containers on disk at
  // start: a name whose container is gone is free. skiff's name index (container-store.ts) can
  // hold an entry whose container is gone (the monitor of an --rm container removes its
  // directory only; a create killed between the name and the record): such an entry is free.
  test('a name whose container is gone is free again: an --rm container removed by its monitor, a create killed after taking the name', { timeout: 90_000 }, async () => {
    const rmName = uniqueName('gone-rm');
    const r = await skiff(['run', '-d', '--rm', '--name', rmName, BUSYBOX, 'true']);
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    await waitFor(() => !containerIds().includes(id), 20_000, 'the --rm container to be removed by its monitor');
    expect(fs.readlinkSync(path.join(namesDir(), rmName))).toBe(id); // its entry is left: the case under test
    const again = await createNamed(rmName);
    expect(again.code, again.stderr).toBe(0);
    expect(fs.readlinkSync(path.join(namesDir(), rmName))).toBe(again.stdout.trim());

    const killedName = uniqueName('killed-create');
    fs.symlinkSync('f'.repeat(64), path.join(namesDir(), killedName)); // as a create killed after taking the name
    const taken = await createNamed(killedName);
    expect(taken.code, taken.stderr).toBe(0);
    expect((await psAll()).find((x) => x.NAMES === killedName)?.['CONTAINER ID']).toBe(taken.stdout.trim());
    const clash = await createNamed(killedName);
    expect(clash.code).toBe(125);
    expect(clash.stderr).toContain(`Conflict. The container name "/${killedName}" is already in use by container "${taken.stdout.trim()}"`);
    for (const c of [again, taken]) expect((await skiff(['rm', c.stdout.trim()])).code).toBe(0);
  });

  test('rename frees the old name and takes the new one; rm frees the name', async () => {
    const [a, b] = [uniqueName('ren-a'), uniqueName('ren-b')];
    const c = await createNamed(a);
    expect(c.code, c.stderr).toBe(0);
    expect((await skiff(['rename', a, b])).code).toBe(0);
    const clash = await createNamed(b);
    expect(clash.code).toBe(125);
    expect(clash.stderr).toContain(`The container name "/${b}" is already in use by container "${c.stdout.trim()}"`);
    const reuse = await createNamed(a);
    expect(reuse.code, reuse.stderr).toBe(0);
    const back = await skiff(['rename', b, a]);
    expect(back.code).toBe(1);
    expect(back.stderr).toContain(`Error when allocating new name: Conflict. The container name "/${a}" is already in use by container "${reuse.stdout.trim()}"`);
    expect((await skiff(['rm', a, b])).code).toBe(0);
    expect(fs.existsSync(path.join(namesDir(), a)) || fs.existsSync(path.join(namesDir(), b))).toBe(false);
    const fresh = await createNamed(b);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect((await skiff(['rm', b])).code).toBe(0);
  });
});

describe('cp into a stopped container', () => {
  // cp mounts the stopped container's overlay (its upper and work dirs) to write into it; a start
  // at the same time would mount them too. The start must wait for the copy (the op lock).
  test('a start waits for a cp into the stopped container to finish, then sees the copied file', { timeout: 90_000 }, async () => {
    const name = uniqueName('cp-start');
    const c = await skiff(['create', '--name', name, BUSYBOX, 'sleep', '1000']);
    expect(c.code, c.stderr).toBe(0);
    const lock = path.join(containersDir(), c.stdout.trim(), 'op.lock');
    const d = fs.mkdtempSync(path.join(store().dir, 'cp-'));
    fs.writeFileSync(path.join(d, 'payload'), 'copied\n');
    const r = await sh(`
      set -u
      D=${shq(d)}; mkfifo "$D/in"
      "$SKIFF" cp - ${shq(name)}:/tmp < "$D/in" 2>"$D/cp.err" & cp=$!
      exec 3>"$D/in"   # cp reads its tar from here: it waits for us, holding what it holds
      end=$(($(date +%s) + 25)); while flock -n ${shq(lock)} true; do
        [ "$(date +%s)" -lt $end ] || { echo "cp never took the container's op lock: $(cat "$D/cp.err")"; exit 2; }; sleep 0.05
      done
      "$SKIFF" start ${shq(name)} >"$D/start.out" 2>&1 3>&- & st=$!   # not holding the fifo open
      sleep 1
      kill -0 $st 2>/dev/null || { echo "start finished while cp was writing into the container: $(cat "$D/start.out")"; exit 3; }
      tar -cf - -C "$D" payload >&3; exec 3>&-
      wait $cp || { echo "cp failed: $(cat "$D/cp.err")"; exit 4; }
      wait $st || { echo "start failed: $(cat "$D/start.out")"; exit 5; }
    `, { timeoutMs: 60_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const cat = await skiff(['exec', name, 'cat', '/tmp/payload']);
    expect(cat.stdout, cat.stderr).toBe('copied\n');
    expect((await skiff(['rm', '-f', name])).code).toBe(0);
  });
});
