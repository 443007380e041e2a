/**
 * Docker's predefined networks as `network ls` and `network inspect` show them: `bridge` (here
 * the default user-mode network, slirp4netns's 10.0.2.0/24 when it is the helper), `host` and
 * `none`. They are not records: they always exist, are never created, removed or pruned, and
 * their IDs are fixed (Docker's are random per daemon; there is no daemon here to keep one).
 * Their names are reserved for user networks (network-store.ts RESERVED_NETWORK_NAMES).
 */
export interface PredefinedNetwork {
  id: string;
  name: 'bridge' | 'host' | 'none';
  /** Docker's drivers for them */
  driver: 'bridge' | 'host' | 'null';
  /** IPAM config: slirp4netns's network for bridge, none for the others */
  subnet?: string;
  gateway?: string;
}

export const PREDEFINED_NETWORKS: readonly PredefinedNetwork[] = [
  { id: '86356ee487dacbd14125753795a6b7f2fe2215fe9de2d56198d1a18d8046645f', name: 'bridge', driver: 'bridge', subnet: '10.0.2.0/24', gateway: '10.0.2.2' },
  { id: 'a06aaaa4de9f7e35be2cb1500724bdaaf5f1ffd374be548aa16525bc9c2531dd', name: 'host', driver: 'host' },
  { id: 'a224426057a1df10f76b1da8ae229531ec1d3ddd52d098fd5c609233dde65626', name: 'none', driver: 'null' },
];

/** By name or full ID (reserved: no user network can take these). */
export function predefinedByNameOrId(ref: string): PredefinedNetwork | undefined {
  return PREDEFINED_NETWORKS.find((n) => n.name === ref || n.id === ref);
}

/** By ID prefix, for a reference no user network matched. */
export function predefinedByIdPrefix(ref: string): PredefinedNetwork[] {
  return /^[0-9a-f]+$/.test(ref) ? PREDEFINED_NETWORKS.filter((n) => n.id.startsWith(ref)) : [];
}

/** Docker's refusal to remove one (moby: a pre-defined network cannot be removed). */
export const predefinedRemoveRefusal = (name: string): string => `${name} is a pre-defined network and cannot be removed`;
