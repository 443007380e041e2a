// The registry client's auth and redirect rules, against real HTTP servers on 127.0.0.1 that
// record what they were sent (the full registry is exercised by the e2e suite).
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { downloadVerifiedBlob, EarlyBlobRequest, type BlobSource } from '../../src/image/registry/blob-download';
import { RegistryClient } from '../../src/image/registry/client';
import type { RegistryHostConfig } from '../../src/image/registry/registry-config';

interface Seen { url: string; authorization?: string }
type Handler = (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen[]) => void;

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(handler: Handler): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    handler(req, res, seen);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function hostConfig(url: string): RegistryHostConfig {
  const ep = { url, mirror: false, tls: { verify: false } };
  return { registry: new URL(url).host, insecure: true, pullEndpoints: [ep], pushEndpoints: [ep], pushEndpoint: ep };
}

/** A registry that wants a Bearer token from `realm` and accepts exactly `token`. */
function bearerRegistry(realm: () => string, token: string, onAuthorized: Handler): Handler {
  return (req, res, seen) => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm()}",service="test-registry"` });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    onAuthorized(req, res, seen);
  };
}

describe('RegistryClient', () => {
  it('fetches a token with the scope, reuses it, and sends Basic credentials only to the token server', async () => {
    const tokens = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: 'tok-1', expires_in: 300 }));
    });
    const reg = await serve(bearerRegistry(() => `${tokens.url}/token`, 'tok-1', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
      res.end('{"schemaVersion":2}');
    }));
    const client = new RegistryClient(hostConfig(reg.url), { username: 'alice', password: 'pw' });
    await client.getManifest('ns/app', 'v1');
    await client.getManifest('ns/app', 'v2');
    await client.close();
    expect(tokens.seen).toHaveLength(1);
    const t = new URL(tokens.seen[0].url, tokens.url);
    expect(t.searchParams.get('service')).toBe('test-registry');
    expect(t.searchParams.getAll('scope')).toEqual(['repository:ns/app:pull']);
    expect(tokens.seen[0].authorization).toBe(`Basic ${Buffer.from('alice:pw').toString('base64')}`);
    // The registry never sees the password, only the token (after the first challenge).
    expect(reg.seen.map((s) => s.authorization)).toEqual([undefined, 'Bearer tok-1', 'Bearer tok-1']);
  });

  it('asks for a new token when the old one expired', async () => {
    let n = 0;
    const tokens = await serve((_req, res) => {
      n++;
      res.writeHead(200, { 'content-type': 'application/json' });
      // issued long ago: expired at once
      res.end(JSON.stringify({ token: 'tok', expires_in: 1, issued_at: '2020-01-01T00:00:00Z' }));
    });
    const reg = await serve(bearerRegistry(() => `${tokens.url}/token`, 'tok', (_req, res) => { res.writeHead(200); res.end('{}'); }));
    const client = new RegistryClient(hostConfig(reg.url));
    await client.getManifest('a', 'x');
    await client.getManifest('a', 'y');
    await client.close();
    expect(n).toBe(2);
  });

  it('follows a blob redirect to another host without the Authorization header', async () => {
    const storage = await serve((_req, res) => { res.writeHead(200); res.end('blob-bytes'); });
    const tokens = await serve((_req, res) => { res.writeHead(200); res.end('{"access_token":"secret-token"}'); });
    const reg = await serve(bearerRegistry(() => `${tokens.url}/token`, 'secret-token', (req, res) => {
      res.writeHead(307, { location: `${storage.url}/bucket/blob?sig=1` });
      res.end();
    }));
    const client = new RegistryClient(hostConfig(reg.url));
    const res = await client.openBlob('a', 'sha256:0000000000000000000000000000000000000000000000000000000000000000');
    expect(await res.body.text()).toBe('blob-bytes');
    await client.close();
    expect(storage.seen).toEqual([{ url: '/bucket/blob?sig=1', authorization: undefined }]);
    expect(reg.seen.at(-1)?.authorization).toBe('Bearer secret-token');
  });

  it('a wrong password at the token server is one clear error (exit 1)', async () => {
    const tokens = await serve((_req, res) => { res.writeHead(401); res.end(); });
    const reg = await serve(bearerRegistry(() => `${tokens.url}/token`, 'never', () => undefined));
    const client = new RegistryClient(hostConfig(reg.url), { username: 'alice', password: 'bad' });
    await expect(client.getManifest('a', 'x')).rejects.toMatchObject({ message: expect.stringContaining('incorrect username or password'), exitCode: 1 });
    await client.close();
  });

  it('Basic auth: retries with credentials, and without them says to log in', async () => {
    const reg = await serve((req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('bob:pw').toString('base64')}`) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="Registry Realm"' });
        res.end();
        return;
      }
      res.writeHead(200);
      res.end();
    });
    const ok = new RegistryClient(hostConfig(reg.url), { username: 'bob', password: 'pw' });
    await ok.ping();
    await ok.close();
    const anon = new RegistryClient(hostConfig(reg.url));
    await expect(anon.ping()).rejects.toThrow(/skiff login/);
    await anon.close();
  });

  it('refuses a manifest whose bytes do not match the digest the registry names', async () => {
    const reg = await serve((_req, res) => {
      res.writeHead(200, { 'docker-content-digest': 'sha256:1111111111111111111111111111111111111111111111111111111111111111' });
      res.end('{"schemaVersion":2}');
    });
    const client = new RegistryClient(hostConfig(reg.url));
    await expect(client.getManifest('a', 'x')).rejects.toThrow(/refusing it/);
    await client.close();
  });
});

describe('EarlyBlobRequest', () => {
  const blob = crypto.randomBytes(4 * 1024 * 1024); // more than the socket buffers: the sender waits for the reader
  const digest = `sha256:${crypto.createHash('sha256').update(blob).digest('hex')}`;
  const source = (client: RegistryClient): BlobSource => ({ client, repo: 'a', digest, size: blob.length });
  const sentOnce = (seen: Seen[]) => new Promise<void>((resolve) => {
    const poll = () => (seen.length ? resolve() : setTimeout(poll, 5));
    poll();
  });
  const collect = (into: Buffer[]) => new Writable({ write: (c: Buffer, _e, cb) => { into.push(c); cb(); } });

  it('the download reads the answer to the request sent early: one request, bytes verified', async () => {
    const reg = await serve((_req, res) => { res.writeHead(200); res.end(blob); });
    const client = new RegistryClient(hostConfig(reg.url));
    const src = source(client);
    src.early = new EarlyBlobRequest(src);
    await sentOnce(reg.seen);
    const got: Buffer[] = [];
    await downloadVerifiedBlob(src, { sink: collect(got) });
    expect(Buffer.concat(got).equals(blob)).toBe(true);
    expect(reg.seen.map((s) => s.url)).toEqual([`/v2/a/blobs/${digest}`]);
    expect(src.early.take()).toBeUndefined();
    await client.close();
  });

  it('an answer nobody read is dropped by cancel(), and the client still closes', async () => {
    // A body that never ends: the request stays in flight until dropped.
    const reg = await serve((_req, res) => { res.writeHead(200); res.write(blob); });
    const client = new RegistryClient(hostConfig(reg.url));
    const early = new EarlyBlobRequest(source(client));
    await sentOnce(reg.seen);
    early.cancel();
    await client.close();
    expect(early.take()).toBeUndefined();
  });

  it('cancel() of an answer received whole but never read is not an unhandled error', async () => {
    const reg = await serve((_req, res) => { res.writeHead(200); res.end('small'); });
    const client = new RegistryClient(hostConfig(reg.url));
    const early = new EarlyBlobRequest(source(client));
    await sentOnce(reg.seen);
    await new Promise((r) => setTimeout(r, 50)); // the whole body has arrived
    early.cancel();
    await new Promise((r) => setTimeout(r, 50)); // undici emits its AbortError on a later tick
    await client.close();
  });

  it('an early request that failed is sent again by the download', async () => {
    const reg = await serve((_req, res, seen) => {
      if (seen.length === 1) { res.writeHead(503); res.end('{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}'); return; }
      res.writeHead(200);
      res.end(blob);
    });
    const client = new RegistryClient(hostConfig(reg.url));
    const src = source(client);
    src.early = new EarlyBlobRequest(src);
    const got: Buffer[] = [];
    await downloadVerifiedBlob(src, { sink: collect(got) });
    expect(Buffer.concat(got).equals(blob)).toBe(true);
    expect(reg.seen).toHaveLength(2);
    await client.close();
  });
});
