import fs from 'node:fs';
import { SkiffError } from '../util/errors';

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const keyOf = (e: string) => e.split('=', 1)[0];

/**
 * Set or replace KEY=VALUE entries, keeping first-seen order (Docker's
 * ReplaceOrAppendEnvValues). A bare KEY (from `-e KEY` with KEY unset here) removes KEY.
 */
export function mergeEnv(base: string[], overrides: string[]): string[] {
  let out = [...base];
  for (const e of overrides) {
    const key = keyOf(e);
    if (!e.includes('=')) {
      out = out.filter((x) => keyOf(x) !== key);
      continue;
    }
    const i = out.findIndex((x) => keyOf(x) === key);
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

/** The daemon's merge of a container's env with its image's: the user's first, then the
 * image's entries the user did not set (moby daemon merge()). */
export function userThenImageEnv(user: string[], image: string[]): string[] {
  const userKeys = new Set(user.map(keyOf));
  return [...user, ...image.filter((e) => !userKeys.has(keyOf(e)))];
}

/** `-e KEY` without a value takes KEY from the caller's environment; when KEY is unset here
 * it stays bare, which removes KEY from the container's env (as Docker). */
export function expandEnvArg(arg: string, hostEnv: NodeJS.ProcessEnv): string {
  if (arg.includes('=')) {
    if (arg.startsWith('=')) throw new SkiffError(`invalid environment variable: ${arg}`);
    return arg;
  }
  const v = hostEnv[arg];
  return v === undefined ? arg : `${arg}=${v}`;
}

/** Docker's --env-file: KEY=VALUE per line, # comments and blank lines ignored, bare KEY from the host. */
export function parseEnvFile(text: string, file: string, hostEnv: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/^\s+/, '').replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) return;
    const key = line.split('=', 1)[0];
    if (key === '') throw new SkiffError(`invalid env file ${file}: no variable name on line '${line}'`);
    if (/\s/.test(key)) throw new SkiffError(`invalid env file ${file}: line ${i + 1}: variable "${key}" contains whitespaces`);
    out.push(expandEnvArg(line, hostEnv));
  });
  return out;
}

export function readEnvFile(file: string, hostEnv: NodeJS.ProcessEnv): string[] {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) {
    throw new SkiffError(`cannot read env file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseEnvFile(text, file, hostEnv);
}
