// skiff push against real registries on 127.0.0.1: round trips with identical digests, blobs
// the registry has, cross-repository mounts, chunked uploads, and refused access.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { errorLines, fixture, fixtureInfo, lines, newStore, skiff, useStore, BUSYBOX, LAYERED } from './harness';
import { DEFAULT_USERS, fixtureImage, useRegistry } from './registry';

useStore({ load: ['busybox.docker.tar', 'layered.oci.tar'] });
const registry = useRegistry({ auth: 'none' });
const tokenRegistry = useRegistry({ auth: 'token' });

/** The manifest digest `push` reported ("TAG: digest: sha256:… size: N"). */
function pushedDigest(stdout: string): string {
  const m = /: digest: (sha256:[0-9a-f]{64}) size: \d+$/m.exec(stdout);
  if (!m) throw new Error(`no digest line in push output:\n${stdout}`);
  return m[1];
}

describe('push to an anonymous registry', () => {
  test('push a loaded image, pull it into an empty store: same image ID and manifest digest', async () => {
    const ref = registry().ref('rt/busybox:v1');
    expect((await skiff(['tag', BUSYBOX, ref])).code).toBe(0);
    const r = await skiff(['push', ref]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out[0]).toBe(`The push refers to repository [${registry().host}/rt/busybox]`);
    expect(out.some((l) => / Pushed$/.test(l))).toBe(true);
    const digest = pushedDigest(r.stdout);
    // The registry serves exactly the manifest skiff pushed.
    const served = await registry().inspectRaw('rt/busybox:v1');
    expect(`sha256:${(await import('node:crypto')).createHash('sha256').update(served).digest('hex')}`).toBe(digest);

    const fresh = newStore();
    const pull = await skiff(['pull', ref], { store: fresh });
    expect(pull.code).toBe(0);
    expect(pull.stdout).toContain(`Digest: ${digest}`);
    const ids = lines((await skiff(['images', '-q', '--no-trunc'], { store: fresh })).stdout);
    expect(ids).toEqual([fixtureInfo()[BUSYBOX].id]);
    const run = await skiff(['run', '--rm', ref, 'echo', 'round trip'], { store: fresh });
    expect(run.stdout).toBe('round trip\n');
  });

  test('an image pulled from the registry and pushed back keeps its manifest digest', async () => {
    const fx = fixtureImage(LAYERED);
    const src = await registry().seed(LAYERED, 'orig/layered:v1');
    const s = newStore();
    expect((await skiff(['pull', src], { store: s })).code).toBe(0);
    const dst = registry().ref('copy/layered:v1');
    expect((await skiff(['tag', src, dst], { store: s })).code).toBe(0);
    const r = await skiff(['push', dst], { store: s });
    expect(r.code).toBe(0);
    // Both layers come from another repository of the same registry: mounted, not uploaded.
    expect(lines(r.stdout).filter((l) => /: Mounted from orig\/layered$/.test(l))).toHaveLength(2);
    expect(pushedDigest(r.stdout)).toBe(fx.manifest!.digest);
  });

  test('pushing again: every layer already exists', async () => {
    const ref = registry().ref('rt/busybox:v1');
    const r = await skiff(['push', ref]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Layer already exists');
    expect(r.stdout).not.toContain('Pushed');
  });

  test('large blobs go up in chunks (pushChunkSize) and pull back intact', async () => {
    const s = newStore();
    expect((await skiff(['load', '-i', fixture('layered.docker.tar')], { store: s })).code).toBe(0);
    fs.mkdirSync(s.configDir, { recursive: true });
    fs.writeFileSync(path.join(s.configDir, 'config.json'), JSON.stringify({ pushChunkSize: 65536 }));
    const ref = registry().ref('chunked/layered:v1');
    expect((await skiff(['tag', LAYERED, ref], { store: s })).code).toBe(0);
    const r = await skiff(['push', ref], { store: s });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // The access log shows the PATCH requests of a chunked upload.
    const log = await registry().syncRequests();
    expect(log.filter((q) => q.method === 'PATCH' && q.path.includes('/chunked/layered/blobs/uploads/')).length).toBeGreaterThan(2);
    const fresh = newStore();
    expect((await skiff(['pull', ref], { store: fresh })).code).toBe(0);
    const run = await skiff(['run', '--rm', ref, 'cat', '/etc/motd'], { store: fresh });
    expect(run.stdout).toBe('layer2\n');
  });

  test('push of a tag that does not exist locally: one line, exit 1', async () => {
    const r = await skiff(['push', registry().ref('nothing/here:v1')]);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('An image does not exist locally with the tag');
  });
});

describe('push with token auth', () => {
  test('not logged in: refused with a hint to log in', async () => {
    const ref = tokenRegistry().ref('private/busybox:v1');
    expect((await skiff(['tag', BUSYBOX, ref])).code).toBe(0);
    const r = await skiff(['push', ref]);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/login/);
  });

  test('a user who may only pull is refused; one who may push succeeds and tokens are reused', async () => {
    const [alice, bob] = DEFAULT_USERS;
    const ref = tokenRegistry().ref('private/busybox:v1');
    const login = (u: typeof alice) => skiff(['login', '-u', u.name, '--password-stdin', tokenRegistry().host], { input: `${u.password}\n` });
    expect((await login(bob)).code).toBe(0);
    const denied = await skiff(['push', ref]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('denied');
    expect((await login(alice)).code).toBe(0);
    tokenRegistry().tokenRequests.length = 0;
    const ok = await skiff(['push', ref]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    // One token for the push scope serves every request of the push.
    expect(tokenRegistry().tokenRequests.length).toBe(1);
    const s = newStore();
    const anon = await skiff(['pull', ref], { store: s });
    expect(anon.code).toBe(1);
    expect(anon.stderr).toContain('pull access denied');
  });
});

