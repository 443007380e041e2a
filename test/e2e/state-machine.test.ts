// Container state stays true without a daemon: after a reboot, when rm races start, and with
// many commands changing and reading the state at once.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { BUSYBOX, errorLines, hostProcessesMatching, parseTable, psAll, skiff, store, uniqueName, useStore, waitFor } from './harness';

useStore();

const containersDir = () => path.join(store().root, 'containers');
const recordFile = (id: string) => path.join(containersDir(), id, 'container.json');

describe('after a reboot', () => {
  // A reboot cannot be had in a test; what it leaves can: the runtime dir gone, and a record
  // saying running whose PIDs and start times belong to the boot before. Those numbers can
  // match a live process of this boot (early boot runs the same way every time): here a
  // stranger's PID and start time stand in for that coincidence.
  test('a container of an earlier boot shows Exited (255), and the stranger with its PID is left alone', async () => {
    const r = await skiff(['run', '-d', BUSYBOX, 'sleep', '1000']);
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    const kill = await skiff(['kill', id]);
    expect(kill.code, kill.stderr).toBe(0);

    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const start = fs.readFileSync(`/proc/${stranger.pid}/stat`, 'utf8').split(') ')[1].split(' ')[19];
      const rec = JSON.parse(fs.readFileSync(recordFile(id), 'utf8'));
      rec.state = {
        ...rec.state, status: 'running', exitCode: undefined, finishedAt: undefined,
        pid: stranger.pid, pidStart: start, monitorPid: stranger.pid, monitorStart: start,
        bootId: '00000000-0000-0000-0000-000000000000',
      };
      fs.writeFileSync(recordFile(id), JSON.stringify(rec));
      fs.rmSync(path.join(containersDir(), id, 'exit'), { force: true });
      for (const e of fs.readdirSync(store().runroot)) fs.rmSync(path.join(store().runroot, e), { recursive: true, force: true });

      const strangerGone = new Promise<string>((resolve) => stranger.on('exit', (_c, sig) => resolve(`exited (${sig})`)));
      const ps = await skiff(['ps', '-a', '--no-trunc']);
      expect(ps.code, ps.stderr).toBe(0);
      expect(parseTable(ps.stdout).rows.find((x) => x['CONTAINER ID'] === id)?.STATUS).toMatch(/^Exited \(255\) /);
      const running = await skiff(['ps', '-q', '--no-trunc']);
      expect(running.stdout).not.toContain(id);
      const settled = JSON.parse(fs.readFileSync(recordFile(id), 'utf8')).state;
      expect(settled).toMatchObject({ status: 'exited', exitCode: 255 });
      expect(settled.error).toMatch(/rebooted/);
      const outcome = await Promise.race([strangerGone, new Promise((res) => setTimeout(() => res('still running'), 300))]);
      expect(outcome).toBe('still running');

      // and it starts again as any exited container
      const start2 = await skiff(['start', id]);
      expect(start2.code, start2.stderr).toBe(0);
      expect((await psAll()).find((x) => x['CONTAINER ID'] === id)?.STATUS).toMatch(/^Up /);
      expect((await skiff(['rm', '-f', id])).code).toBe(0);
    } finally {
      stranger.kill('SIGKILL');
    }
  });
});

describe('rm racing start', () => {
  // Without the container's op lock, an `rm -f` that read "created" while a `start` was
  // spawning the monitor removed the container under it: the process ran on, orphaned.
  test('start and rm -f of one container at once: it ends gone, nothing left running, one line per loser', { timeout: 240_000 }, async () => {
    const problems: string[] = [];
    for (let i = 0; i < 12; i++) {
      const marker = `${4000 + i}.${process.pid % 1000}`;
      const name = uniqueName('race');
      const c = await skiff(['create', '--name', name, BUSYBOX, 'sleep', marker]);
      expect(c.code, c.stderr).toBe(0);
      const [start, rm] = await Promise.all([skiff(['start', name]), skiff(['rm', '-f', name])]);
      for (const [what, r] of [['start', start], ['rm', rm]] as const) {
        if (r.code !== 0 && errorLines(r.stderr).length !== 1) problems.push(`${what} ${i}: exit ${r.code} with ${JSON.stringify(r.stderr)}`);
      }
      if (rm.code !== 0) problems.push(`rm -f ${i} failed: ${rm.stderr.trim()}`);
      if (fs.existsSync(path.join(containersDir(), c.stdout.trim()))) problems.push(`${i}: the container is still there`);
      await waitFor(() => hostProcessesMatching(`sleep ${marker}`, { exact: true }).length === 0, 5_000, `sleep ${marker} to be gone`)
        .catch(() => problems.push(`${i}: its process runs on, orphaned`));
    }
    expect(problems).toEqual([]);
  });
});

describe('many at once', () => {
  test('20 parallel run -d while ps -a reads: 20 containers, all up, no torn record, none lost', { timeout: 240_000 }, async () => {
    const before = (await psAll()).length;
    let stop = false;
    const readerErrors: string[] = [];
    const reader = (async () => {
      while (!stop) {
        const r = await skiff(['ps', '-a', '--no-trunc'], { timeoutMs: 60_000 });
        if (r.code !== 0) readerErrors.push(r.stderr);
        for (const row of parseTable(r.stdout).rows) {
          if (!/^[0-9a-f]{64}$/.test(row['CONTAINER ID'])) readerErrors.push(`bad row ${JSON.stringify(row)}`);
        }
        for (const id of fs.existsSync(containersDir()) ? fs.readdirSync(containersDir()) : []) {
          try { JSON.parse(fs.readFileSync(recordFile(id), 'utf8')); } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENOENT') readerErrors.push(`torn ${id}: ${(e as Error).message}`);
          }
        }
      }
    })();
    const names = Array.from({ length: 20 }, (_, i) => uniqueName(`par${i}`));
    const runs = await Promise.all(names.map((n) => skiff(['run', '-d', '--name', n, BUSYBOX, 'sleep', '1000'], { timeoutMs: 200_000 })));
    stop = true;
    await reader;
    runs.forEach((r, i) => expect(r.code, `${names[i]}: ${r.stderr}`).toBe(0));
    expect(readerErrors).toEqual([]);
    const rows = await psAll();
    expect(rows.length).toBe(before + 20);
    for (const n of names) expect(rows.find((r) => r.NAMES === n)?.STATUS, n).toMatch(/^Up /);
    const rm = await skiff(['rm', '-f', ...names], { timeoutMs: 200_000 });
    expect(rm.code, rm.stderr).toBe(0);
    expect((await psAll()).length).toBe(before);
  });

  test('10 parallel run -d --name of one name: one wins, each loser gets one line (Docker\'s conflict), nothing leaks', { timeout: 240_000 }, async () => {
    const before = (await psAll()).length;
    const name = uniqueName('same');
    const runs = await Promise.all(Array.from({ length: 10 }, () => skiff(['run', '-d', '--name', name, BUSYBOX, 'sleep', '1000'], { timeoutMs: 200_000 })));
    const winners = runs.filter((r) => r.code === 0);
    expect(winners).toHaveLength(1);
    for (const r of runs.filter((x) => x.code !== 0)) {
      expect(r.code).toBe(125);
      expect(errorLines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toContain(`Conflict. The container name "/${name}" is already in use by container "${winners[0].stdout.trim()}"`);
    }
    expect((await psAll()).length).toBe(before + 1);
    expect((await skiff(['rm', '-f', name])).code).toBe(0);
  });
});
