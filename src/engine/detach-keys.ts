import { InvalidError } from '../errors';

/**
 * Docker's detach keys (moby/term ToBytes): comma-separated single characters, `ctrl-@`,
 * `ctrl-a`...`ctrl-z`, `ctrl-[`, `ctrl-\`, `ctrl-]`, `ctrl-^`, `ctrl-_` (lower case, as Docker)
 * and `DEL`; empty or absent is ctrl-p,ctrl-q. Used by attach (watched in Node) and by an
 * attached run -it / start -a -i (watched by the monitor, which reads the terminal itself).
 */

export const DEFAULT_DETACH_KEYS = Buffer.from([16, 17]);
const CTRL_KEYS = '@abcdefghijklmnopqrstuvwxyz[\\]^_';

export function parseDetachKeys(spec: string | undefined): Buffer {
  if (spec === undefined || spec === '') return DEFAULT_DETACH_KEYS;
  const bytes: number[] = [];
  for (const key of spec.split(',')) {
    if (Buffer.byteLength(key) === 1) bytes.push(key.charCodeAt(0));
    else if (key.length === 6 && key.startsWith('ctrl-') && CTRL_KEYS.includes(key[5])) bytes.push(CTRL_KEYS.indexOf(key[5]));
    else if (key === 'DEL') bytes.push(127);
    else throw new InvalidError(`invalid detach keys (${spec}): Unknown character: '${key}'`);
  }
  return Buffer.from(bytes);
}
