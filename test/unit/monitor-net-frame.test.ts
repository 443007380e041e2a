// The Node side of the attach socket's frame 7 (`network connect`/`disconnect` telling a running
// container's monitor what its --restart runs attach; native/helper/attach.c answers it). A
// plain unix socket server stands in for the monitor's socket; the monitor's own handling is
// covered end to end (test/e2e/networks.test.ts).
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { tellMonitorDns, tellMonitorNetworks } from '../../src/runtime/monitor-client';

const frame = (type: number, text: string) => {
  const data = Buffer.from(text);
  const h = Buffer.alloc(5);
  h[0] = type;
  h.writeUInt32BE(data.length, 1);
  return Buffer.concat([h, data]);
};

let dir = '';
let server: net.Server | undefined;
const stop = () => {
  server?.close();
  server = undefined;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
};
afterEach(stop);

/** A monitor that records what it got and answers each whole frame with `reply(frame)` (the one before it stopped). */
async function fakeMonitor(reply: (type: number, data: Buffer) => Buffer[]): Promise<Buffer[]> {
  stop();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-net-frame-'));
  const got: Buffer[] = [];
  server = net.createServer((s) => {
    let pending = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
        const n = pending.readUInt32BE(1);
        got.push(pending.subarray(0, 5 + n));
        for (const b of reply(pending[0], pending.subarray(5, 5 + n))) s.write(b);
        pending = pending.subarray(5 + n);
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server!.listen(path.join(dir, 'attach'), r));
  return got;
}

describe('tellMonitorNetworks', () => {
  test('sends one frame 7 of NUL-terminated fields; output frames before the answer are skipped; ok resolves', async () => {
    const got = await fakeMonitor(() => [frame(1, 'container output'), frame(7, 'ok')]);
    await tellMonitorNetworks(dir, ['detach', 'eth1']);
    expect(got).toEqual([frame(7, 'detach\0eth1\0')]);
  });

  test('the monitor\'s reason rejects; so do an exit frame, silence and no socket', async () => {
    await fakeMonitor(() => [frame(7, 'net: more than 16 networks')]);
    await expect(tellMonitorNetworks(dir, ['attach'])).rejects.toThrow('net: more than 16 networks');
    await fakeMonitor(() => [frame(3, '0')]);
    await expect(tellMonitorNetworks(dir, ['detach', 'eth0'])).rejects.toThrow('the container stopped');
    const quiet = await fakeMonitor(() => []);
    await expect(tellMonitorNetworks(dir, ['detach', 'eth0'], 200)).rejects.toThrow('did not answer');
    expect(quiet).toHaveLength(1);
    server!.close();
    fs.rmSync(path.join(dir, 'attach'), { force: true });
    await expect(tellMonitorNetworks(dir, ['detach', 'eth0'])).rejects.toThrow(/ENOENT|ECONNREFUSED/);
  });
});

describe('tellMonitorDns', () => {
  test('sends a frame 6 of the configuration and waits for a frame 6 (a frame 7 is not its answer)', async () => {
    const got = await fakeMonitor((type) => type === 6 ? [frame(7, 'ok'), frame(6, 'the container has a DNS server already')] : []);
    await expect(tellMonitorDns(dir, ['/x/dns-names', '0'])).rejects.toThrow('the container has a DNS server already');
    expect(got).toEqual([frame(6, '/x/dns-names\x000\x00')]);
  });
});
