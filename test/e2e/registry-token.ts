// A small Bearer token server for the e2e registries, as Docker Hub's auth.docker.io does it:
// the registry answers 401 with `WWW-Authenticate: Bearer realm=...,service=...,scope=...`, the
// client asks this server for a token (GET realm?service=S&scope=repository:NAME:pull,push, with
// Basic credentials or none), and the registry checks the JWT it gets against the certificate
// in its rootcertbundle (`x5c` in the JWT header names it).
//
// It runs inside the test process, so a test changes the access policy and reads the requests
// it answered (e.g. to prove a client reuses its tokens).

import { createPrivateKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SigningCert, TlsFiles } from './registry-certs';

export interface RegistryUser {
  name: string;
  password: string;
}

/** One scope a client asked for: `repository:skiff-test/busybox:pull,push`. */
export interface TokenScope {
  type: string;
  name: string;
  actions: string[];
}

/** The actions `user` (null: anonymous) is granted on `scope` (a subset of scope.actions). */
export type TokenPolicy = (user: string | null, scope: TokenScope) => string[];

export interface TokenRequest {
  method: string;
  /** the authenticated user; null when anonymous or refused */
  user: string | null;
  /** the user name the client sent, even if its password was wrong */
  claimedUser: string | null;
  service: string | null;
  /** the raw scope strings asked for */
  scopes: string[];
  /** what the token grants (empty when refused) */
  granted: TokenScope[];
  status: number;
  at: Date;
}

/**
 * Default access: anonymous may pull repositories under `public/`; `alice` may do anything;
 * `bob` may only pull. Anyone else authenticated gets what anonymous gets.
 */
export const defaultTokenPolicy: TokenPolicy = (user, scope) => {
  if (scope.type !== 'repository') return [];
  if (user === 'alice') return scope.actions;
  if (user === 'bob') return scope.actions.filter((a) => a === 'pull');
  return scope.name.startsWith('public/') ? scope.actions.filter((a) => a === 'pull') : [];
};

export interface TokenServerOptions {
  service: string;
  issuer: string;
  signer: SigningCert;
  users: RegistryUser[];
  policy?: TokenPolicy;
  /** token lifetime in seconds (Docker Hub: 300) */
  expiresIn?: number;
  /** serve HTTPS with this certificate instead of HTTP */
  tls?: TlsFiles;
}

export interface TokenServer {
  /** the URL the registry sends clients to */
  realm: string;
  /** every request answered, in order (clear it with `requests.length = 0`) */
  requests: TokenRequest[];
  policy: TokenPolicy;
  expiresIn: number;
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** Parse `type:name:actions` (the name may not contain ':' but the type may carry a `(class)`). */
export function parseScope(s: string): TokenScope | undefined {
  const first = s.indexOf(':');
  const last = s.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  return {
    type: s.slice(0, first).replace(/\(.*\)$/, ''),
    name: s.slice(first + 1, last),
    actions: s.slice(last + 1).split(',').filter(Boolean),
  };
}

function basicCredentials(header: string | undefined): { name: string; password: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { name: decoded, password: '' };
  return { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function readBody(req: http.IncomingMessage, limit = 64 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) reject(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const key: KeyObject = createPrivateKey(fs.readFileSync(opts.signer.keyFile));
  const x5c = [opts.signer.der.toString('base64')];
  const state: TokenServer = {
    realm: '',
    requests: [],
    policy: opts.policy ?? defaultTokenPolicy,
    expiresIn: opts.expiresIn ?? 300,
    stop: async () => undefined,
  };

  const makeToken = (user: string | null, access: TokenScope[], now: number): string => {
    const header = { typ: 'JWT', alg: 'ES256', x5c };
    const claims = {
      iss: opts.issuer,
      sub: user ?? '',
      aud: opts.service,
      exp: now + state.expiresIn,
      nbf: now,
      iat: now,
      jti: randomBytes(12).toString('hex'),
      access: access.map((a) => ({ type: a.type, name: a.name, actions: a.actions })),
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    // JWS wants ES256 signatures as r||s, not DER.
    const sig = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(sig)}`;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://token');
    const record: TokenRequest = {
      method: req.method ?? '',
      user: null,
      claimedUser: null,
      service: null,
      scopes: [],
      granted: [],
      status: 0,
      at: new Date(),
    };
    const reply = (status: number, body: object, headers: Record<string, string> = {}) => {
      record.status = status;
      state.requests.push(record);
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (url.pathname !== '/token') return reply(404, { details: 'not found' });

    // GET with optional Basic auth (the Docker client), or the OAuth2 password grant by POST
    // (containerd tries it first when it has a password).
    let creds = basicCredentials(req.headers.authorization);
    let params = url.searchParams;
    if (req.method === 'POST') {
      params = new URLSearchParams(await readBody(req));
      const grant = params.get('grant_type');
      if (grant !== 'password') return reply(400, { error: 'unsupported_grant_type', details: `grant_type ${grant}` });
      creds = { name: params.get('username') ?? '', password: params.get('password') ?? '' };
    } else if (req.method !== 'GET') {
      return reply(405, { details: 'method not allowed' }, { Allow: 'GET, POST' });
    }
    record.service = params.get('service');
    record.scopes = params.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    if (record.service !== opts.service) return reply(400, { details: `unknown service ${record.service ?? '(none)'}` });

    if (creds) {
      record.claimedUser = creds.name;
      const known = opts.users.find((u) => u.name === creds!.name);
      if (!known || known.password !== creds.password) {
        return reply(401, { details: 'incorrect username or password' }, { 'WWW-Authenticate': 'Basic realm="skiff-test token server"' });
      }
      record.user = known.name;
    }

    for (const raw of record.scopes) {
      const scope = parseScope(raw);
      if (!scope) continue;
      const allowed = new Set(state.policy(record.user, scope));
      record.granted.push({ ...scope, actions: scope.actions.filter((a) => allowed.has(a)) });
    }
    const now = Math.floor(Date.now() / 1000);
    const token = makeToken(record.user, record.granted, now);
    const body = { token, access_token: token, expires_in: state.expiresIn, issued_at: new Date(now * 1000).toISOString() };
    return reply(200, body);
  };

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((e: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ details: e.message }));
    });
  };
  const server = opts.tls
    ? https.createServer({ cert: fs.readFileSync(opts.tls.certFile), key: fs.readFileSync(opts.tls.keyFile) }, onRequest)
    : http.createServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  state.realm = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}/token`;
  state.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
