import * as fs from 'node:fs';

/**
 * Writes to the process's standard output with write(2) on fd 1, without creating
 * process.stdout. Node builds that stream on first use (a SyncWriteStream for a file, a
 * net.Socket for a pipe, a tty.WriteStream for a terminal), and with it loads the stream
 * modules: ~4 ms of a `ps`'s start-up on an idle machine (docs/PERFORMANCE.md, "Code caches
 * made after a run"). On Linux Node writes stdout synchronously for all three, so text written
 * here and through process.stdout (attach, save, help) stays in order.
 *
 * A non-blocking pipe (EAGAIN) is handed to process.stdout, which makes it blocking and writes
 * the rest; every later write goes that way too. A reader that has gone (EPIPE) loses the
 * output silently, as it did through process.stdout, whose asynchronous error came after the exit.
 */
let viaStream = false;
let readerGone = false;

export function writeStdout(text: string): void {
  if (readerGone) return;
  if (viaStream) {
    process.stdout.write(text);
    return;
  }
  const bytes = Buffer.from(text, 'utf8');
  let done = 0;
  while (done < bytes.length) {
    try {
      done += fs.writeSync(1, bytes, done);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        viaStream = true;
        process.stdout.write(bytes.subarray(done));
        return;
      }
      if (code === 'EPIPE') {
        readerGone = true;
        return;
      }
      throw e;
    }
  }
}
