import fs from 'node:fs';
import path from 'node:path';
import { randomHex } from '../util/random';

/**
 * A directory of `name -> id` entries, one symbolic link per name whose target is the ID: one
 * readlink finds who holds a name, and symlink(2) creates an entry atomically, failing when the
 * name has one already. It spares the stores reading every record to find one by name.
 *
 * An entry is only ever a claim: the record it points at says whether it holds (a crash between
 * writing an entry and writing or removing the record it names leaves a stale one). Callers check
 * the record, and treat an entry whose record is missing or names something else as free.
 */
export class NameIndex {
  constructor(readonly dir: string) {}

  /** False in a store made before the index (callers build it, or read every record). */
  exists(): boolean { return fs.existsSync(this.dir); }

  /** The ID the entry for `name` points at, or undefined when there is none. */
  lookup(name: string): string | undefined {
    try { return fs.readlinkSync(this.entry(name)); } catch { return undefined; }
  }

  /**
   * Create the entry name -> id unless one exists: undefined when created, else the ID the one
   * there points at (which may be id itself, or a stale entry for the caller to judge).
   */
  tryClaim(name: string, id: string): string | undefined {
    try {
      fs.symlinkSync(id, this.entry(name));
      return undefined;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      return this.lookup(name) ?? '';
    }
  }

  /** Point name at id whether or not it has an entry: readers see the old entry or the new one. */
  point(name: string, id: string): void {
    const entry = this.entry(name);
    const tmp = path.join(this.dir, `.tmp-${randomHex(6)}`);
    fs.symlinkSync(id, tmp);
    try {
      fs.renameSync(tmp, entry);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  }

  /** Remove the entry for name if it points at id (another holder's entry stays). */
  drop(name: string, id: string): void {
    if (this.lookup(name) === id) fs.rmSync(this.entry(name), { force: true });
  }

  /** How many entries there are (temporary files aside), without reading them. */
  count(): number {
    try { return fs.readdirSync(this.dir).filter((f) => !f.startsWith('.')).length; } catch { return 0; }
  }

  /** Every entry as [name, id] (names as given to point/tryClaim). */
  entries(): [string, string][] {
    let files: string[];
    try { files = fs.readdirSync(this.dir); } catch { return []; }
    return files.filter((f) => !f.startsWith('.')).flatMap((f) => {
      try { return [[decodeURIComponent(f), fs.readlinkSync(path.join(this.dir, f))] as [string, string]]; } catch { return []; }
    });
  }

  /**
   * Make the index from scratch with these entries, all at once: built beside it and renamed into
   * place, so that no reader ever sees a half-built index as the whole truth. Callers hold the lock
   * that its writers take, and call it only while the index does not exist.
   */
  create(entries: Iterable<[string, string]>): void {
    const building = `${this.dir}.new`;
    fs.rmSync(building, { recursive: true, force: true }); // left by a build that crashed
    fs.mkdirSync(building, { recursive: true, mode: 0o700 });
    for (const [name, id] of entries) fs.symlinkSync(id, path.join(building, this.key(name)));
    fs.renameSync(building, this.dir);
  }

  private entry(name: string): string { return path.join(this.dir, this.key(name)); }

  /**
   * The file name of a name's entry: the name itself where it is a plain file name (container
   * names always are), else percent-encoded (image references hold '/' and ':'); a leading '.'
   * too, which would hide it among the temporary files. A name whose entry would be longer than
   * a file name may be cannot have one: lookup finds nothing, tryClaim and point throw
   * ENAMETOOLONG.
   */
  private key(name: string): string {
    const key = encodeURIComponent(name).replace(/^\./, '%2E');
    if (key.length > MAX_KEY) throw Object.assign(new Error(`name longer than ${MAX_KEY} characters: ${name.slice(0, 40)}...`), { code: 'ENAMETOOLONG' });
    return key;
  }
}

/** NAME_MAX of the filesystems the stores live on. */
export const MAX_KEY = 255;
