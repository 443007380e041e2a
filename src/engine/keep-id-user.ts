import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidError } from '../errors';
import { groupWithUser, keepIdMap, parseUsernsMode, passwdWithUser, type KeepId } from '../runtime/keep-id';
import type { OciMount } from '../runtime/oci-spec';
import type { RootfsMount } from '../runtime/monitor-spec';
import { findOnPath } from '../util/which';
import type { RunFlags } from '../runtime/run-flags';
import type { NetworkMode } from '../network/network-mode';
import { readImageFile } from '../storage/image-files';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';

/**
 * `--userns=keep-id` for create and start (the mapping itself: runtime/keep-id.ts; the nested
 * namespace: native/helper/keep_id.c). Checked before the image: rootless only (Podman's rule),
 * with a subordinate range, and with namespaces of its own (a nested user namespace cannot join
 * namespaces that belong to the outer one).
 */
export function planKeepId(engine: Engine, text: string | undefined, network: NetworkMode, run: RunFlags): KeepId | undefined {
  const asked = parseUsernsMode(text);
  if (!asked) return undefined;
  if (!engine.paths.rootless) throw new InvalidError('keep-id is only supported in rootless mode');
  const ns = engine.userns;
  if (!ns?.subordinate) throw new InvalidError('--userns=keep-id needs a subordinate UID/GID range in /etc/subuid and /etc/subgid: add one with usermod --add-subuids/--add-subgids');
  const joined = network.kind === 'container' || network.kind === 'user' ? `--network ${network.kind === 'user' ? network.name : 'container:'}`
    : run.ipc?.startsWith('container:') ? '--ipc container:' : run.pid?.startsWith('container:') ? '--pid container:' : undefined;
  if (joined) throw new InvalidError(`--userns=keep-id cannot be combined with ${joined}: the container's own user namespace cannot join namespaces of another container or network`);
  const me = os.userInfo();
  const k: KeepId = { uid: asked.uid ?? me.uid, gid: asked.gid ?? me.gid, name: me.username, home: me.homedir };
  keepIdMap(k.uid, ns.uidMap, 'UID'); // checks the IDs fit the range
  keepIdMap(k.gid, ns.gidMap, 'GID');
  return k;
}

/** The image's passwd and group with the user's lines, written next to the container's hosts file. */
export function writeKeepIdFiles(dir: string, layerDirs: string[], k: KeepId): void {
  const passwd = passwdWithUser(readImageFile(layerDirs, 'etc/passwd'), k);
  const group = groupWithUser(readImageFile(layerDirs, 'etc/group'), k);
  if (passwd) fs.writeFileSync(path.join(dir, 'passwd'), passwd, { mode: 0o644 });
  if (group) fs.writeFileSync(path.join(dir, 'group'), group, { mode: 0o644 });
}

/**
 * The root as the keep-id container should see it: through fuse-overlayfs with the same swap as
 * its user namespace (uidmapping/gidmapping), so that the image's root-owned files are root's
 * inside, as in Podman. Kernel overlay cannot be idmapped; without fuse-overlayfs the root stays
 * as it is (root's files then show as the user's).
 */
function keepIdRootfs(mount: RootfsMount, maps: { uidMap: string; gidMap: string }): RootfsMount {
  if (mount.type === 'bind') return mount;
  const fuse = mount.type === 'fuse-overlayfs' ? mount.source : findOnPath('fuse-overlayfs');
  if (!fuse) return mount;
  const data = mount.data.split(',').filter((o) => o !== 'userxattr').join(',');
  const ids = (m: string) => m.replace(/,/g, ':');
  return { type: 'fuse-overlayfs', source: fuse, data: `${data},uidmapping=${ids(maps.uidMap)},gidmapping=${ids(maps.gidMap)}` };
}

/** At start: the maps of the container's own user namespace, its root mount, and the passwd/group binds. */
export function keepIdStart(engine: Engine, c: ContainerRecord, rootfs: RootfsMount): { maps?: { uidMap: string; gidMap: string }; mounts: OciMount[]; rootfs: RootfsMount } {
  const k = c.config.keepId;
  const ns = engine.userns;
  if (!k || !ns) return { mounts: [], rootfs };
  const dir = engine.containers.dir(c.id);
  const mounts = ['passwd', 'group'].filter((f) => fs.existsSync(path.join(dir, f)))
    .map((f) => ({ destination: `/etc/${f}`, type: 'bind', source: path.join(dir, f), options: ['rbind', 'rprivate', 'nodev'] }));
  const maps = { uidMap: keepIdMap(k.uid, ns.uidMap, 'UID'), gidMap: keepIdMap(k.gid, ns.gidMap, 'GID') };
  return { maps, mounts, rootfs: keepIdRootfs(rootfs, maps) };
}
