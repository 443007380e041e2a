// The container's network (issue 11): the --network modes other than user-defined networks,
// the default user-mode network, published ports, /etc/hosts and /etc/resolv.conf.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { BUSYBOX, errorLines, fetchFromHost, forwardersOf, freePort, hostProcessesMatching, isRootless, lines, psAll, skiff, startedForStore, udpEchoThroughPort, uniqueName, useStore, waitFor } from './harness';

const store = useStore();

/**
 * This file's user-mode network helpers: pasta or slirp4netns processes started for its store
 * (they inherit the monitor's environment), not those of other suites running at the same time.
 */
function ourHelpers(): number[] {
  return hostProcessesMatching('pasta').concat(hostProcessesMatching('slirp4netns')).filter((pid) => startedForStore(store(), pid));
}

const ourForwarders = (): number[] => forwardersOf(store());

/** busybox httpd serving a page that names the container, on port 80. */
const HTTPD = 'echo "hello from $(hostname)" > /tmp/index.html; exec httpd -f -p 80 -h /tmp';

/** No user-mode network helper or port forwarder may outlive the test that started it. */
afterEach(() => {
  expect(ourHelpers()).toEqual([]);
  expect(ourForwarders()).toEqual([]);
});

async function started(flags: string[] = [], script = 'sleep 1000'): Promise<{ name: string; id: string }> {
  const name = uniqueName('net');
  const r = await skiff(['run', '-d', '--name', name, ...flags, BUSYBOX, 'sh', '-c', script]);
  expect(r.code, r.stderr).toBe(0);
  return { name, id: r.stdout.trim() };
}

const removed = (name: string) => skiff(['rm', '-f', name]);

describe('-p: published ports, fetched from the host on 127.0.0.1', () => {
  test('busybox httpd published with -p 127.0.0.1:PORT:80 answers from the host; the helper goes with the container', async () => {
    const port = await freePort();
    const c = await started(['-p', `127.0.0.1:${port}:80`, '--hostname', 'webhost'], HTTPD);
    try {
      expect(await fetchFromHost(port)).toBe('hello from webhost\n');
      expect(ourHelpers()).toHaveLength(1);
      expect(ourForwarders()).toHaveLength(1);
    } finally {
      await removed(c.name);
    }
  });

  // handed to the server's own socket (port_handoff.c), and through the forwarder's relay
  test.each([
    ['handed to the server', []],
    ['through the forwarder', ['--network', 'slirp4netns:port_handler=rootlessport']],
  ])('%s: 4 MB each way with a half-close in between', async (_label, flags) => {
    const port = await freePort();
    // the server reads to EOF (the client's half-close), then answers with the byte count and 4 MB
    const c = await started([...flags, '-p', `127.0.0.1:${port}:7000`], 'exec nc -ll -p 7000 -e sh -c \'wc -c; head -c 4000000 /dev/zero\'');
    try {
      const payload = Buffer.alloc(4_000_000, 7);
      let reply: Buffer = Buffer.alloc(0);
      await waitFor(async () => {
        reply = await new Promise<Buffer>((resolve) => {
          const chunks: Buffer[] = [];
          const sock = net.connect(port, '127.0.0.1', () => sock.end(payload));
          sock.on('data', (d) => chunks.push(d as Buffer));
          sock.on('close', () => resolve(Buffer.concat(chunks)));
          sock.on('error', () => resolve(Buffer.alloc(0)));
        });
        return reply.length > 0;
      }, 20_000, 'the server in the container to answer');
      const eol = reply.indexOf(10);
      expect(reply.subarray(0, eol).toString().trim()).toBe('4000000');
      expect(reply.length - eol - 1).toBe(4_000_000);
    } finally {
      await removed(c.name);
    }
  });

  test('a published port stays published across --restart: each run gets its own forwarder', async () => {
    const port = await freePort();
    // each run serves its own run number for 3 s, then exits 1 and is restarted
    const c = await started(['--restart', 'always', '-p', `127.0.0.1:${port}:80`],
      'n=$(cat /run-count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > /run-count; echo "run $n" > /tmp/index.html; httpd -p 80 -h /tmp; sleep 3; exit 1');
    try {
      expect(await fetchFromHost(port)).toMatch(/^run \d+$/m);
      let second = '';
      await waitFor(async () => {
        try { second = await (await fetch(`http://127.0.0.1:${port}/index.html`)).text(); } catch { return false; }
        return /^run [2-9]/.test(second);
      }, 30_000, 'a restarted run to answer on the same host port');
      expect(ourForwarders()).toHaveLength(1);
    } finally {
      await removed(c.name);
    }
  });

  test('a published port with nothing listening in the container: the client\'s connection ends', async () => {
    const port = await freePort();
    const c = await started(['-p', `127.0.0.1:${port}:9`]);
    try {
      const ended = await new Promise<string>((resolve) => {
        const sock = net.connect(port, '127.0.0.1');
        sock.on('data', () => resolve('data'));
        sock.on('close', () => resolve('closed'));
        sock.on('error', () => resolve('closed'));
        setTimeout(() => resolve('still open'), 10_000);
      });
      expect(ended).toBe('closed');
    } finally {
      await removed(c.name);
    }
  });

  test('-P publishes every exposed port (--expose) on a free host port; port and inspect say which', async () => {
    const c = await started(['-P', '--expose', '80', '--expose', '90-91/udp'], HTTPD);
    try {
      const r = await skiff(['port', c.name]);
      expect(r.code, r.stderr).toBe(0);
      const tcp = lines(r.stdout).filter((l) => l.startsWith('80/tcp -> 0.0.0.0:'));
      expect(tcp).toHaveLength(1);
      expect(lines(r.stdout).filter((l) => /^9[01]\/udp -> 0\.0\.0\.0:\d+$/.test(l))).toHaveLength(2);
      const hostPort = Number(tcp[0].split(':').pop());
      expect(await fetchFromHost(hostPort)).toMatch(/^hello from /);
      const one = await skiff(['port', c.name, '80']);
      expect(lines(one.stdout)).toContain(`0.0.0.0:${hostPort}`);
      const insp = await skiff(['inspect', '--format', '{{json .NetworkSettings.Ports}} {{json .HostConfig.PublishAllPorts}}', c.name]);
      expect(insp.stdout).toContain(`"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"${hostPort}"}`);
      expect(insp.stdout.trim().endsWith('true')).toBe(true);
      const row = (await psAll()).find((x) => x.NAMES === c.name);
      expect(row?.PORTS).toContain(`0.0.0.0:${hostPort}->80/tcp`);
    } finally {
      await removed(c.name);
    }
  });

  test('a UDP port published with -p PORT:81/udp echoes a datagram sent from the host', async () => {
    const port = await freePort();
    const c = await started(['-p', `127.0.0.1:${port}:81/udp`], 'while [ ! -x /udp-echo ]; do sleep 0.1; done; exec /udp-echo 81');
    try {
      expect(await udpEchoThroughPort(c.name, port, 'ping-udp')).toBe('echo:ping-udp');
    } finally {
      await removed(c.name);
    }
  });

  test('a host port in use: one line, exit 125, no container (--rm) and no helper left', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const name = uniqueName('inuse');
      const r = await skiff(['run', '--rm', '--name', name, '-p', `127.0.0.1:${port}:80`, BUSYBOX, 'true']);
      expect(r.code).toBe(125);
      expect(errorLines(r.stderr)).toEqual([expect.stringMatching(new RegExp(`cannot publish 127\\.0\\.0\\.1:${port} .*address already in use`))]);
      expect((await psAll()).find((x) => x.NAMES === name)).toBeUndefined();
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  test('-p A-B with A held by an IPv6-only listener on [::] only: the range goes on to a port the forwarder can bind', async () => {
    // A bind of 0.0.0.0 does not see [::]:A with IPV6_V6ONLY, but the forwarder's dual-stack
    // [::] socket does: the probe must bind what the forwarder binds, or the start fails.
    let blocker: net.Server | undefined;
    let port = 0;
    for (let i = 0; i < 20 && !blocker; i++) {
      const candidate = await freePort();
      if (candidate >= 65535) continue;
      const s = net.createServer();
      const ok = await new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.listen({ port: candidate, host: '::', ipv6Only: true }, () => resolve(true));
      });
      if (ok) { blocker = s; port = candidate; }
    }
    expect(blocker, 'an IPv6-only listener on a free port').toBeDefined();
    const name = uniqueName('v6only');
    try {
      const r = await skiff(['run', '-d', '--name', name, '-p', `${port}-${port + 1}:80`, BUSYBOX, 'sh', '-c', HTTPD]);
      expect(r.code, r.stderr).toBe(0);
      const p = await skiff(['port', name, '80']);
      expect(lines(p.stdout)).toContain(`0.0.0.0:${port + 1}`);
      expect(await fetchFromHost(port + 1)).toMatch(/^hello from /);
    } finally {
      await removed(name);
      await new Promise((resolve) => blocker?.close(resolve));
    }
  });

  test.each([
    ['abc', /invalid containerPort: abc/],
    ['8080:80/xyz', /invalid proto: xyz/],
    ['999999:80', /invalid hostPort: 999999/],
    ['1.2.3:80:80', /invalid IP address: 1\.2\.3/],
    ['8080-8082:80-81', /invalid ranges specified for container and host Ports: 80-81 and 8080-8082/],
  ])('malformed -p %s: one line, exit 125, nothing created', async (spec, message) => {
    const name = uniqueName('badp');
    const r = await skiff(['run', '--rm', '--name', name, '-p', spec, BUSYBOX, 'true']);
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(message)]);
    expect((await psAll()).find((x) => x.NAMES === name)).toBeUndefined();
  });
});

describe('/etc/hosts, /etc/resolv.conf, hostname and domain name', () => {
  test('--add-host (also host-gateway), --dns, --dns-search, --dns-option, --hostname, --domainname', async () => {
    const r = await skiff(['run', '--rm', '--name', uniqueName('files'), '--hostname', 'box', '--domainname', 'example.test',
      '--add-host', 'db.local:10.1.2.3', '--add-host', 'gw.local:host-gateway',
      '--dns', '10.9.9.9', '--dns-search', 'corp.test', '--dns-option', 'ndots:2',
      BUSYBOX, 'sh', '-c', 'cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; hostname; dnsdomainname 2>/dev/null || cat /proc/sys/kernel/domainname']);
    expect(r.code, r.stderr).toBe(0);
    const [hosts, resolv, names] = r.stdout.split('---\n');
    expect(hosts).toMatch(/^127\.0\.0\.1\tlocalhost$/m);
    expect(hosts).toMatch(/^10\.1\.2\.3\tdb\.local$/m);
    const gateway = /^(\S+)\tgw\.local$/m.exec(hosts)?.[1];
    expect(gateway).toBeTruthy();
    // the host's names point where host-gateway does
    expect(hosts).toMatch(new RegExp(`^${gateway!.replace(/\./g, '\\.')}\thost\.containers\.internal host\.docker\.internal$`, 'm'));
    expect(hosts).toMatch(/\tbox\.example\.test box( |$)/m);
    expect(lines(resolv)).toEqual(['search corp.test', 'nameserver 10.9.9.9', 'options ndots:2']);
    expect(lines(names)).toEqual(['box', 'example.test']);
  });

  test('a bad --add-host or --dns: one line, exit 125', async () => {
    const bad = await skiff(['run', '--rm', '--add-host', 'nohost', BUSYBOX, 'true']);
    expect(bad.code).toBe(125);
    expect(errorLines(bad.stderr)).toEqual([expect.stringMatching(/bad format for add-host: "nohost"/)]);
    const dns = await skiff(['run', '--rm', '--dns', 'not-an-ip', BUSYBOX, 'true']);
    expect(dns.code).toBe(125);
    expect(errorLines(dns.stderr)).toEqual([expect.stringMatching(/not-an-ip is not an ip address/)]);
  });
});

describe('the default network', () => {
  test('has an interface besides lo, a default route, and reaches a server on the host\'s loopback as host.containers.internal', async () => {
    const server = http.createServer((_req, res) => res.end('from-the-host\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const r = await skiff(['run', '--rm', BUSYBOX, 'sh', '-c', `ls /sys/class/net; ip route | grep -c ^default; timeout 10 wget -q -O - http://host.containers.internal:${port}/`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const out = lines(r.stdout);
      expect(out.filter((l) => l !== 'lo').length).toBeGreaterThanOrEqual(3);
      expect(out).toContain('1');
      expect(out.at(-1)).toBe('from-the-host');
    } finally {
      server.close();
    }
  });

  test('is slirp4netns (Podman 4\'s default); allow_host_loopback=false cuts its way to the host\'s loopback', async () => {
    const server = http.createServer((_req, res) => res.end('from-the-host\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as net.AddressInfo).port;
    const c = await started();
    try {
      expect(ourHelpers()).toHaveLength(1);
      expect(fs.readFileSync(`/proc/${ourHelpers()[0]}/cmdline`, 'utf8')).toContain('slirp4netns');
      const open = await skiff(['exec', c.name, 'sh', '-c', `grep host.containers.internal /etc/hosts; timeout 5 wget -q -O - http://10.0.2.2:${port}/`]);
      expect(open.code, open.stderr).toBe(0);
      expect(lines(open.stdout)).toEqual(['10.0.2.2\thost.containers.internal host.docker.internal', 'from-the-host']);
      const closed = await skiff(['run', '--rm', '--network', 'slirp4netns:allow_host_loopback=false', BUSYBOX, 'sh', '-c',
        `grep -c '^10.0.2.2' /etc/hosts; timeout 5 wget -q -O - http://10.0.2.2:${port}/ && echo reached`]);
      expect(lines(closed.stdout)[0]).toBe('0');
      expect(closed.stdout).not.toContain('reached');
    } finally {
      await removed(c.name);
      server.close();
    }
  });

  test('--network slirp4netns:port_handler=slirp4netns publishes ports through slirp4netns itself', async () => {
    const port = await freePort();
    const c = await started(['--network', 'slirp4netns:port_handler=slirp4netns', '-p', `127.0.0.1:${port}:80`], HTTPD);
    try {
      expect(await fetchFromHost(port)).toMatch(/^hello from /);
      expect(ourHelpers()).toHaveLength(1);
      expect(ourForwarders()).toEqual([]);
      expect(fs.readFileSync(`/proc/${ourHelpers()[0]}/cmdline`, 'utf8')).toContain('--api-socket');
    } finally {
      await removed(c.name);
    }
  });

  test('a helper that cannot set the network up: its one line, exit 125, no container and no helper left (--rm and -d)', async () => {
    // slirp4netns starts before the container's init, on a namespace made for it (monitor.c): its
    // failure must still stop the init and reach the user as the start's error
    for (const mode of ['--rm', '-d']) {
      const name = uniqueName('badnet');
      const r = await skiff(['run', mode, '--name', name, '--network', 'slirp4netns:cidr=10.0.2.0/33', BUSYBOX, 'true']);
      expect(r.code).toBe(125);
      expect(errorLines(r.stderr)).toEqual([expect.stringMatching(/slirp4netns failed to set up the container's network: .*prefix length/)]);
      if (mode === '--rm') expect((await psAll()).find((x) => x.NAMES === name)).toBeUndefined();
      else await removed(name);
    }
  });

  test.runIf(isRootless())('with --userns=keep-id too (its own user namespace owns the network namespace)', async () => {
    const r = await skiff(['run', '--rm', '--userns', 'keep-id', BUSYBOX, 'sh', '-c', 'ls /sys/class/net; ip route | grep -c ^default']);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout).filter((l) => l !== 'lo').length).toBeGreaterThanOrEqual(2);
    expect(lines(r.stdout).at(-1)).toBe('1');
  });

  test('the helper dies with the container when the monitor is SIGKILLed', async () => {
    const c = await started();
    const helpers = ourHelpers;
    expect(helpers()).toHaveLength(1);
    const monitors = hostProcessesMatching(`monitor`).filter((pid) => {
      try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(c.id); } catch { return false; }
    });
    expect(monitors.length).toBeGreaterThan(0);
    for (const pid of monitors) process.kill(pid, 'SIGKILL');
    await waitFor(async () => helpers().length === 0, 20_000, 'the network helper to die with its monitor');
    await removed(c.name);
  });
});

describe('--network container:NAME', () => {
  test('shares the running container\'s network namespace, hostname and hosts file', async () => {
    const donor = await started(['--hostname', 'donorhost']);
    try {
      const ns = await skiff(['exec', donor.name, 'readlink', '/proc/self/ns/net']);
      expect(ns.code, ns.stderr).toBe(0);
      const r = await skiff(['run', '--rm', '--network', `container:${donor.name}`, BUSYBOX, 'sh', '-c', 'readlink /proc/self/ns/net; hostname; grep -c donorhost /etc/hosts']);
      expect(r.code, r.stderr).toBe(0);
      expect(lines(r.stdout)).toEqual([ns.stdout.trim(), 'donorhost', '1']);
    } finally {
      await removed(donor.name);
    }
  });

  test('an unknown container, a malformed mode and --hostname with it: one line, exit 125', async () => {
    const missing = await skiff(['run', '--rm', '--network', 'container:no-such-ctr', BUSYBOX, 'true']);
    expect(missing.code).toBe(125);
    expect(errorLines(missing.stderr)).toEqual([expect.stringMatching(/No such container: no-such-ctr/)]);
    const empty = await skiff(['run', '--rm', '--network', 'container:', BUSYBOX, 'true']);
    expect(empty.code).toBe(125);
    expect(errorLines(empty.stderr)).toEqual([expect.stringMatching(/invalid container format container:<name\|id>/)]);
    const donor = await started();
    try {
      const h = await skiff(['run', '--rm', '--network', `container:${donor.name}`, '--hostname', 'x', BUSYBOX, 'true']);
      expect(h.code).toBe(125);
      expect(errorLines(h.stderr)).toEqual([expect.stringMatching(/conflicting options: hostname and the network mode/)]);
    } finally {
      await removed(donor.name);
    }
  });

  test('a donor that is not running cannot be joined', async () => {
    const name = uniqueName('stopped');
    expect((await skiff(['create', '--name', name, BUSYBOX, 'true'])).code).toBe(0);
    try {
      const r = await skiff(['run', '--rm', '--network', `container:${name}`, BUSYBOX, 'true']);
      expect(r.code).toBe(125);
      expect(errorLines(r.stderr)).toEqual([expect.stringMatching(/cannot join network of a non running container/)]);
    } finally {
      await removed(name);
    }
  });
});

describe('inspect and ps name the network', () => {
  test('NetworkMode and the Networks key', async () => {
    const name = uniqueName('netmode');
    expect((await skiff(['create', '--name', name, '--network', 'none', BUSYBOX, 'true'])).code).toBe(0);
    try {
      const r = await skiff(['inspect', '--format', '{{.HostConfig.NetworkMode}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}', name]);
      expect(r.stdout.trim()).toBe('none none');
      const ps = await skiff(['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Networks}}']);
      expect(ps.stdout.trim()).toBe('none');
    } finally {
      await removed(name);
    }
  });
});
