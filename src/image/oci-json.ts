/**
 * Validation of the JSON documents of the OCI image and Docker schema2 formats (descriptors,
 * image configs), shared by archives and registries. Callers say how a problem is reported
 * (`fail`), so an archive says "invalid archive: …" and a registry names the registry.
 */
import { digestError } from './reference';
import type { Platform } from './platform';

export type Fail = (message: string) => Error;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

export function parseDescriptor(v: unknown, what: string, fail: Fail): Descriptor {
  if (!isObject(v)) throw fail(`${what}: descriptor is not a JSON object`);
  if (typeof v.digest !== 'string' || digestError(v.digest) !== null) {
    throw fail(`${what}: invalid digest ${JSON.stringify(v.digest)}`);
  }
  if (v.size !== undefined && (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0)) {
    throw fail(`${what}: invalid size ${JSON.stringify(v.size)}`);
  }
  const d: Descriptor = { digest: v.digest };
  if (typeof v.mediaType === 'string') d.mediaType = v.mediaType;
  if (typeof v.size === 'number') d.size = v.size;
  if (isObject(v.platform) && typeof v.platform.os === 'string' && typeof v.platform.architecture === 'string') {
    d.platform = { os: v.platform.os, architecture: v.platform.architecture };
    if (typeof v.platform.variant === 'string') d.platform.variant = v.platform.variant;
  }
  if (isObject(v.annotations)) {
    d.annotations = {};
    for (const [k, val] of Object.entries(v.annotations)) if (typeof val === 'string') d.annotations[k] = val;
  }
  if (Array.isArray(v.urls)) d.urls = v.urls.filter((u): u is string => typeof u === 'string');
  return d;
}

/** BuildKit's attestation manifests sit in indexes as unknown/unknown: never an image to pick. */
export function isAttestation(d: Descriptor): boolean {
  return d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest'
    || (d.platform?.os === 'unknown' && d.platform?.architecture === 'unknown');
}

export interface ImageConfigJson {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: Record<string, unknown>;
  rootfs: { type: string; diff_ids: string[] };
  history?: unknown[];
  [k: string]: unknown;
}

export function parseImageConfig(value: unknown, what: string, fail: Fail): ImageConfigJson {
  if (!isObject(value)) throw fail(`${what}: not a JSON object`);
  const rootfs = value.rootfs;
  if (!isObject(rootfs) || !Array.isArray(rootfs.diff_ids)) {
    throw fail(`${what}: rootfs.diff_ids is missing`);
  }
  if (rootfs.type !== 'layers') throw fail(`${what}: rootfs.type is ${JSON.stringify(rootfs.type)}, expected "layers"`);
  for (const d of rootfs.diff_ids) {
    if (typeof d !== 'string' || digestError(d) !== null) {
      throw fail(`${what}: rootfs.diff_ids contains an invalid digest ${JSON.stringify(d)}`);
    }
  }
  return value as unknown as ImageConfigJson;
}
