import { networkName, type NetworkMode } from '../network-mode';

/**
 * A container's place on a user-defined network (Docker's EndpointSettings), kept in the
 * container record under the network's name from create or connect on, as Podman does: the
 * address stays the container's across restarts.
 */
export interface Endpoint {
  networkId: string;
  ipAddress: string;
  prefixLen: number;
  gateway: string;
  macAddress: string;
  /** --network-alias / connect --alias: more names the peers resolve to this address */
  aliases: string[];
  /** the interface inside the container (eth0, eth1...), given when it is attached */
  ifname: string;
  /** the address was asked for (--ip), not allocated: Docker's IPAMConfig */
  requestedIp?: string;
  /** `network connect --gw-priority`: the highest gives the default route (0 when unset) */
  gwPriority?: number;
}

/** The interface names of a container's endpoints are eth0, eth1...: the first one free. */
export function nextInterfaceName(endpoints: Record<string, Endpoint> | undefined): string {
  const used = new Set(Object.values(endpoints ?? {}).map((e) => e.ifname));
  for (let i = 0; ; i++) if (!used.has(`eth${i}`)) return `eth${i}`;
}

/** The bridge in the holder's namespace: "skn" (has a way out) or "ski" (--internal) and 12 hex of the ID. */
export function bridgeName(network: { id: string; internal: boolean }): string {
  return `${network.internal ? 'ski' : 'skn'}${network.id.slice(0, 12)}`;
}

/**
 * The networks a container is on, as ps's NETWORKS column and inspect's NetworkSettings.Networks
 * name them: its mode's (`bridge`, `host`, ...), then the networks it was connected to. A
 * user-network mode's entry is its endpoint (the record's endpoints are the truth): once the
 * container is disconnected from the network it was started on, that network is no longer listed
 * (HostConfig.NetworkMode still names it, as Docker keeps it), and it starts without it.
 */
export function attachedNetworkNames(mode: NetworkMode, endpoints: Record<string, Endpoint> | undefined): string[] {
  const names = Object.keys(endpoints ?? {});
  const modeName = networkName(mode);
  if (mode.kind === 'user') return names.includes(modeName) ? [modeName, ...names.filter((n) => n !== modeName)] : names;
  return [modeName, ...names.filter((n) => n !== modeName)];
}

/**
 * The network whose gateway carries a container's default route, as Docker picks it (libnetwork's
 * sandbox getGatewayEndpoint over its endpoints in order: the highest --gw-priority, then by
 * network name; an --internal network gives its endpoints no gateway): the first of those with a
 * way out, or none. Start, connect and disconnect all route by it, so the route moves as Docker's
 * does when that network is disconnected or one before it is connected.
 */
export function gatewayNetworkName(endpoints: Record<string, Endpoint> | undefined, hasWayOut: (networkId: string) => boolean): string | undefined {
  return Object.entries(endpoints ?? {}).filter(([, e]) => hasWayOut(e.networkId))
    .sort(([a, ea], [b, eb]) => (eb.gwPriority ?? 0) - (ea.gwPriority ?? 0) || (a < b ? -1 : a > b ? 1 : 0))[0]?.[0];
}
