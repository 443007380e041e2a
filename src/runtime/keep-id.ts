import { InvalidError } from '../errors';
import type { IdRange } from '../native/helper-namespace';

/**
 * Podman's `--userns=keep-id`: the container's user is the host user's UID and GID, so what it
 * writes through a bind mount is the user's on the host. skiff's user namespace (the pause
 * process's, U1) maps U1 0 to the user and U1 1.. to the subordinate ranges; a keep-id container
 * gets a user namespace of its own nested in U1 whose map swaps two IDs: container UID (the
 * user's) <-> U1 0, container 0 <-> U1 UID, every other ID n <-> U1 n. The image's files keep
 * their IDs except those two: root's files show as the user's inside (the stored layers are not
 * re-owned, as Podman does by copying them).
 */

export interface KeepId {
  /** the container IDs the host user becomes (default: the user's own) */
  uid: number;
  gid: number;
  /** for the /etc/passwd and /etc/group lines the container gets */
  name: string;
  home: string;
}

/** `--userns` values: '' and 'host' are Docker's default; keep-id[:uid=N,gid=N] is Podman's. */
export function parseUsernsMode(text: string | undefined): { uid?: number; gid?: number } | undefined {
  if (text === undefined || text === '' || text === 'host') return undefined;
  if (text !== 'keep-id' && !text.startsWith('keep-id:')) {
    throw new InvalidError(`invalid --userns "${text}": use host or keep-id[:uid=N,gid=N] (auto, nomap and ns: are not supported)`);
  }
  const out: { uid?: number; gid?: number } = {};
  for (const opt of text.slice('keep-id:'.length).split(',').filter(() => text.includes(':'))) {
    const m = /^(uid|gid)=([0-9]+)$/.exec(opt);
    if (!m) throw new InvalidError(`invalid --userns keep-id option "${opt}": use uid=N or gid=N`);
    out[m[1] as 'uid' | 'gid'] = Number(m[2]);
  }
  return out;
}

/** The size of U1's map (0 and the subordinate IDs): the IDs a nested map can use. */
function spaceOf(map: IdRange[]): number {
  return map.reduce((n, r) => Math.max(n, r.container + r.size), 0);
}

/** The nested namespace's map in U1's IDs, "INSIDE:OUTSIDE:COUNT,..." (the helper writes it). */
export function keepIdMap(id: number, u1: IdRange[], kind: 'UID' | 'GID'): string {
  const space = spaceOf(u1);
  if (id === 0) return `0:0:${space}`;
  if (id >= space) {
    throw new InvalidError(`--userns=keep-id: ${kind} ${id} is outside the ${space} IDs of your subordinate range: add a larger range to /etc/sub${kind.toLowerCase()} or pick a smaller one with keep-id:${kind.toLowerCase()}=N`);
  }
  const ranges = [`0:${id}:1`];
  if (id > 1) ranges.push(`1:1:${id - 1}`);
  ranges.push(`${id}:0:1`);
  if (space - id - 1 > 0) ranges.push(`${id + 1}:${id + 1}:${space - id - 1}`);
  return ranges.join(',');
}

/** The image's /etc/passwd with the keep-id user's line (Podman adds it), or undefined when it has one. */
export function passwdWithUser(text: string | undefined, k: KeepId): string | undefined {
  const lines = (text ?? '').split('\n').filter(Boolean);
  if (lines.some((l) => l.split(':')[2] === String(k.uid))) return undefined;
  return [...lines, `${k.name}:*:${k.uid}:${k.gid}:${k.name}:${k.home}:/bin/sh`].join('\n') + '\n';
}

/** The image's /etc/group with the keep-id group, or undefined when it has one. */
export function groupWithUser(text: string | undefined, k: KeepId): string | undefined {
  const lines = (text ?? '').split('\n').filter(Boolean);
  if (lines.some((l) => l.split(':')[2] === String(k.gid))) return undefined;
  return [...lines, `${k.name}:x:${k.gid}:`].join('\n') + '\n';
}
