/**
 * `skiff push`: send an image's blobs and manifest to its registry. A blob the registry already
 * has is skipped (HEAD); one it has in another repository is mounted across; the rest are
 * uploaded in one PUT (small) or in PATCH chunks (large). The manifest goes last, so a failed
 * push never leaves a tag pointing at missing blobs.
 */
import fs from 'node:fs';
import { Transform, type Writable } from 'node:stream';
import { imageManifest, requireLayerBlobs } from '../image/manifest';
import { createProgress, type LayerProgress } from '../image/progress';
import { RegistryClient } from '../image/registry/client';
import { getCredentials } from '../image/registry/credentials';
import { registryHostConfig } from '../image/registry/registry-config';
import { familiarString, fullName, parseReference, type ImageReference } from '../image/reference';
import { withLock } from '../state/lock';
import { runBounded } from '../util/bounded';
import { SkiffError } from '../util/errors';
import type { Engine } from './context';

export interface PushOptions {
  quiet?: boolean;
  tlsVerify?: boolean;
  out: Writable & { isTTY?: boolean };
}

/** Blobs up to this size go in one request; larger ones in chunks of this size. */
export const DEFAULT_CHUNK_SIZE = 32 * 1024 * 1024;
/** Uploads at once (Docker's max-concurrent-uploads default). */
export const PARALLEL_UPLOADS = 5;

interface BlobToPush { digest: string; size: number; progress?: LayerProgress }

export async function pushImage(engine: Engine, name: string, o: PushOptions): Promise<string> {
  const ref = parseReference(name);
  if (ref.digest && !ref.tag) throw new SkiffError(`cannot push ${name}: push a tag, not a digest`);
  const image = engine.images.find(familiarString({ ...ref, digest: undefined }));
  if (!image || !image.repoTags.includes(`${fullName(ref)}:${ref.tag}`)) {
    throw new SkiffError(`An image does not exist locally with the tag: ${familiarString({ ...ref, tag: undefined, digest: undefined })}${ref.tag === 'latest' ? '' : `:${ref.tag}`}`, 1);
  }
  const layers = requireLayerBlobs(engine.blobs, image);
  const manifest = imageManifest(engine.blobs, image);
  const progress = await createProgress(o.out, o.quiet ? 'quiet' : undefined);
  const host = registryHostConfig(engine.registries, ref.registry, { tlsVerify: o.tlsVerify });
  const client = new RegistryClient(host, await getCredentials(engine.paths, ref.registry));
  const chunkSize = engine.config.pushChunkSize ?? DEFAULT_CHUNK_SIZE;
  // Repositories on the same registry that already hold this image: candidates for a mount.
  const mountFrom = image.repoDigests.map((d) => parseReference(d))
    .filter((r) => r.registry === ref.registry && r.repository !== ref.repository).map((r) => r.repository);
  try {
    progress.line(`The push refers to repository [${fullName(ref)}]`);
    const blobs: BlobToPush[] = layers.map((l) => ({ digest: l.digest, size: l.size, progress: progress.layer(l.digest.slice(7, 19)) }));
    for (const b of blobs) b.progress!.state('Preparing');
    await runBounded(blobs.map((b) => () => pushBlob(engine, client, ref, b, chunkSize, mountFrom)), PARALLEL_UPLOADS);
    await pushBlob(engine, client, ref, { digest: image.id, size: engine.blobs.size(image.id) ?? 0 }, chunkSize, mountFrom);
    await client.putManifest(ref.repository, ref.tag!, manifest.mediaType, manifest.bytes);
    progress.done();
    // The registry now serves the image under this digest: record it as Docker does.
    engine.blobs.writeBytes(manifest.digest, manifest.bytes);
    await withLock(engine.images.lockFile, () => {
      const rec = engine.images.get(image.id);
      if (!rec) return;
      const repoDigest = `${fullName(ref)}@${manifest.digest}`;
      if (!rec.repoDigests.includes(repoDigest)) rec.repoDigests = [...rec.repoDigests, repoDigest];
      rec.manifestDigest ??= manifest.digest;
      engine.images.save(rec);
    });
    const line = `${ref.tag}: digest: ${manifest.digest} size: ${manifest.bytes.length}`;
    if (o.quiet) o.out.write(`${familiarString({ ...ref, digest: undefined })}\n`);
    else progress.line(line);
    return manifest.digest;
  } finally {
    progress.done();
    await client.close();
  }
}

async function pushBlob(engine: Engine, client: RegistryClient, ref: ImageReference, b: BlobToPush, chunkSize: number, mountFrom: string[]): Promise<void> {
  const repo = ref.repository;
  if (await client.blobExists(repo, b.digest)) {
    b.progress?.state('Layer already exists');
    return;
  }
  // One mount attempt (as Docker): when the registry cannot mount, it opens an upload instead.
  const from = mountFrom[0];
  let url = await client.startUpload(repo, from ? { digest: b.digest, from } : undefined);
  if (url === null) {
    b.progress?.state(`Mounted from ${from}`);
    return;
  }
  const file = engine.blobs.path(b.digest);
  const show = (n: number) => b.progress?.bytes('Pushing', n, b.size);
  if (b.size <= chunkSize) {
    await client.uploadPart(repo, url, { body: fs.createReadStream(file).pipe(counter(0, show)), start: 0, length: b.size, digest: b.digest });
  } else {
    for (let start = 0; start < b.size; start += chunkSize) {
      const length = Math.min(chunkSize, b.size - start);
      const body = fs.createReadStream(file, { start, end: start + length - 1 }).pipe(counter(start, show));
      url = await client.uploadPart(repo, url, { body, start, length });
    }
    await client.uploadPart(repo, url, { body: Buffer.alloc(0), start: b.size, length: 0, digest: b.digest });
  }
  b.progress?.state('Pushed');
}

/** Counts bytes through it for the progress line, starting at `base`. */
function counter(base: number, report: (n: number) => void): Transform {
  let n = base;
  return new Transform({
    transform(chunk: Buffer, _e, done) {
      n += chunk.length;
      report(n);
      done(null, chunk);
    },
  });
}
