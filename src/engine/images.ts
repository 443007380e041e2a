import fs from 'node:fs';
import { layerDir, layersRoot } from '../storage/layout';
import { canonicalString, familiarName, fullName, parseReference } from '../image/reference';
import type { ImageRecord } from '../image/store';
import { withLock } from '../state/lock';
import { collectUnlessInUse } from './layers-in-use';
import { ConflictError, NotFoundError, type SkiffError } from '../errors';
import { goTimeString, humanDuration, humanSize, shortId } from '../util/format';
import { goStruct } from '../util/go-template';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { IMAGES_FILTERS, createdMs, filterImages, parseFilters } from './image-filters';
import { familiarRef } from './tag';

export interface ImagesOptions {
  noTrunc: boolean; all: boolean; reference?: string;
  filters?: string[]; digests?: boolean;
}

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

export const IMAGE_HEADERS = {
  Containers: 'CONTAINERS', CreatedAt: 'CREATED AT', CreatedSince: 'CREATED', Digest: 'DIGEST', ID: 'IMAGE ID',
  Repository: 'REPOSITORY', SharedSize: 'SHARED SIZE', Size: 'SIZE', Tag: 'TAG', UniqueSize: 'UNIQUE SIZE',
  VirtualSize: 'VIRTUAL SIZE',
};

/**
 * One row per repository tag, as docker-cli's imageFormatTaggedAndDigest: with --digests a row
 * per tag and digest of the same repository; digests whose repository has no tag get their own
 * row; an image with neither is <none> <none>. Keys are in alphabetical order (Docker's
 * {{json .}} sorts them).
 */
function imageRows(i: ImageRecord, o: ImagesOptions, now: number): object[] {
  const tagsByRepo = new Map<string, string[]>();
  const digestsByRepo = new Map<string, string[]>();
  for (const t of i.repoTags) {
    const r = parseReference(t);
    const repo = familiarName(r);
    tagsByRepo.set(repo, [...(tagsByRepo.get(repo) ?? []), r.tag ?? '<none>']);
  }
  for (const d of i.repoDigests) {
    const r = parseReference(d);
    if (!r.digest) continue;
    const repo = familiarName(r);
    digestsByRepo.set(repo, [...(digestsByRepo.get(repo) ?? []), r.digest]);
  }
  const cells: [string, string, string][] = [];
  for (const [repo, tags] of tagsByRepo) {
    const digests = o.digests ? digestsByRepo.get(repo) ?? [] : [];
    digestsByRepo.delete(repo);
    for (const tag of tags) {
      if (digests.length === 0) cells.push([repo, tag, '<none>']);
      else for (const d of digests) cells.push([repo, tag, d]);
    }
  }
  for (const [repo, digests] of digestsByRepo) {
    if (o.digests) for (const d of digests) cells.push([repo, '<none>', d]);
    else cells.push([repo, '<none>', '']);
  }
  if (cells.length === 0) cells.push(['<none>', '<none>', '<none>']);
  const created = createdMs(i);
  const size = humanSize(i.size);
  return cells.map(([Repository, Tag, Digest]) => goStruct({
    Containers: 'N/A',
    CreatedAt: i.config.created ? goTimeString(new Date(created)) : 'N/A',
    CreatedSince: i.config.created ? `${humanDuration(now - created)} ago` : 'N/A',
    Digest,
    ID: o.noTrunc ? i.id : shortId(i.id),
    Repository,
    SharedSize: 'N/A',
    Size: size,
    Tag,
    UniqueSize: 'N/A',
    VirtualSize: size,
  }, '*formatter.imageContext'));
}

/** `skiff images`: one row per tag, dangling images as <none>, newest first (as Docker). */
export function listImages(engine: Engine, o: ImagesOptions, now = Date.now()): object[] {
  const filters = parseFilters(o.filters ?? [], IMAGES_FILTERS);
  let images = engine.images.list().sort((a, b) => createdMs(b) - createdMs(a));
  images = filterImages(images, filters, { find: (r) => mustFindImage(engine, r), now });
  if (o.reference) {
    const filter = o.reference;
    images = images.flatMap((i) => {
      const tags = matchingTags(i.repoTags, filter);
      return tags.length ? [{ ...i, repoTags: tags }] : [];
    });
  }
  return images.flatMap((i) => imageRows(i, o, now));
}

/** The default table of `images` (with a DIGEST column for --digests). */
export function imagesDefaultFormat(digests: boolean): string {
  return digests
    ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'
    : 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
}

export function mustFindImage(engine: Engine, nameOrId: string): ImageRecord {
  const image = engine.images.find(nameOrId);
  if (!image) throw new NotFoundError(`No such image: ${nameOrId}`);
  return image;
}

// ---------------------------------------------------------------------------------------------
// rmi

/** Is `nameOrId` an ID (or ID prefix) of `image` rather than a name? (Docker's isImageIDPrefix) */
function isIdPrefix(image: ImageRecord, nameOrId: string): boolean {
  return image.id.startsWith(nameOrId) || image.id.slice('sha256:'.length).startsWith(nameOrId);
}

/**
 * The references that go away when the user removes `name` (a tag or a digest reference), as
 * the containerd image store's getSameReferences: a tag, plus the digest references of its
 * repository once no other tag of that repository is left; a digest reference removes every
 * reference of its repository.
 */
function sameReferences(image: ImageRecord, name: string): string[] {
  const ref = parseReference(name);
  const repo = fullName(ref);
  const inRepo = (r: string) => fullName(parseReference(r)) === repo;
  if (ref.digest !== undefined && ref.tag === undefined) {
    return [...image.repoTags.filter(inRepo), ...image.repoDigests.filter(inRepo)];
  }
  const tag = canonicalString({ ...ref, digest: undefined });
  const otherTagsInRepo = image.repoTags.filter((t) => t !== tag && inRepo(t));
  return [tag, ...(otherTagsInRepo.length ? [] : image.repoDigests.filter(inRepo))];
}

function conflict(what: string, forced: 'must be forced' | 'cannot be forced', why: string): SkiffError {
  return new ConflictError(`conflict: unable to delete ${what} (${forced}) - ${why}`);
}

/**
 * `skiff rmi`, with the semantics of Docker's containerd image store:
 *  - by name: remove that reference; when it was the image's last one, delete the image, but if
 *    a container (running or stopped) uses it, refuse without -f, and with -f untag it and leave
 *    it dangling (the container still needs it);
 *  - by ID: delete the image with all its references; refused without -f when it has several
 *    tags or a stopped container uses it, and always while a running container uses it.
 * Layers and blobs no other image or container needs are removed afterwards.
 */
export async function removeImage(engine: Engine, nameOrId: string, force: boolean): Promise<string[]> {
  const out: string[] = [];
  const { isLive, refreshState } = await import('./container-state');
  const isRunning = (c: ContainerRecord) => isLive(refreshState(engine, c));
  let deleted: ImageRecord | undefined;
  // a name that names nothing is "No such image" before any lock (a fresh store has no lock file's directory)
  mustFindImage(engine, nameOrId);
  await withLock(engine.images.lockFile, () => {
    const image = mustFindImage(engine, nameOrId);
    const users = engine.containers.list().filter((c) => c.imageId === image.id);
    const all = [...image.repoTags, ...image.repoDigests];
    if (!isIdPrefix(image, nameOrId)) {
      const same = sameReferences(image, nameOrId).filter((r) => all.includes(r));
      if (same.length < all.length) {
        engine.images.save({
          ...image,
          repoTags: image.repoTags.filter((t) => !same.includes(t)),
          repoDigests: image.repoDigests.filter((d) => !same.includes(d)),
        });
        out.push(...same.map((r) => `Untagged: ${familiarRef(r)}`));
        return;
      }
      if (users.length) {
        if (!force) {
          throw conflict(familiarRef(canonicalString(parseReference(nameOrId))), 'must be forced',
            `container ${shortId(users[0].id)} is using its referenced image ${shortId(image.id)}`);
        }
        // -f: the image stays, dangling, for the containers that use it
        engine.images.save({ ...image, repoTags: [], repoDigests: [] });
        out.push(...all.map((r) => `Untagged: ${familiarRef(r)}`));
        return;
      }
    } else {
      const running = users.find(isRunning);
      if (running) throw conflict(shortId(image.id), 'cannot be forced', `image is being used by running container ${shortId(running.id)}`);
      if (!force && users.length) throw conflict(shortId(image.id), 'must be forced', `image is being used by stopped container ${shortId(users[0].id)}`);
      if (!force && all.length > 1) throw conflict(shortId(image.id), 'must be forced', 'image is referenced in multiple repositories');
    }
    out.push(...all.map((r) => `Untagged: ${familiarRef(r)}`));
    engine.images.remove(image.id);
    out.push(`Deleted: ${image.id}`);
    deleted = image;
  });
  if (deleted) await pruneLayers(engine, [deleted]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// garbage

/**
 * Blobs (configs, manifests, layer blobs) that an image refers to: what push and save need.
 */
export function imageBlobs(i: ImageRecord): string[] {
  return [i.id, ...(i.manifestDigest ? [i.manifestDigest] : []), ...(i.layers ?? []).map((l) => l.digest)];
}

/**
 * An unreferenced blob younger than this may belong to a load or pull that has stored its blobs
 * but not yet its image record: only blobs of images just removed are deleted sooner.
 */
const BLOB_GRACE_MS = 60 * 60 * 1000;

/**
 * Delete unpacked layers that no image and no container references any more, and blobs that no
 * image references: those of `removed` (images just deleted) at once, others after a grace period.
 * Returns the bytes freed by blobs and layer records (0 when layers are in use elsewhere and the
 * collection is left for later).
 */
export async function pruneLayers(engine: Engine, removed: ImageRecord[] = []): Promise<number> {
  const layers = await engine.layers();
  // Not while a pull, load, import or create in another process may be about to reference
  // layers or blobs that no record names yet (layers-in-use.ts): then later.
  const collected = await collectUnlessInUse(engine, () => withLock(engine.images.lockFile, async () => {
    const images = engine.images.list();
    const containers: ContainerRecord[] = engine.containers.list();
    const used = new Set<string>([
      ...images.flatMap((i) => i.chainIds),
      ...containers.flatMap((c) => c.storage.layers),
    ].map((c) => c.replace(/^sha256:/, '')));
    const dataRoot = engine.paths.dataRoot;
    let names: string[] = [];
    try { names = fs.readdirSync(layersRoot(dataRoot)); } catch { /* no layers yet */ }
    const unused = names.filter((n) => /^[0-9a-f]{64}$/.test(n) && !used.has(n));
    let freed = 0;
    for (const n of unused) {
      const rec = layers.record(`sha256:${n}`);
      freed += rec?.size ?? 0;
    }
    if (unused.length) await layers.removeTree(...unused.map((n) => layerDir(dataRoot, n)));

    const referenced = new Set(images.flatMap(imageBlobs));
    const justRemoved = new Set(removed.flatMap(imageBlobs));
    const now = Date.now();
    for (const digest of engine.blobs.list()) {
      if (referenced.has(digest)) continue;
      let st: fs.Stats;
      try { st = fs.statSync(engine.blobs.path(digest)); } catch { continue; }
      if (!justRemoved.has(digest) && now - st.mtimeMs < BLOB_GRACE_MS) continue;
      engine.blobs.remove(digest);
      freed += st.size;
    }
    return freed;
  }));
  return collected?.value ?? 0;
}
