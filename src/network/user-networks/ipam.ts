import { InvalidError, ConflictError } from '../../errors';

/**
 * IPv4 address management for user-defined networks: subnets as `network create` takes them,
 * the default pool they are picked from, and container addresses. Pure functions over numbers
 * (an address is its 32 bits as an unsigned integer), so the rules are unit-tested without
 * any state: the store (network-store.ts) and the engine decide what is in use.
 */

export interface Subnet {
  /** the network address (host bits zero) */
  base: number;
  prefix: number;
}

/** Podman's pool for rootless user networks: 10.89.1.0/24, 10.89.2.0/24, ... (10.89.0.0/24 is its default network). */
const POOL_FIRST = ipToNumber('10.89.1.0');
const POOL_SIZE = 255;

export function ipToNumber(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255)) return NaN;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function formatSubnet(s: Subnet): string {
  return `${numberToIp(s.base)}/${s.prefix}`;
}

/** An address as Go's net.ParseIP would accept it (IPv4 only here), or the Docker-style error. */
export function parseIp(text: string, what: string): number {
  const n = ipToNumber(text);
  if (Number.isNaN(n)) {
    if (text.includes(':')) throw new InvalidError(`${what} ${text}: IPv6 addresses are not supported on skiff networks yet`);
    throw new InvalidError(`invalid ${what} ${text}: not an IPv4 address`);
  }
  return n;
}

/**
 * A `--subnet` value. Host bits set is refused with the network address to use instead (Docker
 * 25+ does the same); a subnet with no room for a gateway and one container is refused too.
 */
export function parseSubnet(text: string): Subnet {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!m) throw new InvalidError(`invalid CIDR address: ${text}`);
  if (m[1].includes(':')) throw new InvalidError(`invalid subnet ${text}: IPv6 subnets are not supported on skiff networks yet`);
  const addr = ipToNumber(m[1]);
  const prefix = Number(m[2]);
  if (Number.isNaN(addr) || prefix > 32) throw new InvalidError(`invalid CIDR address: ${text}`);
  const base = (addr & mask(prefix)) >>> 0;
  if (base !== addr) throw new InvalidError(`invalid subnet ${text}: it has host bits set; use ${numberToIp(base)}/${prefix}`);
  if (prefix > 30) throw new InvalidError(`invalid subnet ${text}: too small for a gateway and a container; use a prefix of /30 or shorter`);
  return { base, prefix };
}

export function contains(s: Subnet, ip: number): boolean {
  return ((ip & mask(s.prefix)) >>> 0) === s.base;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.base & mask(p)) >>> 0) === ((b.base & mask(p)) >>> 0);
}

function broadcast(s: Subnet): number {
  return (s.base | ~mask(s.prefix)) >>> 0;
}

/** Docker's refusal of a subnet that overlaps a network's. */
export function checkNoOverlap(s: Subnet, others: readonly Subnet[]): void {
  if (others.some((o) => overlaps(s, o))) {
    throw new ConflictError(`invalid pool request: Pool overlaps with other one on this address space (${formatSubnet(s)})`);
  }
}

/** The first /24 of the pool that overlaps none of `used`. */
export function pickDefaultSubnet(used: readonly Subnet[]): Subnet {
  for (let i = 0; i < POOL_SIZE; i++) {
    const s = { base: POOL_FIRST + i * 256, prefix: 24 };
    if (!used.some((u) => overlaps(s, u))) return s;
  }
  throw new ConflictError('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network; give one with --subnet');
}

/** The gateway: `--gateway` (inside the subnet, not its network or broadcast address) or the first host. */
export function chooseGateway(s: Subnet, text: string | undefined): number {
  if (text === undefined || text === '') return s.base + 1;
  const gw = parseIp(text, 'gateway');
  if (!contains(s, gw)) throw new InvalidError(`invalid gateway ${text}: it is not in subnet ${formatSubnet(s)}`);
  if (gw === s.base || gw === broadcast(s)) throw new InvalidError(`invalid gateway ${text}: it is the network or broadcast address of ${formatSubnet(s)}`);
  return gw;
}

/**
 * A container's address: `--ip` when given (in the subnet, free, not the gateway), else the
 * lowest free host address.
 */
export function allocateAddress(s: Subnet, gateway: number, used: ReadonlySet<number>, wanted?: string): number {
  const last = broadcast(s) - 1;
  if (wanted !== undefined && wanted !== '') {
    const ip = parseIp(wanted, 'IP address');
    if (!contains(s, ip) || ip === s.base || ip > last) {
      throw new InvalidError(`invalid address ${wanted}: it does not belong to the network's subnet ${formatSubnet(s)}`);
    }
    if (ip === gateway || used.has(ip)) throw new ConflictError(`address ${wanted} is already in use on this network`);
    return ip;
  }
  for (let ip = s.base + 1; ip <= last; ip++) {
    if (ip !== gateway && !used.has(ip)) return ip;
  }
  throw new ConflictError(`no available IPv4 address on network subnet ${formatSubnet(s)}`);
}

/** Docker's MAC for an address: 02:42 then the four bytes of the IPv4 address. */
export function macForAddress(ip: number): string {
  return ['02', '42', ...[24, 16, 8, 0].map((sh) => ((ip >>> sh) & 255).toString(16).padStart(2, '0'))].join(':');
}

/** `--mac-address`: six hex bytes, unicast; normalised to lower case. */
export function parseMac(text: string): string {
  if (!/^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/.test(text)) throw new InvalidError(`${text} is not a valid mac address`);
  const mac = text.toLowerCase().replace(/-/g, ':');
  if (parseInt(mac.slice(0, 2), 16) & 1) throw new InvalidError(`${text} is a multicast address; a container needs a unicast MAC address`);
  return mac;
}
