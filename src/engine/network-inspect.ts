import { asSkiffError, type SkiffError } from '../errors';
import { goStruct } from '../util/go-template';
import type { NetworkRecord } from '../network/user-networks/network-store';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { isLive, refreshState } from './container-state';
import { networkStore } from './network-create';

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

/** `network inspect`: what was found, and one error per name that was not. */
export function inspectNetworks(engine: Engine, refs: string[]): { found: object[]; errors: SkiffError[] } {
  const store = networkStore(engine);
  const found: object[] = [];
  const errors: SkiffError[] = [];
  for (const ref of refs) {
    try {
      found.push(networkInspect(engine, store.mustFind(ref)));
    } catch (e) {
      errors.push(asSkiffError(e));
    }
  }
  return { found, errors };
}
