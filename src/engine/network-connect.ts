import { ConflictError, InvalidError, NotFoundError, UnavailableError } from '../errors';
import { parseNetworkMode } from '../network/network-mode';
import { predefinedByNameOrId } from '../network/predefined-networks';
import { gatewayNetworkName, nextInterfaceName, type Endpoint } from '../network/user-networks/endpoint';
import { attachFields } from '../network/user-networks/holder';
import { allocateAddress, ipToNumber, macForAddress, numberToIp, parseMac, parseSubnet } from '../network/user-networks/ipam';
import type { NetworkRecord } from '../network/user-networks/network-store';
import { runHelper } from '../native/helper';
import { withLock } from '../state/lock';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { isLive, refreshState } from './container-state';
import { hasWayOut, holdNetworks } from './network-attach';
import { networkStore } from './network-create';
import { hasEmbeddedDns, refreshNetworkHosts } from './network-hosts';
import { planEmbeddedDns, writeEmbeddedDnsFiles } from './container-network';
import { monitorFile, tellMonitorDns, tellMonitorNetworks } from '../runtime/monitor-client';

/** --network-alias, --ip, --mac-address (run/create) or connect's --alias and --ip. */
export interface EndpointRequest { aliases?: string[]; ip?: string; mac?: string; gwPriority?: number }

/**
 * A new endpoint for `c` on `n`: the address asked for or the lowest free one among every
 * container's endpoints on `n` (`all`). The caller holds containers.lock, under which every
 * allocation and every network removal's check happens, so two never get the same address.
 */
export function allocateEndpoint(n: NetworkRecord, c: ContainerRecord, all: readonly ContainerRecord[], req: EndpointRequest): Endpoint {
  if (c.endpoints?.[n.name]) throw new ConflictError(`endpoint with name ${c.name} already exists in network ${n.name}`);
  const subnet = parseSubnet(n.subnet);
  const used = new Set(all.flatMap((x) => Object.values(x.endpoints ?? {}).filter((e) => e.networkId === n.id).map((e) => ipToNumber(e.ipAddress))));
  const ip = allocateAddress(subnet, ipToNumber(n.gateway), used, req.ip);
  return {
    networkId: n.id, ipAddress: numberToIp(ip), prefixLen: subnet.prefix, gateway: n.gateway,
    macAddress: req.mac ? parseMac(req.mac) : macForAddress(ip), aliases: [...new Set(req.aliases ?? [])],
    ifname: nextInterfaceName(c.endpoints), ...(req.ip ? { requestedIp: req.ip } : {}),
    ...(req.gwPriority ? { gwPriority: req.gwPriority } : {}),
  };
}

/** Check the flags of an endpoint before anything is made (run checks them before the image). */
export function checkEndpointRequest(req: EndpointRequest): void {
  if (req.mac) parseMac(req.mac);
  if (req.ip && Number.isNaN(ipToNumber(req.ip))) {
    throw new InvalidError(`invalid IPv4 address: ${req.ip}${req.ip.includes(':') ? ' (IPv6 is not supported on skiff networks yet)' : ''}`);
  }
}

/** The network a user-mode `--network NAME` names, or Docker's not-found error. */
export function mustFindNetwork(engine: Engine, ref: string): NetworkRecord {
  return networkStore(engine).mustFind(ref);
}

/**
 * `network connect NETWORK CONTAINER`: the endpoint is recorded (under containers.lock, after
 * checking the network still exists); a running container gets its interface at once (in its
 * namespace, through the helper) and its monitor attaches it at every later --restart run
 * (between two runs only that), a stopped one at its next start. Every running peer's
 * /etc/hosts learns the new names.
 */
export async function connectNetwork(engine: Engine, networkRef: string, containerRef: string, req: EndpointRequest): Promise<void> {
  checkEndpointRequest(req);
  refusePredefined(networkRef, 'connected to');
  const store = networkStore(engine);
  const n = store.mustFind(networkRef);
  // observed: after a --restart the record's PID is an earlier run's
  const target = refreshState(engine, engine.containers.mustFind(containerRef));
  refuseSharedNamespace(target);
  const hold = isLive(target) ? await holdNetworks(engine) : undefined;
  try {
    const { endpoint, before, after } = await withLock(engine.containers.lockFile, () => {
      if (!store.list().some((x) => x.id === n.id)) throw new NotFoundError(`network ${networkRef} not found`);
      const all = engine.containers.list();
      const c = all.find((x) => x.id === target.id);
      if (!c) throw new NotFoundError(`No such container: ${containerRef}`);
      const e = allocateEndpoint(n, c, all, req);
      const before = c.endpoints;
      c.endpoints = { ...c.endpoints, [n.name]: e };
      engine.containers.save(c);
      return { endpoint: e, before, after: c.endpoints };
    });
    if (hold) {
      // the default route comes here when this network is now the first with a gateway (from the
      // one that had it, if any: the run's is replaced, later runs' records sent again without it)
      const moved = movedRoute(engine, target, before, after);
      const from = moved?.from ? after[moved.from] : undefined;
      const fields = attachFields(hold.holder, n, endpoint, moved?.to === n.name);
      let attached = false, told = false;
      try {
        if (!betweenRuns(target)) {
          await runHelper(engine.userns, ['net-connect', String(target.state.pid), target.state.pidStart!, ...fields],
            `cannot connect container ${target.name} to network ${n.name}`);
          attached = true;
        }
        // the users lock too: the monitor holds it while it has user networks, so the holder
        // named in the fields stays between two runs
        await tellLaterRuns(engine, target, ['attach', ...fields, hold.files.usersLock], n.name);
        told = true;
        if (from) await tellLaterRuns(engine, target, ['attach', ...attachFields(hold.holder, store.mustFind(from.networkId), from, false), hold.files.usersLock], moved!.from!);
      } catch (e) {
        // all or nothing: the run does not keep an interface the record and later runs lack
        if (attached) {
          await runHelper(engine.userns, ['net-disconnect', String(target.state.pid), target.state.pidStart!, endpoint.ifname,
            ...(from ? [from.ifname, from.gateway] : [])], '').catch(() => undefined);
        }
        if (told) await tellLaterRuns(engine, target, ['detach', endpoint.ifname], n.name).catch(() => undefined);
        await dropEndpoint(engine, target.id, n.name);
        throw e;
      }
      if (!hasEmbeddedDns(engine, target)) await startEmbeddedDns(engine, target);
    }
  } finally {
    hold?.release();
  }
  refreshNetworkHosts(engine, engine.containers.mustFind(target.id), new Set([n.id]));
}

/**
 * A running container that joins its first user network without the embedded DNS server (one
 * started on the default network) gets it now, as Docker's sandbox starts its resolver when an
 * endpoint that needs one joins: the helper makes its sockets in the container's network
 * namespace and hands them to the container's monitor (native/helper/dns_connect.c), then
 * resolv.conf is rewritten in place to name 127.0.0.11 (keeping --dns, --dns-search and
 * --dns-option). The monitor keeps the server for the container's later --restart runs; a start
 * gives it one while the container is on a user network (container-network.ts). In a --restart
 * back-off there is no namespace: the monitor is told the configuration alone, and the next run's
 * init makes the sockets as at a start. A failure leaves the container as before, resolving its
 * peers through its /etc/hosts block, and says so.
 */
async function startEmbeddedDns(engine: Engine, c: ContainerRecord): Promise<void> {
  const dir = engine.containers.dir(c.id);
  const { start, resolvConf } = planEmbeddedDns(dir, c.config.net);
  const config = [start.namesFile, start.ndotsSet ? '1' : '0', ...start.upstreams.flat()];
  const what = `cannot start the embedded DNS server of container ${c.name}`;
  try {
    if (!betweenRuns(c)) await runHelper(engine.userns, ['dns-connect', String(c.state.pid), c.state.pidStart!, monitorFile(dir, 'attach'), ...config], what);
    else await tellMonitorDns(dir, config).catch((e: Error) => { throw new Error(`${what}: ${e.message}`); });
  } catch (e) {
    process.stderr.write(`WARNING: ${(e as Error).message}; it resolves its peers through /etc/hosts only\n`);
    return;
  }
  writeEmbeddedDnsFiles(dir, resolvConf);
}

/**
 * Where a live container's default route goes when its endpoints change from BEFORE to AFTER:
 * through the first network by name with a gateway (Docker's, endpoint.ts gatewayNetworkName).
 * Undefined when that stays the same network, or when the route is not the networks' (a
 * default-network run with its own user-mode helper, whose route that helper set up); else the
 * network it leaves and the one it goes through now (either may be none).
 */
function movedRoute(engine: Engine, c: ContainerRecord, before: ContainerRecord['endpoints'], after: ContainerRecord['endpoints']): { from?: string; to?: string } | undefined {
  if (!(c.state.routedByNetworks ?? parseNetworkMode(c.config.network).kind === 'user')) return undefined;
  const wayOut = hasWayOut(networkStore(engine));
  const from = gatewayNetworkName(before, wayOut), to = gatewayNetworkName(after, wayOut);
  return from === to ? undefined : { from, to };
}

/**
 * A live container in a --restart back-off: its command exited and the next run is not there
 * yet, so it has no namespace to (dis)connect; its monitor attaches what it is told at that run.
 */
function betweenRuns(c: ContainerRecord): boolean {
  return !!c.state.restarting || !c.state.pid || !c.state.pidStart;
}

/**
 * The container's monitor runs it again under --restart with its own spec: tell it which user
 * networks those later runs attach (native/helper/net_holder.c net_attach_message).
 */
async function tellLaterRuns(engine: Engine, c: ContainerRecord, fields: string[], network: string): Promise<void> {
  try {
    await tellMonitorNetworks(engine.containers.dir(c.id), fields);
  } catch (e) {
    // its monitor is gone: the container stopped meanwhile, and a start takes the record's networks
    if (!isLive(refreshState(engine, engine.containers.mustFind(c.id)))) return;
    throw new UnavailableError(`cannot record network ${network} for the --restart runs of container ${c.name}: ${(e as Error).message}`);
  }
}

/**
 * Docker's refusals: a container in the host's network namespace, or in another container's,
 * has no namespace of its own to put an interface in (the host's must never get one), and
 * `none` means no network at all.
 */
function refuseSharedNamespace(c: ContainerRecord): void {
  const mode = parseNetworkMode(c.config.network);
  if (mode.kind === 'host') throw new ConflictError('container cannot be disconnected from host network or connected to host network');
  if (mode.kind === 'container') throw new ConflictError('container sharing network namespace with another container or host cannot be connected to any other network');
  if (mode.kind === 'none') throw new ConflictError('container cannot be connected to multiple networks with one of the networks in private (none) mode');
}

/**
 * The predefined networks are no records (predefined-networks.ts): `bridge` is a run's own
 * user-mode helper, with no endpoint to give or take away, and `host` and `none` are modes. Docker
 * connects and disconnects `bridge`; skiff says it cannot yet, rather than "not found".
 */
function refusePredefined(ref: string, verb: 'connected to' | 'disconnected from'): void {
  const p = predefinedByNameOrId(ref);
  if (!p) return;
  if (p.name === 'host') throw new ConflictError('container cannot be disconnected from host network or connected to host network');
  throw new UnavailableError(`a container cannot be ${verb} the predefined network ${p.name} yet: skiff connects and disconnects user-defined networks only`);
}

async function dropEndpoint(engine: Engine, id: string, network: string): Promise<void> {
  await engine.containers.update(id, (r) => {
    if (!r.endpoints) return;
    delete r.endpoints[network];
    if (Object.keys(r.endpoints).length === 0) delete r.endpoints;
  });
}

/**
 * `network disconnect NETWORK CONTAINER`: a running container loses the interface at once (and
 * its default route moves on, as Docker's, when it went through NETWORK); the endpoint (and its
 * address) is given up; the peers' /etc/hosts forget the names.
 */
export async function disconnectNetwork(engine: Engine, networkRef: string, containerRef: string, force: boolean): Promise<void> {
  refusePredefined(networkRef, 'disconnected from');
  const store = networkStore(engine);
  const n = store.find(networkRef);
  const c = refreshState(engine, engine.containers.mustFind(containerRef));
  const name = n?.name ?? (force ? networkRef : undefined);
  if (!name) throw new NotFoundError(`network ${networkRef} not found`);
  const endpoint = c.endpoints?.[name];
  if (!endpoint) {
    if (force) return;
    throw new ConflictError(`container ${c.id} is not connected to network ${name}`);
  }
  if (isLive(c)) {
    // the network with the default route goes: the route moves to the next with a gateway, if any
    const after = { ...c.endpoints };
    delete after[name];
    const to = movedRoute(engine, c, c.endpoints, after)?.to;
    const next = to ? after[to] : undefined;
    if (!betweenRuns(c)) {
      await runHelper(engine.userns, ['net-disconnect', String(c.state.pid), c.state.pidStart!, endpoint.ifname, ...(next ? [next.ifname, next.gateway] : [])],
        `cannot disconnect container ${c.name} from network ${name}`);
    }
    await tellLaterRuns(engine, c, ['detach', endpoint.ifname], name);
    if (next) {
      const hold = await holdNetworks(engine);
      try {
        await tellLaterRuns(engine, c, ['attach', ...attachFields(hold.holder, store.mustFind(next.networkId), next, true), hold.files.usersLock], to!);
      } finally {
        hold.release();
      }
    }
  }
  await dropEndpoint(engine, c.id, name);
  refreshNetworkHosts(engine, engine.containers.mustFind(c.id), new Set([endpoint.networkId]));
}
