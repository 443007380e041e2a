import path from 'node:path';

/**
 * The name skiff answers to in its messages: `docker` when run through a symlink (or hard link,
 * or copy) named docker, so that a user who installed skiff as their docker sees docker's words.
 * In the single executable, argv[0] is the real executable and argv[1] is argv[0] as the caller
 * typed it (the symlink's name); under plain node, argv[1] is the script (dist/skiff.cjs).
 */
export type ProgramName = 'skiff' | 'docker';

let current: ProgramName | undefined;

export function programName(argv: readonly string[] = process.argv): ProgramName {
  if (argv === process.argv && current) return current;
  const name: ProgramName = argv[1] !== undefined && path.basename(argv[1]) === 'docker' ? 'docker' : 'skiff';
  if (argv === process.argv) current = name;
  return name;
}

// "skiff" as a word, not inside a path, a file name or a longer word (skiff-helper, /var/lib/skiff).
const SKIFF_WORD = /(?<![\w./-])skiff(?![\w/-])/g;

/** TEXT with the program's own name in place of "skiff" (unchanged when it is skiff). */
export function asProgram(text: string, name: ProgramName = programName()): string {
  return name === 'skiff' ? text : text.replace(SKIFF_WORD, name);
}
