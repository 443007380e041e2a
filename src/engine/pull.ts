/**
 * `skiff pull`: resolve a reference on its registry (index → this platform's manifest), fetch
 * and verify the config, then stream every missing layer at once through digest verification,
 * decompression and the storage helper (a few layers in parallel). A layer is committed only
 * after both its compressed digest and its diff ID matched; the image record is written last,
 * so an interrupted pull leaves no image, and the layers it finished are reused next time.
 */
import { UpstreamError } from '../errors';
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { imageManifestFromRegistry, type PulledManifest } from '../image/registry/resolve';
import { createProgress, type Progress } from '../image/progress';
import { downloadVerifiedBlob, EarlyBlobRequest, type BlobSource } from '../image/registry/blob-download';
import { RegistryClient } from '../image/registry/client';
import { getCredentials } from '../image/registry/credentials';
import { registryHostConfig } from '../image/registry/registry-config';
import { canonicalString, familiarString, fullName, parseReference, type ImageReference } from '../image/reference';
import type { ImageRecord } from '../image/store';
import type { LayerStore } from '../storage/layer-store';
import { runBounded } from '../util/bounded';
import { SkiffError } from '../util/errors';
import type { Engine } from './context';
import { usingLayers } from './layers-in-use';

export interface PullOptions {
  /** `--platform os/arch[/variant]` */
  platform?: string;
  /** `-q`: print only the reference at the end */
  quiet?: boolean;
  /** `--tls-verify=false` */
  tlsVerify?: boolean;
  /** where progress goes: stdout for `pull`, stderr for `run` */
  out: Writable & { isTTY?: boolean };
  /** `pull` ends with the full reference on a line of its own; `run` does not */
  printReference?: boolean;
}

export interface PullResult { image: ImageRecord; reference: string; upToDate: boolean }

/**
 * Layers fetched and unpacked at once: Podman's default (containers/image MaxParallelDownloads);
 * Docker's is 3. Each layer is a helper inflating and creating files, so with more layers than
 * that in flight, the last ones start only when earlier ones end and a core can sit idle.
 */
export const PARALLEL_LAYERS = 6;

export async function pullImage(engine: Engine, name: string, o: PullOptions): Promise<PullResult> {
  const ref = parseReference(name);
  const progress = await createProgress(o.out, o.quiet ? 'quiet' : undefined);
  const paths = engine.paths;
  const host = registryHostConfig(engine.registries, ref.registry, { tlsVerify: o.tlsVerify });
  const client = new RegistryClient(host, await getCredentials(paths, ref.registry));
  const early = new Map<string, EarlyBlobRequest>();
  try {
    if (!ref.digest && !hasExplicitTag(name)) progress.line(`Using default tag: ${ref.tag}`);
    const { pulled, layerStore } = await resolveWhileStoreGetsReady(engine, client, ref, o.platform, early);
    // Docker names the repository path without the registry: "latest: Pulling from library/busybox".
    progress.line(`${ref.digest ?? ref.tag}: Pulling from ${ref.repository}`);
    const existing = engine.images.get(pulled.configDigest);
    const workDir = layerStore.tempDir('pull');
    let upToDate: boolean;
    let image: ImageRecord;
    try {
      upToDate = Boolean(existing) && pulled.layers.every((l, i) => layerStore.has(pulled.chainIds[i]) && engine.blobs.has(l.digest));
      // From the first layer until the record names them, no collector may take them.
      image = await usingLayers(engine, async () => {
        const sizes = await pullLayers(engine, layerStore, client, ref, pulled, workDir, progress, early);
        return recordImage(engine, ref, pulled, sizes);
      });
    } finally {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
    progress.done();
    const shown = familiarString(ref);
    progress.line(`Digest: ${pulled.topDigest}`);
    progress.line(upToDate ? `Status: Image is up to date for ${shown}` : `Status: Downloaded newer image for ${shown}`);
    if (o.printReference !== false) o.out.write(`${canonicalString(ref)}\n`);
    return { image, reference: canonicalString(ref), upToDate };
  } finally {
    // Answers no download read (a layer another pull finished meanwhile, a failed pull): or
    // client.close() would wait for them.
    for (const r of early.values()) r.cancel();
    progress.done();
    await client.close();
  }
}

/** vfs copies the parent into each layer, so its layers must be unpacked in order. */
function parallelLayers(layers: LayerStore): number {
  return layers.driver === 'vfs' ? 1 : PARALLEL_LAYERS;
}

/**
 * Fetch the manifest and the config. Once the manifest names the layers, while the config is
 * fetched: the requests for the first blobs to unpack (those the store lacks, as many as are
 * unpacked at once) are sent, into `early`, so that the registry answers them while the helpers
 * start; and the layer store gets ready (a new store's storage driver is probed by a helper
 * trying an overlay mount, ~20 ms).
 */
async function resolveWhileStoreGetsReady(engine: Engine, client: RegistryClient, ref: ImageReference,
  platform: string | undefined, early: Map<string, EarlyBlobRequest>): Promise<{ pulled: PulledManifest; layerStore: LayerStore }> {
  let layerStoreReady: Promise<LayerStore> | undefined;
  const onLayers = (blobs: { digest: string; size: number }[]) => {
    const missing = blobs.filter((b) => !engine.blobs.has(b.digest));
    for (const b of missing.slice(0, PARALLEL_LAYERS)) {
      early.set(b.digest, new EarlyBlobRequest({ client, repo: ref.repository, digest: b.digest, size: b.size }));
    }
    layerStoreReady = engine.layers();
    layerStoreReady.catch(() => undefined); // awaited below
  };
  let pulled: PulledManifest;
  try {
    pulled = await imageManifestFromRegistry(client, ref, { platform, onLayers });
  } catch (e) {
    // The registry's error is the one reported; a probe started meanwhile finishes (and
    // removes its directory) first.
    await layerStoreReady?.catch(() => undefined);
    throw e;
  }
  const layerStore = await (layerStoreReady ?? engine.layers());
  const parallel = parallelLayers(layerStore);
  // vfs unpacks one layer at a time: the other answers would wait on open connections.
  for (const [digest, r] of [...early].slice(parallel)) {
    r.cancel();
    early.delete(digest);
  }
  return { pulled, layerStore };
}

/** Did the user name a tag (Docker says "Using default tag" otherwise)? */
function hasExplicitTag(name: string): boolean {
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last.includes(':') || last.includes('@');
}

/** Download and unpack the layers that are missing; returns each layer's unpacked size. */
async function pullLayers(engine: Engine, layers: LayerStore, client: RegistryClient, ref: ImageReference,
  pulled: PulledManifest, workDir: string, progress: Progress, early: Map<string, EarlyBlobRequest>): Promise<number[]> {
  const sizes: number[] = new Array(pulled.layers.length).fill(0);
  const bars = pulled.layers.map((l) => progress.layer(l.digest.slice(7, 19)));
  const jobs = pulled.layers.map((l, i) => async () => {
    const bar = bars[i];
    const chain = pulled.chainIds[i];
    const src: BlobSource = { client, repo: ref.repository, digest: l.digest, size: l.size, early: early.get(l.digest) };
    const tmp = path.join(workDir, `${i}.blob`);
    let downloadError: Error | undefined;
    const hooks = {
      onProgress: (n: number) => bar.bytes('Downloading', n, l.size),
      onRetry: (attempt: number, e: Error) => bar.state(`Retrying in a moment (${attempt}): ${e.message}`),
      onFail: (e: Error) => { downloadError ??= e; },
    };
    if (layers.has(chain) && engine.blobs.has(l.digest)) {
      bar.state('Already exists');
      sizes[i] = layers.record(chain)?.size ?? 0;
      return;
    }
    let verified = false;
    // The helper writes the blob file (tmp) as it reads the bytes; Node hashes them on the way.
    const rec = await layers.ensure(chain, pulled.chainIds[i - 1], l.diffId,
      (sink) => downloadVerifiedBlob(src, { sink }, hooks).then(() => { verified = true; }),
      {
        blobOut: tmp,
        beforeCommit: () => {
          if (!verified) throw new SkiffError(`${client.registry}/${ref.repository}: blob ${l.digest} was unpacked but never verified`);
          engine.blobs.adopt(tmp, l.digest);
        },
      }).catch((e: unknown) => { throw downloadError ?? blameBlob(e, client.registry, ref.repository, l.digest); });
    sizes[i] = rec.size;
    if (!engine.blobs.has(l.digest)) {
      // Another pull unpacked this layer first but its blob is not here: fetch the blob alone.
      await downloadVerifiedBlob(src, { file: tmp }, hooks);
      engine.blobs.adopt(tmp, l.digest);
    }
    bar.state('Pull complete');
  });
  await runBounded(jobs, parallelLayers(layers));
  return sizes;
}

/**
 * A layer that fails to unpack before its digest could be checked (bad gzip, a broken tar) came
 * from a corrupt blob: say which one. Errors that already name it (network, digest) pass through.
 */
function blameBlob(e: unknown, registry: string, repo: string, digest: string): unknown {
  if (!(e instanceof Error) || e.message.includes(digest)) return e;
  return new UpstreamError(`${registry}/${repo}: blob ${digest} is corrupt or not a layer (${e.message}); nothing of it was stored`);
}

/** Record the image under its tag (if the reference has one) and its registry digest. */
function recordImage(engine: Engine, ref: ImageReference, pulled: PulledManifest, sizes: number[]): Promise<ImageRecord> {
  return engine.images.commit({
    source: 'pull',
    configBytes: pulled.configBytes,
    layers: pulled.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size, diffId: l.diffId })),
    size: sizes.reduce((a, b) => a + b, 0),
    manifest: { digest: pulled.manifestDigest, bytes: pulled.manifestBytes },
    repoDigest: `${fullName(ref)}@${pulled.topDigest}`,
    tags: ref.tag ? [canonicalString({ ...ref, digest: undefined })] : [],
  });
}
