import fs from 'node:fs';
import path from 'node:path';
import { ConflictError, InvalidError, NotFoundError } from '../../errors';
import { readJson, writeJsonAtomic } from '../../state/atomic';
import { withLock } from '../../state/lock';
import { randomHex } from '../../util/random';
import type { Subnet } from './ipam';
import { parseSubnet } from './ipam';

/** networks/<id>.json: one user-defined network. */
export interface NetworkRecord {
  id: string;
  name: string;
  created: string;
  driver: 'bridge';
  internal: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** CIDR, network address */
  subnet: string;
  gateway: string;
}

/** Docker's names for networks it always has; skiff's own modes use them, so no network may. */
export const RESERVED_NETWORK_NAMES = new Set(['bridge', 'host', 'none', 'default', 'pasta', 'slirp4netns', 'private']);

/** Docker's rule for network names (as for containers). */
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * The network records, one JSON file per network written atomically; every change that must
 * see all of them (a new name or subnet) holds networks.lock.
 */
export class NetworkStore {
  readonly dir: string;
  readonly lockFile: string;

  constructor(dataRoot: string) {
    this.dir = path.join(dataRoot, 'networks');
    this.lockFile = path.join(dataRoot, 'networks.lock');
  }

  list(): NetworkRecord[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: NetworkRecord[] = [];
    for (const n of names) {
      if (!n.endsWith('.json')) continue;
      const r = readJson<NetworkRecord>(path.join(this.dir, n));
      if (r) out.push(r);
    }
    return out.sort((a, b) => a.created.localeCompare(b.created));
  }

  /** By full name, full ID or a unique ID prefix (Docker's order). */
  find(ref: string): NetworkRecord | undefined {
    const all = this.list();
    const byName = all.find((n) => n.name === ref);
    if (byName) return byName;
    const byId = all.find((n) => n.id === ref);
    if (byId) return byId;
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const prefixed = all.filter((n) => n.id.startsWith(ref));
    if (prefixed.length > 1) throw new InvalidError(`network ${ref} is ambiguous (${prefixed.length} matches found based on ID prefix)`);
    return prefixed[0];
  }

  mustFind(ref: string): NetworkRecord {
    const n = this.find(ref);
    if (!n) throw new NotFoundError(`network ${ref} not found`);
    return n;
  }

  subnets(): Subnet[] {
    return this.list().map((n) => parseSubnet(n.subnet));
  }

  /** Write a new network: the name is checked against the others under the lock, then `build` runs with them. */
  async create(name: string, build: (others: NetworkRecord[]) => Omit<NetworkRecord, 'id' | 'name' | 'created'>): Promise<NetworkRecord> {
    if (!NAME_RE.test(name)) throw new InvalidError(`invalid network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (RESERVED_NETWORK_NAMES.has(name)) throw new ConflictError(`network name ${name} is reserved for a predefined network mode; choose another name`);
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    return withLock(this.lockFile, () => {
      const others = this.list();
      if (others.some((n) => n.name === name)) throw new ConflictError(`network with name ${name} already exists`);
      const rec: NetworkRecord = { id: randomHex(32), name, created: new Date().toISOString(), ...build(others) };
      writeJsonAtomic(path.join(this.dir, `${rec.id}.json`), rec);
      return rec;
    });
  }

  /** Delete a record; the caller holds the lock and checked that nothing uses it. */
  delete(id: string): void {
    fs.rmSync(path.join(this.dir, `${id}.json`), { force: true });
  }
}
