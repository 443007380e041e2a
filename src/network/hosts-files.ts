import { InvalidError } from '../errors';

/**
 * /etc/hosts and /etc/resolv.conf of a container, as pure functions of what goes in them: the
 * engine gathers the entries (own name, --add-host, the host's address, peers on a network) and
 * the resolvers, these functions only lay them out as Docker does.
 */

/** One line of /etc/hosts: an address and the names it answers to. */
export interface HostEntry { address: string; names: string[] }

/** Docker's fixed head of every container's /etc/hosts (libnetwork etchosts). */
const DEFAULT_ENTRIES: HostEntry[] = [
  { address: '127.0.0.1', names: ['localhost'] },
  { address: '::1', names: ['localhost', 'ip6-localhost', 'ip6-loopback'] },
  { address: 'fe00::', names: ['ip6-localnet'] },
  { address: 'ff00::', names: ['ip6-mcastprefix'] },
  { address: 'ff02::1', names: ['ip6-allnodes'] },
  { address: 'ff02::2', names: ['ip6-allrouters'] },
];

/** The names the host answers to from a container on the user-mode network (Podman's and Docker Desktop's). */
export const HOST_NAMES = ['host.containers.internal', 'host.docker.internal'];

/** What --add-host maps to the host's address instead of a literal one (Docker's special value). */
export const HOST_GATEWAY = 'host-gateway';

/**
 * The text of /etc/hosts: Docker's defaults, then `entries` in order (--add-host, the host's
 * names, peers), one line each. Empty name lists are left out.
 */
export function hostsFileText(entries: HostEntry[]): string {
  return [...DEFAULT_ENTRIES, ...entries].filter((e) => e.names.length > 0).map((e) => `${e.address}\t${e.names.join(' ')}\n`).join('');
}

/**
 * `--add-host NAME:IP` (also NAME=IP, and [IPv6] in brackets, as docker-cli 25+), with
 * `host-gateway` standing for `hostGateway` (the host's address as the container reaches it).
 */
export function parseAddHost(spec: string, hostGateway: string | undefined): HostEntry {
  const sep = spec.search(/[:=]/);
  const name = sep < 0 ? spec : spec.slice(0, sep);
  let address = sep < 0 ? '' : spec.slice(sep + 1);
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  if (!name || !address) throw new InvalidError(`bad format for add-host: "${spec}": use NAME:IP, or NAME:host-gateway`);
  if (address === HOST_GATEWAY) {
    if (!hostGateway) throw new InvalidError(`--add-host ${spec}: host-gateway has no address in this network mode: give an IP address`);
    address = hostGateway;
  } else if (!isIpAddress(address)) {
    throw new InvalidError(`invalid IP address in add-host: "${address}"`);
  }
  return { address, names: [name] };
}

/** Whether TEXT is an IPv4 or IPv6 address (what net.isIP says, without loading node:net here). */
export function isIpAddress(text: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) return v4.slice(1).every((o) => Number(o) <= 255 && (o.length === 1 || !o.startsWith('0')));
  if (!text.includes(':') || !/^[0-9a-fA-F:.]+$/.test(text)) return false;
  const parts = text.split('::');
  if (parts.length > 2) return false;
  const groups = parts.flatMap((p) => (p === '' ? [] : p.split(':')));
  const tail = groups.at(-1) ?? '';
  const v4Tail = tail.includes('.') ? 1 : 0;
  if (v4Tail && !isIpAddress(tail)) return false;
  const hexGroups = groups.slice(0, groups.length - v4Tail);
  if (!hexGroups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  const count = hexGroups.length + v4Tail * 2;
  return parts.length === 2 ? count < 8 : count === 8;
}

/** /etc/resolv.conf's three parts. */
export interface ResolvConf { nameservers: string[]; search: string[]; options: string[] }

/** Read a resolv.conf text (the host's): nameserver, search/domain and options lines. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const [key, ...values] = raw.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (key === 'nameserver' && values[0]) out.nameservers.push(values[0]);
    else if (key === 'search' || key === 'domain') out.search = values;
    else if (key === 'options') out.options.push(...values);
  }
  return out;
}

/** Loopback resolvers (systemd-resolved's 127.0.0.53, dnsmasq on ::1) are the host's own: a container cannot reach them. */
export function isLoopbackAddress(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

/**
 * The container's resolv.conf (Docker's rules): --dns, --dns-search and --dns-option replace the
 * host's parts they name; the host's loopback resolvers are replaced by `forwarder` (the
 * user-mode helper's DNS forwarder) or, when there is none, dropped; none left means Docker's
 * fallback, Google's public resolvers.
 */
export function resolvConfText(host: ResolvConf, asked: Partial<ResolvConf>, forwarder?: string): string {
  let nameservers = asked.nameservers?.length ? asked.nameservers : host.nameservers;
  if (!asked.nameservers?.length) {
    const reachable = nameservers.filter((n) => !isLoopbackAddress(n));
    nameservers = reachable.length === nameservers.length ? nameservers : [...(forwarder ? [forwarder] : []), ...reachable];
    if (nameservers.length === 0) nameservers = ['8.8.8.8', '8.8.4.4'];
  }
  // `--dns-search .` clears the search list (Docker's)
  const search = asked.search?.length ? asked.search.filter((s) => s !== '.') : host.search;
  const options = asked.options?.length ? asked.options : host.options;
  return [
    ...(search.length ? [`search ${search.join(' ')}`] : []),
    ...nameservers.map((n) => `nameserver ${n}`),
    ...(options.length ? [`options ${options.join(' ')}`] : []),
  ].map((l) => `${l}\n`).join('');
}

/** --dns values must be IP addresses (docker-cli's ValidateIPAddress). */
export function checkDnsServers(servers: string[]): void {
  for (const s of servers) if (!isIpAddress(s)) throw new InvalidError(`${s} is not an ip address`);
}

/** Docker's embedded DNS server's address in every container on a user-defined network. */
export const EMBEDDED_DNS = '127.0.0.11';

/** One resolver the embedded DNS server forwards to: the host's are asked from the host's network namespace. */
export interface DnsUpstream { address: string; hostNamespace: boolean }

/** The embedded DNS server's side of a container's resolv.conf (Docker's TransformForIntNS). */
export interface EmbeddedDns { resolvConf: string; upstreams: DnsUpstream[]; ndotsSet: boolean }

/** A valid ndots option (Docker drops the others when it needs its own). */
const isNdots = (o: string) => /^ndots:\d+$/.test(o);

/**
 * A container on a user-defined network (Docker's TransformForIntNS): resolv.conf names the
 * embedded DNS server only, with the search list and options (--dns-search, --dns-option, else
 * the host's) and `ndots:0` unless a valid ndots is set; the resolvers it replaced become the
 * server's upstreams, at most three: --dns ones asked from the container's network namespace,
 * else the host's from the host's (loopback ones included: they work there), else Google's.
 */
export function embeddedDns(host: ResolvConf, asked: Partial<ResolvConf>): EmbeddedDns {
  const given = asked.nameservers?.length ? asked.nameservers : undefined;
  // (the server's own address is no upstream: Docker's filterExtServers)
  const upstreams = (given ?? host.nameservers).filter((n) => !(given && n === EMBEDDED_DNS) && isIpAddress(n))
    .map((address) => ({ address, hostNamespace: !given }));
  const search = asked.search?.length ? asked.search.filter((s) => s !== '.') : host.search;
  const options = asked.options?.length ? asked.options : host.options;
  const ndotsSet = options.some(isNdots);
  const out = [...options.filter((o) => !o.startsWith('ndots:') || isNdots(o)), ...(ndotsSet ? [] : ['ndots:0'])];
  const resolvConf = [`nameserver ${EMBEDDED_DNS}`, ...(search.length ? [`search ${search.join(' ')}`] : []), `options ${out.join(' ')}`]
    .map((l) => `${l}\n`).join('');
  const fallback = [{ address: '8.8.8.8', hostNamespace: true }, { address: '8.8.4.4', hostNamespace: true }];
  return { resolvConf, upstreams: (upstreams.length ? upstreams : fallback).slice(0, 3), ndotsSet };
}
