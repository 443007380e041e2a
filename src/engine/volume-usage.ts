import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { VolumeStore } from '../volume/volume-store';

/** The engine's volume store (volumes/ under the data root). */
export function volumeStore(engine: Engine): VolumeStore {
  return new VolumeStore(engine.paths.dataRoot);
}

/** The names of the volumes a container mounts (named, anonymous, or through --volumes-from). */
export function volumesOf(c: ContainerRecord): string[] {
  return (c.config.mounts ?? []).filter((m) => m.type === 'volume').map((m) => m.source);
}

/**
 * Which containers (any state: Docker counts stopped ones too) use each volume. Read without a
 * lock for listing; removal takes containers.lock around it so that no new user appears.
 */
export function volumeUsers(containers: readonly ContainerRecord[]): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const c of containers) {
    for (const name of new Set(volumesOf(c))) users.set(name, [...(users.get(name) ?? []), c.id]);
  }
  return users;
}
