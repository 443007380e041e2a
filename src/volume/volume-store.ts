import fs from 'node:fs';
import path from 'node:path';
import { readJson, writeJsonAtomic } from '../state/atomic';

/**
 * Named and anonymous volumes of the local driver, one directory each (Docker's layout):
 *   volumes/<name>/volume.json   the record, written last: a volume without it does not exist
 *   volumes/<name>/_data/        what containers see (Docker's Mountpoint)
 * Creating and removing happen under `volumes.lock` (the engine takes it, after
 * containers.lock when it also needs to know which containers use a volume). Removal of the
 * data is the caller's: its files may belong to sub-IDs, which only the helper can remove.
 */

/** Docker 23+ marks the volumes it made for `-v /path` and image VOLUMEs with this label. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export interface VolumeRecord {
  name: string;
  driver: 'local';
  createdAt: string;
  labels: Record<string, string>;
  /** --opt: the local driver's type, device, o */
  options: Record<string, string>;
}

export const isAnonymous = (v: VolumeRecord): boolean => Object.prototype.hasOwnProperty.call(v.labels, ANONYMOUS_LABEL);

export class VolumeStore {
  constructor(readonly dataRoot: string) {}

  get root(): string { return path.join(this.dataRoot, 'volumes'); }
  get lockFile(): string { return path.join(this.dataRoot, 'volumes.lock'); }
  dir(name: string): string { return path.join(this.root, name); }
  /** where the volume's content lives, bind-mounted into containers */
  dataDir(name: string): string { return path.join(this.root, name, '_data'); }

  get(name: string): VolumeRecord | undefined {
    try { return readJson<VolumeRecord>(path.join(this.dir(name), 'volume.json')); } catch { return undefined; }
  }

  list(): VolumeRecord[] {
    let names: string[];
    try { names = fs.readdirSync(this.root); } catch { return []; }
    return names.sort().flatMap((n) => { const v = this.get(n); return v ? [v] : []; });
  }

  /** Make the volume (the caller holds the lock and checked that the name is free and valid). */
  create(rec: VolumeRecord): VolumeRecord {
    fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const dir = this.dir(rec.name);
    // 0701 as Docker's: containers reach _data through it, nobody lists the store
    fs.mkdirSync(dir, { recursive: true, mode: 0o701 });
    fs.mkdirSync(path.join(dir, '_data'), { recursive: true, mode: 0o755 });
    writeJsonAtomic(path.join(dir, 'volume.json'), rec);
    return rec;
  }

  /**
   * Take the volume out of the store at once (its record goes first, so a crash in between
   * leaves no half volume) by moving its directory to `into`; the caller removes that tree.
   */
  detach(name: string, into: string): void {
    fs.rmSync(path.join(this.dir(name), 'volume.json'), { force: true });
    fs.renameSync(this.dir(name), into);
  }
}
