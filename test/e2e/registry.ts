// Real registries for the e2e tests: Debian's docker-registry (the CNCF distribution registry
// 2.8) on a free 127.0.0.1 port, with its storage in a private temporary directory.
//
//   const reg = useRegistry({ auth: 'token' });          // beforeAll/afterAll of this file
//   const ref = await reg().seed(BUSYBOX);               // put a fixture in with skopeo
//   await skiff(['pull', ref]);                          // what the test is about
//
// Three kinds (`auth`):
//   'none'       anonymous, plain HTTP (or HTTPS with `tls: true`)
//   'basic-tls'  htpasswd Basic auth (bcrypt) over HTTPS with a CA the harness generates
//   'token'      Bearer tokens from a token server inside the test process (registry-token.ts),
//                HTTP (or HTTPS, registry and token server alike, with `tls: true`)
// The registry runs as the current user (root in the rootful suite, skifftest in the rootless
// one) and dies with the test process (setpriv --pdeathsig) even if stop() is never called.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { fixture, freePort } from './harness';
import { makeServerTls, makeSigningCert, type TlsFiles } from './registry-certs';
import { startTokenServer, type RegistryUser, type TokenPolicy, type TokenRequest, type TokenServer } from './registry-token';
import { removeSkopeoHome, skopeoOk } from './skopeo';

export { defaultTokenPolicy, parseScope } from './registry-token';
export type { RegistryUser, TokenPolicy, TokenRequest, TokenScope } from './registry-token';
export { skopeo, skopeoOk } from './skopeo';

export type RegistryAuth = 'none' | 'basic-tls' | 'token';

/** alice may push and pull everything; bob may only pull (token auth; Basic auth lets both do all). */
export const DEFAULT_USERS: readonly RegistryUser[] = Object.freeze([
  { name: 'alice', password: 'alice-secret-1' },
  { name: 'bob', password: 'bob-secret-2' },
]);

export interface StartRegistryOptions {
  auth: RegistryAuth;
  /** serve HTTPS ('basic-tls' always does; default false for the others) */
  tls?: boolean;
  /** users of 'basic-tls' and 'token' (default DEFAULT_USERS) */
  users?: RegistryUser[];
  /** 'token': who may do what (default defaultTokenPolicy: public/* anonymous pull, alice all, bob pull) */
  tokenPolicy?: TokenPolicy;
  /** 'token': token lifetime in seconds (default 300) */
  tokenExpiresIn?: number;
}

/** Options of the skopeo helpers: who to be (default: the first user, or anonymous for 'none'). */
export interface AsUser {
  /** null: anonymous even where the registry has users */
  user?: RegistryUser | null;
}

export interface Registry {
  auth: RegistryAuth;
  tls: boolean;
  /** '127.0.0.1:PORT': what image references start with */
  host: string;
  /** 'http(s)://127.0.0.1:PORT' */
  url: string;
  /** the harness's private directory for this registry (config, certs, storage) */
  dir: string;
  /** the registry's filesystem storage root (docker/registry/v2/... below it) */
  dataDir: string;
  configFile: string;
  /** PEM of the CA that signed the registry's (and the token server's) certificate, when TLS */
  caFile?: string;
  /** a directory holding only ca.crt (what skopeo's --cert-dir and one certs.d/HOST entry look like) */
  certDir?: string;
  users: RegistryUser[];
  /**
   * Make a client trust this registry's CA the Docker way: writes CERTS_D/HOST/ca.crt (e.g. CERTS_D =
   * a store's config dir + '/certs.d') and returns that path. Throws for a plain-HTTP registry.
   */
  trustIn(certsD: string): string;
  /** 'token': the realm the registry sends clients to, its service and issuer */
  tokenRealm?: string;
  tokenService?: string;
  tokenIssuer?: string;
  /** 'token': every request the token server answered, in order (clear with `.length = 0`) */
  tokenRequests: TokenRequest[];
  /**
   * The registry's access log so far, in the order requests completed (clear with `.length = 0`).
   * Lines arrive through a pipe, a moment after the response: use syncRequests() before asserting.
   */
  requests: RegistryRequest[];
  /** Wait until every request answered so far is in `requests`, then return it. */
  syncRequests(): Promise<RegistryRequest[]>;
  /** 'token': replace the access policy (takes effect for the next token request) */
  setTokenPolicy(policy: TokenPolicy): void;
  /** `${host}/${nameTag}` */
  ref(nameTag: string): string;
  /** path of a blob's data file in the storage ('sha256:<hex>') */
  blobPath(digest: string): string;
  /** flip one byte in the middle of a stored blob (size unchanged), so it no longer matches its digest */
  corruptBlob(digest: string): void;
  /** skopeo flags for talking to this registry: prefix 'src-' or 'dest-' for copy, '' for inspect */
  skopeoFlags(prefix: '' | 'src-' | 'dest-', as?: AsUser): string[];
  /**
   * Copy an archive into the registry with skopeo (every platform of an index; OCI archives keep
   * their digests). `source`: a fixture file name ('busybox.oci.tar'), an absolute path (transport
   * from the name: *.docker.tar is docker-archive, else oci-archive) or 'transport:details'.
   * Returns the pushed reference.
   */
  skopeoCopy(source: string, nameTag: string, as?: AsUser): Promise<string>;
  /** Copy a fixture image (an images.json tag) in, under its own name or `nameTag`; returns the reference. */
  seed(fixtureTag: string, nameTag?: string, as?: AsUser): Promise<string>;
  /** `skopeo inspect --raw`: the manifest (or index) bytes the registry serves for nameTag or name@digest */
  inspectRaw(nameTag: string, as?: AsUser): Promise<Buffer>;
  /**
   * One plain HTTP(S) request to the registry (trusting its CA), no auth flow: for checks such as
   * "the blob is there" or "this answers 401". `path` starts with /v2/.
   */
  request(path: string, init?: { method?: string; headers?: Record<string, string> }): Promise<HttpAnswer>;
  /** Kill the registry process and start it again on the same port and storage. */
  restart(): Promise<void>;
  /** Kill the registry (and the token server) and remove its directory; idempotent. */
  stop(): Promise<void>;
}

/** One line of the registry's access log. */
export interface RegistryRequest {
  method: string;
  /** path and query, e.g. /v2/skiff-test/busybox/blobs/uploads/?mount=sha256:...&from=other */
  path: string;
  status: number;
  userAgent: string;
}

// Combined log format: 127.0.0.1 - - [date] "HEAD /v2/x/blobs/sha256:... HTTP/1.1" 200 0 "" "UA"
const ACCESS_LINE = /^\S+ \S+ \S+ \[[^\]]*\] "([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) \S+ "[^"]*" "([^"]*)"$/;

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** An Authorization header value for Basic auth. */
export const basicAuth = (u: RegistryUser): string => `Basic ${Buffer.from(`${u.name}:${u.password}`).toString('base64')}`;

/** One HTTP(S) request; `ca` is trusted for HTTPS (no other CA is). */
export function httpRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string>; ca?: Buffer } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.request(url, { method: init.method ?? 'GET', headers: init.headers, ca: init.ca, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// fixtures (images.json, written by test/fixtures/build-images.mjs)
// ---------------------------------------------------------------------------------------------

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface PlatformImage {
  platform: { os: string; architecture: string; variant?: string };
  id: string;
  layers: string[];
  manifest: Descriptor;
  config: Descriptor;
  blobs: Descriptor[];
}

export interface FixtureImage {
  /** image ID (config digest); for an index, this host's platform's */
  id: string;
  /** diff IDs (hex) */
  layers: string[];
  dockerArchive?: string;
  ociArchive?: string;
  /** the image manifest in the OCI archive (for an index: this host's platform's) */
  manifest?: Descriptor;
  config?: Descriptor;
  /** compressed layers, as in the OCI archive and in a registry */
  blobs?: Descriptor[];
  /** multi-platform images: the image index */
  index?: Descriptor;
  /** 'os/arch[/variant]' of this host's entry and of the other one */
  hostPlatform?: string;
  otherPlatform?: string;
  platforms?: Record<string, PlatformImage>;
}

/** A fixture image's entry in images.json, e.g. fixtureImage('skiff-test/multiarch:latest'). */
export function fixtureImage(tag: string): FixtureImage {
  const all = JSON.parse(fs.readFileSync(fixture('images.json'), 'utf8')) as Record<string, FixtureImage>;
  const img = all[tag];
  if (!img) throw new Error(`no fixture image ${tag} in images.json (have: ${Object.keys(all).join(', ')})`);
  return img;
}

export const MULTIARCH = 'skiff-test/multiarch:latest';
export const BUSYBOX_ZSTD = 'skiff-test/busybox-zstd:latest';

// ---------------------------------------------------------------------------------------------
// process bookkeeping
// ---------------------------------------------------------------------------------------------

const live = new Set<Registry>();
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort if a file forgot stop(): kill what is still running (synchronously, at exit).
  process.once('exit', () => {
    for (const c of liveChildren) c.kill('SIGKILL');
  });
}

/** setpriv --pdeathsig: the registry is killed when this process dies, however it dies. */
const HAS_SETPRIV = spawnSync('setpriv', ['--help'], { stdio: 'ignore' }).status === 0;

// ---------------------------------------------------------------------------------------------
// configuration
// ---------------------------------------------------------------------------------------------

// JSON strings are valid YAML double-quoted scalars: paths need no further escaping.
const q = (s: string) => JSON.stringify(s);

function htpasswdFile(users: RegistryUser[], file: string): void {
  // Debian's htpasswd writes bcrypt ($2y$), the only hash the registry accepts. Cost 4 (the
  // minimum): the registry checks the hash on every request, and these passwords guard nothing.
  const lines = users.map((u) => {
    const r = spawnSync('htpasswd', ['-Bbn', '-C', '4', u.name, u.password], { encoding: 'utf8' });
    if (r.error) throw new Error(`cannot run htpasswd (${r.error.message}): install Debian's apache2-utils`);
    if (r.status !== 0) throw new Error(`htpasswd failed for ${u.name}: ${r.stderr.trim()}`);
    return r.stdout.trim();
  });
  fs.writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
}

function registryConfig(o: {
  port: number;
  dataDir: string;
  tls?: TlsFiles;
  htpasswd?: string;
  token?: { realm: string; service: string; issuer: string; bundle: string };
}): string {
  const y = [
    'version: 0.1',
    'log:',
    '  level: error',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${q(o.dataDir)}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${q(`127.0.0.1:${o.port}`)}`,
    `  secret: ${q(randomBytes(16).toString('hex'))}`,
    '  headers:',
    '    X-Content-Type-Options: [nosniff]',
  ];
  if (o.tls) y.push('  tls:', `    certificate: ${q(o.tls.certFile)}`, `    key: ${q(o.tls.keyFile)}`);
  y.push('health:', '  storagedriver:', '    enabled: false');
  if (o.htpasswd) y.push('auth:', '  htpasswd:', '    realm: "skiff-test registry"', `    path: ${q(o.htpasswd)}`);
  if (o.token) {
    y.push(
      'auth:',
      '  token:',
      `    realm: ${q(o.token.realm)}`,
      `    service: ${q(o.token.service)}`,
      `    issuer: ${q(o.token.issuer)}`,
      `    rootcertbundle: ${q(o.token.bundle)}`,
    );
  }
  return y.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// the registry process
// ---------------------------------------------------------------------------------------------

function spawnRegistry(
  configFile: string,
  dir: string,
  requests: RegistryRequest[],
): { child: ChildProcess; output: () => string } {
  const cmd = HAS_SETPRIV ? 'setpriv' : 'docker-registry';
  const args = HAS_SETPRIV ? ['--pdeathsig', 'KILL', '--', 'docker-registry', 'serve', configFile] : ['serve', configFile];
  // A clean environment: REGISTRY_* variables would override the configuration.
  const child = spawn(cmd, args, {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (c: Buffer | string) => {
    out = (out + c.toString()).slice(-16_384);
  };
  // stdout carries the access log (one line per request); anything else is kept for errors.
  let partial = '';
  child.stdout!.on('data', (c: Buffer) => {
    const parts = (partial + c.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      const m = ACCESS_LINE.exec(line);
      if (m) requests.push({ method: m[1], path: m[2], status: Number(m[3]), userAgent: m[4] });
      else if (line) keep(line + '\n');
    }
  });
  child.stderr!.on('data', keep);
  child.on('error', (e) => keep(Buffer.from(`cannot run ${cmd}: ${e.message}\n`)));
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return { child, output: () => out };
}

async function waitUntilUp(
  url: string,
  ca: Buffer | undefined,
  child: ChildProcess,
  output: () => string,
  timeoutMs = 20_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`docker-registry exited (${child.exitCode ?? child.signalCode}) before answering: ${output().trim()}`);
    }
    try {
      await httpRequest(`${url}/v2/`, { ca }); // any answer, 401 included, means it is up
      return;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > end) throw new Error(`docker-registry did not answer ${url}/v2/ within ${timeoutMs} ms (${last}): ${output().trim()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

// ---------------------------------------------------------------------------------------------
// startRegistry
// ---------------------------------------------------------------------------------------------

export async function startRegistry(opts: StartRegistryOptions): Promise<Registry> {
  installExitHook();
  const tls = opts.auth === 'basic-tls' || opts.tls === true;
  const users = (opts.users ?? DEFAULT_USERS).map((u) => ({ ...u }));
  const dir = fs.mkdtempSync(path.join(process.env.SKIFF_E2E_TMP || os.tmpdir(), 'reg-'));
  fs.chmodSync(dir, 0o700);
  const dataDir = path.join(dir, 'storage');
  fs.mkdirSync(dataDir, { mode: 0o700 });
  const configFile = path.join(dir, 'config.yml');

  let token: TokenServer | undefined;
  let child: ChildProcess | undefined;
  let output = () => '';
  let stopped = false;
  const requests: RegistryRequest[] = [];
  try {
    const tlsFiles = tls ? makeServerTls(path.join(dir, 'tls')) : undefined;
    let certDir: string | undefined;
    if (tlsFiles) {
      certDir = path.join(dir, 'skopeo-certs');
      fs.mkdirSync(certDir, { mode: 0o700 });
      fs.copyFileSync(tlsFiles.caFile, path.join(certDir, 'ca.crt'));
    }
    const ca = tlsFiles ? fs.readFileSync(tlsFiles.caFile) : undefined;

    let htpasswd: string | undefined;
    if (opts.auth === 'basic-tls') {
      htpasswd = path.join(dir, 'htpasswd');
      htpasswdFile(users, htpasswd);
    }
    const tokenService = 'skiff-test-registry';
    const tokenIssuer = 'skiff-test-token-server';
    let tokenBundle: string | undefined;
    if (opts.auth === 'token') {
      const signer = makeSigningCert(path.join(dir, 'token'));
      tokenBundle = signer.certFile;
      token = await startTokenServer({
        service: tokenService,
        issuer: tokenIssuer,
        signer,
        users,
        policy: opts.tokenPolicy,
        expiresIn: opts.tokenExpiresIn,
        tls: tlsFiles,
      });
    }

    // The port is found free, then bound by the registry: another process may take it in
    // between, so a start that fails on a taken port is retried on a new one.
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const config = registryConfig({
        port,
        dataDir,
        tls: tlsFiles,
        htpasswd,
        token: token && tokenBundle ? { realm: token.realm, service: tokenService, issuer: tokenIssuer, bundle: tokenBundle } : undefined,
      });
      fs.writeFileSync(configFile, config, { mode: 0o600 });
      const spawned = spawnRegistry(configFile, dir, requests);
      child = spawned.child;
      output = spawned.output;
      try {
        await waitUntilUp(`${tls ? 'https' : 'http'}://127.0.0.1:${port}`, ca, child, output);
        requests.length = 0; // the harness's own pings
        break;
      } catch (e) {
        await killChild(child);
        if (attempt < 3 && /address already in use/i.test(output())) continue;
        throw e;
      }
    }

    const host = `127.0.0.1:${port}`;
    const url = `${tls ? 'https' : 'http'}://${host}`;
    const defaultUser = opts.auth === 'none' ? null : users[0] ?? null;

    const reg: Registry = {
      auth: opts.auth,
      tls,
      host,
      url,
      dir,
      dataDir,
      configFile,
      caFile: tlsFiles?.caFile,
      certDir,
      users,
      tokenRealm: token?.realm,
      tokenService: token ? tokenService : undefined,
      tokenIssuer: token ? tokenIssuer : undefined,
      tokenRequests: token?.requests ?? [],
      requests,
      async syncRequests() {
        // A marker request is logged after every request that completed before it was sent.
        const marker = `/v2/skiff-harness-sync-${randomBytes(6).toString('hex')}/tags/list`;
        await reg.request(marker);
        const end = Date.now() + 5_000;
        while (!requests.some((r) => r.path === marker)) {
          if (Date.now() > end) throw new Error(`syncRequests: the registry's access log did not show ${marker}`);
          await new Promise((r) => setTimeout(r, 10));
        }
        for (let i = requests.length - 1; i >= 0; i--) if (requests[i].path.startsWith('/v2/skiff-harness-sync-')) requests.splice(i, 1);
        return requests;
      },
      setTokenPolicy(policy) {
        if (!token) throw new Error(`setTokenPolicy: this registry uses auth '${opts.auth}', not 'token'`);
        token.policy = policy;
      },
      trustIn(certsD) {
        if (!tlsFiles) throw new Error(`trustIn: ${host} serves plain HTTP (start it with tls: true)`);
        const target = path.join(certsD, host, 'ca.crt');
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.copyFileSync(tlsFiles.caFile, target);
        return target;
      },
      ref: (nameTag) => `${host}/${nameTag}`,
      blobPath(digest) {
        const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
        if (!m) throw new Error(`blobPath: not a sha256 digest: ${digest}`);
        return path.join(dataDir, 'docker/registry/v2/blobs/sha256', m[1].slice(0, 2), m[1], 'data');
      },
      corruptBlob(digest) {
        const p = reg.blobPath(digest);
        const fd = fs.openSync(p, 'r+');
        try {
          const size = fs.fstatSync(fd).size;
          if (size === 0) throw new Error(`corruptBlob: ${p} is empty`);
          const at = Math.floor(size / 2);
          const b = Buffer.alloc(1);
          fs.readSync(fd, b, 0, 1, at);
          b[0] ^= 0xff;
          fs.writeSync(fd, b, 0, 1, at);
        } finally {
          fs.closeSync(fd);
        }
      },
      skopeoFlags(prefix, as = {}) {
        const user = as.user === undefined ? defaultUser : as.user;
        const flags = certDir ? [`--${prefix}cert-dir`, certDir, `--${prefix}tls-verify=true`] : [`--${prefix}tls-verify=false`];
        flags.push(...(user ? [`--${prefix}creds`, `${user.name}:${user.password}`] : [`--${prefix}no-creds`]));
        return flags;
      },
      async skopeoCopy(source, nameTag, as = {}) {
        const src = sourceRef(source);
        const dest = reg.ref(nameTag);
        // --preserve-digests: fail rather than push something whose digests differ from images.json.
        const keep = src.startsWith('oci-archive:') ? ['--preserve-digests'] : [];
        await skopeoOk('copy', ['--quiet', '--all', ...keep, '--retry-times', '0', ...reg.skopeoFlags('dest-', as), src, `docker://${dest}`], {
          timeoutMs: 110_000,
        });
        return dest;
      },
      seed(fixtureTag, nameTag = fixtureTag, as = {}) {
        const archive = fixtureImage(fixtureTag).ociArchive;
        if (!archive) throw new Error(`seed: fixture ${fixtureTag} has no OCI archive`);
        return reg.skopeoCopy(archive, nameTag, as);
      },
      async inspectRaw(nameTag, as = {}) {
        const r = await skopeoOk('inspect', ['--raw', '--retry-times', '0', ...reg.skopeoFlags('', as), `docker://${reg.ref(nameTag)}`]);
        // runCommand decodes as UTF-8; manifests are JSON (UTF-8), so the bytes round-trip.
        return Buffer.from(r.stdout, 'utf8');
      },
      request: (p, init = {}) => httpRequest(`${url}${p}`, { ...init, ca }),
      async restart() {
        if (stopped) throw new Error('restart: the registry was stopped');
        if (child) await killChild(child);
        const spawned = spawnRegistry(configFile, dir, requests);
        child = spawned.child;
        output = spawned.output;
        const before = requests.length;
        await waitUntilUp(url, ca, child, output);
        await reg.syncRequests();
        requests.splice(before); // the harness's own pings
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        live.delete(reg);
        if (child) await killChild(child);
        await token?.stop();
        if (process.env.SKIFF_E2E_KEEP !== '1') fs.rmSync(dir, { recursive: true, force: true });
        if (live.size === 0) removeSkopeoHome();
      },
    };
    live.add(reg);
    return reg;
  } catch (e) {
    if (child) await killChild(child);
    await token?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

function sourceRef(source: string): string {
  if (/^[a-z][a-z-]*:/.test(source) && !source.startsWith('/')) return source;
  const file = path.isAbsolute(source) ? source : fixture(source);
  return `${file.endsWith('.docker.tar') ? 'docker-archive' : 'oci-archive'}:${file}`;
}

/** Stop every registry this process started (for an afterAll that started several). */
export async function stopAllRegistries(): Promise<void> {
  await Promise.all([...live].map((r) => r.stop()));
}

/** Start a registry in beforeAll and stop it in afterAll of the calling test file. */
export function useRegistry(opts: StartRegistryOptions): () => Registry {
  let reg: Registry | undefined;
  beforeAll(async () => {
    reg = await startRegistry(opts);
  });
  afterAll(async () => {
    await reg?.stop();
    reg = undefined;
  });
  return () => {
    if (!reg) throw new Error('useRegistry: the registry is not started (use it inside tests or hooks)');
    return reg;
  };
}
