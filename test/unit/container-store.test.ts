// ContainerStore's read path: what list() and find() return from containers/<id>/container.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ContainerStore, type ContainerRecord } from '../../src/engine/container-store';

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

  it('reads the one record a full ID names, and names only until the one that matches', () => {
    const recs = ['a', 'b', 'c', 'd', 'e', 'f'].map((h, i) => record(h, `n${i}`));
    save(...recs);
    const reads = vi.spyOn(fs, 'readFileSync');
    try {
      expect(store.find(recs[3].id)?.name).toBe('n3');
      expect(reads.mock.calls.filter(([f]) => String(f).endsWith('container.json'))).toHaveLength(1);
      reads.mockClear();
      const byName = store.find('n4');
      expect(byName?.id).toBe(recs[4].id);
      const order = fs.readdirSync(store.root);
      expect(reads.mock.calls.filter(([f]) => String(f).endsWith('container.json'))).toHaveLength(order.indexOf(recs[4].id) + 1);
    } finally {
      reads.mockRestore();
    }
  });
});
