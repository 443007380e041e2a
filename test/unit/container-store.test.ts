// ContainerStore's read path: what list() and find() return from containers/<id>/container.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
});
