/**
 * The reader of skiff's output went away (`skiff save IMG | head -c 100`, `skiff logs C | head`):
 * stop at once and quietly, as Unix tools do when a pipe closes, instead of an error line (or an
 * EPIPE stack trace) about output nobody reads any more. Nothing is half-written to the store
 * by a command that only streams out, and the locks go with the process.
 */
export function exitReaderGone(): never {
  process.exit(0);
}

/** Is this error a write to a pipe whose reader has gone? */
export function isReaderGone(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | null)?.code === 'EPIPE';
}
