/**
 * Which URLs to use for a registry, and how to trust them: insecure registries, mirrors,
 * per-registry CA certificates and client certificates, and the default registry for short
 * names. Settings come from the registry keys of `$configRoot/config.json` (names after Docker's
 * daemon.json), certificates from `certs.d/HOST[:PORT]/` directories (Docker's convention).
 *
 * Docker's rules, followed here:
 *  - a registry is insecure when listed by name in `insecureRegistries` (exact `host[:port]`),
 *    or when its address is in one of the listed CIDRs or in 127.0.0.0/8 or ::1/128, which are
 *    always insecure. Docker resolves the host name through DNS for that check; skiff does not
 *    (the config is read on every command): it checks IP literals, `localhost`, and names
 *    /etc/hosts maps.
 *  - an insecure registry is tried over https without certificate verification, then plain http.
 *  - mirrors are tried first, in configuration order; `registryMirrors` are docker.io's mirrors
 *    (daemon.json's `registry-mirrors`); `registries.HOST.mirrors` adds mirrors to any registry
 *    (as Podman's registries.conf). A push never goes to a mirror.
 *  - docker.io is served by https://registry-1.docker.io.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../../util/errors';
import { readUserJson } from '../../util/user-json';
import { DEFAULT_REGISTRY, LEGACY_DEFAULT_REGISTRY, isValidRegistry } from '../reference';

// Loaded when a registry setting is parsed, not with this module, which every command loads
// through the engine: net is ~5 ms of start-up that ps and run do not need.
const net = () => process.getBuiltinModule('node:net');

export interface TlsOptions {
  verify: boolean;
  /** CAs from certs.d, to trust in addition to the system's (the client adds the system's) */
  ca?: Buffer[];
  /** client certificate and key from certs.d (TLS client authentication) */
  cert?: Buffer;
  key?: Buffer;
}

export interface RegistryEndpoint {
  /** 'https://host:port' or 'http://host:port', no trailing slash */
  url: string;
  tls: TlsOptions;
  mirror: boolean;
}

export interface RegistryHostConfig {
  /** as in references: 'docker.io', 'localhost:5000', '127.0.0.1:5000' */
  registry: string;
  insecure: boolean;
  /** mirrors first (in config order), then the registry itself (https, then http when insecure) */
  pullEndpoints: RegistryEndpoint[];
  /** the registry itself, never a mirror: https, then http when insecure (Docker's order) */
  pushEndpoints: RegistryEndpoint[];
  /** pushEndpoints[0] */
  pushEndpoint: RegistryEndpoint;
}

/** Per-command overrides: `--tls-verify`. */
export interface RegistryConfigOverrides {
  /** false: this registry is insecure for this command; true: verify even a loopback registry */
  tlsVerify?: boolean;
}

export interface PerRegistrySettings {
  /** undefined: decided by insecureRegistries and the CIDRs */
  insecure?: boolean;
  /** normalised mirror URLs: 'https://host[:port]' */
  mirrors: string[];
}

export interface RegistrySettings {
  /** the config file the settings came from (for messages) */
  file: string;
  defaultRegistry: string;
  /** registries named in insecureRegistries (host[:port], exact match as Docker) */
  insecureNames: string[];
  /** CIDRs from insecureRegistries plus Docker's loopback defaults */
  insecureCidrs: { address: string; prefix: number; family: 'ipv4' | 'ipv6' }[];
  /** docker.io's mirrors (registryMirrors) */
  registryMirrors: string[];
  registries: Record<string, PerRegistrySettings>;
  /** certs.d directories, searched in order: the first with a HOST directory is used */
  certsDirs: string[];
  /** hosts file for resolving names without DNS (tests point it elsewhere) */
  hostsFile: string;
}

/** Docker Hub's registry API endpoint (docker.io is only its name in references). */
export const DOCKER_HUB_ENDPOINT = 'https://registry-1.docker.io';
/**
 * Always insecure in Docker: "a stop-gap for people running a private registry on localhost".
 * Given parsed: recognising "::1" as IPv6 would make every pull, push and login pay for
 * net.isIPv6 (see ipFamily).
 */
const LOOPBACK_CIDRS: RegistrySettings['insecureCidrs'] = [
  { address: '127.0.0.0', prefix: 8, family: 'ipv4' },
  { address: '::1', prefix: 128, family: 'ipv6' },
];
/** Read as root after skiff's own certs.d: the directories Docker and Podman use. */
const SYSTEM_CERTS_DIRS = ['/etc/docker/certs.d', '/etc/containers/certs.d'];

/** The registry keys of config.json, as written by the user. */
interface RawRegistryConfig {
  defaultRegistry?: unknown;
  insecureRegistries?: unknown;
  registryMirrors?: unknown;
  registries?: unknown;
}

/** `index.docker.io` is docker.io (Docker's ValidateIndexName). */
export function normalizeRegistryName(name: string): string {
  return name === LEGACY_DEFAULT_REGISTRY ? DEFAULT_REGISTRY : name;
}

/**
 * Read and check the registry settings of `<configRoot>/config.json` (or its already parsed
 * `raw` content); no certificates are read. A missing file means Docker's defaults.
 */
export function loadRegistryConfig(paths: { configRoot: string; rootless: boolean }, raw?: unknown): RegistrySettings {
  const file = path.join(paths.configRoot, 'config.json');
  raw ??= readUserJson(file) ?? {};
  const certsDirs = [path.join(paths.configRoot, 'certs.d'), ...(paths.rootless ? [] : SYSTEM_CERTS_DIRS)];
  return parseRegistryConfig(raw, file, certsDirs);
}

/** Check the registry keys of a parsed config.json; every error names the file and the key. */
export function parseRegistryConfig(raw: unknown, file: string, certsDirs: string[], hostsFile = '/etc/hosts'): RegistrySettings {
  const bad = (key: string, want: string) => new SkiffError(`${file}: "${key}" must be ${want}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SkiffError(`${file}: must hold a JSON object`);
  const cfg = raw as RawRegistryConfig;

  const defaultRegistry = parseDefaultRegistry(raw, file);

  const insecureNames: string[] = [];
  const insecureCidrs: RegistrySettings['insecureCidrs'] = [...LOOPBACK_CIDRS];
  for (const entry of stringList(cfg.insecureRegistries, () => bad('insecureRegistries', 'a list of strings'))) {
    // Docker accepts (and strips, with a warning) an http:// or https:// prefix.
    const name = entry.replace(/^https?:\/\//i, '');
    const cidr = parseCidr(name);
    if (cidr) insecureCidrs.push(cidr);
    else if (isValidRegistry(name)) insecureNames.push(normalizeRegistryName(name));
    else throw bad('insecureRegistries', `registry names (host[:port]) or CIDRs: "${entry}" is neither`);
  }

  const registryMirrors = stringList(cfg.registryMirrors, () => bad('registryMirrors', 'a list of mirror URLs'))
    .map((m) => mirrorUrl(m, () => bad('registryMirrors', `a list of http(s)://host[:port] URLs: "${m}" is not one`)));

  const registries: Record<string, PerRegistrySettings> = {};
  if (cfg.registries !== undefined) {
    if (typeof cfg.registries !== 'object' || cfg.registries === null || Array.isArray(cfg.registries)) {
      throw bad('registries', 'an object keyed by registry host[:port]');
    }
    for (const [host, value] of Object.entries(cfg.registries as Record<string, unknown>)) {
      const key = `registries.${host}`;
      if (!isValidRegistry(host)) throw new SkiffError(`${file}: "${key}": "${host}" is not a registry host[:port]`);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(key, 'an object like {"insecure": true, "mirrors": [...]}');
      const v = value as { insecure?: unknown; mirrors?: unknown };
      for (const k of Object.keys(v)) {
        if (k !== 'insecure' && k !== 'mirrors') throw new SkiffError(`${file}: "${key}.${k}" is not a known key (insecure, mirrors)`);
      }
      if (v.insecure !== undefined && typeof v.insecure !== 'boolean') throw bad(`${key}.insecure`, 'true or false');
      const mirrors = stringList(v.mirrors, () => bad(`${key}.mirrors`, 'a list of mirror URLs'))
        .map((m) => mirrorUrl(m, () => bad(`${key}.mirrors`, `a list of http(s)://host[:port] URLs: "${m}" is not one`)));
      const name = normalizeRegistryName(host);
      const prev = registries[name];
      registries[name] = {
        insecure: (v.insecure as boolean | undefined) ?? prev?.insecure,
        mirrors: [...(prev?.mirrors ?? []), ...mirrors],
      };
    }
  }
  return { file, defaultRegistry, insecureNames, insecureCidrs, registryMirrors, registries, certsDirs, hostsFile };
}

/**
 * Only the `defaultRegistry` key of a parsed config.json (docker.io when absent): every command
 * needs it before parsing a reference, most need nothing else of the registry settings.
 */
export function parseDefaultRegistry(raw: unknown, file: string): string {
  const value = (typeof raw === 'object' && raw !== null ? (raw as RawRegistryConfig).defaultRegistry : undefined);
  if (value === undefined) return DEFAULT_REGISTRY;
  // It must read as a registry when written in front of a name (a '.' or ':', or localhost),
  // or the full names of its images would parse as docker.io's.
  if (typeof value !== 'string' || !isValidRegistry(value) || !/[.:]|^localhost$/.test(value)) {
    throw new SkiffError(`${file}: "defaultRegistry" must be a registry host[:port] with a "." or ":" (or localhost), like "docker.io" or "registry.example.com:5000"`);
  }
  return normalizeRegistryName(value);
}

/** The registry short names go to: docker.io unless `defaultRegistry` says otherwise. */
export function defaultRegistry(settings: Pick<RegistrySettings, 'defaultRegistry'>): string {
  return settings.defaultRegistry;
}

/**
 * Endpoints and TLS settings for one registry (reads its certs.d directory, so only call it
 * for a registry about to be contacted).
 */
export function registryHostConfig(settings: RegistrySettings, registry: string, over: RegistryConfigOverrides = {}): RegistryHostConfig {
  const name = normalizeRegistryName(registry);
  const insecure = over.tlsVerify !== undefined ? !over.tlsVerify : isInsecureRegistry(settings, name);

  const pullEndpoints: RegistryEndpoint[] = [];
  const mirrors = [...(settings.registries[name]?.mirrors ?? []), ...(name === DEFAULT_REGISTRY ? settings.registryMirrors : [])];
  for (const m of new Set(mirrors)) {
    const url = new URL(m);
    // An http:// mirror is plain http by configuration; an https:// one is verified unless its
    // own host is insecure or this command said --tls-verify=false.
    const mirrorInsecure = over.tlsVerify !== undefined ? !over.tlsVerify : isInsecureRegistry(settings, url.host);
    pullEndpoints.push({ url: m, mirror: true, tls: tlsFor(settings, url.host, !mirrorInsecure) });
  }

  const pushEndpoints: RegistryEndpoint[] = [];
  if (name === DEFAULT_REGISTRY) {
    // Docker loads no certs.d for Docker Hub itself.
    pushEndpoints.push({ url: DOCKER_HUB_ENDPOINT, mirror: false, tls: { verify: !insecure } });
  } else {
    pushEndpoints.push({ url: `https://${name}`, mirror: false, tls: tlsFor(settings, name, !insecure) });
  }
  if (insecure) {
    const host = name === DEFAULT_REGISTRY ? new URL(DOCKER_HUB_ENDPOINT).host : name;
    pushEndpoints.push({ url: `http://${host}`, mirror: false, tls: { verify: false } });
  }
  pullEndpoints.push(...pushEndpoints);
  return { registry: name, insecure, pullEndpoints, pushEndpoints, pushEndpoint: pushEndpoints[0] };
}

/** Docker's isSecureIndex, negated: listed by name, per-registry setting, or address in a CIDR. */
export function isInsecureRegistry(settings: RegistrySettings, registry: string): boolean {
  const name = normalizeRegistryName(registry);
  const explicit = settings.registries[name]?.insecure;
  if (explicit !== undefined) return explicit;
  if (settings.insecureNames.includes(name)) return true;
  // net.BlockList matches IPv4-mapped IPv6 addresses against IPv4 subnets (Docker's Unmap).
  const cidrs = new (net().BlockList)();
  for (const c of settings.insecureCidrs) cidrs.addSubnet(c.address, c.prefix, c.family);
  return addressesOf(hostOf(name), settings.hostsFile).some((a) => cidrs.check(a, ipFamily(a)));
}

// ---- certs.d ----

/**
 * TLS settings for a host from the first certs.d directory that has a `HOST[:PORT]` directory
 * (as containers/image): every `*.crt` is a CA; a `*.cert` is a client certificate whose key is
 * the `*.key` of the same name (Docker's ReadCertsDirectory, with its errors for unpaired files).
 */
export function tlsFor(settings: Pick<RegistrySettings, 'certsDirs'>, host: string, verify: boolean): TlsOptions {
  const tlsOpts: TlsOptions = { verify };
  for (const base of settings.certsDirs) {
    const dir = path.join(base, host);
    let names: string[];
    try { names = fs.readdirSync(dir).sort(); } catch { continue; }
    const ca: Buffer[] = [];
    for (const n of names) {
      const file = path.join(dir, n);
      if (n.endsWith('.crt')) {
        ca.push(fs.readFileSync(file));
      } else if (n.endsWith('.cert')) {
        const keyName = `${n.slice(0, -'.cert'.length)}.key`;
        if (!names.includes(keyName)) {
          throw new SkiffError(`missing key ${keyName} for client certificate ${file}: CA certificates must use the extension .crt`);
        }
        // Several pairs: the first (by name) is used.
        if (!tlsOpts.cert) {
          tlsOpts.cert = fs.readFileSync(file);
          tlsOpts.key = fs.readFileSync(path.join(dir, keyName));
        }
      } else if (n.endsWith('.key')) {
        const certName = `${n.slice(0, -'.key'.length)}.cert`;
        if (!names.includes(certName)) throw new SkiffError(`missing client certificate ${certName} for key ${file}`);
      }
    }
    if (ca.length) tlsOpts.ca = ca;
    break;
  }
  return tlsOpts;
}

// ---- helpers ----

function stringList(v: unknown, err: () => SkiffError): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw err();
  return v as string[];
}

/** 'https://host[:port]' from a mirror entry; only a scheme, a host and a port are allowed. */
function mirrorUrl(m: string, err: () => SkiffError): string {
  let u: URL;
  try { u = new URL(m); } catch { throw err(); }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !/^[a-z]+:\/\//i.test(m)) throw err();
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash || u.username || u.password) throw err();
  return `${u.protocol}//${u.host}`;
}

/** The host part of 'host', 'host:port', '[v6]', '[v6]:port'. */
export function hostOf(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  const colon = registry.lastIndexOf(':');
  return colon >= 0 ? registry.slice(0, colon) : registry;
}

/** IP addresses for a host without DNS: an IP literal, localhost, or /etc/hosts entries. */
function addressesOf(host: string, hostsFile: string): string[] {
  if (ipFamily(host)) return [host];
  if (host === 'localhost') return ['127.0.0.1', '::1'];
  let text: string;
  try { text = fs.readFileSync(hostsFile, 'utf8'); } catch { return []; }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [addr, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (addr && names.includes(host) && ipFamily(addr)) out.push(addr);
  }
  return out;
}

/**
 * net.isIP's answer, without trying the IPv6 pattern on what has no ':' (host names, IPv4):
 * V8 compiles that large regular expression on its first use, ~10 ms of a pull's start-up.
 */
function ipFamily(s: string): 'ipv4' | 'ipv6' | undefined {
  if (net().isIPv4(s)) return 'ipv4';
  return s.includes(':') && net().isIPv6(s) ? 'ipv6' : undefined;
}

function parseCidr(s: string): RegistrySettings['insecureCidrs'][number] | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const family = ipFamily(m[1]);
  const prefix = Number(m[2]);
  if (!family || prefix > (family === 'ipv4' ? 32 : 128)) return undefined;
  return { address: m[1], prefix, family };
}

