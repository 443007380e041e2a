/**
 * What a RUN with here-documents runs, as BuildKit decides it:
 *  - `RUN <<EOF` alone: the body is the script; a body starting with `#!` is written to a file
 *    and executed (its interpreter runs it), any other body is given to the shell as its
 *    command text (so shells without heredoc support still work);
 *  - a heredoc inside a longer command (`RUN cat <<EOF > /x`): the line and the bodies, each
 *    followed by its end word, are given to the shell, which reads the heredocs itself.
 */
import { heredocName } from './lines';
import type { RunInstruction } from './types';

export type RunScript =
  /** Give this text to the shell (SHELL, /bin/sh -c by default). */
  | { kind: 'shell'; text: string }
  /** Write `content` as an executable file named `name` and run it without a shell. */
  | { kind: 'file'; name: string; content: string };

/** The script a shell-form RUN runs; undefined for exec form. */
export function runScript(run: RunInstruction): RunScript | undefined {
  if (run.command.form !== 'shell') return undefined;
  const text = run.command.text;
  if (run.heredocs.length === 0) return { kind: 'shell', text };
  const first = run.heredocs[0];
  if (heredocName(text.trim()) !== undefined) {
    if (first.content.startsWith('#!')) return { kind: 'file', name: first.name, content: first.content };
    return { kind: 'shell', text: first.content };
  }
  return { kind: 'shell', text: text + run.heredocs.map((h) => `\n${h.content}${h.name}`).join('') };
}

/** The short form of a heredoc progress lines show: its first line, `...` when there is more. */
export function summarizeHeredoc(content: string): string {
  const lines = content.trim().replace(/\r\n/g, '\n').split('\n');
  return lines[0] + (lines.length > 1 ? '...' : '');
}
