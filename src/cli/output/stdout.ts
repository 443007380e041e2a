import * as fs from 'node:fs';
import { exitReaderGone, isReaderGone } from '../../util/reader-gone';

/**
 * Writes to the process's standard output with write(2) on fd 1, without creating
 * process.stdout. Node builds that stream on first use (a SyncWriteStream for a file, a
 * net.Socket for a pipe, a tty.WriteStream for a terminal), and with it loads the stream
 * modules: ~4 ms of a `ps`'s start-up on an idle machine (docs/PERFORMANCE.md, "Code caches
 * made after a run").
 *
 * Once process.stdout exists (attach, save and help write through it, and a full non-blocking
 * pipe is handed to it here), every write goes through it: the stream may hold data back on a
 * non-blocking pipe, which a direct write would overtake. A reader that has gone (EPIPE) ends the
 * command quietly, as for every other output (util/reader-gone.ts).
 */
let streamCreated = false;
const stdoutGetter = Object.getOwnPropertyDescriptor(process, 'stdout')?.get;
if (stdoutGetter) {
  // Node's own lazy getter, told apart from its first use
  Object.defineProperty(process, 'stdout', {
    configurable: true,
    enumerable: true,
    get() {
      streamCreated = true;
      return stdoutGetter.call(process);
    },
  });
} else {
  streamCreated = true; // not Node's lazy getter: never bypass what is there
}

export function writeStdout(text: string): void {
  if (streamCreated) {
    process.stdout.write(text);
    return;
  }
  const bytes = Buffer.from(text, 'utf8');
  let done = 0;
  while (done < bytes.length) {
    try {
      done += fs.writeSync(1, bytes, done);
    } catch (e) {
      if (isReaderGone(e)) exitReaderGone();
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      // a non-blocking pipe that is full: the stream queues the rest (and every later write)
      process.stdout.write(bytes.subarray(done));
      return;
    }
  }
}
