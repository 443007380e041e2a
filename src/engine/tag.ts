import { canonicalString, familiarString, parseReference, type ImageReference } from '../image/reference';
import { withLock } from '../state/lock';
import { NotFoundError } from '../errors';
import { SkiffError } from '../util/errors';
import type { Engine } from './context';

/**
 * The reference a new tag may have, as Docker's TagImage checks it: `name` alone means
 * `name:latest`, and a digest is refused (a digest names content, it cannot be moved).
 */
export function tagTarget(target: string): ImageReference {
  const ref = parseReference(target);
  if (ref.digest !== undefined) throw new SkiffError(`refusing to create a tag with a digest reference: ${target}`, 125);
  if (ref.repository === 'library/sha256' || ref.repository === 'sha256') {
    throw new SkiffError(`refusing to create an ambiguous tag using digest algorithm as name: ${target}`, 125);
  }
  return ref;
}

/** `skiff tag SOURCE TARGET`: SOURCE by name or ID; TARGET is created or moved. */
export async function tagImage(engine: Engine, source: string, target: string): Promise<void> {
  const ref = tagTarget(target);
  const tag = canonicalString(ref);
  await withLock(engine.images.lockFile, () => {
    const image = engine.images.find(source);
    if (!image) throw new NotFoundError(`No such image: ${source}`);
    if (image.repoTags.includes(tag)) return;
    engine.images.moveTags(image, [tag]);
  });
}

/** Docker prints tags and digests in their familiar form: busybox:latest, user/app@sha256:… */
export function familiarRef(canonical: string): string {
  return familiarString(parseReference(canonical));
}
