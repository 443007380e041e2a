import fs from 'node:fs';
import { SkiffError } from './errors';

/**
 * A JSON file a user edits by hand (config.json, auth.json): undefined when absent, and every
 * failure one line naming the file, so that a typo is fixed rather than reported as a crash.
 */
export function readUserJson(file: string): Record<string, unknown> | undefined {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SkiffError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let value: unknown;
  try { value = JSON.parse(text); } catch (e) {
    throw new SkiffError(`${file}: invalid JSON (${(e as Error).message}): fix or remove the file`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SkiffError(`${file}: must hold a JSON object`);
  return value as Record<string, unknown>;
}
