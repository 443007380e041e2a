/** Writing to a Writable from async code, honouring backpressure without hanging on a dead sink. */
import type { Writable } from 'node:stream';

/**
 * Write `buf`; returns nothing when the sink can take more at once, else a promise that settles
 * on 'drain', or rejects when the sink fails or closes first (a child process that exited early:
 * waiting for 'drain' alone would hang forever).
 */
export function writeTo(sink: Writable, buf: Buffer): Promise<void> | void {
  if (sink.destroyed || sink.writableEnded) throw sinkGone(sink);
  if (sink.write(buf)) return;
  return new Promise<void>((resolve, reject) => {
    const settle = (e?: Error) => {
      sink.off('drain', onDrain);
      sink.off('error', onError);
      sink.off('close', onClose);
      if (e) reject(e); else resolve();
    };
    const onDrain = () => settle();
    const onError = (e: Error) => settle(e);
    const onClose = () => settle(sinkGone(sink));
    sink.on('drain', onDrain);
    sink.on('error', onError);
    sink.on('close', onClose);
  });
}

function sinkGone(sink: Writable): Error {
  return Object.assign(new Error('the reader closed the stream'), { code: (sink.errored as NodeJS.ErrnoException | null)?.code ?? 'EPIPE' });
}
