/**
 * Registry credentials, kept the way Docker keeps them (config.json format):
 *
 *   {"auths": {"HOST": {"auth": base64("user:pass")}}, "credsStore": "NAME", "credHelpers": {"HOST": "NAME"}}
 *
 * skiff writes its own per-user file, `<configRoot>/auth.json` (mode 0600), and reads Docker's
 * (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`) when its own has nothing for a
 * registry. Docker Hub's key is `https://index.docker.io/v1/`; other registries use
 * `host[:port]`, and keys written with a scheme or a path (`https://host:5000/v2/`) match too.
 * A registry with a credential helper (`credHelpers`, else `credsStore`) has its secrets in
 * `docker-credential-NAME` instead, spoken to over its stdin/stdout protocol.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../state/atomic';
import { SkiffError } from '../../util/errors';
import { readUserJson } from '../../util/user-json';
import { findOnPath } from '../../util/which';
import { DEFAULT_REGISTRY, LEGACY_DEFAULT_REGISTRY } from '../reference';

export type Credentials =
  | { username: string; password: string }
  /** an OAuth2 refresh token (Docker's "identitytoken"), exchanged at the token server */
  | { identityToken: string };

export interface CredentialPaths {
  configRoot: string;
  /** Docker's config directory; default $DOCKER_CONFIG or ~/.docker */
  dockerConfigDir?: string;
}

/** Docker Hub's key in auth files (and the server URL given to credential helpers). */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';
/** Host names under which other tools (Podman, older Docker) file Docker Hub's credentials. */
const DOCKER_HUB_HOSTS = [DEFAULT_REGISTRY, LEGACY_DEFAULT_REGISTRY, 'registry-1.docker.io'];
/** What a helper prints when it has nothing for the server (docker-credential-helpers). */
const HELPER_NOT_FOUND = 'credentials not found in native keychain';
/** A helper's Username for an identity token rather than a password. */
const TOKEN_USERNAME = '<token>';

interface AuthEntry { auth?: string; username?: string; password?: string; identitytoken?: string; [k: string]: unknown }
interface AuthFile {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

export function skiffAuthFile(paths: Pick<CredentialPaths, 'configRoot'>): string {
  return path.join(paths.configRoot, 'auth.json');
}

export function dockerConfigFile(paths: CredentialPaths, env: NodeJS.ProcessEnv = process.env): string {
  const dir = paths.dockerConfigDir ?? env.DOCKER_CONFIG ?? path.join(env.HOME || os.homedir(), '.docker');
  return path.join(dir, 'config.json');
}

/** Docker's ConvertToHostname: a server address without its scheme and path. */
export function serverHostname(server: string): string {
  let host = server;
  if (server.includes('://')) {
    try { host = new URL(server).host || server; } catch { /* keep as typed */ }
  }
  return host.split('/')[0];
}

/** The registry a `login`/`logout` SERVER argument names: Docker Hub's names fold into docker.io. */
export function registryFromServer(server: string): string {
  const host = serverHostname(server);
  return DOCKER_HUB_HOSTS.includes(host) ? DEFAULT_REGISTRY : host;
}

/** The key a registry's entry is written under. */
export function authKey(registry: string): string {
  return registryFromServer(registry) === DEFAULT_REGISTRY ? DOCKER_HUB_AUTH_KEY : registry;
}

/** True when an auths key (as any tool wrote it) is this registry's. */
function keyMatches(key: string, registry: string): boolean {
  return key === authKey(registry) || registryFromServer(key) === registryFromServer(registry);
}

/**
 * Credentials for a registry: skiff's auth file first, then Docker's. Undefined when neither
 * has any (an anonymous pull).
 */
export async function getCredentials(paths: CredentialPaths, registry: string): Promise<Credentials | undefined> {
  const own = readAuthFile(skiffAuthFile(paths));
  const found = await fromAuthFile(own, skiffAuthFile(paths), registry, true);
  if (found) return found;
  const docker = dockerConfigFile(paths);
  // Docker's file is a fallback: a helper it names that is not installed here is skipped,
  // not an error for every pull.
  return fromAuthFile(readAuthFile(docker), docker, registry, false);
}

/** Store a username and password for a registry in skiff's auth file, or its helper. */
export async function storeCredentials(paths: CredentialPaths, registry: string, username: string, password: string): Promise<void> {
  const file = skiffAuthFile(paths);
  const cfg = readAuthFile(file) ?? {};
  const helper = helperFor(cfg, registry);
  if (helper) {
    const body = JSON.stringify({ ServerURL: authKey(registry), Username: username, Secret: password });
    await runHelper(helper, 'store', body, file);
    return;
  }
  const auths = { ...(cfg.auths ?? {}) };
  auths[authKey(registry)] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  writeAuthFile(file, { ...cfg, auths });
}

/**
 * Forget a registry's credentials (skiff's auth file or its helper; never Docker's file).
 * Returns whether there were any.
 */
export async function eraseCredentials(paths: CredentialPaths, registry: string): Promise<boolean> {
  const file = skiffAuthFile(paths);
  const cfg = readAuthFile(file);
  if (!cfg) return false;
  const helper = helperFor(cfg, registry);
  if (helper) {
    const had = (await helperGet(helper, authKey(registry), file, true)) !== undefined;
    if (had) await runHelper(helper, 'erase', authKey(registry), file);
    return had;
  }
  const auths = { ...(cfg.auths ?? {}) };
  // Every spelling of the registry goes (Docker's logout tries host, http://host, https://host).
  const keys = Object.keys(auths).filter((k) => keyMatches(k, registry));
  if (!keys.length) return false;
  for (const k of keys) delete auths[k];
  writeAuthFile(file, { ...cfg, auths });
  return true;
}

/** Whether skiff keeps a registry's secrets in a credential helper rather than in its auth file. */
export function usesCredentialHelper(paths: CredentialPaths, registry: string): boolean {
  const cfg = readAuthFile(skiffAuthFile(paths));
  return cfg !== undefined && helperFor(cfg, registry) !== undefined;
}

/** Whether Docker's config file (not skiff's) holds credentials for a registry. */
export async function inDockerConfig(paths: CredentialPaths, registry: string): Promise<boolean> {
  const docker = dockerConfigFile(paths);
  return (await fromAuthFile(readAuthFile(docker), docker, registry, false)) !== undefined;
}

// ---- auth files ----

function readAuthFile(file: string): AuthFile | undefined {
  const c = readUserJson(file) as AuthFile | undefined;
  if (!c) return undefined;
  const bad = (key: string, want: string) => new SkiffError(`${file}: "${key}" must be ${want}`);
  if (c.auths !== undefined && !isObject(c.auths)) throw bad('auths', 'an object keyed by registry');
  for (const [k, v] of Object.entries(c.auths ?? {})) if (!isObject(v)) throw bad(`auths.${k}`, 'an object like {"auth": "..."}');
  if (c.credsStore !== undefined && typeof c.credsStore !== 'string') throw bad('credsStore', 'a helper name (a string)');
  if (c.credHelpers !== undefined && (!isObject(c.credHelpers) || Object.values(c.credHelpers).some((v) => typeof v !== 'string'))) {
    throw bad('credHelpers', 'an object mapping registries to helper names');
  }
  return c;
}

function writeAuthFile(file: string, cfg: AuthFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, `${JSON.stringify(cfg, null, '\t')}\n`, 0o600);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The helper for a registry: credHelpers by host name (Docker Hub under any of its names), else credsStore. */
function helperFor(cfg: AuthFile, registry: string): string | undefined {
  const helpers = cfg.credHelpers ?? {};
  const hit = Object.keys(helpers).find((k) => keyMatches(k, registry));
  const name = hit !== undefined ? helpers[hit] : cfg.credsStore;
  return name || undefined;
}

async function fromAuthFile(cfg: AuthFile | undefined, file: string, registry: string, strict: boolean): Promise<Credentials | undefined> {
  if (!cfg) return undefined;
  const helper = helperFor(cfg, registry);
  if (helper) return helperGet(helper, authKey(registry), file, strict);
  const auths = cfg.auths ?? {};
  const exact = auths[authKey(registry)];
  const entry = exact ?? Object.entries(auths).find(([k]) => keyMatches(k, registry))?.[1];
  return entry ? decodeEntry(entry, file, registry) : undefined;
}

function decodeEntry(e: AuthEntry, file: string, registry: string): Credentials | undefined {
  if (typeof e.identitytoken === 'string' && e.identitytoken) return { identityToken: e.identitytoken };
  if (typeof e.auth === 'string' && e.auth) {
    const plain = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon < 0) throw new SkiffError(`${file}: the "auth" of ${authKey(registry)} is not base64 of "user:password"`);
    return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
  }
  if (typeof e.username === 'string' && typeof e.password === 'string' && e.username) {
    return { username: e.username, password: e.password };
  }
  return undefined; // an empty entry: a helper's placeholder, or nothing
}

// ---- credential helpers (docker-credential-NAME) ----

async function helperGet(helper: string, serverUrl: string, file: string, strict: boolean): Promise<Credentials | undefined> {
  const out = await runHelper(helper, 'get', serverUrl, file, strict);
  if (out === undefined) return undefined;
  let r: { Username?: unknown; Secret?: unknown };
  try { r = JSON.parse(out) as typeof r; } catch {
    throw new SkiffError(`docker-credential-${helper} get: answered something that is not JSON`);
  }
  if (typeof r.Secret !== 'string' || (r.Username !== undefined && typeof r.Username !== 'string')) {
    throw new SkiffError(`docker-credential-${helper} get: the answer has no Secret`);
  }
  if (r.Username === TOKEN_USERNAME) return { identityToken: r.Secret };
  return { username: (r.Username as string | undefined) ?? '', password: r.Secret };
}

/**
 * Run `docker-credential-NAME ACTION` with `input` on stdin. Returns its stdout, or undefined
 * for "credentials not found" (and, when not strict, for a helper that is not installed).
 */
async function runHelper(helper: string, action: 'get' | 'store' | 'erase', input: string, file: string, strict = true): Promise<string | undefined> {
  const program = `docker-credential-${helper}`;
  const exe = findOnPath(program);
  if (!exe) {
    if (!strict) return undefined;
    throw new SkiffError(`${program} is not in $PATH (it is the credential helper ${file} names): install it or remove the setting`);
  }
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve, reject) => {
    const child = spawn(exe, [action], { stdio: ['pipe', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', (e) => reject(new SkiffError(`${program} ${action}: ${e.message}`)));
    child.on('close', (c, signal) => resolve({ code: c ?? (signal ? 128 : 1), stdout: Buffer.concat(chunks).toString('utf8') }));
    // A helper that exits without reading its input must not crash skiff with EPIPE.
    child.stdin.on('error', () => { /* reported through the exit status */ });
    child.stdin.end(input);
  });
  if (code === 0) return stdout;
  const message = stdout.trim();
  if (action === 'get' && message === HELPER_NOT_FOUND) return undefined;
  const verb = { get: 'getting', store: 'storing', erase: 'erasing' }[action];
  throw new SkiffError(`error ${verb} credentials with ${program}: ${message || `exit status ${code}`}`);
}
