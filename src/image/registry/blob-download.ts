/**
 * Streaming a blob from a registry: resumable (HTTP Range after a broken connection, with
 * retries and backoff), and verified (size and sha256 checked as the bytes pass, while they are
 * also written to a file that becomes the stored blob only once the digest matched).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Readable, Transform, pipeline } from 'node:stream';
import { SkiffError } from '../../util/errors';
import { isTransient, type RegistryClient } from './client';

export interface BlobSource {
  client: RegistryClient;
  repo: string;
  digest: string;
  /** from the manifest's descriptor */
  size: number;
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
      const res = await src.client.openBlob(src.repo, src.digest, offset);
      let skip = res.status === 206 ? 0 : offset;
      for await (const chunk of res.body) {
        let b = chunk as Buffer;
        if (skip > 0) {
          const n = Math.min(skip, b.length);
          skip -= n;
          b = b.subarray(n);
          if (!b.length) continue;
        }
        if (offset + b.length > src.size) {
          res.body.destroy();
          throw new SkiffError(`blob ${src.digest}: the registry sent more than the ${src.size} bytes its manifest declares`, 1);
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
          : new SkiffError(`${src.client.registry}/${src.repo}: downloading blob ${src.digest} failed after ${failures} attempt(s): ${(e as Error).message}`, 1);
        hooks.onFail?.(final);
        throw final;
      }
      hooks.onRetry?.(failures, e as Error);
      await sleep(FIRST_BACKOFF_MS * 2 ** (failures - 1));
    }
  }
}

/**
 * A pass-through that hashes and counts the bytes and writes them to `file`; at the end it
 * checks size and digest and only then calls `onVerified` (which stores the file as the blob).
 * On a mismatch it fails with an error naming the blob, so nothing downstream can finish.
 */
export function verifyingTee(src: BlobSource, file: string, onVerified: () => void, onFail?: (e: Error) => void): Transform {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'wx', 0o600);
  let size = 0;
  let closed = false;
  const close = () => { if (!closed) { closed = true; fs.closeSync(fd); } };
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      try {
        hash.update(chunk);
        size += chunk.length;
        fs.writeSync(fd, chunk);
        done(null, chunk);
      } catch (e) {
        done(e as Error);
      }
    },
    flush(done) {
      close();
      const actual = `sha256:${hash.digest('hex')}`;
      if (size !== src.size || actual !== src.digest) {
        fs.rmSync(file, { force: true });
        const e = new SkiffError(`${src.client.registry}/${src.repo}: blob ${src.digest} is corrupt: got ${size} bytes with digest ${actual}, expected ${src.size} bytes; nothing of it was stored`, 1);
        onFail?.(e);
        done(e);
        return;
      }
      try {
        onVerified();
        done();
      } catch (e) {
        done(e as Error);
      }
    },
    destroy(err, done) {
      close();
      if (err) fs.rmSync(file, { force: true });
      done(err);
    },
  });
}

/** The blob as a verified stream: resumable download piped through verifyingTee. */
export function verifiedBlobStream(src: BlobSource, file: string, onVerified: () => void, hooks: DownloadHooks = {}): Readable {
  const tee = verifyingTee(src, file, onVerified, hooks.onFail);
  return pipeline(Readable.from(resumableBlob(src, hooks)), tee, () => {
    /* errors surface on the tee, which the caller reads */
  });
}
