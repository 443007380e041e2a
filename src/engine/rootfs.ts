import fs from 'node:fs';
import path from 'node:path';
import type { RootfsMount } from '../runtime/monitor-spec';
import type { LayerStore } from '../storage/layer-store';
import { overlayOptionsSuffix } from '../storage/overlay-options';
import { findOnPath } from '../util/which';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';

/**
 * A container's writable root, by driver:
 *  overlay / fuse-overlayfs: upper/ and work/ next to an empty merged/ mount point;
 *  vfs: rootfs/, a full copy of the image's top layer (made here, at create time).
 */
export async function prepareRootfs(engine: Engine, layers: LayerStore, dir: string, topChainId?: string): Promise<void> {
  const driver = await engine.driver();
  if (driver === 'vfs') {
    if (topChainId) await layers.copyTree(layers.diffDir(topChainId), path.join(dir, 'rootfs'));
    else fs.mkdirSync(path.join(dir, 'rootfs'), { mode: 0o755 });
    return;
  }
  for (const d of ['upper', 'work', 'merged']) fs.mkdirSync(path.join(dir, d), { mode: 0o755 });
}

/** Where the container's root is mounted, and how the monitor mounts it. */
export function rootfsMount(engine: Engine, layers: LayerStore, c: ContainerRecord): { target: string; mount: RootfsMount } {
  return rootfsMountIn(engine, layers, engine.containers.dir(c.id), c.storage);
}

/**
 * The same for any container directory DIR (a container's, or a build step's under tmp/): its
 * upper/work/merged (or rootfs/) over the layers of `storage`, top last.
 */
export function rootfsMountIn(engine: Engine, layers: LayerStore, dir: string, storage: ContainerRecord['storage']): { target: string; mount: RootfsMount } {
  if (storage.driver === 'vfs') {
    const rootfs = path.join(dir, 'rootfs');
    return { target: rootfs, mount: { type: 'bind', source: rootfs, data: '' } };
  }
  // overlay's lowerdir lists the top layer first.
  const lower = storage.layers.map((l) => layers.diffDir(l)).reverse();
  if (lower.length === 0) {
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty, { recursive: true });
    lower.push(empty);
  }
  const data = `lowerdir=${lower.join(':')},upperdir=${path.join(dir, 'upper')},workdir=${path.join(dir, 'work')}`;
  const target = path.join(dir, 'merged');
  if (storage.driver === 'fuse-overlayfs') {
    return { target, mount: { type: 'fuse-overlayfs', source: findOnPath('fuse-overlayfs') ?? 'fuse-overlayfs', data } };
  }
  return { target, mount: { type: 'overlay', source: 'overlay', data: `${data}${overlayOptionsSuffix(engine.userns !== undefined)}` } };
}

/** Storage that holds sub-ID owned files and must be removed from inside the namespace. */
export function rootfsStorageDirs(engine: Engine, c: ContainerRecord): string[] {
  const dir = engine.containers.dir(c.id);
  return c.storage.driver === 'vfs' ? [path.join(dir, 'rootfs')] : ['upper', 'work', 'merged'].map((d) => path.join(dir, d));
}
