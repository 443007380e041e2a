import fs from 'node:fs';
import { SkiffError } from '../util/errors';

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Set or replace KEY=VALUE entries, keeping first-seen order (Docker's ReplaceOrAppendEnvValues). */
export function mergeEnv(base: string[], overrides: string[]): string[] {
  const out = [...base];
  for (const e of overrides) {
    const key = e.split('=', 1)[0];
    const i = out.findIndex((x) => x.split('=', 1)[0] === key);
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

/** `-e KEY` without a value takes KEY from the caller's environment, or is dropped (Docker). */
export function expandEnvArg(arg: string, hostEnv: NodeJS.ProcessEnv): string | undefined {
  if (arg.includes('=')) {
    if (arg.startsWith('=')) throw new SkiffError(`invalid environment variable: ${arg}`);
    return arg;
  }
  const v = hostEnv[arg];
  return v === undefined ? undefined : `${arg}=${v}`;
}

/** Docker's --env-file: KEY=VALUE per line, # comments and blank lines ignored, bare KEY from the host. */
export function parseEnvFile(text: string, file: string, hostEnv: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/^\s+/, '').replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) return;
    const key = line.split('=', 1)[0];
    if (/\s/.test(key) || key === '') throw new SkiffError(`invalid env file ${file}: line ${i + 1}: variable "${key}" contains whitespaces`);
    const e = expandEnvArg(line, hostEnv);
    if (e !== undefined) out.push(e);
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
