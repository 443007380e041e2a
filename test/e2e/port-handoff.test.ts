// Published TCP ports handed to the server's own socket (native/helper/port_handoff.c): on the
// default network (and pasta's) the container's bind() of a published port is replaced by a socket bound to
// the host port in the host's namespace, so the server sees each client's real address and no
// relay is in the data path. What must still work: the container's own clients, a server that
// binds again, a restart, an IPv4-only server on a dual-stack -p, and every bind that is not a
// published TCP port's (they go on in the container). Where the handoff is off
// (port_handler=rootlessport, allow_host_loopback=false, one container port behind two host
// ports) the forwarder relays and the server sees the container's own address.
import fs from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { BUSYBOX, fetchFromHost, forwardersOf, freePort, lines, putFixtureProgram, skiff, uniqueName, useStore, waitFor } from './harness';

const store = useStore();

/** busybox httpd on port 80 (LISTEN: httpd's -p) with a CGI that answers the client's address as the server saw it. */
const httpdWithAddr = (listen = '80', then = '') =>
  String.raw`mkdir -p /www/cgi-bin && printf '%s\n' '#!/bin/sh' "printf 'Content-Type: text/plain\r\n\r\n'" 'echo "$REMOTE_ADDR"' > /www/cgi-bin/addr && ` +
  `chmod +x /www/cgi-bin/addr && echo ok > /www/index.html && ${then || `exec httpd -f -p ${listen} -h /www`}`;

/** The client address the server saw, as busybox prints it ("[::ffff:127.0.0.1]" on a dual-stack socket). */
const HOST_LOOPBACK = /^\[?(::ffff:)?127\.0\.0\.1\]?$/;
const CONTAINER_ADDRESS = /^\[?(::ffff:)?10\.0\.2\.100\]?$/;
const seenFromHost = async (port: number, host?: string) => (await fetchFromHost(port, 'cgi-bin/addr', host)).trim();

async function started(flags: string[], script: string): Promise<string> {
  const name = uniqueName('handoff');
  const r = await skiff(['run', '-d', '--name', name, ...flags, BUSYBOX, 'sh', '-c', script]);
  expect(r.code, r.stderr).toBe(0);
  return name;
}

afterEach(async () => {
  const ids = (await skiff(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await skiff(['rm', '-f', ...ids]);
  expect(forwardersOf(store())).toEqual([]);
});

const hostHasIpv6Loopback = (): boolean => {
  try { return fs.readFileSync('/proc/net/if_inet6', 'utf8').includes(' lo'); } catch { return false; }
};

/** /bind-probe (test/fixtures/bind-probe.c) on container port 7000, published at 127.0.0.1:HOSTPORT: its report lines, and its answer through the host port. */
async function probePort(flags: string[]): Promise<{ out: string[]; reply: string; hostPort: number }> {
  const hostPort = await freePort();
  const name = await started([...flags, '-p', `127.0.0.1:${hostPort}:7000`], 'while [ ! -x /bind-probe ]; do sleep 0.05; done; exec /bind-probe 7000 > /probe.out');
  await putFixtureProgram(name, 'bind-probe');
  let out: string[] = [];
  await waitFor(async () => {
    out = lines((await skiff(['exec', name, 'cat', '/probe.out'])).stdout);
    return out.includes('listening');
  }, 20_000, 'the probe to listen');
  let reply = '';
  await waitFor(async () => {
    reply = await new Promise<string>((resolve) => {
      let got = '';
      const s = net.connect(hostPort, '127.0.0.1');
      s.on('data', (d) => { got += d.toString(); });
      s.on('error', () => resolve(''));
      s.on('close', () => resolve(got));
    });
    return reply !== '';
  }, 20_000, 'the probe to answer through the host port');
  return { out, reply, hostPort };
}

describe('a published TCP port handed to the server', () => {
  test('the server sees the host client\'s address; its own container still reaches it at 127.0.0.1:80', async () => {
    const port = await freePort();
    const name = await started(['-p', `127.0.0.1:${port}:80`], httpdWithAddr());
    expect(await seenFromHost(port)).toMatch(HOST_LOOPBACK);
    const inside = await skiff(['exec', name, 'wget', '-q', '-O', '-', 'http://127.0.0.1:80/index.html']);
    expect(inside.code, inside.stderr).toBe(0);
    expect(inside.stdout).toBe('ok\n');
  });

  test('a server that binds the port again is handed it again, and so is each run after a restart', async () => {
    const port = await freePort();
    // run 1: httpd, then (once /go appears) a second httpd after the first is killed; run 2: httpd again
    const script = httpdWithAddr('80', 'n=$(cat /runs 2>/dev/null || echo 0); echo $((n + 1)) > /runs; ' +
      'httpd -p 80 -h /www; while [ ! -e /go ]; do sleep 0.1; done; rm /go; killall httpd; sleep 0.2; httpd -p 80 -h /www; ' +
      'while [ ! -e /go ]; do sleep 0.1; done; rm /go; exit 1');
    const name = await started(['--restart', 'always', '-p', `127.0.0.1:${port}:80`], script);
    expect(await seenFromHost(port)).toMatch(HOST_LOOPBACK);
    expect((await skiff(['exec', name, 'touch', '/go'])).code).toBe(0);
    await waitFor(async () => (await skiff(['exec', name, 'sh', '-c', '[ ! -e /go ]'])).code === 0, 10_000, 'the second httpd to start');
    expect(await seenFromHost(port)).toMatch(HOST_LOOPBACK);
    expect((await skiff(['exec', name, 'wget', '-q', '-O', '-', 'http://127.0.0.1/index.html'])).stdout).toBe('ok\n');
    expect((await skiff(['exec', name, 'touch', '/go'])).code).toBe(0);
    await waitFor(async () => (await skiff(['exec', name, 'cat', '/runs'])).stdout.trim() === '2', 20_000, 'the restarted run');
    expect(await seenFromHost(port)).toMatch(HOST_LOOPBACK);
  });

  test('an IPv4-only server on a dual-stack -p PORT:80: IPv4 clients reach it directly, IPv6 ones through the forwarder', async () => {
    const port = await freePort();
    await started(['-p', `${port}:80`], httpdWithAddr('0.0.0.0:80'));
    expect(await seenFromHost(port)).toMatch(HOST_LOOPBACK);
    // relayed: the forwarder to the container's address, where a relay listener passes it on to the host socket
    if (hostHasIpv6Loopback()) expect(await seenFromHost(port, '::1')).toMatch(HOST_LOOPBACK);
  });

  test('a server bound to the container\'s loopback is not published (as in Docker) and binds in the container', async () => {
    const port = await freePort();
    const name = await started(['-p', `127.0.0.1:${port}:80`], httpdWithAddr('127.0.0.1:80'));
    await waitFor(async () => (await skiff(['exec', name, 'wget', '-q', '-O', '-', 'http://127.0.0.1/index.html'])).stdout === 'ok\n', 10_000, 'httpd in the container');
    const reply = await new Promise<string>((resolve) => {
      let got = '';
      const s = net.connect(port, '127.0.0.1', () => s.write('GET /index.html HTTP/1.0\r\n\r\n'));
      s.on('data', (d) => { got += d.toString(); });
      s.on('error', () => resolve(got));
      s.on('close', () => resolve(got));
    });
    expect(reply).toBe('');
  });

  test('binds that are not a published TCP port\'s go on in the container, unreadable and short addresses fail as usual, flags survive', async () => {
    const p = await probePort([]);
    expect(p.out).toEqual(['efault ok', 'short-len ok', 'udp ok', 'flags ok', `port ${p.hostPort}`, 'listening']);
    expect(p.reply).toBe('probe\n');
  });
});

describe('--network pasta', () => {
  test('TCP ports are handed to the server too (its socket names the host port)', async () => {
    const p = await probePort(['--network', 'pasta']);
    expect(p.reply).toBe('probe\n');
    expect(p.out).toContain(`port ${p.hostPort}`);
  });
  test('pasta:--no-map-gw (no way to the host\'s loopback): pasta forwards them itself', async () => {
    const p = await probePort(['--network', 'pasta:--no-map-gw']);
    expect(p.reply).toBe('probe\n');
    expect(p.out).toContain('port 7000');
  });
});

describe('where the forwarder relays instead', () => {
  test.each([
    ['port_handler=rootlessport', ['--network', 'slirp4netns:port_handler=rootlessport']],
    ['allow_host_loopback=false', ['--network', 'slirp4netns:allow_host_loopback=false']],
  ])('%s: the server sees the container\'s own address', async (_label, flags) => {
    const port = await freePort();
    await started([...flags, '-p', `127.0.0.1:${port}:80`], httpdWithAddr());
    expect(await seenFromHost(port)).toMatch(CONTAINER_ADDRESS);
  });

  test('one container port behind two host ports: both relayed, both answer', async () => {
    const [a, b] = [await freePort(), await freePort()];
    await started(['-p', `127.0.0.1:${a}:80`, '-p', `127.0.0.1:${b}:80`], httpdWithAddr());
    expect(await seenFromHost(a)).toMatch(CONTAINER_ADDRESS);
    expect(await seenFromHost(b)).toMatch(CONTAINER_ADDRESS);
  });
});
