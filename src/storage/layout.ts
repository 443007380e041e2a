// Where the store keeps its layers, in one place: DATA_ROOT/layers/<chain hex>/ holds the
// unpacked tree in diff/ and layer.json (written last: a layer without it is not committed);
// DATA_ROOT/storage.json names the driver the layers were made for. Engine code asks here
// instead of spelling paths. Kept free of heavy imports (no helper, no addon): read-only
// commands (images, inspect, history, info) use it without loading the storage machinery.

import path from 'node:path';
import { readJson } from '../state/atomic';

/** layers/<chain hex>/layer.json */
export interface LayerRecord { chainId: string; diffId: string; parent?: string; size: number }

const hex = (d: string) => d.replace(/^sha256:/, '');

/** The names inside a layer's directory (a staging dir is laid out the same, then renamed). */
export const LAYER_DIFF = 'diff';
export const LAYER_RECORD = 'layer.json';

/** The directory of all layers (its entries are chain IDs without "sha256:"). */
export function layersRoot(dataRoot: string): string { return path.join(dataRoot, 'layers'); }

/** One layer's directory. */
export function layerDir(dataRoot: string, chainId: string): string { return path.join(layersRoot(dataRoot), hex(chainId)); }

/** The unpacked tree of a layer (with vfs: the whole root filesystem up to it). */
export function layerDiffDir(dataRoot: string, chainId: string): string { return path.join(layerDir(dataRoot, chainId), LAYER_DIFF); }

/** A layer's record file: its presence means the layer is committed. */
export function layerRecordFile(dataRoot: string, chainId: string): string { return path.join(layerDir(dataRoot, chainId), LAYER_RECORD); }

/** A committed layer's record, or undefined when the layer is not (fully) there. */
export function readLayerRecord(dataRoot: string, chainId: string): LayerRecord | undefined {
  return readJson<LayerRecord>(layerRecordFile(dataRoot, chainId));
}

/**
 * DATA_ROOT/tmp: staging dirs on the store's filesystem (layers being made, containers being
 * removed), each flock'd by its process; the layer store sweeps those whose lock is free.
 */
export function stagingRoot(dataRoot: string): string { return path.join(dataRoot, 'tmp'); }

/** DATA_ROOT/storage.json: the driver the store was created with. */
export function storageStateFile(dataRoot: string): string { return path.join(dataRoot, 'storage.json'); }

/** The driver recorded for this store, without probing (undefined before the first layer). */
export function recordedDriver(dataRoot: string): string | undefined {
  return readJson<{ driver?: string }>(storageStateFile(dataRoot))?.driver;
}
