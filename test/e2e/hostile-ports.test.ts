// Published ports under hostile conditions: a host port taken between skiff's probe and the
// monitor's bind, and clients or containers that abuse the forwarder (native/helper/port_forward.c).
import fs from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { BUSYBOX, errorLines, hostProcessesMatching, psAll, skiff, uniqueName, useStore } from './harness';

const store = useStore();

const startedForOurStore = (pid: number): boolean => {
  try { return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`SKIFF_ROOT=${store().root}`); } catch { return false; }
};

/** This file's monitors and forwarders (a forwarder is a fork of its monitor, named skiff-portfwd). */
const ourMonitors = (): number[] => hostProcessesMatching('skiff-helper monitor').filter(startedForOurStore);

afterEach(async () => {
  const ids = (await skiff(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await skiff(['rm', '-f', ...ids]);
  expect(ourMonitors()).toEqual([]);
});

/** A listening TCP server on HOST:PORT (0: any), with IPV6_V6ONLY when asked; its port. */
async function listener(host: string, port: number, ipv6Only = false): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, ipv6Only }, () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The refusal line with the port and the container's name taken out, to compare two of them. */
const shape = (line: string, port: number, name: string): string => line.replaceAll(String(port), 'PORT').replaceAll(name, 'NAME');

// Issue 11, "Port already in use": skiff probes a host port by binding it (port-allocation.ts),
// and the monitor binds it for good a little later (port_forward.c). A port taken in that window
// can't be hit on purpose, but the bind can be made to fail where the probe passes, every time:
// without an address the probe binds 0.0.0.0 while the monitor binds the dual-stack [::], so a
// listener on [::]:PORT with IPV6_V6ONLY is invisible to the probe and takes the monitor's bind.
// That is the window's path: it must read and end exactly as the probe's refusal does.
describe('a host port the probe found free but the monitor cannot bind', () => {
  test.each([
    ['run -d', ['-d']],
    ['run (attached)', []],
  ])('%s: the probe\'s one line, exit 125, the container left Created, no monitor or forwarder', async (_, flags) => {
    const probeBlocker = await listener('0.0.0.0', 0);
    const bindBlocker = await listener('::', 0, true);
    try {
      const viaProbe = uniqueName('probe');
      const p = await skiff(['run', ...flags, '--name', viaProbe, '-p', `${probeBlocker.port}:80`, BUSYBOX, 'sleep', '100']);
      expect(p.code, p.stderr).toBe(125);
      expect(errorLines(p.stderr), p.stderr).toHaveLength(1);

      const viaBind = uniqueName('bind');
      const b = await skiff(['run', ...flags, '--name', viaBind, '-p', `${bindBlocker.port}:80`, BUSYBOX, 'sleep', '100']);
      expect(b.code, b.stderr).toBe(125);
      expect(errorLines(b.stderr), b.stderr).toHaveLength(1);
      expect(errorLines(b.stderr)[0]).toMatch(new RegExp(`cannot publish 0\\.0\\.0\\.0:${bindBlocker.port} for port 80/tcp of container ${viaBind}: address already in use`));
      expect(shape(errorLines(b.stderr)[0], bindBlocker.port, viaBind)).toBe(shape(errorLines(p.stderr)[0], probeBlocker.port, viaProbe));

      const rows = await psAll();
      expect(rows.find((r) => r.NAMES === viaBind)?.STATUS).toBe('Created');
      expect(rows.find((r) => r.NAMES === viaProbe)?.STATUS).toBe('Created');
      const inspect = await skiff(['inspect', '--format', '{{.State.Status}} {{.State.Pid}}', viaBind]);
      expect(inspect.stdout.trim()).toBe('created 0');
      const port = await skiff(['port', viaBind]);
      expect(port.stdout).toBe('');
      expect(ourMonitors()).toEqual([]);

      // once the port is free, the same container starts and publishes it
      await bindBlocker.close();
      const s = await skiff(['start', viaBind]);
      expect(s.code, s.stderr).toBe(0);
      expect((await skiff(['port', viaBind])).stdout).toMatch(new RegExp(`^80/tcp -> 0\\.0\\.0\\.0:${bindBlocker.port}$`, 'm'));
    } finally {
      await probeBlocker.close();
      await bindBlocker.close().catch(() => undefined);
    }
  });

  test('run --rm: the same line, and no container left', async () => {
    const bindBlocker = await listener('::', 0, true);
    try {
      const name = uniqueName('bindrm');
      const r = await skiff(['run', '--rm', '--name', name, '-p', `${bindBlocker.port}:80`, BUSYBOX, 'true']);
      expect(r.code, r.stderr).toBe(125);
      expect(errorLines(r.stderr)).toEqual([expect.stringMatching(new RegExp(`^skiff: cannot publish 0\\.0\\.0\\.0:${bindBlocker.port} for port 80/tcp of container ${name}: address already in use`))]);
      expect((await psAll()).find((x) => x.NAMES === name)).toBeUndefined();
      expect(ourMonitors()).toEqual([]);
    } finally {
      await bindBlocker.close();
    }
  });
});
