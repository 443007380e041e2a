import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { writeJsonAtomic } from '../state/atomic';
import { withLock } from '../state/lock';
import { tryFlock } from '../native/addon';
import { runHelper, startHelper, type HelperRun } from '../native/helper';
import type { UserNamespacePlan } from '../native/helper-namespace';
import { SkiffError } from '../util/errors';
import type { DriverName } from './driver';
import { LAYER_DIFF, LAYER_RECORD, layerDiffDir, layerDir, layerRecordFile, layersRoot, readLayerRecord, stagingRoot, type LayerRecord } from './layout';

export { type LayerRecord } from './layout';

const hex = (d: string) => d.replace(/^sha256:/, '');

/**
 * Where a layer blob comes from: a function that writes all of it (compressed or not) into the
 * sink, without ending it, and rejects when it cannot deliver it whole and verified.
 */
export type LayerInput = (sink: Writable) => Promise<void>;

/**
 * A layer blob in a file (load, import). node:stream/promises is taken here, not imported by the
 * module: `run` loads this module (layer paths, locks) but streams nothing, and the stream
 * modules cost its start-up a few ms (docs/PERFORMANCE.md).
 */
export function layerFile(file: string): LayerInput {
  const { pipeline } = process.getBuiltinModule('node:stream/promises');
  return (sink) => pipeline(fs.createReadStream(file), sink, { end: false });
}

/**
 * Stream a layer blob into `skiff-helper apply-tar`, which inflates, hashes and unpacks it, and
 * return the diffID and size it reports. When the input fails (a download error, a blob digest
 * mismatch found at its end) that error wins, and whatever the helper made of the cut stream does
 * not matter; when the helper refuses the layer first, its error wins and our broken pipe does not.
 */
async function feedLayer(input: LayerInput, helper: HelperRun): Promise<{ diffId: string; size: number }> {
  // Settled as soon as the helper exits (which may be before the input is done).
  const outcome: Promise<{ ok: true; printed: string } | { ok: false; error: unknown }> = helper.done.then(
    (printed) => ({ ok: true, printed }), (error: unknown) => ({ ok: false, error }));
  let inputError: unknown;
  try {
    await input(helper.stdin);
    helper.stdin.end();
  } catch (e) {
    inputError = e;
    helper.stdin.destroy();
  }
  const o = await outcome;
  if (!o.ok) throw inputError && !isBrokenPipe(inputError) ? inputError : o.error;
  if (inputError) throw inputError;
  const m = /^(sha256:[0-9a-f]{64}) (\d+)\n$/.exec(o.printed);
  if (!m) throw new SkiffError(`skiff-helper apply-tar printed ${JSON.stringify(o.printed)} instead of a diffID and size`);
  return { diffId: m[1], size: Number(m[2]) };
}

function isBrokenPipe(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_PREMATURE_CLOSE';
}

export interface EnsureOptions {
  /** may throw to refuse the layer after it was unpacked and checked, before it becomes visible */
  beforeCommit?: () => void;
  /** a new file the helper writes the raw input to as it reads it (pull: the layer blob) */
  blobOut?: string;
}

/** The locks on this process's staging dirs: held until exit (flocks die with the process). */
const heldStaging: number[] = [];

/** Is the directory open on `fd` still the one at `dir` (not removed or replaced)? */
function sameFile(fd: number, dir: string): boolean {
  try {
    const a = fs.fstatSync(fd);
    const b = fs.statSync(dir);
    return a.ino === b.ino && a.dev === b.dev;
  } catch { return false; }
}

export class LayerStore {
  constructor(private readonly dataRoot: string, readonly driver: DriverName,
    private readonly userns: UserNamespacePlan | undefined) {}

  dir(chainId: string): string { return layerDir(this.dataRoot, chainId); }
  diffDir(chainId: string): string { return layerDiffDir(this.dataRoot, chainId); }
  record(chainId: string): LayerRecord | undefined { return readLayerRecord(this.dataRoot, chainId); }
  has(chainId: string): boolean { return fs.existsSync(layerRecordFile(this.dataRoot, chainId)); }

  private get stagingRoot(): string { return stagingRoot(this.dataRoot); }

  /**
   * A fresh private staging dir on the same filesystem, so committing is one rename. It stays
   * flock'd (on the directory itself) until this process exits, so that pruneStaging() can
   * tell a dir in use from one a killed skiff left behind.
   */
  tempDir(prefix: string): string {
    fs.mkdirSync(this.stagingRoot, { recursive: true, mode: 0o700 });
    for (;;) {
      const dir = fs.mkdtempSync(path.join(this.stagingRoot, `${prefix}-`));
      const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      // Busy only when a pruner found the new dir before we locked it: it is removing that one,
      // so make another rather than wait.
      if (tryFlock(fd, true) && sameFile(fd, dir)) {
        heldStaging.push(fd);
        return dir;
      }
      fs.closeSync(fd); // that pruner removed it: make another
    }
  }

  /**
   * Remove staging dirs left by a skiff that was killed (pull, load, import): those whose lock
   * is free. A dir in use is locked by its process and left alone. Their files may be owned by
   * subordinate IDs, so the helper removes them.
   */
  async pruneStaging(): Promise<void> {
    let names: string[];
    try { names = fs.readdirSync(this.stagingRoot); } catch { return; }
    const abandoned: { dir: string; fd: number }[] = [];
    try {
      for (const n of names) {
        const dir = path.join(this.stagingRoot, n);
        let fd: number;
        try { fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW); } catch { continue; }
        if (tryFlock(fd, true)) abandoned.push({ dir, fd });
        else fs.closeSync(fd);
      }
      // Still locked by us while they go, so tempDir() in another process cannot adopt one.
      if (abandoned.length) await this.removeTree(...abandoned.map((a) => a.dir));
    } catch { /* best effort: the next store open tries again */ } finally {
      for (const a of abandoned) fs.closeSync(a.fd);
    }
  }

  /** Remove a tree that may hold files owned by subordinate IDs (needs the namespace). */
  async removeTree(...dirs: string[]): Promise<void> {
    const present = dirs.filter((d) => fs.existsSync(d));
    if (present.length) await runHelper(this.userns, ['rm', ...present], 'remove storage');
  }

  /** Copy a tree with owners, modes and xattrs (vfs layers and container roots). */
  async copyTree(src: string, dst: string): Promise<void> {
    await runHelper(this.userns, ['copy', src, dst], `copy ${path.basename(path.dirname(src)).slice(0, 12)}`);
  }

  /**
   * Unpack one layer unless it is already there. The blob is streamed into the helper inside
   * the user namespace (so files keep their sub-ID owners), which unpacks it into a staging dir
   * and reports the diffID; only when that matches is the dir renamed into place. Concurrent
   * loads of the same layer serialise on a per-layer lock and the second one finds it done.
   */
  async ensure(chainId: string, parent: string | undefined, diffId: string, input: LayerInput,
    opts: EnsureOptions = {}): Promise<LayerRecord> {
    return this.makeOnce(chainId, async (staging) => {
      const rec = await this.unpackInto(staging, chainId, parent, diffId, input, opts.blobOut);
      // e.g. a pull checks that the compressed blob's digest was verified too.
      opts.beforeCommit?.();
      return rec;
    });
  }

  /**
   * The layer CHAIN_ID, made by FILL in a staging dir (its diff/) unless it is there already,
   * then its record written and the dir renamed into place. Concurrent makers of the same layer
   * serialise on a per-layer lock and the second one finds it done.
   */
  private async makeOnce(chainId: string, fill: (staging: string) => Promise<LayerRecord>): Promise<LayerRecord> {
    const existing = this.record(chainId);
    if (existing) return existing;
    fs.mkdirSync(layersRoot(this.dataRoot), { recursive: true, mode: 0o700 });
    return withLock(`${this.dir(chainId)}.lock`, async () => {
      const again = this.record(chainId);
      if (again) return again;
      const staging = this.tempDir('layer');
      try {
        const rec = await fill(staging);
        writeJsonAtomic(path.join(staging, LAYER_RECORD), rec);
        fs.renameSync(staging, this.dir(chainId));
        return rec;
      } catch (e) {
        await this.removeTree(staging).catch(() => undefined);
        throw e;
      }
    });
  }

  /**
   * Make DIR the layer CHAIN_ID by renaming it into place (build: a step's overlay upper dir,
   * already in the store's format, synced, on this filesystem), instead of unpacking its tar
   * again. When the layer is already there, DIR is left where it is for the caller to remove.
   */
  async adoptTree(chainId: string, parent: string | undefined, diffId: string, dir: string, size: number): Promise<LayerRecord> {
    if (this.driver === 'vfs') throw new SkiffError('a vfs layer is a full copy of its parent: it cannot be adopted from an overlay upper dir');
    return this.makeOnce(chainId, async (staging) => {
      fs.renameSync(dir, path.join(staging, LAYER_DIFF));
      return { chainId, diffId, parent, size };
    });
  }

  /**
   * Apply uncompressed layer blobs (files), in order, onto DIR in overlay format, as one layer
   * (build --squash): a whiteout replaces what it names, an opaque directory also loses what
   * the earlier ones put in it. Each blob's content digest must be its DIFF_ID. Not synced:
   * the caller's tar-out --to syncs the result.
   */
  async merge(dir: string, blobs: readonly { file: string; diffId: string }[]): Promise<void> {
    for (const b of blobs) {
      const label = `layer ${hex(b.diffId).slice(0, 12)}`;
      const helper = startHelper(this.userns, ['apply-tar', '--merge', '--no-sync', '--opaque-xattr', this.opaqueXattr, dir], `squash ${label}`);
      const result = await feedLayer(layerFile(b.file), helper);
      if (result.diffId !== b.diffId) throw new SkiffError(`${label}: content digest ${result.diffId} does not match its diff ID ${b.diffId}; the stored blob is corrupt`);
    }
  }

  /** The xattr that marks an opaque directory in this store's layers (overlay's, as mounted). */
  private get opaqueXattr(): string { return this.userns ? 'user.overlay.opaque' : 'trusted.overlay.opaque'; }

  private async unpackInto(staging: string, chainId: string, parent: string | undefined, diffId: string,
    input: LayerInput, blobOut: string | undefined): Promise<LayerRecord> {
    const diff = path.join(staging, LAYER_DIFF);
    const flatten = this.driver === 'vfs';
    if (flatten && parent) {
      // vfs: every layer is a full copy of its parent plus its own changes (as Docker's vfs).
      await this.copyTree(this.diffDir(parent), diff);
    } else {
      fs.mkdirSync(diff, { mode: 0o755 });
    }
    const label = `layer ${hex(diffId).slice(0, 12)}`;
    const mode = ['apply-tar', ...(flatten ? ['--flatten'] : []), ...(blobOut ? ['--blob-out', blobOut] : []),
      '--opaque-xattr', this.opaqueXattr, diff];
    const helper = startHelper(this.userns, mode, `unpack ${label}`);
    const result = await feedLayer(input, helper);
    if (result.diffId !== diffId) {
      throw new SkiffError(`${label}: content digest ${result.diffId} does not match the image config's diff ID ${diffId}; the archive is corrupt or was tampered with`);
    }
    return { chainId, diffId, parent, size: result.size };
  }
}
