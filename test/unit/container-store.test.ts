// ContainerStore's read path: what list() and find() return from containers/<id>/container.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ContainerStore, type ContainerRecord } from '../../src/engine/container-store';
import { withLock } from '../../src/state/lock';

let root: string;
let store: ContainerStore;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-containers-'));
  store = new ContainerStore(root);
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function record(hexChar: string, name: string): ContainerRecord {
  return {
    id: hexChar.repeat(64), name, created: '2026-01-01T00:00:00.000Z', image: 'busybox', imageId: `sha256:${'f'.repeat(64)}`,
    path: 'true', args: [],
    config: {
      env: [], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [] }, userSpec: '', hostname: name,
      tty: false, openStdin: false, network: 'none', autoRemove: false,
    },
    storage: { driver: 'overlay', layers: [] },
    state: { status: 'created' },
  };
}

/** As create does: the container's directory first, then its record. */
function save(...recs: ContainerRecord[]): void {
  for (const r of recs) {
    fs.mkdirSync(store.dir(r.id), { recursive: true });
    store.save(r);
  }
}

describe('list', () => {
  it('is empty when the store has no containers directory yet', () => {
    expect(store.list()).toEqual([]);
  });

  it('returns every saved record, and skips directories without a readable record', () => {
    const a = record('a', 'alpha'), b = record('b', 'beta');
    save(a, b);
    fs.mkdirSync(path.join(store.root, 'c'.repeat(64)));                 // being created or removed
    fs.mkdirSync(path.join(store.root, 'd'.repeat(64)));
    fs.writeFileSync(path.join(store.root, 'd'.repeat(64), 'container.json'), '{"id": "torn'); // not JSON
    const listed = store.list().sort((x, y) => x.id.localeCompare(y.id));
    expect(listed).toEqual([a, b]);
  });

  it('reads the same records get() does', () => {
    const a = record('a', 'alpha');
    save(a);
    expect(store.list()).toEqual([store.get(a.id)]);
  });
});

describe('find', () => {
  it('finds by full ID, by name (with or without a leading slash) and by a unique ID prefix', () => {
    const a = record('a', 'alpha'), b = record('b', 'beta');
    save(a, b);
    expect(store.find(a.id)?.name).toBe('alpha');
    expect(store.find('beta')?.id).toBe(b.id);
    expect(store.find('/beta')?.id).toBe(b.id);
    expect(store.find('aaaa')?.id).toBe(a.id);
    expect(store.find('nosuch')).toBeUndefined();
  });

  it('takes an exact name before an ID prefix, and refuses an ambiguous prefix', () => {
    const a = record('a', 'alpha'), b = record('b', 'aaaa'), c = { ...record('a', 'gamma'), id: `${'a'.repeat(63)}c` };
    save(a, b, c);
    expect(store.find('aaaa')?.id).toBe(b.id);
    expect(() => store.find('aaab')).not.toThrow();
    expect(() => store.find('aaaaa')).toThrow(/multiple containers match "aaaaa"/);
    expect(store.find(c.id)?.name).toBe('gamma');
  });

  it('reads the one record a full ID names, and in a store made before the name index, names until the one that matches', () => {
    const recs = ['a', 'b', 'c', 'd', 'e', 'f'].map((h, i) => record(h, `n${i}`));
    save(...recs);
    const reads = vi.spyOn(fs, 'readFileSync');
    try {
      expect(store.find(recs[3].id)?.name).toBe('n3');
      expect(recordReads(reads)).toBe(1);
      reads.mockClear();
      const byName = store.find('n4');
      expect(byName?.id).toBe(recs[4].id);
      expect(recordReads(reads)).toBe(recs.length); // no index: list() and a search
    } finally {
      reads.mockRestore();
    }
  });

  it('with the name index, reads one record for a name, and none for a name nobody has', () => {
    const recs = ['a', 'b', 'c', 'd', 'e', 'f'].map((h, i) => record(h, `n${i}`));
    save(...recs);
    store.claimName('other', 'f'.repeat(63) + '0'); // builds the index from the records
    const reads = vi.spyOn(fs, 'readFileSync');
    try {
      expect(store.find('n4')?.id).toBe(recs[4].id);
      expect(recordReads(reads)).toBe(1);
      reads.mockClear();
      expect(store.find('nosuch')).toBeUndefined();
      expect(recordReads(reads)).toBe(0);
    } finally {
      reads.mockRestore();
    }
  });
});

function recordReads(reads: { mock: { calls: unknown[][] } }): number {
  return reads.mock.calls.filter(([f]) => String(f).endsWith('container.json')).length;
}

/** As create does under the store lock: the name first, then the record. */
function create(hexChar: string, name: string): ContainerRecord | undefined {
  const r = record(hexChar, name);
  fs.mkdirSync(store.dir(r.id), { recursive: true });
  const holder = store.claimName(name, r.id);
  if (holder) return holder;
  store.save(r);
  return undefined;
}

describe('the name index', () => {
  it('is built from the records of a store made before it, so their names stay taken', () => {
    save(record('a', 'alpha'));
    expect(store.names.exists()).toBe(false);
    expect(create('b', 'alpha')?.id).toBe('a'.repeat(64));
    expect(store.names.lookup('alpha')).toBe('a'.repeat(64));
    expect(store.findByName('alpha')?.id).toBe('a'.repeat(64));
  });

  it('refuses a name another container holds, and tells which', () => {
    expect(create('a', 'web')).toBeUndefined();
    expect(create('b', 'web')?.id).toBe('a'.repeat(64));
    expect(store.find('web')?.id).toBe('a'.repeat(64));
    expect(create('b', 'db')).toBeUndefined();
  });

  it('treats an entry whose container is gone as free: a create killed after claiming, or an --rm container removed by its monitor', () => {
    expect(create('a', 'web')).toBeUndefined();
    fs.rmSync(store.dir('a'.repeat(64)), { recursive: true });      // the monitor removes the directory only
    store.names.point('db', 'c'.repeat(64));                           // a create that died before its record
    expect(store.find('web')).toBeUndefined();
    expect(store.find('db')).toBeUndefined();
    expect(create('b', 'web')).toBeUndefined();
    expect(create('d', 'db')).toBeUndefined();
    expect(store.find('web')?.id).toBe('b'.repeat(64));
    expect(store.find('db')?.id).toBe('d'.repeat(64));
  });

  it('follows a rename: the new name is found and taken, the old one is free, and a rename killed half way leaves no one without a name', () => {
    expect(create('a', 'old')).toBeUndefined();
    const a = store.get('a'.repeat(64))!;
    // as rename does: the new entry, the record, then the old entry goes
    expect(store.claimName('new', a.id)).toBeUndefined();
    store.save({ ...a, name: 'new' });
    // killed here: the old entry still points at a, whose record is named otherwise
    expect(store.find('old')).toBeUndefined();
    expect(store.find('new')?.id).toBe(a.id);
    expect(create('b', 'new')?.id).toBe(a.id);
    expect(create('b', 'old')).toBeUndefined();
    expect(store.find('old')?.id).toBe('b'.repeat(64));
  });

  it('a rename killed before its record was written leaves the container its old name and the new one free', () => {
    expect(create('a', 'old')).toBeUndefined();
    expect(store.claimName('new', 'a'.repeat(64))).toBeUndefined(); // killed here
    expect(store.find('old')?.id).toBe('a'.repeat(64));
    expect(store.find('new')).toBeUndefined();
    expect(create('b', 'new')).toBeUndefined();
    expect(create('c', 'old')?.id).toBe('a'.repeat(64));
  });

  it('gives a name to one of many concurrent creates under the store lock, the others learn who has it', async () => {
    const outcomes = await Promise.all(['1', '2', '3', '4', '5', '6', '7', '8'].map((h) => withLock(store.lockFile, async () => {
      const r = record(h, 'contested');
      fs.mkdirSync(store.dir(r.id), { recursive: true });
      const holder = store.claimName('contested', r.id);
      if (holder) return holder.id;
      await new Promise((resolve) => setTimeout(resolve, 5)); // create's awaits between claim and record
      store.save(r);
      return 'won';
    })));
    const won = outcomes.filter((o) => o === 'won');
    expect(won).toHaveLength(1);
    const holder = store.find('contested')!;
    expect(outcomes.filter((o) => o !== 'won')).toEqual(Array(7).fill(holder.id));
    expect(store.list().filter((c) => c.name === 'contested')).toHaveLength(1);
  });

  it('drops the entries of removed containers once they outnumber the containers by 64', () => {
    expect(create('a', 'kept')).toBeUndefined();
    for (let i = 0; i < 70; i++) store.names.point(`gone-${i}`, i.toString(16).padStart(64, '0'));
    expect(create('b', 'another')).toBeUndefined();
    expect(store.names.entries().map(([n]) => n).sort()).toEqual(['another', 'kept']);
  });

  it('refuses a name longer than a file name may be, with the reason', () => {
    expect(() => create('a', `x${'y'.repeat(255)}`)).toThrow(/longer than 255 characters/);
  });
});
