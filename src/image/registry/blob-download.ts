/**
 * Streaming a blob from a registry: resumable (HTTP Range after a broken connection, with
 * retries and backoff), and verified (size and sha256 checked as the bytes pass, while they are
 * also written to a file that the caller stores as the blob only once the digest matched).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { UpstreamError } from '../../errors';
import { SkiffError } from '../../util/errors';
import { writeTo } from '../../util/sink';
import { isTransient, type RegistryClient, type Response } from './client';

export interface BlobSource {
  client: RegistryClient;
  repo: string;
  digest: string;
  /** from the manifest's descriptor */
  size: number;
  /** the request for the whole blob, already sent: the download's first attempt reads its answer */
  early?: EarlyBlobRequest;
}

/**
 * A request for a whole blob sent before its download starts, so that the registry's time to
 * answer (10-25 ms a request from a local distribution registry) overlaps with what the
 * download waits for (pull: the image config, the unpacking helper). Until it is read, the
 * body is held back by backpressure, and undici does not time out a paused body.
 */
export class EarlyBlobRequest {
  private pending?: Promise<Response>;

  constructor(src: BlobSource) {
    this.pending = src.client.openBlob(src.repo, src.digest);
    // Not unhandled meanwhile: whoever takes it meets the error (and retries, when transient).
    this.pending.catch(() => undefined);
  }

  /** The answer, for the first attempt of the download; undefined once taken. */
  take(): Promise<Response> | undefined {
    const p = this.pending;
    this.pending = undefined;
    return p;
  }

  /** Drop the answer unless a download took it (nothing must keep the connection busy). */
  cancel(): void {
    // Destroying a body not read to its end makes undici emit an AbortError: expected here.
    void this.take()?.then((res) => res.body.on('error', () => undefined).destroy(), () => undefined);
  }
}

export interface DownloadHooks {
  /** bytes received so far (for progress) */
  onProgress?: (received: number) => void;
  /** a retry after an error, before waiting */
  onRetry?: (attempt: number, error: Error) => void;
  /**
   * The download or the verification failed for good. Downstream (the unpacker) then fails too,
   * with a less useful error (a truncated tar): callers report this one instead.
   */
  onFail?: (error: Error) => void;
}

/** Retries of a broken download, and the first backoff (doubled each time). */
export const DOWNLOAD_RETRIES = 5;
const FIRST_BACKOFF_MS = 250;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The blob's bytes, fetched again from where they stopped when the connection breaks: a Range
 * request continues at the offset; a registry that ignores Range (200) is skipped ahead.
 */
export async function* resumableBlob(src: BlobSource, hooks: DownloadHooks = {}, retries = DOWNLOAD_RETRIES): AsyncGenerator<Buffer> {
  let offset = 0;
  let failures = 0;
  for (;;) {
    try {
      const early = offset === 0 ? src.early?.take() : undefined;
      const res = await (early ?? src.client.openBlob(src.repo, src.digest, offset));
      let skip = res.status === 206 ? 0 : offset;
      for await (const chunk of chunksOf(res.body)) {
        let b = chunk;
        if (skip > 0) {
          const n = Math.min(skip, b.length);
          skip -= n;
          b = b.subarray(n);
          if (!b.length) continue;
        }
        if (offset + b.length > src.size) {
          res.body.destroy();
          throw new UpstreamError(`blob ${src.digest}: the registry sent more than the ${src.size} bytes its manifest declares`);
        }
        offset += b.length;
        failures = 0;
        hooks.onProgress?.(offset);
        yield b;
      }
      if (offset < src.size) {
        throw Object.assign(new Error(`connection closed after ${offset} of ${src.size} bytes`), { transient: true });
      }
      return;
    } catch (e) {
      if (!isTransient(e) || ++failures > retries) {
        // The registry's own refusal stands as it is; a network failure gets the blob and attempts.
        const final = e instanceof SkiffError && !isTransient(e) ? e
          : new UpstreamError(`${src.client.registry}/${src.repo}: downloading blob ${src.digest} failed after ${failures} attempt(s): ${(e as Error).message}`);
        hooks.onFail?.(final);
        throw final;
      }
      hooks.onRetry?.(failures, e as Error);
      await sleep(FIRST_BACKOFF_MS * 2 ** (failures - 1));
    }
  }
}

/**
 * The chunks of a response body as undici delivers them. A Readable's own async iterator
 * returns everything buffered as one new Buffer per step, copying every byte whenever the
 * consumer is behind (measured: ~70 ms of a pull's main thread); 'data' events do not. At most a
 * few chunks wait here: the body is paused until they are taken.
 */
export async function* chunksOf(body: Readable): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => { const w = wake; wake = undefined; w?.(); };
  const onData = (c: Buffer) => { queue.push(c); if (queue.length >= 4) body.pause(); notify(); };
  const onEnd = () => { ended = true; notify(); };
  const onError = (e: Error) => { failure = e; notify(); };
  body.on('data', onData).on('end', onEnd).on('error', onError);
  try {
    for (;;) {
      const next = queue.shift();
      if (next) {
        if (queue.length < 2 && body.isPaused()) body.resume();
        yield next;
      } else if (failure) {
        throw failure;
      } else if (ended) {
        return;
      } else {
        await new Promise<void>((resolve) => { wake = resolve; });
      }
    }
  } finally {
    body.off('data', onData).off('end', onEnd).off('error', onError);
    if (!ended) body.destroy();
  }
}

/**
 * Download the blob and check it: as the bytes arrive they are hashed, counted, written to
 * `file` when one is given, and to `sink` when one is given (the storage helper, which then
 * writes the file itself: `LayerStore.ensure`'s blobOut). Resolves once every byte was written
 * and size and digest matched; rejects with an error naming the blob otherwise (removing `file`).
 * `sink` is not ended. The registry's chunks go from undici's body straight to the file and the
 * sink: no stream stages per chunk on the way.
 */
export async function downloadVerifiedBlob(src: BlobSource, dest: { file?: string; sink?: Writable }, hooks: DownloadHooks = {}): Promise<void> {
  const hash = crypto.createHash('sha256');
  const fd = dest.file === undefined ? -1 : fs.openSync(dest.file, 'wx', 0o600);
  const discard = () => { if (fd >= 0) { fs.closeSync(fd); fs.rmSync(dest.file!, { force: true }); } };
  let size = 0;
  try {
    for await (const chunk of resumableBlob(src, hooks)) {
      hash.update(chunk);
      size += chunk.length;
      if (fd >= 0) fs.writeSync(fd, chunk);
      if (dest.sink) await writeTo(dest.sink, chunk);
    }
  } catch (e) {
    discard();
    throw e;
  }
  const actual = `sha256:${hash.digest('hex')}`;
  if (size !== src.size || actual !== src.digest) {
    discard();
    const e = new UpstreamError(`${src.client.registry}/${src.repo}: blob ${src.digest} is corrupt: got ${size} bytes with digest ${actual}, expected ${src.size} bytes; nothing of it was stored`);
    hooks.onFail?.(e);
    throw e;
  }
  if (fd >= 0) fs.closeSync(fd);
}
