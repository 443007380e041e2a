import fs from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import { getSystemErrorName } from 'node:util';
import { ConflictError, UnavailableError } from '../errors';
import { portKey, type PortBound, type PortPublish } from './ports';

/**
 * Host ports for a container's publications, decided at start (as Docker does): a fixed port is
 * checked free, a range gives its first free port, none gives any free port. Probed by binding
 * on the host, which is exactly what the user-mode helper does next, so "in use" and "below the
 * unprivileged limit" are said here in one line before anything is started; the short window
 * until the helper binds is covered by the helper failing the start, which skiff's forwarder
 * reports so that bindRefusal says the same line.
 */

/** Rootless processes may bind ports from here up (net.ipv4.ip_unprivileged_port_start). */
export function unprivilegedPortStart(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
  } catch {
    return 1024;
  }
}

type Probe = { ok: true; port: number } | { ok: false; code: string };

/**
 * Bind HOSTIP:PORT (0: any) with the protocol and let go again; the port that was bound. No host
 * IP binds what the forwarder binds for it (port_forward.c): the IPv6 wildcard, dual-stack, else
 * 0.0.0.0 where the kernel has no IPv6; so a port held by an IPv6-only listener on [::], which a
 * bind of 0.0.0.0 does not see, counts as taken too (a range then goes on to its next port).
 */
async function probe(protocol: string, hostIp: string, port: number): Promise<Probe> {
  if (hostIp) return probeAt(protocol, hostIp, port);
  const dual = await probeAt(protocol, '::', port);
  return !dual.ok && dual.code === 'EAFNOSUPPORT' ? probeAt(protocol, '0.0.0.0', port) : dual;
}

function probeAt(protocol: string, address: string, port: number): Promise<Probe> {
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      // ipv6Only false (the default): [::] takes the IPv4 port too, as the forwarder's socket does
      const sock = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
      sock.once('error', (e: NodeJS.ErrnoException) => { sock.close(); resolve({ ok: false, code: e.code ?? 'EINVAL' }); });
      sock.bind({ port, address, exclusive: true }, () => {
        const bound = sock.address().port;
        sock.close(() => resolve({ ok: true, port: bound }));
      });
      return;
    }
    const server = net.createServer();
    server.once('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, code: e.code ?? 'EINVAL' }));
    server.listen({ port, host: address, exclusive: true, ipv6Only: false }, () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve({ ok: true, port: bound }));
    });
  });
}

function refusal(p: PortPublish, port: number, code: string, container: string, rootless: boolean): Error {
  const where = `${p.hostIp || '0.0.0.0'}:${port}`;
  if (code === 'EADDRINUSE') {
    return new ConflictError(`cannot publish ${where} for port ${portKey(p)} of container ${container}: address already in use: stop what uses it or choose another host port`);
  }
  if (code === 'EACCES' && rootless) {
    return new UnavailableError(`cannot publish ${where} for container ${container}: rootless, ports below ${unprivilegedPortStart()} need privileges (net.ipv4.ip_unprivileged_port_start=${unprivilegedPortStart()}): publish on host port ${unprivilegedPortStart()} or above (for example -p ${8000 + port}:${p.containerPort}), or lower that limit as root: sysctl net.ipv4.ip_unprivileged_port_start=${port}`);
  }
  if (code === 'EADDRNOTAVAIL') return new UnavailableError(`cannot publish ${where} for container ${container}: ${p.hostIp} is not an address of this host`);
  return new UnavailableError(`cannot publish ${where} for container ${container}: ${code}`);
}

/** Decide every host port; throws one clear error for the first that cannot be had. */
export async function allocatePorts(publish: PortPublish[], container: string, rootless: boolean): Promise<PortBound[]> {
  const out: PortBound[] = [];
  const taken = new Set<string>();
  for (const p of publish) {
    if (p.protocol === 'sctp') throw new UnavailableError(`cannot publish ${portKey(p)} of container ${container}: the user-mode network forwards tcp and udp only`);
    const first = p.hostPort, last = p.hostPortEnd ?? p.hostPort;
    let chosen: number | undefined;
    let failure: { port: number; code: string } | undefined;
    for (let port = first; port <= last && chosen === undefined; port++) {
      if (port !== 0 && taken.has(`${p.protocol}/${p.hostIp}/${port}`)) { failure = { port, code: 'EADDRINUSE' }; continue; }
      if (port !== 0 && rootless && port < unprivilegedPortStart()) { failure = { port, code: 'EACCES' }; continue; }
      const r = await probe(p.protocol, p.hostIp, port);
      if (r.ok) chosen = r.port;
      else failure = { port, code: r.code };
    }
    if (chosen === undefined) throw refusal(p, failure!.port, failure!.code, container, rootless);
    taken.add(`${p.protocol}/${p.hostIp}/${chosen}`);
    out.push({ hostIp: p.hostIp, hostPort: chosen, containerPort: p.containerPort, protocol: p.protocol });
  }
  return out;
}

/**
 * The monitor's report of a host port its forwarder could not bind ("publish PROTO HOST_PORT
 * CTR_PORT ERRNO HOST_IP", port_forward.c: taken after the probe, or by a socket the probe cannot
 * see, such as an IPv6-only listener on [::] when the probe bound 0.0.0.0) as the probe's own
 * refusal; undefined for any other start failure.
 */
export function bindRefusal(report: string, container: string, rootless: boolean): Error | undefined {
  const m = /^publish (tcp|udp) (\d+) (\d+) (\d+)(?: (.*))?$/.exec(report); // (the report line comes trimmed)
  if (!m) return undefined;
  const [, protocol, hostPort, containerPort, errno, hostIp = ''] = m;
  let code: string;
  try { code = getSystemErrorName(-Number(errno)); } catch { code = `errno ${errno}`; }
  const p: PortPublish = { protocol: protocol as 'tcp' | 'udp', hostIp, hostPort: Number(hostPort), containerPort: Number(containerPort) };
  return refusal(p, Number(hostPort), code, container, rootless);
}
