import { InvalidError } from '../errors';
import { chooseGateway, checkNoOverlap, formatSubnet, numberToIp, parseSubnet, pickDefaultSubnet } from '../network/user-networks/ipam';
import { NetworkStore, type NetworkRecord } from '../network/user-networks/network-store';
import type { Engine } from './context';

export interface NetworkCreateOptions {
  driver?: string;
  subnet?: string[];
  gateway?: string[];
  internal: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
}

export function networkStore(engine: Engine): NetworkStore {
  return new NetworkStore(engine.paths.dataRoot);
}

/**
 * `network create`: check every flag first, then, under the store's lock, the name and the
 * subnet against the other networks; nothing is written unless all of it holds. No bridge is
 * made here: the holder's namespace gets it when the first container attaches.
 */
export async function createNetwork(engine: Engine, name: string, o: NetworkCreateOptions): Promise<NetworkRecord> {
  const driver = o.driver ?? 'bridge';
  if (driver !== 'bridge') throw new InvalidError(`plugin "${driver}" not found: skiff networks use the bridge driver`);
  if ((o.subnet?.length ?? 0) > 1) throw new InvalidError('skiff networks have one IPv4 subnet: give --subnet once');
  if ((o.gateway?.length ?? 0) > 1) throw new InvalidError('cannot configure multiple gateways for one subnet');
  const asked = o.subnet?.[0] !== undefined ? parseSubnet(o.subnet[0]) : undefined;
  const gatewayText = o.gateway?.[0];
  if (gatewayText !== undefined && !asked) throw new InvalidError('--gateway needs --subnet: give the subnet the gateway belongs to');
  return networkStore(engine).create(name, (others) => {
    const used = others.map((n) => parseSubnet(n.subnet));
    if (asked) checkNoOverlap(asked, used);
    const subnet = asked ?? pickDefaultSubnet(used);
    return {
      driver: 'bridge', internal: o.internal, labels: o.labels, options: o.options,
      subnet: formatSubnet(subnet), gateway: numberToIp(chooseGateway(subnet, gatewayText)),
    };
  });
}

/** `--label K=V` / `-o K=V` values (a bare KEY is an empty value, as Docker's ListOpts). */
export function keyValues(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    out[eq < 0 ? item : item.slice(0, eq)] = eq < 0 ? '' : item.slice(eq + 1);
  }
  return out;
}
