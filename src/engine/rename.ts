import { withLock } from '../state/lock';
import { SkiffError } from '../util/errors';
import type { Engine } from './context';
import { VALID_NAME } from './names';
import { nameInUse } from './create';

/** `rename CONTAINER NEW_NAME`, checked and written under containers.lock (names are unique). */
export async function renameContainer(engine: Engine, nameOrId: string, newName: string): Promise<void> {
  const bare = newName.replace(/^\//, '');
  if (!bare) throw new SkiffError('Neither old nor new names may be empty', 1);
  if (!VALID_NAME.test(newName)) {
    throw new SkiffError(`Error when allocating new name: Invalid container name (${newName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`, 1);
  }
  await withLock(engine.containers.lockFile, () => {
    const c = engine.containers.mustFind(nameOrId);
    if (c.name === bare) throw new SkiffError('Renaming a container with the same name as its current name', 1);
    // the new name's entry first, then the record, then the old entry goes (container-store.ts)
    const owner = engine.containers.claimName(bare, c.id);
    if (owner) {
      throw new SkiffError(`Error when allocating new name: ${nameInUse(bare, owner).message}`, 1); // Docker's words here
    }
    const old = c.name;
    c.name = bare;
    try {
      engine.containers.save(c);
    } catch (e) {
      engine.containers.releaseName(bare, c.id);
      throw e;
    }
    engine.containers.releaseName(old, c.id);
  });
}
