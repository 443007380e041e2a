import fs from 'node:fs';
import path from 'node:path';
import { checkNetworkFlags, parseNetworkMode, type NetworkMode } from '../network/network-mode';
import { checkDnsServers, embeddedDns, HOST_NAMES, hostsFileText, parseAddHost, parseResolvConf, resolvConfText, isLoopbackAddress, type HostEntry, type ResolvConf } from '../network/hosts-files';
import { parseExpose, parsePublish, portKey, type PortBound, type PortPublish } from '../network/ports';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { DNS_NAMES_FILE, dnsNamesText } from '../network/user-networks/dns-names';

/**
 * The container's network as the engine composes it: the network flags checked and recorded at
 * create, /etc/hosts and /etc/resolv.conf written, and at each start the host ports decided and
 * the user-mode helper planned for the monitor (src/network/ does each part; this file ties them
 * to the container record and directory).
 */

/** The network flags of create/run, as given. */
export interface NetworkFlags {
  publish?: string[];
  publishAll?: boolean;
  expose?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  addHost?: string[];
  domainname?: string;
  hostname?: string;
}

/** What the record keeps of them (ContainerRecord['config'].net). */
export interface NetworkSettings {
  publish?: PortPublish[];
  publishAll?: boolean;
  /** --expose and the image's EXPOSE, as "80/tcp" */
  exposed?: string[];
  dns?: { servers: string[]; search: string[]; options: string[] };
  addHosts?: string[];
  domainname?: string;
}

/** The file in the container directory with the host ports of the current run. */
const PORTS_FILE = 'ports.json';
/** The user-mode helper's log and "PID STARTTIME" (usermode_net.c). */
export const NET_HELPER_LOG = 'net-helper.log';
export const NET_HELPER_PID = 'net-helper.pid';

/**
 * The user-mode helper a run of the container in `dir` started, as its pid file records it
 * ("PID STARTTIME"); undefined when none was recorded. The file outlives the run (nobody removes
 * it when a run ends), so whether that process still runs is the caller's to check.
 */
export function recordedNetHelper(dir: string): { pid: number; start: string } | undefined {
  try {
    const [pid, start] = fs.readFileSync(path.join(dir, NET_HELPER_PID), 'utf8').trim().split(' ');
    return Number(pid) > 0 && start ? { pid: Number(pid), start } : undefined;
  } catch {
    return undefined;
  }
}

/** Check the flags against the mode (Docker's conflicts) and parse them; warnings go to stderr. */
export function networkSettings(mode: NetworkMode, f: NetworkFlags, imageExposed: Record<string, object> | undefined): NetworkSettings {
  const publish = (f.publish ?? []).flatMap(parsePublish);
  const exposedByFlag = (f.expose ?? []).flatMap(parseExpose);
  checkDnsServers(f.dns ?? []);
  for (const h of f.addHost ?? []) parseAddHost(h, '0.0.0.0'); // syntax now; host-gateway resolved when written
  for (const w of checkNetworkFlags(mode, {
    hostname: !!f.hostname, dns: !!(f.dns?.length || f.dnsSearch?.length || f.dnsOption?.length), addHost: !!f.addHost?.length,
    publish: publish.length > 0 || !!f.publishAll, expose: exposedByFlag.length > 0,
  })) process.stderr.write(`${w}\n`);
  const exposed = [...new Set([...Object.keys(imageExposed ?? {}).flatMap((k) => parseExpose(k)), ...exposedByFlag, ...publish.map(portKey)])];
  const out: NetworkSettings = {};
  if (publish.length && mode.kind !== 'host') out.publish = publish;
  if (f.publishAll && mode.kind !== 'host') out.publishAll = true;
  if (exposed.length) out.exposed = exposed;
  if (f.dns?.length || f.dnsSearch?.length || f.dnsOption?.length) out.dns = { servers: f.dns ?? [], search: f.dnsSearch ?? [], options: f.dnsOption ?? [] };
  if (f.addHost?.length) out.addHosts = f.addHost;
  if (f.domainname) out.domainname = f.domainname;
  return out;
}

/** Every publication of a run: -p, and with -P each exposed port not published otherwise on a free port. */
export function publications(net: NetworkSettings | undefined): PortPublish[] {
  const publish = [...(net?.publish ?? [])];
  if (net?.publishAll) {
    const done = new Set(publish.map(portKey));
    for (const key of net.exposed ?? []) {
      if (done.has(key)) continue;
      const [port, protocol] = key.split('/');
      publish.push({ hostIp: '', hostPort: 0, containerPort: Number(port), protocol: protocol as PortPublish['protocol'] });
    }
  }
  return publish;
}

/** What the container's files need to know about its network (usermode.ts's plan, or nothing). */
export interface NetworkAddresses { containerAddress?: string; hostGateway?: string; dnsForwarder?: string }

/** Write /etc/hostname's, /etc/hosts's and /etc/resolv.conf's sources in the container directory. */
export function writeEtcFiles(dir: string, c: { hostname: string; name?: string; network: NetworkMode; net?: NetworkSettings }, a: NetworkAddresses): void {
  fs.writeFileSync(path.join(dir, 'hostname'), `${c.hostname}\n`);
  fs.writeFileSync(path.join(dir, 'hosts'), hostsText(c, a));
  const host = parseResolvConf(readText('/etc/resolv.conf'));
  const asked = askedResolvConf(c.net);
  // the host's own network: its resolv.conf as it is, loopback resolvers included; a user
  // network: the embedded DNS server (written again at each start, with its upstreams)
  fs.writeFileSync(path.join(dir, 'resolv.conf'), c.network.kind === 'host' && !c.net?.dns ? readText('/etc/resolv.conf')
    : c.network.kind === 'user' ? embeddedDns(host, asked).resolvConf : resolvConfText(host, asked, a.dnsForwarder));
}

/** --dns, --dns-search and --dns-option as the parts of resolv.conf they replace. */
function askedResolvConf(net: NetworkSettings | undefined): Partial<ResolvConf> {
  return net?.dns ? { nameservers: net.dns.servers, search: net.dns.search, options: net.dns.options } : {};
}

/** The monitor's embedded DNS server (native/helper/dns_server.c): its names file, and its `dns-upstream` fields. */
export interface DnsStart { namesFile: string; ndotsSet: boolean; upstreams: string[][] }

/**
 * The embedded DNS server of a container, as Docker's sandbox sets it up: resolv.conf from the
 * host's file as it is now (with --dns, --dns-search, --dns-option), and the resolvers it
 * replaced as the server's upstreams.
 */
export function planEmbeddedDns(dir: string, net: NetworkSettings | undefined): { start: DnsStart; resolvConf: string } {
  const dns = embeddedDns(parseResolvConf(readText('/etc/resolv.conf')), askedResolvConf(net));
  return {
    resolvConf: dns.resolvConf,
    start: { namesFile: path.join(dir, DNS_NAMES_FILE), ndotsSet: dns.ndotsSet, upstreams: dns.upstreams.map((u) => [u.address, u.hostNamespace ? '1' : '0']) },
  };
}

/**
 * Write what a container with the embedded DNS server reads: resolv.conf in place (bind-mounted:
 * the inode stays, so a running container sees it), and a names file when it has none yet; its
 * presence says the container's current run has the server (network-hosts.ts fills it).
 */
export function writeEmbeddedDnsFiles(dir: string, resolvConf: string): void {
  fs.writeFileSync(path.join(dir, 'resolv.conf'), resolvConf);
  const names = path.join(dir, DNS_NAMES_FILE);
  if (!fs.existsSync(names)) fs.writeFileSync(names, dnsNamesText(false, []), { mode: 0o600 });
}

/** At each start of a container on a user network: the server's plan, its files written. */
function startEmbeddedDns(dir: string, net: NetworkSettings | undefined): DnsStart {
  const { start, resolvConf } = planEmbeddedDns(dir, net);
  writeEmbeddedDnsFiles(dir, resolvConf);
  return start;
}

function hostsText(c: { hostname: string; name?: string; network: NetworkMode; net?: NetworkSettings }, a: NetworkAddresses): string {
  const extra: HostEntry[] = (c.net?.addHosts ?? []).map((h) => parseAddHost(h, a.hostGateway));
  if (c.network.kind === 'host') return readText('/etc/hosts') + extra.map((e) => `${e.address}\t${e.names.join(' ')}\n`).join('');
  const entries: HostEntry[] = [...extra];
  if (c.network.kind === 'usermode' && a.hostGateway) entries.push({ address: a.hostGateway, names: HOST_NAMES });
  const fqdn = c.net?.domainname ? [`${c.hostname}.${c.net.domainname}`] : [];
  entries.push({ address: a.containerAddress ?? '127.0.1.1', names: [...new Set([...fqdn, c.hostname, ...(c.name ? [c.name] : [])])] });
  return hostsFileText(entries);
}

function readText(file: string): string {
  try { return fs.readFileSync(file, 'utf8'); } catch { return ''; }
}

/** Whether the host's resolvers include loopback ones, which the container needs a forwarder for. */
export function hostHasLoopbackResolver(): boolean {
  return parseResolvConf(readText('/etc/resolv.conf')).nameservers.some(isLoopbackAddress);
}

/** The host ports of the current run, or none when it is not running (Docker shows none then). */
export function boundPorts(dir: string): PortBound[] {
  try { return JSON.parse(fs.readFileSync(path.join(dir, PORTS_FILE), 'utf8')) as PortBound[]; } catch { return []; }
}

export function writeBoundPorts(dir: string, bound: PortBound[]): void {
  if (bound.length) fs.writeFileSync(path.join(dir, PORTS_FILE), JSON.stringify(bound));
  else fs.rmSync(path.join(dir, PORTS_FILE), { force: true });
}

/** The mode of a record. */
export const modeOf = (c: ContainerRecord): NetworkMode => parseNetworkMode(c.config.network);

/** What the monitor needs for the network at start: the user-mode helper (if any) and the published ports. */
export interface NetworkStart {
  helper?: { argv: string[]; log: string; pidFile: string; apiSocket?: string; apiRequests: string[] };
  /** the monitor's `port-forward` records (port-forward.ts) */
  portForwards: string[][];
  /** the forwarder may hand TCP ports to the server's own socket (native/helper/port_handoff.c) */
  portHandoff?: boolean;
  /** the embedded DNS server of a container on a user network */
  dns?: DnsStart;
}

/** The container's address on its first user network (eth0), where its published ports are forwarded. */
function userNetworkAddress(c: ContainerRecord): string {
  const first = Object.values(c.endpoints ?? {}).sort((a, b) => a.ifname.localeCompare(b.ifname, undefined, { numeric: true }))[0];
  return first?.ipAddress ?? '127.0.0.1';
}

/**
 * At start: the host ports decided, the user-mode helper planned, the container's files written.
 * Published ports go through skiff's forwarder (port-forward.ts) unless the helper forwards them
 * itself (pasta's UDP, slirp4netns with port_handler=slirp4netns); on the user-mode network its
 * TCP ports may be handed to the server's own socket (usermode.ts decides: portHandoff).
 */
export async function prepareNetwork(engine: Engine, c: ContainerRecord, dir: string): Promise<NetworkStart> {
  const mode = modeOf(c);
  const net = c.config.net;
  if (mode.kind === 'none' || mode.kind === 'host' || mode.kind === 'container') {
    writeBoundPorts(dir, []);
    // (a joined container uses its donor's files)
    if (mode.kind !== 'container') writeEtcFiles(dir, { hostname: c.config.hostname, name: c.name, network: mode, net }, mode.kind === 'host' ? { hostGateway: '127.0.0.1' } : {});
    return { portForwards: [] };
  }
  const { portForwardRecords } = await import('../network/port-forward');
  // port-allocation loads node:net and node:dgram (to probe): only for a container that publishes
  const publish = publications(net);
  const bound = publish.length ? await (await import('../network/port-allocation')).allocatePorts(publish, c.name, engine.paths.rootless) : [];
  writeBoundPorts(dir, bound);
  // A user network, or a default-network container later connected to one, which then goes out
  // through it (the holder's slirp4netns: pasta cannot open its tun device in a namespace made for
  // the holder's bridges). Either has the embedded DNS server, as Docker's sandbox starts one
  // whenever an endpoint on a user network joins.
  const onUserNetwork = c.endpoints !== undefined && Object.keys(c.endpoints).length > 0;
  if (mode.kind === 'user' || onUserNetwork) {
    return { portForwards: portForwardRecords(bound, userNetworkAddress(c)), dns: startEmbeddedDns(dir, net) };
  }
  // (no user network left: no server this run, and resolv.conf names the user-mode helper's resolvers again)
  fs.rmSync(path.join(dir, DNS_NAMES_FILE), { force: true });
  const { planUserMode } = await import('../network/usermode');
  const plan = planUserMode({
    helper: mode.helper, options: mode.options, configured: engine.config.defaultRootlessNetworkCmd,
    rootless: engine.paths.rootless, ports: bound,
    // in the run root: a socket path must fit in 108 bytes, and the store's may be long
    apiSocket: path.join(engine.paths.runRoot, `slirp4netns-${c.id.slice(0, 12)}.sock`), needsDnsForwarder: hostHasLoopbackResolver(),
  });
  writeEtcFiles(dir, { hostname: c.config.hostname, name: c.name, network: mode, net }, plan);
  return {
    helper: {
      argv: plan.argv, log: path.join(dir, NET_HELPER_LOG), pidFile: path.join(dir, NET_HELPER_PID),
      apiSocket: plan.apiSocket, apiRequests: plan.apiRequests,
    },
    portForwards: portForwardRecords(plan.forwardPorts, plan.containerAddress ?? '127.0.0.1'),
    portHandoff: plan.portHandoff,
  };
}
