import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobStore } from '../../src/image/blob-store';
import { ImageStore, type ImageCommit, type LayerDescriptor } from '../../src/image/store';
import { chainIds } from '../../src/image/chain-id';

let root: string;
let store: ImageStore;
let blobs: BlobStore;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-commit-'));
  blobs = new BlobStore(root);
  store = new ImageStore(root, blobs);
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const sha = (b: Uint8Array | string) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

/** A config with its diff IDs (the image ID is its digest), and layer descriptors for them. */
function image(name: string, layerCount = 2): { configBytes: Buffer; layers: LayerDescriptor[] } {
  const diffIds = Array.from({ length: layerCount }, (_, i) => sha(`${name} diff ${i}`));
  const configBytes = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: { Cmd: [name] }, rootfs: { type: 'layers', diff_ids: diffIds },
  }));
  const layers = diffIds.map((diffId, i) => ({
    mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(`${name} blob ${i}`), size: 100 + i, diffId,
  }));
  return { configBytes, layers };
}

const manifestOf = (name: string) => {
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, name }));
  return { digest: sha(bytes), bytes };
};

function commit(c: Partial<ImageCommit> & Pick<ImageCommit, 'configBytes' | 'layers'>) {
  return store.commit({ source: 'load', size: 1000, tags: [], ...c });
}

const TAG = 'docker.io/library/app:latest';
const OTHER_TAG = 'docker.io/library/app:v1';

describe('ImageStore.commit', () => {
  it('records the image under its config digest, with chain IDs, layers, size and config blob', async () => {
    const a = image('a');
    const rec = await commit({ ...a, tags: [TAG] });
    expect(rec.id).toBe(sha(a.configBytes));
    expect(rec.chainIds).toEqual(chainIds(a.layers.map((l) => l.diffId)));
    expect(rec.layers).toEqual(a.layers);
    expect(rec.size).toBe(1000);
    expect(rec.config.config?.Cmd).toEqual(['a']);
    expect(rec.repoTags).toEqual([TAG]);
    expect(store.get(rec.id)).toEqual(rec);
    expect(blobs.read(rec.id)).toEqual(a.configBytes);
  });

  it('moves a tag from the image that had it, which keeps its other tags', async () => {
    const a = await commit({ ...image('a'), tags: [TAG, OTHER_TAG] });
    const b = await commit({ ...image('b'), tags: [TAG] });
    expect(store.get(b.id)?.repoTags).toEqual([TAG]);
    expect(store.get(a.id)?.repoTags).toEqual([OTHER_TAG]);
    expect(store.find('app')?.id).toBe(b.id);
  });

  it('leaves the image that lost its last tag dangling (still recorded)', async () => {
    const a = await commit({ ...image('a'), tags: [TAG] });
    await commit({ ...image('b'), tags: [TAG] });
    expect(store.get(a.id)?.repoTags).toEqual([]);
  });

  it('the same image twice is one record: tags added, first record time kept', async () => {
    const a = image('a');
    const first = await commit({ ...a, tags: [TAG], recordedAt: '2024-01-01T00:00:00.000Z' });
    const again = await commit({ ...a, tags: [OTHER_TAG], recordedAt: '2025-01-01T00:00:00.000Z' });
    expect(again.id).toBe(first.id);
    expect(store.list()).toHaveLength(1);
    expect(store.get(first.id)?.repoTags).toEqual([TAG, OTHER_TAG]);
    expect(store.get(first.id)?.loadedAt).toBe('2024-01-01T00:00:00.000Z');
  });

  it('a pull records its manifest and repo digest (once), and stores the manifest blob', async () => {
    const a = image('a');
    const m = manifestOf('a');
    const repoDigest = `docker.io/library/app@${m.digest}`;
    await commit({ ...a, source: 'pull', manifest: m, repoDigest, tags: [TAG] });
    const rec = await commit({ ...a, source: 'pull', manifest: m, repoDigest, tags: [TAG] });
    expect(rec.manifestDigest).toBe(m.digest);
    expect(store.get(rec.id)?.repoDigests).toEqual([repoDigest]);
    expect(store.get(rec.id)?.repoTags).toEqual([TAG]);
    expect(blobs.read(m.digest)).toEqual(m.bytes);
    expect(store.find(repoDigest)?.id).toBe(rec.id);
  });

  it('a pull replaces the layers and manifest a load recorded; a load keeps a pulled one', async () => {
    const a = image('a');
    const loadedLayers = a.layers.map((l) => ({ ...l, mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(`${l.digest} plain`) }));
    const loadedManifest = manifestOf('loaded');
    const pulledManifest = manifestOf('pulled');
    await commit({ configBytes: a.configBytes, layers: loadedLayers, manifest: loadedManifest });
    const pulled = await commit({ ...a, source: 'pull', manifest: pulledManifest });
    expect(store.get(pulled.id)?.manifestDigest).toBe(pulledManifest.digest);
    expect(store.get(pulled.id)?.layers).toEqual(a.layers);
    await commit({ configBytes: a.configBytes, layers: loadedLayers, manifest: loadedManifest });
    expect(store.get(pulled.id)?.manifestDigest).toBe(pulledManifest.digest);
    expect(store.get(pulled.id)?.layers).toEqual(a.layers);
  });

  it('a load fills in a missing manifest only when its layer blobs are the recorded ones', async () => {
    const a = image('a');
    const rec = await commit({ ...a });
    expect(rec.manifestDigest).toBeUndefined();
    const otherBlobs = a.layers.map((l) => ({ ...l, digest: sha(`${l.digest} other`) }));
    await commit({ configBytes: a.configBytes, layers: otherBlobs, manifest: manifestOf('other') });
    expect(store.get(rec.id)?.manifestDigest).toBeUndefined();
    const m = manifestOf('same');
    await commit({ ...a, manifest: m });
    expect(store.get(rec.id)?.manifestDigest).toBe(m.digest);
  });

  it('writes nothing when the manifest does not match its digest', async () => {
    const a = image('a');
    await expect(commit({ ...a, manifest: { digest: sha('x'), bytes: Buffer.from('y') } })).rejects.toThrow(/content has digest/);
    expect(store.list()).toEqual([]);
  });
});
