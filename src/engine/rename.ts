import { withLock } from '../state/lock';
import { SkiffError } from '../util/errors';
import type { Engine } from './context';
import { nameConflict } from './create';
import { VALID_NAME } from './names';

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
    const all = engine.containers.list();
    try {
      nameConflict(engine, bare, all);
    } catch (e) {
      // Docker's words for a taken name here
      throw new SkiffError(`Error when allocating new name: ${(e as Error).message}`, 1);
    }
    c.name = bare;
    engine.containers.save(c);
  });
}
