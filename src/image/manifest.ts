import crypto from 'node:crypto';
import { SkiffError } from '../util/errors';
import type { BlobStore } from './blob-store';
import { MEDIA_TYPES, layerCompression, layerMediaType } from './media-types';
import type { ImageRecord } from './store';

export interface ManifestBlob { mediaType: string; digest: string; bytes: Buffer }

/**
 * The image manifest to push or save for a stored image: the one it was pulled with when that is
 * in the blob store (so digests survive a round trip), otherwise one built from its layer blobs.
 * A built manifest is an OCI one when the layers are OCI media types, else Docker schema2, and
 * is serialised the way Docker does (compact JSON), so the same image always gives the same digest.
 */
export function imageManifest(blobs: BlobStore, image: ImageRecord): ManifestBlob {
  if (image.manifestDigest && blobs.has(image.manifestDigest)) {
    const bytes = blobs.read(image.manifestDigest);
    const mt = (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType ?? MEDIA_TYPES.ociManifest;
    return { mediaType: mt, digest: image.manifestDigest, bytes };
  }
  const layers = requireLayerBlobs(blobs, image);
  const oci = layers.some((l) => l.mediaType.startsWith('application/vnd.oci.'));
  const configSize = blobs.size(image.id);
  if (configSize === undefined) throw missingBlob(image, `config ${image.id}`);
  const mediaType = oci ? MEDIA_TYPES.ociManifest : MEDIA_TYPES.dockerManifest;
  const manifest = {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: oci ? MEDIA_TYPES.ociConfig : MEDIA_TYPES.dockerConfig, digest: image.id, size: configSize },
    layers: layers.map((l) => ({
      // A manifest mixes no families: map each layer type to this manifest's family.
      mediaType: layerMediaType(oci, layerCompression(l.mediaType) ?? 'none'),
      digest: l.digest,
      size: l.size,
    })),
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  return { mediaType, digest: `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`, bytes };
}

/** The image's layer descriptors, checked to be present in the blob store. */
export function requireLayerBlobs(blobs: BlobStore, image: ImageRecord): NonNullable<ImageRecord['layers']> {
  const layers = image.layers;
  if (!layers) throw missingBlob(image, 'layer blobs');
  for (const l of layers) if (!blobs.has(l.digest)) throw missingBlob(image, `layer ${l.digest}`);
  return layers;
}

function missingBlob(image: ImageRecord, what: string): SkiffError {
  return new SkiffError(`image ${image.id.slice(7, 19)}: its ${what} is not in the store (stored by an older skiff); pull or load the image again`);
}
