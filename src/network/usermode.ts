import fs from 'node:fs';
import os from 'node:os';
import { InvalidError, UnavailableError } from '../errors';
import { findOnPath } from '../util/which';
import { USERMODE_HELPERS, type UserModeHelper } from './network-mode';
import type { PortBound } from './ports';
import { numberToIp, parseSubnet } from './user-networks/ipam';

/**
 * The default network: a network namespace of the container's own, connected to the host's by a
 * user-mode helper, pasta (package passt) or slirp4netns, which the container's monitor starts
 * on the namespace (native/helper/usermode_net.c) and which forwards the published ports.
 *
 * Which helper: the one --network names, else the config file's `defaultRootlessNetworkCmd`
 * (Podman's containers.conf default_rootless_network_cmd), else the first installed of
 * slirp4netns and pasta. slirp4netns comes first (Podman 4's order) because it starts in
 * 13-20 ms where Debian 12's pasta takes 200-300 ms (its own initialisation); published TCP
 * ports do not go through either helper but through skiff's own forwarder (port-forward.ts),
 * so the helper's port handling does not decide the throughput.
 *
 * The host is reachable from the container (host.containers.internal, host-gateway): slirp4netns
 * gets allow_host_loopback on by default, so its gateway 10.0.2.2 is the host's 127.0.0.1, as
 * pasta's gateway is the host. Podman leaves it off; `slirp4netns:allow_host_loopback=false`
 * turns it off here, and the host is then reached at its own outbound address.
 *
 * This module computes the helper's whole command line; the C side only adds nothing: the
 * contract is that the helper finds the container's network namespace on fd 3, a pipe to
 * report readiness on fd 4, and the read end of a pipe the monitor holds on fd 5 (its EOF means
 * the monitor is gone).
 */

/** The fds the monitor gives the helper (native/PROTOCOL.md, net-helper). */
export const NETNS_FD = 3, READY_FD = 4, EXIT_FD = 5;

/** slirp4netns's fixed addresses in its default 10.0.2.0/24. */
const SLIRP = { guest: '10.0.2.100', gateway: '10.0.2.2', dns: '10.0.2.3' };

export interface UserModePlan {
  helper: UserModeHelper;
  /** argv[0] is the helper's absolute path */
  argv: string[];
  /** slirp4netns: the API socket and the add_hostfwd requests sent once it is ready (port_handler=slirp4netns) */
  apiSocket?: string;
  apiRequests: string[];
  /** the ports skiff's own forwarder publishes (port-forward.ts), to containerAddress */
  forwardPorts: PortBound[];
  /** whether the forwarder may hand a published TCP port to the server's own socket (native/helper/port_handoff.c) */
  portHandoff?: boolean;
  /** the host as the container reaches it (host.containers.internal, --add-host X:host-gateway) */
  hostGateway?: string;
  /** the container's own address on this network, for its /etc/hosts line */
  containerAddress?: string;
  /** where the container's DNS queries go when the host's resolvers are loopback ones */
  dnsForwarder?: string;
}

export interface PlanInput {
  helper?: UserModeHelper;
  options: string[];
  /** config.json's defaultRootlessNetworkCmd */
  configured?: string;
  rootless: boolean;
  ports: PortBound[];
  /** where the slirp4netns API socket goes (the container directory) */
  apiSocket: string;
  /** whether the host's resolv.conf names loopback resolvers the container cannot reach */
  needsDnsForwarder: boolean;
}

/** The helper to use and its path; one clear line when none is installed. */
export function chooseHelper(asked: UserModeHelper | undefined, configured: string | undefined): { helper: UserModeHelper; path: string } {
  if (configured !== undefined && !(USERMODE_HELPERS as readonly string[]).includes(configured)) {
    throw new InvalidError(`config.json: defaultRootlessNetworkCmd "${configured}" is not one of ${USERMODE_HELPERS.join(', ')}`);
  }
  const wanted = asked ?? (configured as UserModeHelper | undefined);
  const candidates = wanted ? [wanted] : USERMODE_HELPERS;
  for (const helper of candidates) {
    const path = findOnPath(helper);
    if (path) return { helper, path };
  }
  if (wanted === 'slirp4netns') throw new UnavailableError('slirp4netns is not installed: install the slirp4netns package, or use --network pasta or --network none');
  if (wanted === 'pasta') throw new UnavailableError('pasta is not installed: install the passt package, or use --network slirp4netns or --network none');
  throw new UnavailableError('neither slirp4netns nor pasta is installed, and the default network needs one: install the slirp4netns package (or passt), or use --network none or --network host');
}

/** The host's IPv4 default route: its gateway and interface (what pasta copies into the container). */
export function defaultRoute(routeTable = readText('/proc/net/route')): { gateway: string; iface: string } | undefined {
  for (const line of routeTable.split('\n').slice(1)) {
    const [iface, dest, gw, flags] = line.trim().split(/\s+/);
    // RTF_UP | RTF_GATEWAY, destination 0.0.0.0
    if (dest === '00000000' && gw && (parseInt(flags, 16) & 3) === 3) return { gateway: hexToIPv4(gw), iface };
  }
  return undefined;
}

function hexToIPv4(hex: string): string {
  // /proc/net/route prints the address as a host-order (little-endian here) 32-bit word
  const n = parseInt(hex, 16);
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.');
}

function readText(path: string): string {
  try { return fs.readFileSync(path, 'utf8'); } catch { return ''; }
}

function interfaceAddress(iface: string): string | undefined {
  return os.networkInterfaces()[iface]?.find((a) => a.family === 'IPv4')?.address;
}

/** The helper's command line and what the container's files need to know about its network. */
export function planUserMode(i: PlanInput): UserModePlan {
  const { helper, path } = chooseHelper(i.helper, i.configured);
  return helper === 'pasta' ? pastaPlan(path, i) : slirpPlan(path, i);
}

function pastaPlan(path: string, i: PlanInput): UserModePlan {
  const route = defaultRoute();
  const argv = [path, '--config-net', '--foreground', '--quiet'];
  // As root, pasta drops to "nobody" and then cannot enter the namespace; root stays root
  // (pasta still sandboxes itself). Rootless, "root" is the user.
  if (!i.rootless) argv.push('--runas', '0');
  argv.push('--netns', `/proc/self/fd/${NETNS_FD}`, '--pid', `/proc/self/fd/${READY_FD}`);
  // Only what -p asks for is forwarded: pasta's default would forward every port the container
  // binds, and every host port to the container's loopback. TCP goes to skiff's forwarder, which
  // hands each port to the server's own socket (port_handoff.c: loopback's speed, where pasta's
  // splice path is a third process), unless the container cannot reach the host's loopback
  // through the gateway (--no-map-gw), where a socket in the host's namespace would widen it.
  const mapsHostLoopback = !i.options.includes('--no-map-gw');
  const handedOff = mapsHostLoopback ? i.ports.filter((p) => p.protocol === 'tcp') : [];
  const tcp = mapsHostLoopback ? [] : i.ports.filter((p) => p.protocol === 'tcp'), udp = i.ports.filter((p) => p.protocol === 'udp');
  const spec = (p: PortBound) => `${p.hostIp ? `${p.hostIp}/` : ''}${p.hostPort}:${p.containerPort}`;
  for (const p of tcp) argv.push('-t', spec(p));
  for (const p of udp) argv.push('-u', spec(p));
  if (!tcp.length) argv.push('-t', 'none');
  if (!udp.length) argv.push('-u', 'none');
  argv.push('-T', 'none', '-U', 'none');
  // pasta maps the gateway's address to the host, so the gateway is how the container reaches it
  const hostGateway = route?.gateway;
  let dnsForwarder: string | undefined;
  if (i.needsDnsForwarder && hostGateway) {
    argv.push('--dns-forward', hostGateway);
    dnsForwarder = hostGateway;
  }
  argv.push(...i.options);
  return {
    helper: 'pasta', argv, apiRequests: [], forwardPorts: handedOff, portHandoff: handedOff.length > 0,
    hostGateway, containerAddress: route && interfaceAddress(route.iface), dnsForwarder,
  };
}

function slirpPlan(path: string, i: PlanInput): UserModePlan {
  const opts = new Map(i.options.map((o) => [o.slice(0, o.indexOf('=')), o.slice(o.indexOf('=') + 1)]));
  // Podman's two port handlers: rootlessport (here skiff's own forwarder, which splices) or
  // slirp4netns's own (through its API; slower, but it keeps the client's address). Unset, the
  // forwarder also hands each published TCP port to the server's own socket once it binds it
  // (port_handoff.c: no relay in the data path, the client's address kept); rootlessport named
  // keeps every connection on the relay.
  const handler = opts.get('port_handler') ?? 'default';
  if (handler !== 'default' && handler !== 'rootlessport' && handler !== 'slirp4netns') {
    throw new InvalidError(`slirp4netns port_handler=${handler} is not supported: leave it unset (skiff's forwarder, which hands TCP ports to the server), or use port_handler=rootlessport (every connection through the forwarder) or port_handler=slirp4netns (slirp4netns's own)`);
  }
  const apiPorts = handler === 'slirp4netns' ? i.ports : [];
  const argv = [path, '--configure', `--mtu=${opts.get('mtu') ?? '65520'}`, '--netns-type=path', `--ready-fd=${READY_FD}`, `--exit-fd=${EXIT_FD}`];
  // On unless asked otherwise: 10.0.2.2 is then the host's loopback (host.containers.internal),
  // and slirp4netns, which sends forwarded UDP datagrams from 10.0.2.2, gets the replies back.
  const hostLoopback = opts.get('allow_host_loopback') !== 'false';
  if (!hostLoopback) argv.push('--disable-host-loopback');
  if (opts.has('cidr')) argv.push(`--cidr=${opts.get('cidr')}`);
  if (opts.get('enable_ipv6') === 'true') argv.push('--enable-ipv6');
  if (opts.has('outbound_addr')) argv.push(`--outbound-addr=${opts.get('outbound_addr')}`);
  if (opts.has('outbound_addr6')) argv.push(`--outbound-addr6=${opts.get('outbound_addr6')}`);
  const apiRequests = apiPorts.map((p) => JSON.stringify({
    execute: 'add_hostfwd',
    arguments: { proto: p.protocol, host_addr: p.hostIp || '0.0.0.0', host_port: p.hostPort, guest_port: p.containerPort },
  }));
  if (apiRequests.length) argv.push(`--api-socket=${i.apiSocket}`);
  argv.push(`/proc/self/fd/${NETNS_FD}`, 'tap0');
  // Without host loopback the host is reached at its own outbound address, as any other machine.
  const route = hostLoopback ? undefined : defaultRoute();
  const hostGateway = hostLoopback ? SLIRP.gateway : route && interfaceAddress(route.iface);
  return {
    helper: 'slirp4netns', argv, apiSocket: apiRequests.length ? i.apiSocket : undefined, apiRequests,
    forwardPorts: handler === 'slirp4netns' ? [] : i.ports, hostGateway,
    // A handed-off socket lives in the host's namespace, where it could also connect() before it
    // listens: only where the container reaches the host's loopback anyway.
    portHandoff: handler === 'default' && hostLoopback,
    containerAddress: opts.has('cidr') ? slirpGuest(opts.get('cidr')!) : SLIRP.guest, dnsForwarder: opts.has('cidr') ? undefined : SLIRP.dns,
  };
}

/** slirp4netns's guest address in a --cidr: the 100th address of the network, as in 10.0.2.0/24. */
export function slirpGuest(cidr: string): string | undefined {
  try {
    return numberToIp(parseSubnet(cidr).base + 100);
  } catch {
    return undefined; // slirp4netns refuses it and says why
  }
}
