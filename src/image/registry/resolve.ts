/**
 * From a reference to what a pull must fetch: the manifest (through an index, picking the
 * platform), the image config, and each layer's blob descriptor paired with its diff ID. Every
 * document is checked against the digest that named it and validated before anything is used.
 */
import { UpstreamError } from '../../errors';
import { chainIds } from '../chain-id';
import { isIndexMediaType, isImageManifestMediaType, layerCompression, MEDIA_TYPES } from '../media-types';
import { isAttestation, isObject, parseDescriptor, parseImageConfig, type ImageConfigJson } from '../oci-json';
import { choosePlatform, hostPlatform, noMatchingPlatform, parsePlatform, platformMatches, platformString, type Platform } from '../platform';
import { fullName, type ImageReference } from '../reference';
import type { RegistryClient } from './client';

export interface PulledLayer { mediaType: string; digest: string; size: number; diffId: string }

export interface ResolveOptions {
  /** `--platform`: the platform to pick from an index (default: this host's) */
  platform?: string;
  /**
   * Called with the manifest's layers once they are checked, while the config is fetched (pull
   * sends the requests for the blobs it lacks and sets up its store meanwhile).
   */
  onLayers?: (layers: Omit<PulledLayer, 'diffId'>[]) => void;
}

export interface PulledManifest {
  /** what the reference resolved to (the index when there is one): the RepoDigest */
  topDigest: string;
  manifestDigest: string;
  manifestBytes: Buffer;
  configDigest: string;
  configBytes: Buffer;
  config: ImageConfigJson;
  layers: PulledLayer[];
  chainIds: string[];
}

const SCHEMA1 = new Set([
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
]);

export async function imageManifestFromRegistry(client: RegistryClient, ref: ImageReference,
  { platform: platformFlag, onLayers }: ResolveOptions = {}): Promise<PulledManifest> {
  const repo = ref.repository;
  const what = `${fullName(ref)}:${ref.tag ?? ''}${ref.digest ? `@${ref.digest}` : ''}`.replace(/:@/, '@');
  const fail = (msg: string) => new UpstreamError(`${client.registry}: ${msg}`);
  const wanted: Platform = platformFlag ? parsePlatform(platformFlag) : hostPlatform();

  const top = await client.getManifest(repo, ref.digest ?? ref.tag!);
  if (ref.digest && top.digest !== ref.digest) {
    throw fail(`manifest ${ref.digest} of ${repo} has content with digest ${top.digest}: refusing it`);
  }
  let doc = parseJson(top.bytes, `manifest of ${what}`, fail);
  let mediaType = mediaTypeOf(doc, top.mediaType);
  let manifest = top;
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw fail(`index ${top.digest} of ${what}: manifests is missing`);
    const entries = doc.manifests.map((m, i) => parseDescriptor(m, `index ${top.digest}: manifests[${i}]`, fail))
      .filter((d) => !isAttestation(d));
    const pick = choosePlatform(entries, wanted);
    if (!pick) throw noMatchingPlatform(wanted, entries, what);
    manifest = await client.getManifest(repo, pick.digest);
    if (manifest.digest !== pick.digest) throw fail(`manifest ${pick.digest} of ${repo} has content with digest ${manifest.digest}: refusing it`);
    doc = parseJson(manifest.bytes, `manifest ${pick.digest}`, fail);
    mediaType = mediaTypeOf(doc, manifest.mediaType);
    if (isIndexMediaType(mediaType)) throw fail(`index ${top.digest} of ${what} points to another index: nested indexes are not supported`);
  }
  if (mediaType && SCHEMA1.has(mediaType)) {
    throw fail(`${what} is a Docker schema 1 image, which is deprecated and not supported; push it again with a current tool`);
  }
  if (!isImageManifestMediaType(mediaType) && !(mediaType === undefined && doc.schemaVersion === 2 && 'layers' in doc)) {
    throw fail(`${what}: unsupported manifest media type ${mediaType ?? '(none)'}`);
  }

  const cd = parseDescriptor(doc.config, `manifest ${manifest.digest}: config`, fail);
  if (cd.mediaType && cd.mediaType !== MEDIA_TYPES.ociConfig && cd.mediaType !== MEDIA_TYPES.dockerConfig) {
    throw fail(`${what} is not a container image (its config is ${cd.mediaType})`);
  }
  if (!Array.isArray(doc.layers)) throw fail(`manifest ${manifest.digest}: layers is missing`);
  const blobs = doc.layers.map((l, i) => {
    const d = parseDescriptor(l, `manifest ${manifest.digest}: layers[${i}]`, fail);
    const mt = d.mediaType ?? MEDIA_TYPES.dockerLayerGzip;
    if (layerCompression(mt) === undefined) throw fail(`manifest ${manifest.digest}: layer ${d.digest} has unsupported media type ${mt}`);
    if (d.urls?.length) throw fail(`manifest ${manifest.digest}: layer ${d.digest} is a foreign layer (downloaded from ${d.urls[0]}), which skiff does not fetch`);
    if (d.size === undefined) throw fail(`manifest ${manifest.digest}: layer ${d.digest} has no size`);
    return { mediaType: mt, digest: d.digest, size: d.size };
  });
  // The config's request goes out first: what onLayers does holds the main thread a while.
  const configRequest = client.getBlobBytes(repo, cd.digest);
  onLayers?.(blobs);
  const configBytes = await configRequest;
  const config = parseImageConfig(parseJson(configBytes, `config ${cd.digest}`, fail), `config ${cd.digest}`, fail);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== blobs.length) {
    throw fail(`manifest ${manifest.digest} lists ${blobs.length} layers but its config ${cd.digest} has ${diffIds.length} diff IDs`);
  }
  if (platformFlag && config.os && config.architecture && !platformMatches({ os: config.os, architecture: config.architecture, variant: config.variant }, wanted)) {
    throw new UpstreamError(`image ${what} is for ${platformString({ os: config.os, architecture: config.architecture, variant: config.variant })}, not the requested ${platformString(wanted)}`);
  }
  const layers = blobs.map((b, i): PulledLayer => ({ ...b, diffId: diffIds[i] }));
  return {
    topDigest: top.digest, manifestDigest: manifest.digest, manifestBytes: manifest.bytes,
    configDigest: cd.digest, configBytes, config, layers, chainIds: chainIds(diffIds),
  };
}

function parseJson(bytes: Buffer, what: string, fail: (m: string) => Error): Record<string, unknown> {
  let v: unknown;
  try { v = JSON.parse(bytes.toString('utf8')); } catch (e) { throw fail(`${what} is not valid JSON (${(e as Error).message})`); }
  if (!isObject(v)) throw fail(`${what} is not a JSON object`);
  return v;
}

/** The document's own mediaType wins over the Content-Type header (which proxies rewrite). */
function mediaTypeOf(doc: Record<string, unknown>, header?: string): string | undefined {
  if (typeof doc.mediaType === 'string') return doc.mediaType;
  if (header && header !== 'application/json' && header !== 'text/plain') return header;
  if (Array.isArray(doc.manifests)) return MEDIA_TYPES.ociIndex;
  return undefined;
}
