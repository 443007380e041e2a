import fs from 'node:fs';
import path from 'node:path';
import { withPeerEntries, type HostsEntry } from '../network/user-networks/peer-hosts';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { isLive, refreshState } from './container-state';

/**
 * What a container on user networks resolves through /etc/hosts: on each of its networks, its
 * own address with its hostname and aliases, and every running peer's address with the peer's
 * name, aliases and short ID (what Docker's embedded DNS answers for).
 */
function entriesFor(target: ContainerRecord, running: ContainerRecord[]): HostsEntry[] {
  const out: HostsEntry[] = [];
  for (const e of Object.values(target.endpoints ?? {})) {
    out.push({ ip: e.ipAddress, names: [target.config.hostname, target.name, ...e.aliases] });
    for (const peer of running) {
      if (peer.id === target.id) continue;
      const pe = Object.values(peer.endpoints ?? {}).find((x) => x.networkId === e.networkId);
      if (pe) out.push({ ip: pe.ipAddress, names: [peer.name, ...pe.aliases, peer.id.slice(0, 12)] });
    }
  }
  return out;
}

/**
 * After `c` started, connected or disconnected: rewrite the hosts file of every running
 * container that shares a network with it (and its own), so names added later resolve too.
 * Written in place: the file is bind-mounted into the containers, so the inode must stay.
 */
export function refreshNetworkHosts(engine: Engine, c: ContainerRecord, networkIds: ReadonlySet<string>): void {
  if (networkIds.size === 0) return;
  const running = engine.containers.list().map((r) => refreshState(engine, r)).filter((r) => isLive(r) || r.id === c.id);
  for (const target of running) {
    const shares = target.id === c.id || Object.values(target.endpoints ?? {}).some((e) => networkIds.has(e.networkId));
    if (!shares) continue;
    const file = path.join(engine.containers.dir(target.id), 'hosts');
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue; // removed meanwhile
    }
    const next = withPeerEntries(text, entriesFor(target, running.filter((r) => r.id === c.id || isLive(r))));
    if (next !== text) fs.writeFileSync(file, next);
  }
}
