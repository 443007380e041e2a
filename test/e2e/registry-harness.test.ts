// The registry harness itself, checked with skopeo and plain HTTP (no skiff): if these fail,
// the pull/push tests that use the harness cannot be trusted either.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUSYBOX, LAYERED } from './harness';
import {
  BUSYBOX_ZSTD,
  MULTIARCH,
  basicAuth,
  defaultTokenPolicy,
  fixtureImage,
  httpRequest,
  parseScope,
  useRegistry,
  type Registry,
  type RegistryUser,
} from './registry';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The manifest digest the registry serves for a reference, checked against its bytes. */
async function servedDigest(reg: Registry, nameTag: string, as?: { user: RegistryUser | null }): Promise<string> {
  const raw = await reg.inspectRaw(nameTag, as);
  return sha256(raw);
}

/** Ask the token server directly. */
async function askToken(reg: Registry, scopes: string[], user?: RegistryUser) {
  const q = new URLSearchParams({ service: reg.tokenService! });
  for (const s of scopes) q.append('scope', s);
  const r = await httpRequest(`${reg.tokenRealm}?${q}`, {
    headers: user ? { Authorization: basicAuth(user) } : {},
    ca: reg.caFile ? fs.readFileSync(reg.caFile) : undefined,
  });
  const body = r.body.length ? JSON.parse(r.body.toString()) : {};
  return { status: r.status, body };
}

function jwtClaims(token: string): { access: { type: string; name: string; actions: string[] }[]; sub: string; aud: string } {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

describe('anonymous registry', () => {
  const reg = useRegistry({ auth: 'none' });

  it('answers /v2/ on a loopback port with the distribution API version header', async () => {
    expect(reg().host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(reg().url).toBe(`http://${reg().host}`);
    const r = await reg().request('/v2/');
    expect(r.status).toBe(200);
    expect(r.headers['docker-distribution-api-version']).toBe('registry/2.0');
  });

  it('takes a fixture from skopeo with the digests images.json records', async () => {
    const info = fixtureImage(BUSYBOX);
    const ref = await reg().seed(BUSYBOX);
    expect(ref).toBe(`${reg().host}/${BUSYBOX}`);
    expect(await servedDigest(reg(), BUSYBOX)).toBe(info.manifest!.digest);
    // Each blob is a file of the storage, named by its digest, holding those bytes.
    for (const d of [info.config!, ...info.blobs!]) {
      const data = fs.readFileSync(reg().blobPath(d.digest));
      expect(data.length).toBe(d.size);
      expect(sha256(data)).toBe(d.digest);
    }
    const head = await reg().request(`/v2/skiff-test/busybox/blobs/${info.blobs![0].digest}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(info.blobs![0].size);
    // The access log saw skopeo's upload and the HEAD above, in order.
    const log = await reg().syncRequests();
    expect(log).toContainEqual(expect.objectContaining({ method: 'PUT', path: `/v2/skiff-test/busybox/manifests/latest`, status: 201 }));
    expect(log.at(-1)).toMatchObject({ method: 'HEAD', path: `/v2/skiff-test/busybox/blobs/${info.blobs![0].digest}`, status: 200 });
    expect(log.some((r) => r.userAgent.includes('skopeo'))).toBe(true);
  });

  it('keeps the zstd fixture\'s layer media type', async () => {
    const info = fixtureImage(BUSYBOX_ZSTD);
    await reg().seed(BUSYBOX_ZSTD);
    const raw = await reg().inspectRaw(BUSYBOX_ZSTD);
    expect(sha256(raw)).toBe(info.manifest!.digest);
    expect(JSON.parse(raw.toString()).layers[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    expect(info.id).toBe(fixtureImage(BUSYBOX).id); // same config: the same image, compressed otherwise
  });

  it('corrupts a stored blob in place (same size, wrong bytes)', async () => {
    const blob = fixtureImage(BUSYBOX).blobs![0];
    await reg().seed(BUSYBOX, 'corrupt/busybox:latest');
    reg().corruptBlob(blob.digest);
    const data = fs.readFileSync(reg().blobPath(blob.digest));
    expect(data.length).toBe(blob.size);
    expect(sha256(data)).not.toBe(blob.digest);
    // The registry serves the corrupt bytes as they are: what a client must detect.
    const r = await reg().request(`/v2/corrupt/busybox/blobs/${blob.digest}`);
    expect(r.status).toBe(200);
    expect(sha256(r.body)).not.toBe(blob.digest);
  });

  it('restarts on the same port with the same storage', async () => {
    const before = reg().host;
    // The access log is written asynchronously: let the previous test's lines arrive before clearing it.
    await reg().syncRequests();
    reg().requests.length = 0;
    await reg().restart();
    expect(reg().host).toBe(before);
    expect(reg().requests).toEqual([]);
    expect(await servedDigest(reg(), BUSYBOX_ZSTD)).toBe(fixtureImage(BUSYBOX_ZSTD).manifest!.digest);
  });
});

describe('basic auth over TLS', () => {
  const reg = useRegistry({ auth: 'basic-tls' });

  it('serves HTTPS with a certificate from the harness CA only', async () => {
    expect(reg().url).toBe(`https://${reg().host}`);
    expect(fs.readFileSync(reg().caFile!, 'utf8')).toMatch(/BEGIN CERTIFICATE/);
    expect(fs.readdirSync(reg().certDir!)).toEqual(['ca.crt']);
    const certsD = fs.mkdtempSync(`${reg().dir}/certs.d-`);
    expect(reg().trustIn(certsD)).toBe(`${certsD}/${reg().host}/ca.crt`);
    expect(fs.readFileSync(`${certsD}/${reg().host}/ca.crt`)).toEqual(fs.readFileSync(reg().caFile!));
    // Without the CA, the certificate is not trusted.
    await expect(httpRequest(`${reg().url}/v2/`)).rejects.toThrow(/certificate/i);
  });

  it('refuses without credentials or with a wrong password, accepts with them', async () => {
    const alice = reg().users[0];
    const anon = await reg().request('/v2/');
    expect(anon.status).toBe(401);
    expect(anon.headers['www-authenticate']).toMatch(/^Basic realm=/);
    const wrong = await reg().request('/v2/', { headers: { Authorization: basicAuth({ ...alice, password: 'wrong' }) } });
    expect(wrong.status).toBe(401);
    const ok = await reg().request('/v2/', { headers: { Authorization: basicAuth(alice) } });
    expect(ok.status).toBe(200);
  });

  it('lets skopeo push with credentials and refuses it without', async () => {
    await expect(reg().seed(LAYERED, LAYERED, { user: null })).rejects.toThrow(/unauthorized|authentication required/i);
    await reg().seed(LAYERED);
    const info = fixtureImage(LAYERED);
    expect(await servedDigest(reg(), LAYERED)).toBe(info.manifest!.digest);
    const manifest = JSON.parse((await reg().inspectRaw(LAYERED)).toString());
    expect(manifest.config.digest).toBe(info.id);
    expect(manifest.layers.map((l: { digest: string }) => l.digest)).toEqual(info.blobs!.map((b) => b.digest));
    await expect(reg().inspectRaw(LAYERED, { user: null })).rejects.toThrow(/unauthorized|authentication required/i);
  });
});

describe('token auth', () => {
  const reg = useRegistry({ auth: 'token' });

  it('sends clients to the token server', async () => {
    const r = await reg().request('/v2/');
    expect(r.status).toBe(401);
    const challenge = String(r.headers['www-authenticate']);
    expect(challenge).toContain(`Bearer realm="${reg().tokenRealm}"`);
    expect(challenge).toContain(`service="${reg().tokenService}"`);
  });

  it('grants by policy: anonymous pulls public/*, alice pushes, bob only pulls, a wrong password is refused', async () => {
    const [alice, bob] = reg().users;
    const anon = await askToken(reg(), ['repository:public/x:pull,push', 'repository:private/x:pull']);
    expect(anon.status).toBe(200);
    expect(anon.body.token).toBe(anon.body.access_token);
    expect(anon.body.expires_in).toBe(300);
    expect(Date.parse(anon.body.issued_at)).not.toBeNaN();
    expect(jwtClaims(anon.body.token).access).toEqual([
      { type: 'repository', name: 'public/x', actions: ['pull'] },
      { type: 'repository', name: 'private/x', actions: [] },
    ]);
    const a = await askToken(reg(), ['repository:private/x:pull,push'], alice);
    expect(jwtClaims(a.body.token).access[0].actions).toEqual(['pull', 'push']);
    expect(jwtClaims(a.body.token).sub).toBe('alice');
    const b = await askToken(reg(), ['repository:private/x:pull,push'], bob);
    expect(jwtClaims(b.body.token).access[0].actions).toEqual(['pull']);
    const bad = await askToken(reg(), ['repository:private/x:pull'], { ...alice, password: 'nope' });
    expect(bad.status).toBe(401);
    const last = reg().tokenRequests.at(-1)!;
    expect(last).toMatchObject({ status: 401, user: null, claimedUser: 'alice', scopes: ['repository:private/x:pull'] });
  });

  it('issues tokens the registry accepts, and only for what they grant', async () => {
    const alice = reg().users[0];
    await reg().seed(BUSYBOX, 'private/busybox:latest');
    const digest = fixtureImage(BUSYBOX).manifest!.digest;
    const path = '/v2/private/busybox/manifests/latest';
    const accept = { Accept: 'application/vnd.oci.image.manifest.v1+json' };
    const withPull = await askToken(reg(), ['repository:private/busybox:pull'], alice);
    const ok = await reg().request(path, { headers: { ...accept, Authorization: `Bearer ${withPull.body.token}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers['docker-content-digest']).toBe(digest);
    const anon = await askToken(reg(), ['repository:private/busybox:pull']);
    const denied = await reg().request(path, { headers: { ...accept, Authorization: `Bearer ${anon.body.token}` } });
    expect(denied.status).toBe(401);
    expect(String(denied.headers['www-authenticate'])).toContain('insufficient_scope');
    // A token signed by anyone else is refused.
    const forged = withPull.body.token.replace(/\.[^.]+$/, '.' + Buffer.alloc(64, 1).toString('base64url'));
    expect((await reg().request(path, { headers: { ...accept, Authorization: `Bearer ${forged}` } })).status).toBe(401);
  });

  it('serves a multi-platform index pushed by alice through tokens, and records the token requests', async () => {
    const info = fixtureImage(MULTIARCH);
    const bob = reg().users[1];
    reg().tokenRequests.length = 0;
    await reg().seed(MULTIARCH);
    expect(reg().tokenRequests.length).toBeGreaterThan(0);
    expect(reg().tokenRequests.every((r) => r.status === 200 && r.user === 'alice')).toBe(true);
    expect(reg().tokenRequests.some((r) => r.scopes.includes('repository:skiff-test/multiarch:pull,push'))).toBe(true);

    const index = await reg().inspectRaw(MULTIARCH);
    expect(sha256(index)).toBe(info.index!.digest);
    const platforms = JSON.parse(index.toString()).manifests.map(
      (m: { platform: { os: string; architecture: string; variant?: string } }) =>
        [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join('/'),
    );
    expect(platforms.sort()).toEqual(Object.keys(info.platforms!).sort());
    for (const p of Object.values(info.platforms!)) {
      // bob may pull: each platform's manifest by digest, with its own config.
      const m = await reg().inspectRaw(`skiff-test/multiarch@${p.manifest.digest}`, { user: bob });
      expect(sha256(m)).toBe(p.manifest.digest);
      expect(JSON.parse(m.toString()).config.digest).toBe(p.id);
    }
    expect(info.platforms![info.hostPlatform!].id).toBe(info.id);
    expect(info.platforms![info.otherPlatform!].platform.architecture).not.toBe(info.platforms![info.hostPlatform!].platform.architecture);
  });

  it('refuses pushes by bob and anonymous pulls outside public/', async () => {
    const bob = reg().users[1];
    await expect(reg().seed(BUSYBOX, 'bob/busybox:latest', { user: bob })).rejects.toThrow(/denied|unauthorized|authentication required/i);
    await expect(reg().inspectRaw(MULTIARCH, { user: null })).rejects.toThrow(/denied|unauthorized|authentication required/i);
    await reg().seed(BUSYBOX, 'public/busybox:1');
    expect(await reg().inspectRaw('public/busybox:1', { user: null })).toBeInstanceOf(Buffer);
  });

  it('lets a test change the policy', async () => {
    const bob = reg().users[1];
    reg().setTokenPolicy((user, scope) => (user === 'bob' ? scope.actions : []));
    try {
      await reg().seed(BUSYBOX, 'bob/busybox:latest', { user: bob });
      expect(await servedDigest(reg(), 'bob/busybox:latest', { user: bob })).toBe(fixtureImage(BUSYBOX).manifest!.digest);
      await expect(reg().inspectRaw('bob/busybox:latest')).rejects.toThrow(/denied|unauthorized/i); // alice, now
    } finally {
      reg().setTokenPolicy(defaultTokenPolicy);
    }
  });
});

describe('token auth over TLS', () => {
  const reg = useRegistry({ auth: 'token', tls: true, tokenExpiresIn: 120 });

  it('serves registry and token server over HTTPS with the harness CA', async () => {
    expect(reg().url.startsWith('https://')).toBe(true);
    expect(reg().tokenRealm!.startsWith('https://127.0.0.1:')).toBe(true);
    await reg().seed(LAYERED, 'public/layered:latest');
    expect(await servedDigest(reg(), 'public/layered:latest')).toBe(fixtureImage(LAYERED).manifest!.digest);
    const anon = await askToken(reg(), ['repository:public/layered:pull']);
    expect(anon.body.expires_in).toBe(120);
  });
});

describe('token scope parsing', () => {
  it('splits type, name and actions (a type may carry a class)', () => {
    expect(parseScope('repository:a/b:pull,push')).toEqual({ type: 'repository', name: 'a/b', actions: ['pull', 'push'] });
    expect(parseScope('repository(plugin):a:pull')).toEqual({ type: 'repository', name: 'a', actions: ['pull'] });
    expect(parseScope('registry:catalog:*')).toEqual({ type: 'registry', name: 'catalog', actions: ['*'] });
    expect(parseScope('nonsense')).toBeUndefined();
  });
});
