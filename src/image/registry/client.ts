/**
 * A client of one registry (OCI distribution spec v2) over undici: endpoint choice (mirrors,
 * https then http for insecure registries), authentication (Bearer tokens from the
 * WWW-Authenticate challenge, reused until they expire; Basic), and the few requests pull and
 * push need. It verifies nothing about content: callers hash what they read.
 */
import { UpstreamError } from '../../errors';
import crypto from 'node:crypto';
import tls from 'node:tls';
import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from '../../util/undici';
import { VERSION } from '../../util/version';
import { SkiffError } from '../../util/errors';
import { MANIFEST_ACCEPT } from '../media-types';
import type { Credentials } from './credentials';
import type { RegistryEndpoint, RegistryHostConfig } from './registry-config';
import { parseWwwAuthenticate, type Challenge } from './www-authenticate';

const USER_AGENT = `skiff/${VERSION}`;
/** Manifests and configs are small; a larger answer is refused rather than buffered. */
export const MAX_METADATA_BYTES = 8 * 1024 * 1024;
const MAX_REDIRECTS = 5;
/** Renew a token this long before the registry says it expires. */
const TOKEN_MARGIN_MS = 5_000;
/** Token lifetime when the token server does not say (the distribution spec's default). */
const DEFAULT_TOKEN_SECONDS = 60;

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface SendOptions {
  scope: string[];
  headers?: Record<string, string>;
  body?: Buffer | Readable | string;
  /** follow redirects (blob downloads): Authorization is only sent to the registry's own origin */
  follow?: boolean;
}

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** the URL that answered (after redirects) */
  url: string;
}

/** Errors worth another attempt on another connection: the network, not the registry's answer. */
export function isTransient(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code ?? '';
  return /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EAI_AGAIN|UND_ERR_SOCKET|UND_ERR_CLOSED|UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT|ERR_STREAM_PREMATURE_CLOSE|UND_ERR_RES_CONTENT_LENGTH_MISMATCH)$/.test(code)
    || (e as { transient?: boolean })?.transient === true;
}

/** A registry's error body ({"errors":[{code,message}]}) as Docker prints it: "code: message". */
export async function registryErrorText(res: Response): Promise<string> {
  let text = '';
  try { text = await res.body.text(); } catch { /* the status line is still worth reporting */ }
  try {
    const errors = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors;
    if (Array.isArray(errors) && errors.length) {
      return errors.map((e) => `${(e.code ?? 'error').toLowerCase().replace(/_/g, ' ')}: ${e.message ?? ''}`.trim()).join(', ');
    }
  } catch { /* not JSON */ }
  return `${res.status} ${text.trim().split('\n')[0].slice(0, 200)}`.trim();
}

export class RegistryClient {
  private readonly agents = new Map<string, Agent>();
  /** Authorization header per endpoint and scope set, with its expiry (ms since epoch). */
  private readonly tokens = new Map<string, { header: string; expires: number }>();
  /** endpoints that asked for Basic auth: send it on every request */
  private readonly basicEndpoints = new Set<string>();
  /** the pull endpoint that answered last: blobs come from where the manifest came from */
  private pullEndpoint?: RegistryEndpoint;
  private pushEndpoint?: RegistryEndpoint;
  /** how many token requests were made (tests and --log-level debug) */
  tokenRequests = 0;

  constructor(readonly host: RegistryHostConfig, private readonly credentials?: Credentials) {}

  get registry(): string { return this.host.registry; }

  close(): Promise<void> {
    return Promise.all([...this.agents.values()].map((a) => a.close())).then(() => undefined);
  }

  // -------------------------------------------------------------------------------------------
  // transport

  private agent(tlsOpts: RegistryEndpoint['tls']): Agent {
    const key = JSON.stringify([tlsOpts.verify, tlsOpts.ca?.length ?? 0, Boolean(tlsOpts.cert)]);
    let a = this.agents.get(key);
    if (!a) {
      a = new Agent({
        connect: {
          rejectUnauthorized: tlsOpts.verify,
          ...trustedCas(tlsOpts),
          ...(tlsOpts.cert && tlsOpts.key ? { cert: tlsOpts.cert, key: tlsOpts.key } : {}),
        },
        connections: 8,
        // Registries stream large blobs: no body timeout between chunks beyond this.
        bodyTimeout: 60_000,
        headersTimeout: 60_000,
      });
      this.agents.set(key, a);
    }
    return a;
  }

  private authHeader(ep: RegistryEndpoint, scope: string[]): string | undefined {
    const t = this.tokens.get(tokenKey(ep, scope));
    if (t && t.expires > Date.now()) return t.header;
    if (this.basicEndpoints.has(ep.url)) return this.basicHeader();
    return undefined;
  }

  private basicHeader(): string | undefined {
    const c = this.credentials;
    if (!c || !('username' in c)) return undefined;
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }

  /**
   * One request to an endpoint: authenticates on a 401 challenge and retries once (a streamed
   * body cannot be replayed, so uploads authenticate first with a HEAD or POST).
   */
  async send(ep: RegistryEndpoint, method: Method, pathOrUrl: string, o: SendOptions): Promise<Response> {
    let url = pathOrUrl.startsWith('http') ? pathOrUrl : ep.url + pathOrUrl;
    // The header just obtained after a challenge: used for the retry even if it is short-lived.
    let fresh: string | undefined;
    for (let redirects = 0; ; ) {
      const sameOrigin = new URL(url).origin === new URL(ep.url).origin;
      const auth = sameOrigin ? fresh ?? this.authHeader(ep, o.scope) : undefined;
      const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...o.headers };
      if (auth) headers.authorization = auth;
      const res = await request(url, {
        method, headers, body: o.body,
        dispatcher: sameOrigin ? this.agent(ep.tls) : this.agent({ verify: true }),
      });
      const r: Response = { status: res.statusCode, headers: res.headers, body: res.body, url };
      if (r.status === 401 && sameOrigin && fresh === undefined && (o.body === undefined || Buffer.isBuffer(o.body) || typeof o.body === 'string')) {
        const challenges = parseWwwAuthenticate(r.headers['www-authenticate']);
        await r.body.dump();
        fresh = await this.authenticate(ep, challenges, o.scope);
        continue;
      }
      if (o.follow && r.status >= 300 && r.status < 400 && r.headers.location) {
        await r.body.dump();
        if (++redirects > MAX_REDIRECTS) throw new SkiffError(`${this.registry}: too many redirects for ${pathOrUrl}`);
        url = new URL(String(r.headers.location), url).toString();
        continue;
      }
      return r;
    }
  }

  /** Answer a 401 challenge: fetch a Bearer token for the scopes, or switch to Basic auth; returns the header. */
  private async authenticate(ep: RegistryEndpoint, challenges: Challenge[], scope: string[]): Promise<string> {
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer?.params.realm) {
      const token = await this.fetchToken(ep, bearer.params, scope);
      this.tokens.set(tokenKey(ep, scope), token);
      return token.header;
    }
    const basic = this.basicHeader();
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (!basic) throw this.authRequired();
      this.basicEndpoints.add(ep.url);
      return basic;
    }
    throw new SkiffError(`${this.registry}: the registry refused the request (401) without saying how to authenticate`);
  }

  private async fetchToken(ep: RegistryEndpoint, params: Record<string, string>, scope: string[]): Promise<{ header: string; expires: number }> {
    const realm = new URL(params.realm);
    const wanted = scope.length ? scope : params.scope ? [params.scope] : [];
    let res: Dispatcher.ResponseData;
    this.tokenRequests++;
    const dispatcher = this.agent(ep.tls);
    const c = this.credentials;
    if (c && 'identityToken' in c) {
      // An identity (refresh) token is exchanged with the OAuth2 POST form (distribution token spec).
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.identityToken, client_id: 'skiff' });
      if (params.service) form.set('service', params.service);
      if (wanted.length) form.set('scope', wanted.join(' '));
      res = await request(realm, { method: 'POST', dispatcher, body: form.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': USER_AGENT } });
    } else {
      if (params.service) realm.searchParams.set('service', params.service);
      for (const s of wanted) realm.searchParams.append('scope', s);
      const headers: Record<string, string> = { 'user-agent': USER_AGENT };
      const basic = this.basicHeader();
      if (basic) headers.authorization = basic;
      res = await request(realm, { method: 'GET', headers, dispatcher });
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      await res.body.dump();
      throw this.credentials
        ? new UpstreamError(`${this.registry}: unauthorized: incorrect username or password`)
        : this.authRequired();
    }
    if (res.statusCode !== 200) {
      const text = (await res.body.text()).slice(0, 200);
      throw new SkiffError(`${this.registry}: token server ${realm.origin} answered ${res.statusCode}: ${text}`);
    }
    let body: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    try { body = (await res.body.json()) as typeof body; } catch {
      throw new SkiffError(`${this.registry}: token server ${realm.origin} answered with something that is not JSON`);
    }
    const token = body.token ?? body.access_token;
    if (!token) throw new SkiffError(`${this.registry}: token server ${realm.origin} gave no token`);
    const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
    const issued = body.issued_at ? Date.parse(body.issued_at) : NaN;
    const start = Number.isFinite(issued) && issued <= Date.now() ? issued : Date.now();
    return { header: `Bearer ${token}`, expires: start + seconds * 1000 - Math.min(TOKEN_MARGIN_MS, (seconds * 1000) / 2) };
  }

  private authRequired(): SkiffError {
    return new UpstreamError(`${this.registry}: unauthorized: authentication required; run 'skiff login ${this.registry}' first`);
  }

  /**
   * Run `fn` against the endpoints in order (for pulls: mirrors first; for an insecure registry:
   * https, then http), moving on when one cannot be reached, does not speak TLS, or (a mirror)
   * does not have the content. The endpoint that worked is kept for the next requests.
   */
  private async onEndpoint<T>(kind: 'pull' | 'push', fn: (ep: RegistryEndpoint) => Promise<T>): Promise<T> {
    const chosen = kind === 'pull' ? this.pullEndpoint : this.pushEndpoint;
    const eps = chosen ? [chosen] : kind === 'pull' ? this.host.pullEndpoints : this.host.pushEndpoints;
    let last: unknown;
    for (const [i, ep] of eps.entries()) {
      try {
        const v = await fn(ep);
        if (kind === 'pull') this.pullEndpoint = ep;
        else this.pushEndpoint = ep;
        return v;
      } catch (e) {
        last = e;
        const more = i < eps.length - 1;
        if (!more) break;
        if (isTransient(e) || isTlsOrProtocolError(e) || (ep.mirror && (e as { mirrorMiss?: boolean }).mirrorMiss)) continue;
        throw e;
      }
    }
    throw connectionError(this.registry, last);
  }

  private onPullEndpoint<T>(fn: (ep: RegistryEndpoint) => Promise<T>): Promise<T> { return this.onEndpoint('pull', fn); }

  private onPushEndpoint<T>(fn: (ep: RegistryEndpoint) => Promise<T>): Promise<T> { return this.onEndpoint('push', fn); }

  // -------------------------------------------------------------------------------------------
  // requests

  /** `GET /v2/`: checks the registry answers and, with credentials, that they are accepted. */
  async ping(): Promise<void> {
    await this.onPushEndpoint(async (ep) => {
      const res = await this.send(ep, 'GET', '/v2/', { scope: [] });
      await res.body.dump();
      if (res.status === 401) throw this.credentials ? new UpstreamError(`${this.registry}: unauthorized: incorrect username or password`) : this.authRequired();
      if (res.status !== 200) throw new SkiffError(`${this.registry}: /v2/ answered ${res.status}: this is not a registry`);
    });
  }

  /** The manifest (or index) at a tag or digest, as bytes with its media type and digest. */
  async getManifest(repo: string, reference: string): Promise<{ bytes: Buffer; mediaType?: string; digest: string }> {
    return this.onPullEndpoint(async (ep) => {
      const res = await this.send(ep, 'GET', `/v2/${repo}/manifests/${reference}`, {
        scope: [pullScope(repo)], headers: { accept: MANIFEST_ACCEPT.join(', ') },
      });
      if (res.status === 404) {
        const text = await registryErrorText(res);
        throw Object.assign(new UpstreamError(`manifest for ${this.registry}/${repo}:${reference} not found: ${text}`), { mirrorMiss: true });
      }
      if (res.status === 401 || res.status === 403) throw await this.denied(repo, res, 'pull');
      if (res.status !== 200) throw new UpstreamError(`${this.registry}/${repo}: getting manifest ${reference}: ${await registryErrorText(res)}`);
      const bytes = await readLimited(res, MAX_METADATA_BYTES, `manifest ${reference}`);
      const digest = `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
      const header = firstHeader(res.headers['docker-content-digest']);
      // A registry that names another sha256 digest than the bytes it sent is serving corrupt data.
      if (header?.startsWith('sha256:') && header !== digest) {
        throw new UpstreamError(`${this.registry}/${repo}: manifest ${reference} has digest ${digest} but the registry says ${header}; refusing it`);
      }
      const ct = firstHeader(res.headers['content-type'])?.split(';')[0].trim();
      return { bytes, mediaType: ct, digest };
    });
  }

  /**
   * Open a blob for reading from `offset` (a Range request when > 0). Returns the response, whose
   * status is 200 (whole blob: the caller skips `offset` bytes) or 206 (from `offset`).
   */
  async openBlob(repo: string, digest: string, offset = 0): Promise<Response> {
    return this.onPullEndpoint(async (ep) => {
      const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
      const res = await this.send(ep, 'GET', `/v2/${repo}/blobs/${digest}`, { scope: [pullScope(repo)], headers, follow: true });
      if (res.status === 200 || res.status === 206) return res;
      if (res.status === 404) {
        const text = await registryErrorText(res);
        throw Object.assign(new UpstreamError(`${this.registry}/${repo}: blob ${digest} not found: ${text}`), { mirrorMiss: true });
      }
      if (res.status === 401 || res.status === 403) throw await this.denied(repo, res, 'pull');
      const text = await registryErrorText(res);
      // 5xx and 429 are worth another try; other answers are final.
      const transient = res.status >= 500 || res.status === 429 || res.status === 408;
      throw Object.assign(new UpstreamError(`${this.registry}/${repo}: blob ${digest}: ${text}`), { transient });
    });
  }

  /** A small blob (an image config), read whole and checked against its digest. */
  async getBlobBytes(repo: string, digest: string): Promise<Buffer> {
    const res = await this.openBlob(repo, digest);
    const bytes = await readLimited(res, MAX_METADATA_BYTES, `blob ${digest}`);
    const actual = `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
    if (actual !== digest) {
      throw new UpstreamError(`${this.registry}/${repo}: blob ${digest} has content with digest ${actual}: the registry's copy is corrupt`);
    }
    return bytes;
  }

  // ---- push -----------------------------------------------------------------------------------

  async blobExists(repo: string, digest: string): Promise<boolean> {
    return this.onPushEndpoint(async (ep) => {
      const res = await this.send(ep, 'HEAD', `/v2/${repo}/blobs/${digest}`, { scope: [pushScope(repo)] });
      // (A body is read at most once: `denied` reads it, every other answer drops it.)
      if (res.status === 401 || res.status === 403) throw await this.denied(repo, res, 'push');
      await res.body.dump();
      if (res.status === 200) return true;
      if (res.status === 404) return false;
      throw new UpstreamError(`${this.registry}/${repo}: checking blob ${digest}: ${res.status}`);
    });
  }

  /**
   * Start an upload, or mount the blob from another repository of the same registry
   * (`from`): returns null when the registry mounted it, else the upload URL.
   */
  async startUpload(repo: string, mount?: { digest: string; from: string }): Promise<string | null> {
    return this.onPushEndpoint(async (ep) => {
      const query = mount ? `?mount=${encodeURIComponent(mount.digest)}&from=${encodeURIComponent(mount.from)}` : '';
      const scope = mount ? [pushScope(repo), pullScope(mount.from)] : [pushScope(repo)];
      const res = await this.send(ep, 'POST', `/v2/${repo}/blobs/uploads/${query}`, { scope, body: '' });
      if (res.status === 401 || res.status === 403) throw await this.denied(repo, res, 'push');
      await drainErrorless(res);
      if (mount && res.status === 201) return null;
      if (res.status !== 202) throw new UpstreamError(`${this.registry}/${repo}: starting an upload: ${res.status}`);
      return this.location(ep, res);
    });
  }

  /**
   * Send one chunk of an upload (PATCH with Content-Range), or the whole blob and finish it
   * (`digest` given: PUT ?digest=). Returns the next upload URL.
   */
  async uploadPart(repo: string, url: string, part: { body: Buffer | Readable; start: number; length: number; digest?: string }): Promise<string> {
    return this.onPushEndpoint(async (ep) => {
      const scope = [pushScope(repo)];
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'content-length': String(part.length) };
      let res: Response;
      if (part.digest) {
        const u = new URL(url, ep.url);
        u.searchParams.set('digest', part.digest);
        res = await this.send(ep, 'PUT', u.toString(), { scope, headers, body: part.body });
        const text = res.status === 201 ? '' : await registryErrorText(res);
        if (res.status !== 201) throw new UpstreamError(`${this.registry}/${repo}: uploading blob ${part.digest}: ${text}`);
        await res.body.dump();
        return url;
      }
      if (part.length > 0) headers['content-range'] = `${part.start}-${part.start + part.length - 1}`;
      res = await this.send(ep, 'PATCH', url, { scope, headers, body: part.body });
      if (res.status !== 202) throw new UpstreamError(`${this.registry}/${repo}: uploading a chunk: ${await registryErrorText(res)}`);
      await res.body.dump();
      return this.location(ep, res);
    });
  }

  async putManifest(repo: string, reference: string, mediaType: string, bytes: Buffer): Promise<void> {
    await this.onPushEndpoint(async (ep) => {
      const res = await this.send(ep, 'PUT', `/v2/${repo}/manifests/${reference}`, {
        scope: [pushScope(repo)], headers: { 'content-type': mediaType }, body: bytes,
      });
      if (res.status === 401 || res.status === 403) throw await this.denied(repo, res, 'push');
      if (res.status !== 201) throw new UpstreamError(`${this.registry}/${repo}: putting manifest ${reference}: ${await registryErrorText(res)}`);
      await res.body.dump();
    });
  }

  private location(ep: RegistryEndpoint, res: Response): string {
    const loc = firstHeader(res.headers.location);
    if (!loc) throw new UpstreamError(`${this.registry}: the registry gave no upload location`);
    return new URL(loc, ep.url).toString();
  }

  /** Docker's wording for refused access. */
  private async denied(repo: string, res: Response, action: 'pull' | 'push'): Promise<SkiffError> {
    const text = await registryErrorText(res);
    const name = repoDisplay(this.registry, repo);
    return action === 'pull'
      ? new UpstreamError(`pull access denied for ${name}, repository does not exist or may require 'skiff login': ${text}`)
      : new UpstreamError(`push access denied for ${name}: ${text}; run 'skiff login ${this.registry}' with an account allowed to push`);
  }
}

export const pullScope = (repo: string) => `repository:${repo}:pull`;
export const pushScope = (repo: string) => `repository:${repo}:pull,push`;

/**
 * The CAs a TLS connection trusts. A registry's own CA is added to the system's, not put in
 * their place. Without verification (an insecure registry, `--tls-verify=false`) nothing is
 * checked against them, so none are loaded: Node builds the system store on the first TLS
 * context that wants it, 25-35 ms here, which an insecure registry's https attempt (made
 * before falling back to http) would otherwise pay on every pull.
 */
function trustedCas(tlsOpts: RegistryEndpoint['tls']): { ca?: string[] } {
  if (!tlsOpts.verify) return { ca: [] };
  return tlsOpts.ca?.length ? { ca: [...tls.rootCertificates, ...tlsOpts.ca.map((c) => c.toString())] } : {};
}

function tokenKey(ep: RegistryEndpoint, scope: string[]): string {
  return `${ep.url} ${[...scope].sort().join(' ')}`;
}

function repoDisplay(registry: string, repo: string): string {
  if (registry === 'docker.io') return repo.startsWith('library/') ? repo.slice(8) : repo;
  return `${registry}/${repo}`;
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

async function drainErrorless(res: Response): Promise<void> {
  try { await res.body.dump(); } catch { /* nothing to read */ }
}

async function readLimited(res: Response, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body) {
    n += (c as Buffer).length;
    if (n > limit) {
      res.body.destroy();
      throw new UpstreamError(`${what} is larger than ${limit} bytes: refusing it`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function isTlsOrProtocolError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code ?? '';
  return code.startsWith('ERR_SSL') || code === 'EPROTO' || code.startsWith('UND_ERR') || /certificate|SSL/i.test(code);
}

/** A network failure on every endpoint, said once and plainly. */
function connectionError(registry: string, e: unknown): Error {
  if (e instanceof SkiffError) return e;
  const err = e as NodeJS.ErrnoException;
  const code = err?.code ?? '';
  if (/CERT|SSL|certificate/i.test(code) || /certificate/i.test(err?.message ?? '')) {
    // Node >= 24 appends advice to pass it --use-system-ca, a flag skiff's users cannot give.
    const why = err.message.replace(/; if the root CA is installed locally, try running Node\.js with --use-system-ca$/, '');
    return new UpstreamError(`${registry}: TLS certificate not trusted (${why}): put its CA in certs.d/${registry}/ca.crt, or use --tls-verify=false for a registry you trust`);
  }
  return Object.assign(new UpstreamError(`${registry}: cannot reach the registry: ${err?.message ?? String(e)}`), { code, transient: isTransient(e) });
}
