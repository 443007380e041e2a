import fs from 'node:fs';
import { withLock } from '../state/lock';
import { InvalidError } from '../errors';
import { randomHex } from '../util/random';
import { volumeNameError } from '../runtime/mount-spec';
import { ANONYMOUS_LABEL, type VolumeRecord } from '../volume/volume-store';
import type { Engine } from './context';
import { volumeStore } from './volume-usage';

export interface VolumeCreateOptions {
  name?: string;
  driver?: string;
  /** --label KEY[=VALUE] */
  labels?: string[];
  /** -o/--opt KEY=VALUE: the local driver's type, device, o (and size, which it refuses rootless) */
  opts?: string[];
}

/** The options Docker's local driver knows. */
const LOCAL_OPTIONS = ['type', 'device', 'o', 'size'];

function keyValues(list: string[], what: string, needValue: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq === 0 || (needValue && eq < 0)) throw new InvalidError(`invalid ${what} '${kv}': use KEY=VALUE`);
    out[eq < 0 ? kv : kv.slice(0, eq)] = eq < 0 ? '' : kv.slice(eq + 1);
  }
  return out;
}

/** Check the local driver's options (moby's local.validateOpts). */
export function checkLocalOptions(opts: Record<string, string>): void {
  for (const k of Object.keys(opts)) {
    if (!LOCAL_OPTIONS.includes(k)) throw new InvalidError(`invalid option key: "${k}"`);
  }
  if (opts.size !== undefined) throw new InvalidError('quota size requested but no quota support');
  if ((opts.type || opts.o) && !opts.device && opts.type !== 'tmpfs') throw new InvalidError('missing required option: "device"');
  if (opts.device && !opts.type) throw new InvalidError('missing required option: "type"');
}

/** A new anonymous volume's name: 64 hex digits, as Docker's. */
export const anonymousVolumeName = (): string => randomHex(32);

/**
 * Find or make a volume. Docker's create is idempotent: an existing volume of that name is
 * returned as it is (options and labels of the second create are not applied).
 * The caller may hold containers.lock (create of a container); volumes.lock is taken here.
 */
export async function ensureVolume(engine: Engine, name: string, labels: Record<string, string> = {}, options: Record<string, string> = {}): Promise<VolumeRecord> {
  const why = volumeNameError(name);
  if (why) throw new InvalidError(`create ${name}: ${why}`);
  checkLocalOptions(options);
  const store = volumeStore(engine);
  fs.mkdirSync(store.root, { recursive: true, mode: 0o700 });
  return withLock(store.lockFile, () => store.get(name) ?? store.create({
    name, driver: 'local', createdAt: new Date().toISOString(), labels, options,
  }));
}

/** `volume create [NAME]`: the name of the volume (new or existing). */
export async function createVolume(engine: Engine, o: VolumeCreateOptions): Promise<string> {
  const driver = o.driver ?? 'local';
  if (driver !== 'local') throw new InvalidError(`error looking up volume plugin ${driver}: plugin "${driver}" not found; skiff has the local driver only`);
  const labels = keyValues(o.labels ?? [], 'label', false);
  const opts = keyValues(o.opts ?? [], 'option', true);
  const name = o.name ?? anonymousVolumeName();
  // a volume created without a name is anonymous, as moby's: `volume prune` without -a takes it
  if (o.name === undefined) labels[ANONYMOUS_LABEL] = '';
  return (await ensureVolume(engine, name, labels, opts)).name;
}
