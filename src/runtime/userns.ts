import fs from 'node:fs';
import os from 'node:os';
import { SkiffError } from '../util/errors';
import { findOnPath } from '../util/which';
import type { IdRange, UserNamespacePlan } from '../native/helper-namespace';

/** Parse /etc/subuid-style text and return the ranges that belong to the user (by name or UID). */
export function parseSubIdFile(text: string, user: string, id: number): { start: number; size: number }[] {
  const ranges: { start: number; size: number }[] = [];
  for (const line of text.split('\n')) {
    const [owner, start, size] = line.trim().split(':');
    if (!owner || owner.startsWith('#') || !start || !size) continue;
    if (owner !== user && owner !== String(id)) continue;
    const s = Number(start), n = Number(size);
    if (Number.isInteger(s) && Number.isInteger(n) && n > 0) ranges.push({ start: s, size: n });
  }
  return ranges;
}

/** Container root = the user; container IDs 1.. = the subordinate ranges, in file order. */
export function buildIdMap(ownId: number, ranges: { start: number; size: number }[]): IdRange[] {
  const map: IdRange[] = [{ container: 0, host: ownId, size: 1 }];
  let next = 1;
  for (const r of ranges) {
    map.push({ container: next, host: r.start, size: r.size });
    next += r.size;
  }
  return map;
}

/** Is container ID `id` in the map, i.e. does it exist inside the namespace? */
export function idMapped(map: IdRange[], id: number): boolean {
  return map.some((r) => id >= r.container && id < r.container + r.size);
}

function readOrEmpty(file: string): string {
  try { return fs.readFileSync(file, 'utf8'); } catch { return ''; }
}

let warned = false;

/**
 * Plan the rootless user namespace as Podman does: the user's own ID is root inside, and the
 * ranges of /etc/subuid and /etc/subgid follow. Without a range, fall back to a single-ID map
 * (and say so once), which needs no setuid helper.
 */
export function planUserNamespace(env: NodeJS.ProcessEnv = process.env): UserNamespacePlan {
  const uid = process.getuid!(), gid = process.getgid!();
  const user = os.userInfo().username;
  const subuids = parseSubIdFile(readOrEmpty('/etc/subuid'), user, uid);
  const subgids = parseSubIdFile(readOrEmpty('/etc/subgid'), user, uid);
  if (subuids.length === 0 || subgids.length === 0) {
    if (!warned && !env.SKIFF_QUIET_SUBID) {
      process.stderr.write(`WARN: no subordinate UID/GID range for user "${user}" in /etc/subuid or /etc/subgid: using a single-ID mapping (only root exists in containers); add one with: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user}\n`);
      warned = true;
    }
    return { uidMap: buildIdMap(uid, []), gidMap: buildIdMap(gid, []), subordinate: false };
  }
  const newuidmap = findOnPath('newuidmap', env);
  const newgidmap = findOnPath('newgidmap', env);
  if (!newuidmap || !newgidmap) {
    throw new SkiffError(`cannot map subordinate IDs for "${user}": ${!newuidmap ? 'newuidmap' : 'newgidmap'} not found in $PATH; install the uidmap package`);
  }
  return { uidMap: buildIdMap(uid, subuids), gidMap: buildIdMap(gid, subgids), subordinate: true, newuidmap, newgidmap };
}

/** A user outside the namespace's map cannot exist in a container (run, create, exec -u): say why, up front. */
export function assertUserMapped(plan: UserNamespacePlan | undefined, uid: number, gid: number, spec: string): void {
  if (!plan) return;
  if (!idMapped(plan.uidMap, uid) || !idMapped(plan.gidMap, gid)) {
    throw new SkiffError(`user "${spec}" (${uid}:${gid}) is not mapped in the user namespace${plan.subordinate ? '' : ' (no subordinate ID range: only root exists in containers)'}; add a subuid/subgid range or run as root in the container`);
  }
}
