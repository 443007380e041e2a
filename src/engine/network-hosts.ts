import fs from 'node:fs';
import path from 'node:path';
import { parseNetworkMode } from '../network/network-mode';
import { DNS_NAMES_FILE, dnsNamesText, type DnsNamesEntry } from '../network/user-networks/dns-names';
import { withPeerEntries, type HostsEntry } from '../network/user-networks/peer-hosts';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { isLive, refreshState } from './container-state';
import { networkStore } from './network-create';
import { recordedNetHelper } from './container-network';
import { isSameLiveProcess } from '../runtime/process-identity';

/**
 * Whether the container's current (or last) run has the embedded DNS server at 127.0.0.11: one
 * whose network mode is a user-defined network, and a default-network one that was on a user
 * network at its start or was connected to one while running (its names file is there: written
 * then, removed by a start without one, container-network.ts). It keeps the server after it
 * leaves its last user network, as Docker's sandbox keeps its resolver.
 */
export const hasEmbeddedDns = (engine: Engine, c: ContainerRecord): boolean =>
  parseNetworkMode(c.config.network).kind === 'user' || fs.existsSync(path.join(engine.containers.dir(c.id), DNS_NAMES_FILE));

/**
 * Whether C's server may ask the host's resolvers: it has a way out, through a network that is
 * not --internal or, on the default network, through the user-mode helper of its own that its
 * run started (its pid file names it; the file outlives the run, so the process is checked).
 */
function hasWayOut(engine: Engine, c: ContainerRecord, internal: ReadonlySet<string>): boolean {
  if (Object.values(c.endpoints ?? {}).some((e) => !internal.has(e.networkId))) return true;
  if (parseNetworkMode(c.config.network).kind === 'user') return false;
  const helper = recordedNetHelper(engine.containers.dir(c.id));
  return helper !== undefined && isSameLiveProcess(helper.pid, helper.start);
}

/** The endpoints of a container, in interface order (eth0 first), with their network names. */
function endpointsInOrder(c: ContainerRecord) {
  return Object.entries(c.endpoints ?? {}).sort(([, a], [, b]) => a.ifname.localeCompare(b.ifname, undefined, { numeric: true }));
}

/** Docker's DNSNames of a container on a network: name, aliases, short ID, hostname. */
const dnsNames = (c: ContainerRecord, aliases: string[]) => [c.name, ...aliases, c.id.slice(0, 12), c.config.hostname];

/**
 * What a container on user networks resolves through /etc/hosts: on each of its networks, its
 * own address with its hostname and aliases, and, when it has no embedded DNS server, every
 * running peer's address with the peer's name, aliases and short ID (what the server answers).
 */
function hostsEntriesFor(target: ContainerRecord, running: ContainerRecord[], dns: boolean): HostsEntry[] {
  const out: HostsEntry[] = [];
  for (const e of Object.values(target.endpoints ?? {})) {
    out.push({ ip: e.ipAddress, names: [target.config.hostname, target.name, ...e.aliases] });
    if (dns) continue;
    for (const peer of running) {
      if (peer.id === target.id) continue;
      const pe = Object.values(peer.endpoints ?? {}).find((x) => x.networkId === e.networkId);
      if (pe) out.push({ ip: pe.ipAddress, names: [peer.name, ...pe.aliases, peer.id.slice(0, 12)] });
    }
  }
  return out;
}

/**
 * The embedded DNS server's names for TARGET: on each of its networks in interface order, itself
 * and every peer whose monitor runs (the server checks that monitor again at each query).
 */
function dnsEntriesFor(target: ContainerRecord, running: ContainerRecord[]): DnsNamesEntry[] {
  const out: DnsNamesEntry[] = [];
  for (const [network, e] of endpointsInOrder(target)) {
    out.push({ network, ip: e.ipAddress, names: dnsNames(target, e.aliases) });
    for (const peer of running) {
      const { monitorPid, monitorStart } = peer.state;
      if (peer.id === target.id || !monitorPid || !monitorStart) continue;
      const pe = Object.values(peer.endpoints ?? {}).find((x) => x.networkId === e.networkId);
      if (pe) out.push({ network, monitor: { pid: monitorPid, start: monitorStart }, ip: pe.ipAddress, names: dnsNames(peer, pe.aliases) });
    }
  }
  return out;
}

/** Replace FILE with TEXT by rename (the monitor notices the new inode), unless it says that already. */
function replaceIfChanged(file: string, text: string): void {
  try {
    if (fs.readFileSync(file, 'utf8') === text) return;
  } catch { /* none yet */ }
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/**
 * After `c` started, connected or disconnected: rewrite what every running container that
 * shares a network with it (and itself) resolves, so names added later resolve too: the
 * /etc/hosts block and, for a container with the embedded DNS server, its names file. The hosts
 * file is written in place (it is bind-mounted into the container, so the inode must stay).
 */
export function refreshNetworkHosts(engine: Engine, c: ContainerRecord, networkIds: ReadonlySet<string>): void {
  if (networkIds.size === 0) return;
  const running = engine.containers.list().map((r) => refreshState(engine, r)).filter((r) => isLive(r) || r.id === c.id);
  const live = running.filter((r) => r.id === c.id || isLive(r));
  // (a container on one --internal network only has no way out: its server never asks the host's resolvers)
  let internal: Set<string> | undefined;
  for (const target of running) {
    const shares = target.id === c.id || Object.values(target.endpoints ?? {}).some((e) => networkIds.has(e.networkId));
    if (!shares) continue;
    const dir = engine.containers.dir(target.id);
    const file = path.join(dir, 'hosts');
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue; // removed meanwhile
    }
    const dns = hasEmbeddedDns(engine, target);
    const next = withPeerEntries(text, hostsEntriesFor(target, live, dns));
    if (next !== text) fs.writeFileSync(file, next);
    if (!dns) continue;
    internal ??= new Set(networkStore(engine).list().filter((n) => n.internal).map((n) => n.id));
    replaceIfChanged(path.join(dir, DNS_NAMES_FILE), dnsNamesText(hasWayOut(engine, target, internal), dnsEntriesFor(target, live.filter((r) => isLive(r)))));
  }
}
