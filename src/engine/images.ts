import fs from 'node:fs';
import path from 'node:path';
import { canonicalString, familiarString, fullName, parseReference } from '../image/reference';
import type { ImageRecord } from '../image/store';
import { withLock } from '../state/lock';
import { SkiffError } from '../util/errors';
import { humanDuration, humanSize, shortId, table } from '../util/format';
import type { Engine } from './context';

export interface ImagesOptions { quiet: boolean; noTrunc: boolean; all: boolean; reference?: string }

/** `images REPOSITORY[:TAG]`: which of an image's tags match (all of the repository without a tag). */
export function matchingTags(repoTags: string[], filter: string): string[] {
  const hasTag = /:[^/]+$/.test(filter);
  const ref = parseReference(filter);
  const repo = fullName(ref);
  return repoTags.filter((t) => {
    const r = parseReference(t);
    return fullName(r) === repo && (!hasTag || r.tag === ref.tag);
  });
}

function splitTag(full: string): [string, string] {
  const ref = parseReference(full);
  const familiar = familiarString({ ...ref, tag: undefined, digest: undefined });
  return [familiar, ref.tag ?? '<none>'];
}

/** `skiff images`: one row per tag, dangling images as <none>, newest first (as Docker). */
export function listImages(engine: Engine, o: ImagesOptions, now = Date.now()): string {
  let images = engine.images.list().sort((a, b) => created(b) - created(a));
  if (o.reference) {
    const filter = o.reference;
    images = images.flatMap((i) => {
      const tags = matchingTags(i.repoTags, filter);
      return tags.length ? [{ ...i, repoTags: tags }] : [];
    });
  }
  const id = (i: ImageRecord) => (o.noTrunc ? i.id : shortId(i.id));
  if (o.quiet) return [...new Set(images.map(id))].map((x) => `${x}\n`).join('');
  const rows = images.flatMap((i) => {
    const tags = i.repoTags.length ? i.repoTags.map(splitTag) : [['<none>', '<none>']];
    const age = i.config.created ? `${humanDuration(now - created(i))} ago` : 'N/A';
    return tags.map(([repo, tag]) => [repo, tag, id(i), age, humanSize(i.size)]);
  });
  return table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows);
}

function created(i: ImageRecord): number {
  return i.config.created ? Date.parse(i.config.created) : 0;
}

/**
 * `skiff rmi`: by tag, untag; when no tag is left (or by ID), delete the image. Refuse while a
 * container uses it unless forced, as Docker does. Layers are kept when other images share them.
 */
export async function removeImage(engine: Engine, nameOrId: string, force: boolean): Promise<string[]> {
  const out: string[] = [];
  const image = engine.images.find(nameOrId);
  if (!image) throw new SkiffError(`No such image: ${nameOrId}`, 1);
  const byId = image.id.replace(/^sha256:/, '').startsWith(nameOrId.replace(/^sha256:/, ''));
  const users = engine.containers.list().filter((c) => c.imageId === image.id);
  let deleted = false;
  await withLock(engine.images.lockFile, () => {
    if (!byId) {
      const full = canonicalString(parseReference(nameOrId));
      if (image.repoTags.includes(full) && image.repoTags.length > 1) {
        engine.images.save({ ...image, repoTags: image.repoTags.filter((t) => t !== full) });
        out.push(`Untagged: ${familiarString(parseReference(full))}`);
        return;
      }
    } else if (image.repoTags.length > 1 && !force) {
      throw new SkiffError(`conflict: unable to delete ${shortId(image.id)} (must be forced) - image is referenced in multiple repositories`, 1);
    }
    if (users.length && !force) {
      throw new SkiffError(`conflict: unable to remove repository reference "${nameOrId}" (must force) - container ${shortId(users[0].id)} is using its referenced image ${shortId(image.id)}`, 1);
    }
    for (const t of image.repoTags) out.push(`Untagged: ${familiarString(parseReference(t))}`);
    engine.images.remove(image.id);
    out.push(`Deleted: ${image.id}`);
    deleted = true;
  });
  if (deleted && users.length === 0) await pruneLayers(engine);
  return out;
}

/** Delete unpacked layers that no image and no container references any more. */
export async function pruneLayers(engine: Engine): Promise<void> {
  const layers = await engine.layers();
  await withLock(engine.images.lockFile, async () => {
    const used = new Set<string>([
      ...engine.images.list().flatMap((i) => i.chainIds),
      ...engine.containers.list().flatMap((c) => c.storage.layers),
    ].map((c) => c.replace(/^sha256:/, '')));
    const root = path.join(engine.paths.dataRoot, 'layers');
    let names: string[] = [];
    try { names = fs.readdirSync(root); } catch { return; }
    const unused = names.filter((n) => /^[0-9a-f]{64}$/.test(n) && !used.has(n));
    if (unused.length) await layers.removeTree(...unused.map((n) => path.join(root, n)));
  });
}
