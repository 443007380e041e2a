// Layers that are about to be referenced, and the garbage collection that must not take them.
//
// A pull, load or import unpacks (or finds) its layers first and writes the image record that
// references them last; a create looks up its image's layers and then writes the container
// record. In between, nothing on disk says those layers are wanted, so an `rmi` or `image
// prune` in another process would see them as garbage. Each of those operations therefore
// holds a shared lock on DATA_ROOT/layers-in-use.lock for its whole run, and the collector
// takes it exclusively, without waiting: while anything holds it, unreferenced layers and
// blobs are left for a later collection (it cannot tell which of them an unwritten record is
// about to need, and an `rmi` should not hang behind a long pull).

import path from 'node:path';
import { withLockIfFree, withSharedLock } from '../state/lock';
import type { Engine } from './context';

function lockFile(engine: Engine): string {
  return path.join(engine.paths.dataRoot, 'layers-in-use.lock');
}

/** Run fn while layers it unpacks or looks up are safe from collection (waits only while one runs). */
export function usingLayers<T>(engine: Engine, fn: () => T | Promise<T>): Promise<T> {
  engine.ensureDirs();
  return withSharedLock(lockFile(engine), fn);
}

/** Run the collector fn unless an operation is using layers right now: then undefined. */
export function collectUnlessInUse<T>(engine: Engine, fn: () => T | Promise<T>): Promise<{ value: T } | undefined> {
  engine.ensureDirs();
  return withLockIfFree(lockFile(engine), fn);
}
