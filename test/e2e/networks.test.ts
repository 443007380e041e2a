// User-defined networks (issue 11): network create/ls/inspect/rm/prune/connect/disconnect,
// run --network NAME with --network-alias and --ip; the per-user namespace holder and its
// slirp4netns way out (native/helper/net_holder.c). Only 127.0.0.1 on the host is used, and the
// namespaces skiff itself makes.
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { BUSYBOX, errorLines, hostProcessesMatching, lines, putFixtureProgram, skiff, store, udpEchoThroughPort, uniqueName, useStore, waitFor } from './harness';

useStore();

const containers: string[] = [];
const networks: string[] = [];

/**
 * The holder and its slirp4netns exit once no container is on a user network (net_holder.c).
 * Ours only: other suites on this host may have holders and slirp4netns of their own. The holder
 * names this store's run root; its slirp4netns names the holder's PID (and one whose holder is
 * gone has leaked, whoever's it was).
 */
const holderProcesses = () => {
  const holders = hostProcessesMatching(`net-holder ${store().runroot}/`).filter((p) => p !== process.pid);
  const slirps = hostProcessesMatching('slirp4netns --configure --mtu=65520 --exit-fd=3 --ready-fd=4 ').filter((p) => {
    const holder = Number(/ (\d+) tap0$/.exec(processArgs(p))?.[1]);
    return holders.includes(holder) || !fs.existsSync(`/proc/${holder}`);
  });
  return [...holders, ...slirps];
};
const processArgs = (pid: number) => {
  try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' '); } catch { return ''; }
};

afterEach(async () => {
  for (const c of containers.splice(0)) await skiff(['rm', '-f', c]);
  for (const n of networks.splice(0)) await skiff(['network', 'rm', '-f', n]);
  await waitFor(() => holderProcesses().length === 0, 15_000, 'the network holder and slirp4netns to exit');
});

afterAll(() => {
  expect(holderProcesses()).toEqual([]);
});

async function network(flags: string[] = []): Promise<string> {
  const name = uniqueName('net');
  const r = await skiff(['network', 'create', ...flags, name]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
  networks.push(name);
  return name;
}

async function started(flags: string[], script = 'sleep 1000'): Promise<string> {
  const name = uniqueName('c');
  containers.push(name);
  const r = await skiff(['run', '-d', '--name', name, ...flags, BUSYBOX, 'sh', '-c', script]);
  expect(r.code, r.stderr).toBe(0);
  return name;
}

const inContainer = (name: string, script: string) => skiff(['exec', name, 'sh', '-c', script]);

describe('containers on a user-defined network', () => {
  test('reach each other by name and alias; a container on another network cannot reach them', async () => {
    const app = await network();
    const other = await network();
    const web = await started(['--network', app, '--network-alias', 'www'], 'echo hello-from-web > /tmp/index.html; httpd -f -p 80 -h /tmp');
    const client = await started(['--network', app]);
    const byName = await inContainer(client, `ping -c1 -W2 ${web} >/dev/null && wget -q -O- http://www/index.html`);
    expect(byName.code, byName.stderr).toBe(0);
    expect(byName.stdout.trim()).toBe('hello-from-web');
    const webIp = (await skiff(['network', 'inspect', '-f', '{{range .Containers}}{{if eq .Name "' + web + '"}}{{.IPv4Address}}{{end}}{{end}}', app])).stdout.trim().split('/')[0];
    expect(webIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // another network: the name does not resolve and the address is not reachable
    const outsider = await skiff(['run', '--rm', '--network', other, BUSYBOX, 'sh', '-c', `ping -c1 -W1 ${web}; ping -c1 -W1 ${webIp} && echo REACHED; echo | nc -w 2 ${webIp} 80 && echo REACHED; true`]);
    expect(outsider.code, outsider.stderr).toBe(0);
    expect(outsider.stdout).not.toContain('REACHED');
    expect(outsider.stdout + outsider.stderr).toMatch(/bad address/);
  });

  test('a container started later is resolved by the ones already running', async () => {
    const app = await network();
    const first = await started(['--network', app]);
    const later = await started(['--network', app, '--network-alias', 'late-alias']);
    const r = await inContainer(first, `ping -c1 -W2 ${later} >/dev/null && ping -c1 -W2 late-alias >/dev/null && echo ok`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('ok');
      // and once removed, it is no longer resolved (its address may go to another container)
    expect((await skiff(['rm', '-f', later])).code).toBe(0);
    const gone = await inContainer(first, `grep -c -e ${later} -e late-alias /etc/hosts; true`);
    expect(gone.stdout.trim()).toBe('0');
  });

  test('--ip and --mac-address are given to the interface; the default route goes through the gateway', async () => {
    const app = await network(['--subnet', '10.123.45.0/24', '--gateway', '10.123.45.254']);
    const r = await skiff(['run', '--rm', '--network', app, '--ip', '10.123.45.77', '--mac-address', '02:00:00:aa:bb:cc', BUSYBOX, 'sh', '-c', 'ip -o -4 addr show eth0; cat /sys/class/net/eth0/address; ip route']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('inet 10.123.45.77/24');
    expect(r.stdout).toContain('02:00:00:aa:bb:cc');
    expect(r.stdout).toMatch(/default via 10\.123\.45\.254 dev eth0/);
  });
});

describe('-p on a user-defined network (the forwarder into the container\'s namespace)', () => {
  test('busybox httpd on a user network, published with -p, is fetched from the host; port says where', async () => {
    const app = await network();
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const web = await started(['--network', app, '-p', `127.0.0.1:${port}:80`], 'echo hello-over-a-user-network > /tmp/index.html; exec httpd -f -p 80 -h /tmp');
    let body = '';
    await waitFor(async () => {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/index.html`);
        body = await r.text();
        return r.ok;
      } catch { return false; }
    }, 20_000, 'the published port of a container on a user network');
    expect(body.trim()).toBe('hello-over-a-user-network');
    expect(lines((await skiff(['port', web])).stdout)).toEqual([`80/tcp -> 127.0.0.1:${port}`]);
    // UDP too: a datagram to the container and its answer back, through the same forwarder
    const udp = await started(['--network', app, '-p', `127.0.0.1:${port}:81/udp`], 'while [ ! -x /udp-echo ]; do sleep 0.1; done; exec /udp-echo 81');
    expect(await udpEchoThroughPort(udp, port, 'ping-user-network')).toBe('echo:ping-user-network');
    await skiff(['rm', '-f', udp]);
    await skiff(['rm', '-f', web]);
    // the host port is free again: the forwarder went with the container
    await new Promise<void>((resolve, reject) => { probe.once('error', reject); probe.listen(port, '127.0.0.1', () => resolve()); });
    await new Promise((resolve) => probe.close(resolve));
  });
});

describe('the way out', () => {
  /** A TCP listener on the host's 127.0.0.1 that answers "pong" and counts connections. */
  async function hostListener(): Promise<{ port: number; hits: () => number; close: () => void }> {
    let hits = 0;
    const server = net.createServer((s) => { hits++; s.end('pong\n'); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as net.AddressInfo).port, hits: () => hits, close: () => server.close() };
  }

  test('a network reaches a listener on the host\'s 127.0.0.1 through slirp4netns; an --internal one has no route out', async () => {
    const listener = await hostListener();
    try {
      const open = await network();
      const out = await skiff(['run', '--rm', '--network', open, BUSYBOX, 'sh', '-c', `nc 10.0.2.2 ${listener.port} </dev/null`]);
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout.trim()).toBe('pong');
      const before = listener.hits();
      const internal = await network(['--internal']);
      const shut = await skiff(['run', '--rm', '--network', internal, BUSYBOX, 'sh', '-c', `ip route; nc -w 2 10.0.2.2 ${listener.port} </dev/null && echo REACHED; ping -c1 -W1 10.0.2.2 && echo REACHED; true`]);
      expect(shut.code, shut.stderr).toBe(0);
      expect(shut.stdout).not.toContain('REACHED');
      expect(shut.stdout).not.toContain('default');
      expect(listener.hits()).toBe(before);
    } finally {
      listener.close();
    }
  });

  test('a network removed while the holder stays busy leaves no bridge in the way of a new one with its subnet', async () => {
    const listener = await hostListener();
    try {
      const keeper = await network();
      await started(['--network', keeper]); // keeps the holder (and the old bridge) alive
      const first = await network();
      const firstSubnet = (await skiff(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', first])).stdout.trim();
      expect((await skiff(['run', '--rm', '--network', first, BUSYBOX, 'true'])).code).toBe(0);
      expect((await skiff(['network', 'rm', first])).code).toBe(0);
      const second = await network();
      expect((await skiff(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', second])).stdout.trim()).toBe(firstSubnet);
      const out = await skiff(['run', '--rm', '--network', second, BUSYBOX, 'sh', '-c', `nc 10.0.2.2 ${listener.port} </dev/null`]);
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout.trim()).toBe('pong');
    } finally {
      listener.close();
    }
  });
});

describe('network connect and disconnect', () => {
  test('a running container gets an interface on the network at once and loses it again', async () => {
    const a = await network();
    const b = await network(['--subnet', '10.124.0.0/24']);
    const c1 = await started(['--network', a]);
    const peer = await started(['--network', b]);
    const connect = await skiff(['network', 'connect', '--alias', 'c1-alias', '--ip', '10.124.0.50', b, c1]);
    expect(connect.code, connect.stderr).toBe(0);
    const addr = await inContainer(c1, 'ip -o -4 addr show eth1');
    expect(addr.stdout).toContain('inet 10.124.0.50/24');
    const fromPeer = await inContainer(peer, `ping -c1 -W2 ${c1} >/dev/null && ping -c1 -W2 c1-alias >/dev/null && echo ok`);
    expect(fromPeer.stdout.trim(), fromPeer.stderr).toBe('ok');
    const inspected = JSON.parse((await skiff(['inspect', '-f', '{{json .NetworkSettings.Networks}}', c1])).stdout);
    expect(Object.keys(inspected)).toEqual([a, b]);
    expect(inspected[b]).toMatchObject({ IPAddress: '10.124.0.50', IPPrefixLen: 24, Gateway: '10.124.0.1', MacAddress: '02:42:0a:7c:00:32', Aliases: ['c1-alias'], IPAMConfig: { IPv4Address: '10.124.0.50' } });
    expect(inspected[b].DNSNames).toEqual(expect.arrayContaining([c1, 'c1-alias']));
    const ps = await skiff(['ps', '--filter', `name=${c1}`, '--format', '{{.Networks}}']);
    expect(ps.stdout.trim()).toBe(`${a},${b}`);
    const twice = await skiff(['network', 'connect', b, c1]);
    expect(twice.code).toBe(1);
    expect(errorLines(twice.stderr)).toEqual([expect.stringMatching(/already exists in network/)]);

    const disconnect = await skiff(['network', 'disconnect', b, c1]);
    expect(disconnect.code, disconnect.stderr).toBe(0);
    expect((await inContainer(c1, 'ip -o link show eth1')).code).not.toBe(0);
    const gone = await inContainer(peer, `ping -c1 -W1 ${c1} >/dev/null 2>&1 && echo REACHED; true`);
    expect(gone.stdout).not.toContain('REACHED');
    const again = await skiff(['network', 'disconnect', b, c1]);
    expect(again.code).toBe(1);
    expect(errorLines(again.stderr)).toEqual([expect.stringMatching(/is not connected to network/)]);
    expect((await skiff(['network', 'disconnect', '-f', b, c1])).code).toBe(0);
    // the predefined networks: refused in one line, the record untouched
    for (const [verb, ref, message] of [['disconnect', 'bridge', /cannot be disconnected from the predefined network bridge yet/], ['connect', 'bridge', /cannot be connected to the predefined network bridge yet/],
      ['connect', 'host', /connected to host network/]] as const) {
      const r = await skiff(['network', verb, ref, c1]);
      expect(r.code).toBe(1);
      expect(errorLines(r.stderr)).toEqual([expect.stringMatching(message)]);
    }
    expect(Object.keys(JSON.parse((await skiff(['inspect', '-f', '{{json .NetworkSettings.Networks}}', c1])).stdout))).toEqual([a]);
  });

  test('a container in the host\'s or in no network namespace is refused: the host never gets an interface', async () => {
    const a = await network();
    for (const mode of ['host', 'none']) {
      const c = await started(['--network', mode]);
      const r = await skiff(['network', 'connect', a, c]);
      expect(r.code).toBe(1);
      expect(errorLines(r.stderr)).toEqual([expect.stringMatching(mode === 'host' ? /connected to host network/ : /private \(none\) mode/)]);
      expect(JSON.parse((await skiff(['network', 'inspect', '-f', '{{json .Containers}}', a])).stdout)).toEqual({});
    }
  });

  test('a stopped container gets the network at its next start', async () => {
    const a = await network();
    const name = uniqueName('c');
    containers.push(name);
    expect((await skiff(['create', '--name', name, BUSYBOX, 'ip', '-o', '-4', 'addr'])).code).toBe(0);
    const connect = await skiff(['network', 'connect', a, name]);
    expect(connect.code, connect.stderr).toBe(0);
    const r = await skiff(['start', '-a', name]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/eth0\s+inet 10\.89\.\d+\.2\/24/);
  });

  test('a container disconnected from the network it was started on no longer lists it (inspect, ps; NetworkMode keeps it) and starts again without it', async () => {
    const a = await network();
    const c = await started(['--network', a]);
    const disconnect = await skiff(['network', 'disconnect', a, c]);
    expect(disconnect.code, disconnect.stderr).toBe(0);
    const listed = async () => ({
      networks: JSON.parse((await skiff(['inspect', '-f', '{{json .NetworkSettings.Networks}}', c])).stdout),
      mode: (await skiff(['inspect', '-f', '{{.HostConfig.NetworkMode}}', c])).stdout.trim(),
      ps: (await skiff(['ps', '-a', '--filter', `name=${c}`, '--format', '{{.Networks}}'])).stdout.trim(),
    });
    expect(await listed()).toEqual({ networks: {}, mode: a, ps: '' });
    expect((await skiff(['stop', '-t', '1', c])).code).toBe(0);
    const start = await skiff(['start', c]);
    expect(start.code, start.stderr).toBe(0);
    expect((await inContainer(c, 'ls /sys/class/net')).stdout.split(/\s+/).filter(Boolean)).toEqual(['lo']);
    expect(await listed()).toEqual({ networks: {}, mode: a, ps: '' });
  });
});

describe('a network connected to a running container, across its --restart runs (its monitor is told)', () => {
  // each run waits for /tmp/exit, then exits 3 for --restart to run it again (the rootfs stays)
  const LOOP = 'while [ ! -e /tmp/exit ]; do sleep 0.1; done; rm /tmp/exit; exit 3';
  const inspect = async (name: string, format: string) => (await skiff(['inspect', '-f', format, name])).stdout.trim();
  async function exitAndRestart(name: string, count: number): Promise<void> {
    expect((await inContainer(name, 'touch /tmp/exit')).code).toBe(0);
    await waitFor(async () => (await inspect(name, '{{.RestartCount}} {{.State.Status}}')) === `${count} running`, 20_000, `restart ${count}`);
  }
  const reaches = async (from: string, to: string) => (await inContainer(from, `ping -c1 -W2 ${to} >/dev/null 2>&1 && echo REACHED; true`)).stdout.trim() === 'REACHED';

  test('a default-network container keeps it (address, alias, names both ways) until disconnected; a stop and start keep it too', async () => {
    const app = await network();
    const peer = await started(['--network', app]);
    const c = await started(['--restart', 'always'], LOOP);
    const connect = await skiff(['network', 'connect', '--alias', 'c-alias', app, c]);
    expect(connect.code, connect.stderr).toBe(0);
    const ip = await inspect(c, `{{(index .NetworkSettings.Networks "${app}").IPAddress}}`);
    expect(ip).toMatch(/^10\.89\.\d+\.\d+$/);

    await exitAndRestart(c, 1);
    expect((await inContainer(c, 'ip -o -4 addr show eth0')).stdout).toContain(`inet ${ip}/24`);
    expect(await reaches(c, peer)).toBe(true);
    expect(await reaches(peer, c)).toBe(true);
    expect(await reaches(peer, 'c-alias')).toBe(true);
    const networks = JSON.parse(await inspect(c, '{{json .NetworkSettings.Networks}}'));
    expect(Object.keys(networks)).toEqual(['bridge', app]);
    expect(networks[app]).toMatchObject({ IPAddress: ip, Aliases: ['c-alias'] });

    const disconnect = await skiff(['network', 'disconnect', app, c]);
    expect(disconnect.code, disconnect.stderr).toBe(0);
    await exitAndRestart(c, 2);
    expect((await inContainer(c, 'ip -o link show eth0')).code).not.toBe(0);
    expect(await reaches(peer, c)).toBe(false);
    expect(Object.keys(JSON.parse(await inspect(c, '{{json .NetworkSettings.Networks}}')))).toEqual(['bridge']);

    expect((await skiff(['network', 'connect', app, c])).code).toBe(0);
    expect((await skiff(['stop', '-t', '1', c])).code).toBe(0);
    const start = await skiff(['start', c]);
    expect(start.code, start.stderr).toBe(0);
    expect((await inContainer(c, 'ip -o -4 addr show eth0')).stdout).toMatch(/inet 10\.89\.\d+\.\d+\/24/);
    expect(await reaches(peer, c)).toBe(true);
  });

  test('a connect between two runs (a back-off) is attached at the next run, which has the embedded DNS server', async () => {
    const app = await network();
    const peer = await started(['--network', app]);
    // six runs that exit at once (back-offs of 100 ms doubling: the sixth is 3.2 s), then one that stays
    const c = await started(['--restart', 'always'], 'n=$(cat /runs 2>/dev/null || echo 0); [ "$n" -ge 6 ] && exec sleep 1000; echo $((n + 1)) >/runs; exit 3');
    await waitFor(async () => (await inspect(c, '{{.RestartCount}} {{.State.Status}}')) === '6 restarting', 20_000, 'the sixth back-off');
    const connect = await skiff(['network', 'connect', app, c]);
    expect(connect.code, connect.stderr).toBe(0);
    await waitFor(async () => (await inspect(c, '{{.State.Status}}')) === 'running', 20_000, 'the seventh run');
    const ip = await inspect(c, `{{(index .NetworkSettings.Networks "${app}").IPAddress}}`);
    expect((await inContainer(c, 'ip -o -4 addr show eth0')).stdout).toContain(`inet ${ip}/24`);
    expect(await reaches(peer, c)).toBe(true);
    // the server, not the /etc/hosts block: asked by address
    expect((await inContainer(c, 'head -1 /etc/resolv.conf')).stdout).toBe('nameserver 127.0.0.11\n');
    const peerIp = await inspect(peer, `{{(index .NetworkSettings.Networks "${app}").IPAddress}}`);
    const lookup = await inContainer(c, `nslookup ${peer} 127.0.0.11`);
    expect(lookup.stdout, lookup.stderr).toContain(`Address: ${peerIp}`);
  });

  test('the default route goes through the first network by name with a gateway: it moves when that one is disconnected or one before it connected, in the run and its --restart runs', async () => {
    // names that sort a < b < c; a is --internal (no gateway)
    const base = uniqueName('rt');
    const [na, nb, nc] = ['a', 'b', 'c'].map((x) => `${base}-${x}`);
    for (const [n, flags] of [[na, ['--internal', '--subnet', '10.126.1.0/24']], [nb, ['--subnet', '10.126.2.0/24']], [nc, ['--subnet', '10.126.3.0/24']]] as const) {
      const r = await skiff(['network', 'create', ...flags, n]);
      expect(r.code, r.stderr).toBe(0);
      networks.push(n);
    }
    const route = async (c: string) => (await inContainer(c, 'ip route | grep ^default; true')).stdout.trim(); // (busybox ip ignores `show default`)
    const c = await started(['--restart', 'always', '--network', nc], LOOP);
    expect(await route(c)).toMatch(/^default via 10\.126\.3\.1 dev eth0\b/);

    expect((await skiff(['network', 'connect', nb, c])).code).toBe(0);
    expect(await route(c)).toMatch(/^default via 10\.126\.2\.1 dev eth1\b/);
    await exitAndRestart(c, 1);
    expect(await route(c)).toMatch(/^default via 10\.126\.2\.1 dev eth1\b/);

    const away = await skiff(['network', 'disconnect', nb, c]);
    expect(away.code, away.stderr).toBe(0);
    expect(await route(c)).toMatch(/^default via 10\.126\.3\.1 dev eth0\b/);
    await exitAndRestart(c, 2);
    expect(await route(c)).toMatch(/^default via 10\.126\.3\.1 dev eth0\b/);

    // none left with a gateway: no route; then one connected gives it one
    expect((await skiff(['network', 'disconnect', nc, c])).code).toBe(0);
    expect((await skiff(['network', 'connect', na, c])).code).toBe(0);
    expect(await route(c)).toBe('');
    const back = await skiff(['network', 'connect', nb, c]);
    expect(back.code, back.stderr).toBe(0);
    expect(await route(c)).toMatch(/^default via 10\.126\.2\.1 dev eth\d\b/);
    await exitAndRestart(c, 3);
    expect(await route(c)).toMatch(/^default via 10\.126\.2\.1 dev eth\d\b/);
    expect((await inContainer(c, 'ip -o -4 addr')).stdout).toMatch(/inet 10\.126\.1\.\d+\/24/);
  });

  test('connect --gw-priority: a network with a lower priority does not take the default route, one with a higher does; inspect shows it', async () => {
    const base = uniqueName('gw');
    const [na, nm, nz] = ['a', 'm', 'z'].map((x) => `${base}-${x}`);
    for (const [n, subnet] of [[na, '10.126.4.0/24'], [nm, '10.126.5.0/24'], [nz, '10.126.6.0/24']]) {
      const r = await skiff(['network', 'create', '--subnet', subnet, n]);
      expect(r.code, r.stderr).toBe(0);
      networks.push(n);
    }
    const route = async (c: string) => (await inContainer(c, 'ip route | grep ^default; true')).stdout.trim();
    const c = await started(['--network', nz], LOOP);
    expect(await route(c)).toMatch(/^default via 10\.126\.6\.1 dev eth0\b/);
    // first by name, but below the unset 0 of nz: the route stays
    const low = await skiff(['network', 'connect', '--gw-priority', '-1', na, c]);
    expect(low.code, low.stderr).toBe(0);
    expect(await route(c)).toMatch(/^default via 10\.126\.6\.1 dev eth0\b/);
    const high = await skiff(['network', 'connect', '--gw-priority', '7', nm, c]);
    expect(high.code, high.stderr).toBe(0);
    expect(await route(c)).toMatch(/^default via 10\.126\.5\.1 dev eth2\b/);
    expect(await inspect(c, `{{(index .NetworkSettings.Networks "${na}").GwPriority}} {{(index .NetworkSettings.Networks "${nm}").GwPriority}} {{(index .NetworkSettings.Networks "${nz}").GwPriority}}`)).toBe('-1 7 0');
    const bad = await skiff(['network', 'connect', '--gw-priority', 'high', na, c]);
    expect(bad.code).toBe(125);
    expect(errorLines(bad.stderr)[0]).toMatch(/--gw-priority/);
  });

  test('a user-network container disconnected from its own network while running is not attached to it again', async () => {
    const app = await network();
    const other = await network();
    const c = await started(['--restart', 'always', '--network', app], LOOP);
    expect((await skiff(['network', 'connect', other, c])).code).toBe(0);
    const disconnect = await skiff(['network', 'disconnect', app, c]);
    expect(disconnect.code, disconnect.stderr).toBe(0);
    await exitAndRestart(c, 1);
    const links = (await inContainer(c, 'ip -o link')).stdout;
    expect(links).not.toMatch(/ eth0[@:]/);
    expect(links).toMatch(/ eth1[@:]/);
  });
});

/** One frame (TYPE, 4-byte big-endian LENGTH, DATA) to a container's attach socket; the monitor's answer of the same type, or null when it closed the connection. */
function attachFrame(id: string, type: number, data: Buffer, length = data.length): Promise<string | null> {
  return new Promise((resolve, reject) => {
    // through the directory's fd: the whole path can be longer than a socket address's 108 bytes
    const dirFd = fs.openSync(`${store().root}/containers/${id}`, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    const sock = net.connect(`/proc/self/fd/${dirFd}/attach`);
    sock.once('connect', () => fs.closeSync(dirFd));
    const head = Buffer.alloc(5);
    head[0] = type;
    head.writeUInt32BE(length, 1);
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('the monitor neither answered nor closed (10 s)')); }, 10_000);
    sock.on('connect', () => sock.write(Buffer.concat([head, data])));
    sock.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      while (got.length >= 5 && got.length >= 5 + got.readUInt32BE(1)) {
        const n = got.readUInt32BE(1);
        if (got[0] === type) { clearTimeout(timer); sock.destroy(); resolve(got.subarray(5, 5 + n).toString()); return; }
        got = got.subarray(5 + n);
      }
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.on('close', () => { clearTimeout(timer); resolve(null); });
  });
}

// The attach socket is the user's own (0600), but the monitor parses frame 7 (what `network
// connect`/`disconnect` tell it) in its one poll loop: a bad frame must get its reason and leave
// the monitor serving, and the limit of 16 networks must hold.
describe('frame 7 on the attach socket, malformed or past its limits', () => {
  test('each gets one reason (an oversized frame the connection closed), the 17th network is refused, the monitor goes on', async () => {
    const name = uniqueName('frame7');
    const r = await skiff(['run', '-d', '--name', name, BUSYBOX, 'sleep', '1000']);
    expect(r.code, r.stderr).toBe(0);
    containers.push(name);
    const id = r.stdout.trim();
    const fields = (...f: string[]) => Buffer.from(f.map((x) => `${x}\0`).join(''));
    const lockDir = fs.mkdtempSync(`${store().runroot}/frame7-`);
    const attach = (ifname: string) => fields('attach', '1', '1', 'br-x', '10.99.0.1/24', ifname, '10.99.0.2/24', '02:42:0a:63:00:02', '10.99.0.1', `${lockDir}/users.lock`);
    expect(await attachFrame(id, 7, Buffer.from('no fields at all'))).toBe('net: malformed message');
    expect(await attachFrame(id, 7, fields('attach', 'one'))).toBe('net: want attach and 9 fields or detach IFNAME');
    expect(await attachFrame(id, 7, attach('x'.repeat(20)))).toBe('net: bad interface name');
    expect(await attachFrame(id, 7, Buffer.alloc(0), 0xffffffff)).toBeNull();
    for (let i = 0; i < 16; i++) expect(await attachFrame(id, 7, attach(`n${i}`))).toBe('ok');
    expect(await attachFrame(id, 7, attach('n16'))).toBe('net: more than 16 networks');
    expect(await attachFrame(id, 7, attach('n3'))).toBe('ok'); // the same interface again replaces it
    for (let i = 0; i < 16; i++) expect(await attachFrame(id, 7, fields('detach', `n${i}`))).toBe('ok');
    expect(await attachFrame(id, 7, fields('detach', 'never-attached'))).toBe('ok');
    const state = await skiff(['inspect', '--format', '{{.State.Status}}', name]);
    expect(state.stdout.trim()).toBe('running');
    expect((await skiff(['exec', name, 'true'])).code).toBe(0);
  });
});

describe('network ls, inspect, rm and prune', () => {
  test('inspect shows the IPAM config, the flags, the labels and the running containers', async () => {
    const n = await network(['--subnet', '10.125.0.0/16', '--internal', '--label', 'team=red']);
    const c = await started(['--network', n]);
    const r = await skiff(['network', 'inspect', n]);
    expect(r.code, r.stderr).toBe(0);
    const [obj] = JSON.parse(r.stdout);
    expect(obj).toMatchObject({
      Name: n, Driver: 'bridge', Scope: 'local', Internal: true, EnableIPv6: false, Labels: { team: 'red' },
      IPAM: { Driver: 'default', Config: [{ Subnet: '10.125.0.0/16', Gateway: '10.125.0.1' }] },
    });
    expect(obj.Id).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.values(obj.Containers)).toEqual([expect.objectContaining({ Name: c, IPv4Address: '10.125.0.2/16', MacAddress: '02:42:0a:7d:00:02' })]);
    const ls = await skiff(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Internal}}', '--filter', `name=${n}`]);
    expect(lines(ls.stdout)).toEqual([`${n} bridge true`]);
    const missing = await skiff(['network', 'inspect', 'no-such-net']);
    expect(missing.code).toBe(1);
    expect(errorLines(missing.stderr)).toEqual([expect.stringMatching(/network no-such-net not found/)]);
  });

  test('rm refuses a network in use, prune keeps it and removes the unused ones', async () => {
    const used = await network();
    const unused = await network();
    const c = await started(['--network', used]);
    const rm = await skiff(['network', 'rm', used]);
    expect(rm.code).toBe(1);
    expect(errorLines(rm.stderr)).toEqual([expect.stringMatching(new RegExp(`network ${used} id [0-9a-f]{64} has active endpoints \\(used by ${c}\\)`))]);
    const prune = await skiff(['network', 'prune', '-f']);
    expect(prune.code, prune.stderr).toBe(0);
    expect(prune.stdout).toContain(unused);
    expect(prune.stdout).not.toContain(used);
    const ls = await skiff(['network', 'ls', '-q', '--no-trunc']);
    expect(ls.stdout).not.toContain((await skiff(['network', 'inspect', '-f', '{{.Id}}', unused])).stdout.trim() || 'never');
    await skiff(['rm', '-f', c]);
    const rm2 = await skiff(['network', 'rm', used]);
    expect(rm2.code, rm2.stderr).toBe(0);
    expect(rm2.stdout.trim()).toBe(used);
  });

  test('the predefined networks bridge, host and none are listed and inspected as Docker shows them; rm refuses them', async () => {
    const ls = await skiff(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}', '--filter', 'type=builtin']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(lines(ls.stdout)).toEqual(['bridge bridge local', 'host host local', 'none null local']);
    const table = await skiff(['network', 'ls']);
    expect(lines(table.stdout)[0]).toMatch(/^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
    expect(lines(table.stdout).slice(1).map((l) => l.split(/\s+/)[1])).toEqual(expect.arrayContaining(['bridge', 'host', 'none']));
    const custom = await network();
    const onlyCustom = await skiff(['network', 'ls', '--format', '{{.Name}}', '--filter', 'type=custom']);
    expect(lines(onlyCustom.stdout)).toContain(custom);
    expect(lines(onlyCustom.stdout)).not.toContain('bridge');
    const c = await started([]);
    const inspect = await skiff(['network', 'inspect', '--format', '{{.Name}} {{.Driver}} {{range .IPAM.Config}}{{.Subnet}}{{end}} {{range .Containers}}{{.Name}} {{end}}', 'bridge', 'none']);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(lines(inspect.stdout)).toEqual([`bridge bridge 10.0.2.0/24 ${c}`, 'none null']);
    const id = (await skiff(['network', 'inspect', '--format', '{{.Id}}', 'host'])).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect((await skiff(['network', 'inspect', '--format', '{{.Name}}', id.slice(0, 12)])).stdout.trim()).toBe('host');
    for (const name of ['bridge', 'host', 'none']) {
      const rm = await skiff(['network', 'rm', name]);
      expect(rm.code).toBe(1);
      expect(errorLines(rm.stderr)).toEqual([expect.stringMatching(new RegExp(`${name} is a pre-defined network and cannot be removed`))]);
    }
    const pruned = await skiff(['network', 'prune', '-f']);
    expect(pruned.stdout).not.toMatch(/^(bridge|host|none)$/m);
    expect(lines((await skiff(['network', 'ls', '--format', '{{.Name}}', '--filter', 'type=builtin'])).stdout)).toEqual(['bridge', 'host', 'none']);
  });

  test('bad input: one line each, nothing made', async () => {
    const n = await network(['--subnet', '10.126.0.0/24']);
    const clash = await skiff(['network', 'create', n]);
    expect(clash.code).toBe(1);
    expect(errorLines(clash.stderr)).toEqual([expect.stringMatching(new RegExp(`network with name ${n} already exists`))]);
    const overlap = await skiff(['network', 'create', '--subnet', '10.126.0.128/25', uniqueName('net')]);
    expect(overlap.code).toBe(1);
    expect(errorLines(overlap.stderr)).toEqual([expect.stringMatching(/Pool overlaps with other one on this address space/)]);
    const bad = await skiff(['network', 'create', '--subnet', 'not-a-subnet', uniqueName('net')]);
    expect(bad.code).toBe(1);
    expect(errorLines(bad.stderr)).toEqual([expect.stringMatching(/invalid CIDR address: not-a-subnet/)]);
    const gw = await skiff(['network', 'create', '--subnet', '10.127.0.0/24', '--gateway', '10.128.0.1', uniqueName('net')]);
    expect(gw.code).toBe(1);
    expect(errorLines(gw.stderr)).toEqual([expect.stringMatching(/not in subnet 10\.127\.0\.0\/24/)]);
    const before = (await skiff(['ps', '-aq'])).stdout;
    const outside = await skiff(['run', '--rm', '--network', n, '--ip', '10.9.9.9', BUSYBOX, 'true']);
    expect(outside.code).toBe(125);
    expect(errorLines(outside.stderr)).toEqual([expect.stringMatching(/does not belong to the network's subnet 10\.126\.0\.0\/24/)]);
    const unknown = await skiff(['run', '--rm', '--network', 'no-such-net', BUSYBOX, 'true']);
    expect(unknown.code).toBe(125);
    expect(errorLines(unknown.stderr)).toEqual([expect.stringMatching(/network no-such-net not found/)]);
    const ipOnDefault = await skiff(['run', '--rm', '--ip', '10.0.0.5', BUSYBOX, 'true']);
    expect(ipOnDefault.code).toBe(125);
    expect(errorLines(ipOnDefault.stderr)).toEqual([expect.stringMatching(/supported on user defined networks only/)]);
    expect((await skiff(['ps', '-aq'])).stdout).toBe(before);
    const ls = await skiff(['network', 'ls', '-q', '--filter', 'type=custom']);
    expect(lines(ls.stdout)).toHaveLength(1);
  });
});

describe('the embedded DNS server at 127.0.0.11', () => {
  // busybox nslookup asks the server itself (it never reads /etc/hosts), so these prove the DNS
  const lookup = (container: string, name: string, type = 'a') => inContainer(container, `nslookup -type=${type} ${name} 127.0.0.11; echo rc=$?`);
  const addressesIn = (text: string) => [...text.matchAll(/^Address: (\d+\.\d+\.\d+\.\d+)$/gm)].map((m) => m[1]);
  const ipOn = async (network: string, container: string) =>
    (await skiff(['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container])).stdout.trim();
  const shortId = async (container: string) => (await skiff(['inspect', '-f', '{{.Id}}', container])).stdout.trim().slice(0, 12);

  test('resolv.conf names it (Docker\'s options); it answers names, aliases and short IDs of the running containers on the same networks only', async () => {
    const app = await network();
    const other = await network();
    const web = await started(['--network', app, '--network-alias', 'www']);
    const client = await started(['--network', app]);
    const outsider = await started(['--network', other]);
    const webIp = await ipOn(app, web);

    const conf = await inContainer(client, 'cat /etc/resolv.conf');
    const confLines = conf.stdout.trim().split('\n');
    expect(confLines[0]).toBe('nameserver 127.0.0.11');
    expect(confLines.filter((l) => l.startsWith('nameserver'))).toHaveLength(1);
    expect(confLines.at(-1)).toMatch(/^options (.* )?ndots:0( |$)/);
    const asked = await skiff(['run', '--rm', '--network', app, '--dns-search', 'example.test', '--dns-option', 'ndots:2', BUSYBOX, 'cat', '/etc/resolv.conf']);
    expect(asked.stdout).toBe('nameserver 127.0.0.11\nsearch example.test\noptions ndots:2\n');

    for (const name of [web, 'www', 'WWW', await shortId(web), `${web}.${app}`]) {
      const r = await lookup(client, name);
      expect(addressesIn(r.stdout), `${name}: ${r.stdout}`).toEqual([webIp]);
    }
    // the container's own name too; an address back to NAME.NETWORK
    expect(addressesIn((await lookup(client, client)).stdout)).toEqual([await ipOn(app, client)]);
    expect((await inContainer(client, `nslookup ${webIp} 127.0.0.11`)).stdout).toContain(`name = ${web}.${app}`);
    // AAAA for a container name: no error and no answer (Docker's), nothing forwarded
    const aaaa = await lookup(client, web, 'aaaa');
    expect(aaaa.stdout).toContain('rc=0');
    expect(aaaa.stdout).not.toMatch(/^Address: /m);
    // another network's container does not get it (from the server: NXDOMAIN or SERVFAIL from upstream)
    const away = await lookup(outsider, web);
    expect(addressesIn(away.stdout)).toEqual([]);
    expect(away.stdout).toContain('rc=1');
    // /etc/hosts has no peers for it: a name that stops resolving in the DNS is gone everywhere
    expect((await inContainer(client, `grep -c -w ${web} /etc/hosts; true`)).stdout.trim()).toBe('0');
  });

  test('a peer started later resolves; one that stops or is removed no longer does', async () => {
    const app = await network();
    const client = await started(['--network', app]);
    const later = await started(['--network', app, '--network-alias', 'later-alias']);
    const laterIp = await ipOn(app, later);
    expect(addressesIn((await lookup(client, later)).stdout)).toEqual([laterIp]);
    expect(addressesIn((await lookup(client, 'later-alias')).stdout)).toEqual([laterIp]);
    expect((await skiff(['stop', '-t', '0', later])).code).toBe(0);
    expect(addressesIn((await lookup(client, 'later-alias')).stdout)).toEqual([]);
    expect((await skiff(['start', later])).code).toBe(0);
    expect(addressesIn((await lookup(client, 'later-alias')).stdout)).toEqual([laterIp]);
    expect((await skiff(['rm', '-f', later])).code).toBe(0);
    expect(addressesIn((await lookup(client, later)).stdout)).toEqual([]);
  });

  test('other names go to the upstream resolvers: --dns ones from the container\'s namespace; none from an --internal network', async () => {
    const app = await network();
    // the upstream: a DNS server of the test's own in a container on the network (offline,
    // unprivileged), on 0.0.0.0:53 as DNS servers bind: the embedded one leaves :53 free (Docker's NAT rule)
    const upstream = await started(['--network', app], 'while [ ! -x /dns-responder ]; do sleep 0.1; done; exec /dns-responder outside.example 192.0.2.7 0.0.0.0');
    await putFixtureProgram(upstream, 'dns-responder');
    const upstreamIp = await ipOn(app, upstream);
    const client = await started(['--network', app, '--dns', upstreamIp]);
    expect((await inContainer(client, 'cat /etc/resolv.conf')).stdout.split('\n')[0]).toBe('nameserver 127.0.0.11');
    let r = await lookup(client, 'outside.example');
    await waitFor(async () => addressesIn((r = await lookup(client, 'outside.example')).stdout).length > 0, 10_000, 'the upstream DNS server to answer');
    expect(addressesIn(r.stdout)).toEqual(['192.0.2.7']);
    const missing = await lookup(client, 'missing.example');
    expect(missing.stdout).toMatch(/NXDOMAIN/);
    // the peers still come from the embedded server
    expect(addressesIn((await lookup(client, upstream)).stdout)).toEqual([upstreamIp]);
    // and in the upstream's own namespace, 127.0.0.11 is still the embedded server
    expect(addressesIn((await lookup(upstream, client)).stdout)).toEqual([await ipOn(app, client)]);

    const internal = await network(['--internal']);
    const shut = await skiff(['run', '--rm', '--network', internal, BUSYBOX, 'sh', '-c', 'nslookup outside.example 127.0.0.11; echo rc=$?']);
    expect(shut.stdout).toMatch(/SERVFAIL/);
    expect(shut.stdout).toContain('rc=1');
  });

  test('hostile datagrams from a container (cut short, pointer loops, over-long names, lying counts, responses, random bytes, piled-up forwards) leave the server answering', async () => {
    const app = await network();
    const peer = await started(['--network', app]);
    const peerIp = await ipOn(app, peer);
    // --dns at the peer, which serves no DNS: the forwarded queries stay inside the test's network
    const client = await started(['--network', app, '--dns', peerIp]);
    await putFixtureProgram(client, 'dns-garbage');
    const sent = await inContainer(client, '/dns-garbage 127.0.0.11 30');
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/^sent [1-9]\d+/);
    expect((await skiff(['inspect', '-f', '{{.State.Running}}', client])).stdout).toBe('true\n');
    await waitFor(async () => addressesIn((await lookup(client, peer)).stdout).includes(peerIp), 15_000, 'the server to answer after the garbage');
    expect(addressesIn((await lookup(client, peer)).stdout)).toEqual([peerIp]);
  });

  // dns-tcp ask: one line per query, "NAME rcode=R tc=T ADDR...", every query on one connection
  const answersIn = (text: string, name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} rcode=`));
    return line ? { rcode: Number(/rcode=(\d+)/.exec(line)![1]), tc: line.includes(' tc=1'), addresses: line.split(' ').slice(3) } : undefined;
  };

  test('over TCP too: names and aliases, several queries on one connection, an answer only TCP carries whole', async () => {
    const app = await network();
    const web = await started(['--network', app, '--network-alias', 'www']);
    const upstream = await started(['--network', app], 'while [ ! -x /dns-responder ]; do sleep 0.1; done; exec /dns-responder outside.example 192.0.2.7 0.0.0.0');
    await putFixtureProgram(upstream, 'dns-responder');
    const client = await started(['--network', app, '--dns', await ipOn(app, upstream)]);
    await putFixtureProgram(client, 'dns-tcp');
    const webIp = await ipOn(app, web);
    let r = await inContainer(client, `/dns-tcp ask 127.0.0.11 ${web} www ${web}.${app} ${await shortId(web)} no-such-peer`);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const name of [web, 'www', `${web}.${app}`, await shortId(web)]) expect(answersIn(r.stdout, name), r.stdout).toEqual({ rcode: 0, tc: false, addresses: [webIp] });
    expect(answersIn(r.stdout, 'no-such-peer')?.rcode, r.stdout).toBe(3); // NXDOMAIN from the upstream, over TCP
    await waitFor(async () => answersIn((r = await inContainer(client, '/dns-tcp ask 127.0.0.11 outside.example')).stdout, 'outside.example')?.rcode === 0, 10_000, 'the upstream to answer over TCP');
    expect(answersIn(r.stdout, 'outside.example')?.addresses).toEqual(['192.0.2.7']);
    // 100 addresses (1.6 KB): over UDP the upstream says TC, over TCP the embedded server forwards over TCP and gets them all
    const hundred = Array.from({ length: 100 }, (_, i) => `192.0.2.${i + 1}`);
    const udp = await inContainer(client, '/dns-tcp udp 127.0.0.11 many-outside.example');
    expect(answersIn(udp.stdout, 'many-outside.example'), udp.stdout).toMatchObject({ rcode: 0, tc: true });
    const tcp = await inContainer(client, '/dns-tcp ask 127.0.0.11 many-outside.example');
    expect(answersIn(tcp.stdout, 'many-outside.example'), tcp.stdout).toEqual({ rcode: 0, tc: false, addresses: hundred });
    // an upstream that sends all 100 over UDP anyway: the client gets what fits its 512 bytes, TC set
    const careless = await inContainer(client, '/dns-tcp udp 127.0.0.11 big-outside.example');
    expect(answersIn(careless.stdout, 'big-outside.example'), careless.stdout).toMatchObject({ rcode: 0, tc: true });
    expect(Number(/udp size (\d+)/.exec(careless.stdout)?.[1])).toBeLessThanOrEqual(512);
    expect(answersIn((await inContainer(client, '/dns-tcp ask 127.0.0.11 big-outside.example')).stdout, 'big-outside.example')?.addresses).toEqual(hundred);
  });

  test('hostile TCP clients (slowloris, a 65535 length with no body, garbage, many connections, unread answers) leave it answering', async () => {
    const app = await network();
    const peer = await started(['--network', app]);
    const peerIp = await ipOn(app, peer);
    const client = await started(['--network', app, '--dns', peerIp]);
    await putFixtureProgram(client, 'dns-tcp');
    const r = await inContainer(client, `/dns-tcp hostile 127.0.0.11 ${peer}`);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('slowloris held 40');
    expect(r.stdout).toContain('long length closed');
    expect(r.stdout).toContain('short length closed');
    // answered while 40 connections still held theirs open
    expect(answersIn(r.stdout, peer), r.stdout).toEqual({ rcode: 0, tc: false, addresses: [peerIp] });
    expect((await skiff(['inspect', '-f', '{{.State.Running}}', client])).stdout).toBe('true\n');
    expect(answersIn((await inContainer(client, `/dns-tcp ask 127.0.0.11 ${peer}`)).stdout, peer)?.addresses).toEqual([peerIp]);
    expect(addressesIn((await lookup(client, peer)).stdout)).toEqual([peerIp]);
  });

  test('a default-network container connected to a user network while running gets the server (resolv.conf rewritten in place, --dns-search kept); it keeps it after the disconnect', async () => {
    const app = await network();
    const peer = await started(['--network', app, '--network-alias', 'peer-alias']);
    const peerIp = await ipOn(app, peer);
    const c = await started(['--dns-search', 'example.test']);
    expect((await inContainer(c, 'head -1 /etc/resolv.conf')).stdout).not.toBe('nameserver 127.0.0.11\n');
    const connect = await skiff(['network', 'connect', app, c]);
    expect(connect.code, connect.stderr).toBe(0);
    expect(connect.stderr).toBe('');
    expect((await inContainer(c, 'cat /etc/resolv.conf')).stdout).toBe('nameserver 127.0.0.11\nsearch example.test\noptions ndots:0\n');
    expect(addressesIn((await lookup(c, peer)).stdout)).toEqual([peerIp]);
    expect(addressesIn((await lookup(c, 'peer-alias')).stdout)).toEqual([peerIp]);
    // through resolv.conf (the libc resolver), with no peers in /etc/hosts
    expect((await inContainer(c, `grep -c -w ${peer} /etc/hosts; true`)).stdout.trim()).toBe('0');
    const ping = await inContainer(c, 'ping -c1 -W1 peer-alias 2>&1 | head -1');
    expect(ping.stdout).toContain(`(${peerIp})`);
    // and the peer resolves it, over TCP too
    await putFixtureProgram(c, 'dns-tcp');
    expect(answersIn((await inContainer(c, `/dns-tcp ask 127.0.0.11 ${peer}`)).stdout, peer)?.addresses).toEqual([peerIp]);
    // a second connect does not start a second server
    const other = await network();
    const again = await skiff(['network', 'connect', other, c]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toBe('');
    // the last user network left: the server stays (Docker's), the peer is gone from it
    expect((await skiff(['network', 'disconnect', app, c])).code).toBe(0);
    expect((await skiff(['network', 'disconnect', other, c])).code).toBe(0);
    expect((await inContainer(c, 'head -1 /etc/resolv.conf')).stdout).toBe('nameserver 127.0.0.11\n');
    expect(addressesIn((await lookup(c, peer)).stdout)).toEqual([]);
  });

  test('a server started by network connect is there again in the container\'s --restart runs (its resolv.conf names it)', async () => {
    const app = await network();
    const peer = await started(['--network', app]);
    const name = uniqueName('c');
    containers.push(name);
    // each run waits for /tmp/go (the rootfs stays across runs: the second run goes at once)
    const r = await skiff(['run', '-d', '--name', name, '--restart', 'on-failure:1', BUSYBOX, 'sh', '-c',
      `while [ ! -e /tmp/go ]; do sleep 0.1; done; nslookup ${peer} 127.0.0.11 | grep -q '^Address: 10\\.' && echo RESOLVED; exit 3`]);
    expect(r.code, r.stderr).toBe(0);
    const connect = await skiff(['network', 'connect', app, name]);
    expect(connect.code, connect.stderr).toBe(0);
    expect((await inContainer(name, 'touch /tmp/go')).code).toBe(0);
    await waitFor(async () => (await skiff(['logs', name])).stdout.split('\n').filter((l) => l === 'RESOLVED').length === 2, 20_000, 'both runs to resolve the peer');
  });

  test('it answers again after a --restart (the new run\'s namespace has a new server)', async () => {
    const app = await network();
    const peer = await started(['--network', app]);
    const name = uniqueName('c');
    containers.push(name);
    const r = await skiff(['run', '-d', '--name', name, '--restart', 'on-failure:1', '--network', app, BUSYBOX, 'sh', '-c', `nslookup ${peer} 127.0.0.11 | grep -q '^Address: 10\\.' && echo RESOLVED; exit 3`]);
    expect(r.code, r.stderr).toBe(0);
    await waitFor(async () => (await skiff(['logs', name])).stdout.split('\n').filter((l) => l === 'RESOLVED').length === 2, 20_000, 'both runs to resolve the peer');
  });
});
