import { InvalidError } from '../errors';
import { isIpAddress } from './hosts-files';

/**
 * Published and exposed ports: `-p [IP:][HOSTPORT:]CONTAINERPORT[/PROTO]` (docker-cli's
 * go-connections rules and messages), `--expose PORT[-END][/PROTO]`, `-P`, and how Docker shows
 * them (inspect's maps, ps's PORTS column, the `port` verb). Pure: choosing free host ports and
 * checking that they are free happens at start (port-allocation.ts).
 */

export type Protocol = 'tcp' | 'udp' | 'sctp';

/** One container port published on the host. hostPort 0 = any free port; hostPortEnd: pick one in hostPort..hostPortEnd. */
export interface PortPublish {
  hostIp: string;
  hostPort: number;
  hostPortEnd?: number;
  containerPort: number;
  protocol: Protocol;
}

/** A publication with its host port decided (at start): what inspect, ps and `port` show. */
export interface PortBound { hostIp: string; hostPort: number; containerPort: number; protocol: Protocol }

const FORMAT = '-p [IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp]';

function portRange(text: string): [number, number] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) return undefined;
  const start = Number(m[1]), end = m[2] === undefined ? start : Number(m[2]);
  if (start < 1 || end > 65535 || end < start) return undefined;
  return [start, end];
}

function protocolOf(text: string | undefined): Protocol {
  const p = (text || 'tcp').toLowerCase();
  if (p !== 'tcp' && p !== 'udp' && p !== 'sctp') throw new InvalidError(`invalid proto: ${p}`);
  return p;
}

/** Split IP:HOST:CONTAINER as go-connections does (an IPv6 address keeps its colons, or comes in brackets). */
function splitParts(spec: string): [string, string, string] {
  const parts = spec.split(':');
  if (parts.length === 1) return ['', '', parts[0]];
  if (parts.length === 2) return ['', parts[0], parts[1]];
  const n = parts.length;
  return [parts.slice(0, n - 2).join(':'), parts[n - 2], parts[n - 1]];
}

/** Parse one -p value into one publication per container port. */
export function parsePublish(spec: string): PortPublish[] {
  const [rawIp, hostText, containerText] = splitParts(spec);
  const slash = containerText.indexOf('/');
  const portText = slash < 0 ? containerText : containerText.slice(0, slash);
  if (!portText) throw new InvalidError(`no port specified: ${spec}<empty>`);
  const protocol = protocolOf(slash < 0 ? undefined : containerText.slice(slash + 1));
  let hostIp = rawIp;
  if (hostIp.startsWith('[') && hostIp.endsWith(']')) hostIp = hostIp.slice(1, -1);
  if (hostIp && !isIpAddress(hostIp)) throw new InvalidError(`invalid IP address: ${rawIp} (${FORMAT})`);
  const container = portRange(portText);
  if (!container) throw new InvalidError(`invalid containerPort: ${portText} (${FORMAT}, ports 1-65535)`);
  let host: [number, number] | undefined;
  if (hostText !== '') {
    host = portRange(hostText);
    if (!host) throw new InvalidError(`invalid hostPort: ${hostText} (${FORMAT}, ports 1-65535)`);
    if (container[1] - container[0] !== host[1] - host[0] && container[0] !== container[1]) {
      throw new InvalidError(`invalid ranges specified for container and host Ports: ${portText} and ${hostText}`);
    }
  }
  const out: PortPublish[] = [];
  for (let i = 0; i <= container[1] - container[0]; i++) {
    const p: PortPublish = { hostIp, hostPort: host ? host[0] + i : 0, containerPort: container[0] + i, protocol };
    // one container port and a host range: any free port of the range (Docker's dynamic range)
    if (host && container[0] === container[1] && host[0] !== host[1]) p.hostPortEnd = host[1];
    out.push(p);
  }
  return out;
}

/** `--expose PORT[-END][/PROTO]` and the image's EXPOSE keys ("80/tcp"): the ports, as "PORT/PROTO". */
export function parseExpose(spec: string): string[] {
  const slash = spec.indexOf('/');
  const protocol = protocolOf(slash < 0 ? undefined : spec.slice(slash + 1));
  const text = slash < 0 ? spec : spec.slice(0, slash);
  const range = portRange(text);
  if (!range) throw new InvalidError(`invalid range format for --expose: ${spec}, error: use PORT[-END][/tcp|udp] with ports 1-65535`);
  const out: string[] = [];
  for (let p = range[0]; p <= range[1]; p++) out.push(`${p}/${protocol}`);
  return out;
}

/** The key of a container port in Docker's maps: "80/tcp". */
export const portKey = (p: { containerPort: number; protocol: Protocol }): string => `${p.containerPort}/${p.protocol}`;

/** "80/tcp" back into its parts. */
export function splitPortKey(key: string): { containerPort: number; protocol: Protocol } {
  const [port, proto] = key.split('/');
  return { containerPort: Number(port), protocol: protocolOf(proto) };
}

/** HostConfig.PortBindings: each container port's publications as asked ("" for a port to be chosen). */
export function portBindingsMap(publish: PortPublish[]): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of publish) {
    const hostPort = p.hostPort === 0 ? '' : p.hostPortEnd ? `${p.hostPort}-${p.hostPortEnd}` : String(p.hostPort);
    (out[portKey(p)] ??= []).push({ HostIp: p.hostIp, HostPort: hostPort });
  }
  return out;
}

/**
 * The addresses a publication is bound to, as Docker lists them: an unspecified host IP is
 * 0.0.0.0 and [::] (both families listen).
 */
function shownAddresses(p: PortBound): string[] {
  return p.hostIp ? [p.hostIp] : ['0.0.0.0', '::'];
}

/** NetworkSettings.Ports of a running container: every exposed port, null when not published. */
export function networkPortsMap(exposed: string[], bound: PortBound[]): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const key of exposed) out[key] = null;
  for (const p of bound) {
    const list = (out[portKey(p)] ??= []);
    for (const ip of shownAddresses(p)) list.push({ HostIp: ip, HostPort: String(p.hostPort) });
  }
  return out;
}

const hostAddress = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** `docker port` lines: "80/tcp -> 0.0.0.0:8080", sorted by container port (docker-cli's order). */
export function portLines(bound: PortBound[], only?: { containerPort: number; protocol?: Protocol }): string[] {
  const rows = bound
    .filter((p) => !only || (p.containerPort === only.containerPort && (only.protocol ?? 'tcp') === p.protocol))
    .sort((a, b) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol));
  return rows.flatMap((p) => shownAddresses(p).map((ip) => (only ? hostAddress(ip, p.hostPort) : `${portKey(p)} -> ${hostAddress(ip, p.hostPort)}`)));
}

/**
 * ps's PORTS column (docker-cli's DisplayablePorts): "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp",
 * consecutive ports with consecutive host ports folded into ranges, exposed-only ports as "80/tcp".
 */
export function displayPorts(exposed: string[], bound: PortBound[]): string {
  type Item = { ip: string; host: number; port: number; proto: string };
  const items: Item[] = [];
  const published = new Set(bound.map(portKey));
  for (const p of bound) for (const ip of shownAddresses(p)) items.push({ ip, host: p.hostPort, port: p.containerPort, proto: p.protocol });
  for (const key of exposed) {
    if (published.has(key)) continue;
    const { containerPort, protocol } = splitPortKey(key);
    items.push({ ip: '', host: 0, port: containerPort, proto: protocol });
  }
  // group by address and protocol, then fold runs
  const groups = new Map<string, Item[]>();
  for (const i of items) {
    const k = `${i.ip}|${i.proto}|${i.host === 0 ? 'exposed' : 'published'}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(i);
  }
  const out: { sortKey: string; text: string }[] = [];
  for (const list of groups.values()) {
    list.sort((a, b) => a.port - b.port);
    let start = 0;
    for (let i = 1; i <= list.length; i++) {
      const prev = list[i - 1], cur = list[i];
      const continues = cur && cur.port === prev.port + 1 && (prev.host === 0 ? cur.host === 0 : cur.host === prev.host + 1);
      if (continues) continue;
      const first = list[start], last = prev;
      const span = (a: number, b: number) => (a === b ? `${a}` : `${a}-${b}`);
      const inner = `${span(first.port, last.port)}/${first.proto}`;
      const text = first.host === 0 ? inner : `${hostAddress(first.ip, 0).slice(0, -2)}:${span(first.host, last.host)}->${inner}`;
      // published before exposed-only, then by container port, IPv4 before IPv6
      out.push({ sortKey: `${first.host === 0 ? 1 : 0}|${String(first.port).padStart(5, '0')}|${first.ip.includes(':') ? 1 : 0}|${first.proto}`, text });
      start = i;
    }
  }
  return out.sort((a, b) => a.sortKey.localeCompare(b.sortKey)).map((o) => o.text).join(', ');
}
