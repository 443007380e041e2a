import { asSkiffError, type SkiffError } from '../errors';
import { networkName, parseNetworkMode } from '../network/network-mode';
import { predefinedByIdPrefix, predefinedByNameOrId, type PredefinedNetwork } from '../network/predefined-networks';
import { goStruct } from '../util/go-template';
import type { NetworkRecord } from '../network/user-networks/network-store';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { isLive, refreshState } from './container-state';
import { networkStore } from './network-create';
import { predefinedCreated } from './network-list';

/** The containers with an endpoint on the network, each with that endpoint. */
export function networkMembers(engine: Engine, n: NetworkRecord): { c: ContainerRecord; endpoint: NonNullable<ContainerRecord['endpoints']>[string] }[] {
  const out = [];
  for (const c of engine.containers.list()) {
    const endpoint = Object.values(c.endpoints ?? {}).find((e) => e.networkId === n.id);
    if (endpoint) out.push({ c, endpoint });
  }
  return out;
}

/** Docker's network inspect object; Containers are the running ones, as Docker lists its active endpoints. */
export function networkInspect(engine: Engine, n: NetworkRecord): object {
  const containers: Record<string, object> = {};
  for (const { c, endpoint } of networkMembers(engine, n)) {
    if (!isLive(refreshState(engine, c))) continue;
    containers[c.id] = goStruct({
      Name: c.name, EndpointID: '', MacAddress: endpoint.macAddress,
      IPv4Address: `${endpoint.ipAddress}/${endpoint.prefixLen}`, IPv6Address: '',
    }, 'network.EndpointResource');
  }
  return goStruct({
    Name: n.name, Id: n.id, Created: n.created, Scope: 'local', Driver: n.driver, EnableIPv4: true, EnableIPv6: false,
    IPAM: goStruct({ Driver: 'default', Options: {}, Config: [goStruct({ Subnet: n.subnet, Gateway: n.gateway }, 'network.IPAMConfig')] }, 'network.IPAM'),
    Internal: n.internal, Attachable: false, Ingress: false, ConfigFrom: goStruct({ Network: '' }, 'network.ConfigReference'),
    ConfigOnly: false, Containers: containers, Options: n.options, Labels: n.labels,
  }, 'network.Inspect');
}

/**
 * A predefined network as Docker inspects it: its running containers are those in that mode
 * (each in a namespace of its own for bridge, so no address is shown).
 */
export function predefinedInspect(engine: Engine, p: PredefinedNetwork): object {
  const containers: Record<string, object> = {};
  for (const c of engine.containers.list()) {
    if (networkName(parseNetworkMode(c.config.network)) !== p.name || !isLive(refreshState(engine, c))) continue;
    containers[c.id] = goStruct({ Name: c.name, EndpointID: '', MacAddress: '', IPv4Address: '', IPv6Address: '' }, 'network.EndpointResource');
  }
  const config = p.subnet ? [goStruct({ Subnet: p.subnet, Gateway: p.gateway }, 'network.IPAMConfig')] : [];
  return goStruct({
    Name: p.name, Id: p.id, Created: predefinedCreated(engine), Scope: 'local', Driver: p.driver, EnableIPv4: p.name === 'bridge', EnableIPv6: false,
    IPAM: goStruct({ Driver: 'default', Options: null, Config: config }, 'network.IPAM'),
    Internal: false, Attachable: false, Ingress: false, ConfigFrom: goStruct({ Network: '' }, 'network.ConfigReference'),
    ConfigOnly: false, Containers: containers, Options: {}, Labels: {},
  }, 'network.Inspect');
}

/** A network by reference: a predefined one by name or ID, a user-defined one (name, ID, prefix), else a predefined ID prefix. */
export function findAnyNetwork(engine: Engine, ref: string): { predefined: PredefinedNetwork } | { record: NetworkRecord } {
  const predefined = predefinedByNameOrId(ref);
  if (predefined) return { predefined };
  const record = networkStore(engine).find(ref);
  if (record) return { record };
  const byPrefix = predefinedByIdPrefix(ref);
  if (byPrefix.length === 1) return { predefined: byPrefix[0] };
  return { record: networkStore(engine).mustFind(ref) };
}

/** `network inspect`: what was found, and one error per name that was not. */
export function inspectNetworks(engine: Engine, refs: string[]): { found: object[]; errors: SkiffError[] } {
  const found: object[] = [];
  const errors: SkiffError[] = [];
  for (const ref of refs) {
    try {
      const n = findAnyNetwork(engine, ref);
      found.push('predefined' in n ? predefinedInspect(engine, n.predefined) : networkInspect(engine, n.record));
    } catch (e) {
      errors.push(asSkiffError(e));
    }
  }
  return { found, errors };
}
