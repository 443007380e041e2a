import { InvalidError } from '../errors';

/**
 * What `--network` asks for, parsed once. The text (Docker's HostConfig.NetworkMode) is what
 * the container record keeps; everything that acts on the network parses it again here, so
 * there is one reading of it.
 *
 *  - none: a network namespace with only `lo`;
 *  - host: the host's (here: the caller's) network namespace;
 *  - container: the network namespace of another, running container (`container:NAME|ID`);
 *  - usermode: a namespace of its own with a user-mode helper (pasta or slirp4netns) for the way
 *    out and for published ports. `bridge` and `default` ask for the default helper (chosen by
 *    the config file or by what is installed: usermode-helper.ts); `pasta[:OPTS]` and
 *    `slirp4netns[:OPTS]` name it, with Podman's option syntax;
 *  - user: a user-defined network (`network create`), by name or ID.
 */
export type NetworkMode =
  | { kind: 'none' }
  | { kind: 'host' }
  | { kind: 'container'; container: string }
  | { kind: 'usermode'; helper?: UserModeHelper; options: string[] }
  | { kind: 'user'; name: string };

export type UserModeHelper = 'pasta' | 'slirp4netns';

/** In the order the default network tries them (Podman 4's: slirp4netns starts in ~15 ms, pasta ~200 ms). */
export const USERMODE_HELPERS: readonly UserModeHelper[] = ['slirp4netns', 'pasta'];

/** The text of the default network: Docker's name for it, as `inspect` shows it. */
export const DEFAULT_NETWORK = 'bridge';

/** slirp4netns options as Podman takes them (`slirp4netns:opt=value,...`). */
const SLIRP4NETNS_OPTIONS = new Set(['allow_host_loopback', 'cidr', 'enable_ipv6', 'mtu', 'outbound_addr', 'outbound_addr6', 'port_handler']);

/**
 * Parse a `--network` value (undefined or empty: the default network). Throws Docker's message
 * for a malformed `container:` and Podman's for a bad slirp4netns option; any other name is a
 * user-defined network, whose existence the caller checks.
 */
export function parseNetworkMode(text: string | undefined): NetworkMode {
  if (text === undefined || text === '' || text === 'default' || text === DEFAULT_NETWORK) return { kind: 'usermode', options: [] };
  if (text === 'none') return { kind: 'none' };
  if (text === 'host') return { kind: 'host' };
  const colon = text.indexOf(':');
  const head = colon < 0 ? text : text.slice(0, colon);
  const rest = colon < 0 ? undefined : text.slice(colon + 1);
  if (head === 'container') {
    if (!rest) throw new InvalidError('Invalid network mode: invalid container format container:<name|id>');
    return { kind: 'container', container: rest };
  }
  if (head === 'pasta' || head === 'slirp4netns') {
    const options = rest ? rest.split(',').filter((o) => o !== '') : [];
    if (head === 'slirp4netns') checkSlirpOptions(options);
    return { kind: 'usermode', helper: head, options };
  }
  if (colon >= 0) throw new InvalidError(`invalid network mode "${text}": use none, host, bridge, container:NAME, pasta[:OPTIONS], slirp4netns[:OPTIONS] or a network name`);
  return { kind: 'user', name: text };
}

function checkSlirpOptions(options: string[]): void {
  for (const o of options) {
    const eq = o.indexOf('=');
    const name = eq < 0 ? o : o.slice(0, eq);
    if (!SLIRP4NETNS_OPTIONS.has(name) || eq < 0) {
      throw new InvalidError(`unknown option for slirp4netns: "${o}": use ${[...SLIRP4NETNS_OPTIONS].map((n) => `${n}=VALUE`).join(', ')}`);
    }
  }
}

/** The record's text for a mode (HostConfig.NetworkMode): the inverse of parseNetworkMode. */
export function networkModeText(m: NetworkMode): string {
  switch (m.kind) {
    case 'none': case 'host': return m.kind;
    case 'container': return `container:${m.container}`;
    case 'usermode': return m.helper === undefined ? DEFAULT_NETWORK : m.options.length ? `${m.helper}:${m.options.join(',')}` : m.helper;
    case 'user': return m.name;
  }
}

/** The name of the mode's entry in NetworkSettings.Networks and ps's NETWORKS column (Docker's). */
export function networkName(m: NetworkMode): string {
  switch (m.kind) {
    case 'usermode': return m.helper ?? DEFAULT_NETWORK;
    case 'container': return 'container';
    default: return networkModeText(m);
  }
}

/** Whether the container gets a network namespace of its own (none, usermode, user). */
export function ownsNetworkNamespace(m: NetworkMode): boolean {
  return m.kind === 'none' || m.kind === 'usermode' || m.kind === 'user';
}

/** Whether ports can be published: only where skiff sets up the network itself. */
export function canPublishPorts(m: NetworkMode): boolean {
  return m.kind === 'usermode' || m.kind === 'user';
}

/**
 * Docker's checks of the other network flags against the mode (moby's validateNetContainerMode):
 * a container that shares another's network has that container's hostname, hosts, DNS and ports.
 * Host mode: published ports are discarded with a warning, as Docker does.
 */
export function checkNetworkFlags(m: NetworkMode, f: { hostname?: boolean; dns?: boolean; addHost?: boolean; publish?: boolean; expose?: boolean; macAddress?: boolean }): string[] {
  const warnings: string[] = [];
  if (m.kind === 'container') {
    if (f.hostname) throw new InvalidError('conflicting options: hostname and the network mode');
    if (f.dns) throw new InvalidError('conflicting options: dns and the network mode');
    if (f.addHost) throw new InvalidError('conflicting options: custom host-to-IP mapping and the network mode');
    if (f.macAddress) throw new InvalidError('conflicting options: mac-address and the network mode');
    if (f.publish) throw new InvalidError('conflicting options: port publishing and the container type network mode');
    if (f.expose) throw new InvalidError('conflicting options: port exposing and the container type network mode');
  }
  if (m.kind === 'host') {
    if (f.macAddress) throw new InvalidError('conflicting options: mac-address and the network mode');
    if (f.publish) warnings.push('WARNING: Published ports are discarded when using host network mode');
  }
  return warnings;
}
