// Degraded environments: a user without a subuid range (single-ID mapping, one warning line)
// and a machine without newuidmap (a clear error, 125).
import { afterAll, describe, expect, test } from 'vitest';
import {
  BUSYBOX,
  destroyStore,
  errorLines,
  fixture,
  isRootless,
  looksLikeStackTrace,
  newStore,
  newStoreFor,
  parseTable,
  skiff,
  skiffAs,
  subRange,
  userInfo,
  useStore,
  type Store,
} from './harness';

useStore({ load: [] });

const extra: Store[] = [];
afterAll(async () => {
  for (const s of extra) await destroyStore(s);
});

const NOSUB = process.env.SKIFF_E2E_NOSUB_USER;
const nosubUser = NOSUB && process.getuid?.() === 0 ? userInfo(NOSUB) : undefined;

describe.skipIf(!nosubUser)(`a user without a subuid range (${NOSUB ?? 'SKIFF_E2E_NOSUB_USER unset'})`, () => {
  const user = nosubUser!;
  let s: Store;
  const warnings = (stderr: string) => errorLines(stderr).filter((l) => /sub[ug]id|single|mapping/i.test(l));

  test('the user really has no range', () => {
    const u = { username: user.name, uid: user.uid };
    expect(subRange('/etc/subuid', u)).toBeUndefined();
    expect(subRange('/etc/subgid', u)).toBeUndefined();
  });

  test('load works', async () => {
    s = newStoreFor(user);
    extra.push(s);
    const r = await skiffAs(user, s, ['load', '-i', fixture('busybox.docker.tar')], { timeoutMs: 110_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(warnings(r.stderr).length).toBeLessThanOrEqual(1);
    expect(looksLikeStackTrace(r.stderr)).toBe(false);
  });

  test('run works with a single-ID mapping and says so in exactly one line', async () => {
    const r = await skiffAs(user, s, ['run', '--rm', BUSYBOX, 'sh', '-c', 'id -u; cat /proc/self/uid_map']);
    expect(r.code, r.stderr).toBe(0);
    const [uid, ...map] = r.stdout.split('\n').filter(Boolean);
    expect(uid).toBe('0');
    expect(map.map((l) => l.trim().split(/\s+/).map(Number))).toEqual([[0, user.uid, 1]]);
    const errs = errorLines(r.stderr);
    expect(errs, r.stderr).toHaveLength(1);
    expect(errs[0]).toMatch(/\/etc\/sub[ug]id/);
  });
});

describe.skipIf(!isRootless() || !subRange('/etc/subuid'))('newuidmap missing', () => {
  test('a clear one-line error naming newuidmap, exit 125, and no state change', async () => {
    const s = newStore();
    extra.push(s);
    const r = await skiff(['load', '-i', fixture('busybox.docker.tar')], { store: s, env: { PATH: '/nonexistent' } });
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/newuidmap/);
    expect(looksLikeStackTrace(r.stderr)).toBe(false);
    const images = await skiff(['images'], { store: s });
    expect(images.code, images.stderr).toBe(0);
    expect(parseTable(images.stdout).rows).toEqual([]);
  });

  test('run in a namespace that does not exist yet fails the same way', async () => {
    const s = newStore();
    extra.push(s);
    const load = await skiff(['load', '-i', fixture('busybox.docker.tar')], { store: s });
    expect(load.code, load.stderr).toBe(0);
    // a fresh run root: no pause process to join, so the namespace must be made again
    const fresh = newStore();
    extra.push(fresh);
    const r = await skiff(['run', '--rm', BUSYBOX, 'true'], {
      store: s,
      env: { PATH: '/nonexistent', SKIFF_RUNROOT: fresh.runroot },
    });
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/newuidmap/);
  });
});
