/**
 * Docker image references, parsed and normalised exactly as Docker does
 * (github.com/distribution/reference: ParseNormalizedNamed + Parse + familiar names).
 *
 *   reference        := name [ ":" tag ] [ "@" digest ]
 *   name             := [domain '/'] remote-name
 *   domain           := host [':' port-number]
 *   host             := domain-name | IPv4address | \[ IPv6address \]
 *   domain-name      := domain-component ['.' domain-component]*
 *   domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
 *   path-component   := alpha-numeric [separator alpha-numeric]*
 *   alpha-numeric    := /[a-z0-9]+/
 *   separator        := /[_.]|__|[-]+/
 *   tag              := /[\w][\w.-]{0,127}/
 *   digest           := algorithm ":" hex   (hex: at least 32 hex digits; known algorithms
 *                                            are checked strictly, as go-digest does)
 *
 * Normalisation (splitDockerDomain): the part before the first '/' is a registry when it is
 * `localhost`, contains '.' or ':', or contains an uppercase letter; otherwise the registry is
 * docker.io. `index.docker.io` becomes docker.io. On docker.io a single-component repository
 * gets the `library/` prefix. With neither tag nor digest the tag is `latest`.
 */
import { SkiffError } from '../util/errors';

export const DEFAULT_REGISTRY = 'docker.io';
export const LEGACY_DEFAULT_REGISTRY = 'index.docker.io';
export const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
/** Maximum length of the repository path (without the registry), as Docker. */
export const REPOSITORY_NAME_MAX = 255;

export interface ImageReference {
  /** e.g. `docker.io`, `localhost:5000`, `[::1]:5000` */
  registry: string;
  /** e.g. `library/busybox`, `ns/app` */
  repository: string;
  /** absent only when a digest was given without a tag */
  tag?: string;
  /** `algorithm:hex` */
  digest?: string;
}

// ---- the grammar, built the same way as distribution/reference/regexp.go ----

const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const optionalPort = '(?::[0-9]+)?';
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = host + optionalPort;
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePat = `(?:${domainAndPort}/)?${remoteName}`;

const referenceRegexp = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const anchoredNameRegexp = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const anchoredTagRegexp = new RegExp(`^${tagPat}$`);
const anchoredDigestRegexp = new RegExp(`^${digestPat}$`);
const anchoredIdentifierRegexp = /^[a-f0-9]{64}$/;
const anchoredDomainRegexp = new RegExp(`^${domainAndPort}$`);

/** go-digest: the algorithms it knows and the exact encoding each requires. */
const KNOWN_DIGEST_ALGORITHMS: Record<string, RegExp> = {
  sha256: /^[a-f0-9]{64}$/,
  sha384: /^[a-f0-9]{96}$/,
  sha512: /^[a-f0-9]{128}$/,
};
const goDigestRegexpAnchored = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

function refError(detail: string): SkiffError {
  return new SkiffError(`invalid reference format: ${detail}`, 125);
}

/**
 * Validate a digest string like go-digest's Digest.Validate. Returns an error message or null.
 */
export function digestError(d: string): string | null {
  const i = d.indexOf(':');
  if (i <= 0 || i + 1 === d.length) return 'invalid checksum digest format';
  const alg = d.slice(0, i);
  const enc = d.slice(i + 1);
  const re = KNOWN_DIGEST_ALGORITHMS[alg];
  if (!re) {
    return goDigestRegexpAnchored.test(d) ? 'unsupported digest algorithm' : 'invalid checksum digest format';
  }
  return re.test(enc) ? null : 'invalid checksum digest format';
}

/** True for a well-formed digest of an algorithm we support (`sha256:<64 lowercase hex>` …). */
export function isValidDigest(d: string): boolean {
  return anchoredDigestRegexp.test(d) && digestError(d) === null;
}

/** True for a valid tag (`[\w][\w.-]{0,127}`). */
export function isValidTag(tag: string): boolean {
  return anchoredTagRegexp.test(tag);
}

/** True for a full 64-hex image ID (which Docker refuses as a repository name). */
export function isFullIdentifier(s: string): boolean {
  return anchoredIdentifierRegexp.test(s);
}

/**
 * The registry of names without one (`busybox`, `user/app`): docker.io, or the `defaultRegistry`
 * of config.json, set once when the engine is built. Only parsing uses it; names keep Docker's
 * familiar form (short only on docker.io), so stored tags and archives read the same everywhere.
 */
let shortNameRegistry = DEFAULT_REGISTRY;

export function setDefaultRegistry(registry: string): void {
  shortNameRegistry = registry === LEGACY_DEFAULT_REGISTRY ? DEFAULT_REGISTRY : registry;
}

/** `library/` is Docker Hub's namespace of official images: only docker.io gets it. */
function withOfficialPrefix(domain: string, remainder: string): string {
  return domain === DEFAULT_REGISTRY && !remainder.includes('/') ? OFFICIAL_REPO_PREFIX + remainder : remainder;
}

function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  if (slash < 0) {
    // familiar single-component name ("ubuntu", "ubuntu:latest"): never a registry
    return { domain: shortNameRegistry, remainder: withOfficialPrefix(shortNameRegistry, name) };
  }
  const maybeDomain = name.slice(0, slash);
  const maybeRemote = name.slice(slash + 1);
  let domain: string;
  let remainder: string;
  if (maybeDomain === 'localhost') {
    domain = maybeDomain;
    remainder = maybeRemote;
  } else if (maybeDomain === LEGACY_DEFAULT_REGISTRY) {
    domain = DEFAULT_REGISTRY;
    remainder = maybeRemote;
  } else if (/[.:]/.test(maybeDomain)) {
    domain = maybeDomain;
    remainder = maybeRemote;
  } else if (maybeDomain.toLowerCase() !== maybeDomain) {
    // uppercase namespaces are not allowed, so an uppercase first component is a host name
    domain = maybeDomain;
    remainder = maybeRemote;
  } else {
    domain = shortNameRegistry;
    remainder = name;
  }
  return { domain, remainder: withOfficialPrefix(domain, remainder) };
}

/**
 * Parse a user-supplied image reference and normalise it the way Docker does.
 * `busybox` -> {registry: 'docker.io', repository: 'library/busybox', tag: 'latest'}.
 * A reference with a digest and no tag gets no default tag; `name:tag@digest` keeps both.
 * Throws SkiffError (exit 125) with Docker's wording for malformed references.
 */
export function parseReference(s: string): ImageReference {
  if (s === '') {
    throw refError('repository name must have at least one component');
  }
  if (anchoredIdentifierRegexp.test(s)) {
    throw new SkiffError(
      `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`,
      125,
    );
  }
  const { domain, remainder } = splitDockerDomain(s);
  const colon = remainder.indexOf(':');
  const remote = colon >= 0 ? remainder.slice(0, colon) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw refError(`repository name (${remote}) must be lowercase`);
  }

  const full = `${domain}/${remainder}`;
  const m = referenceRegexp.exec(full);
  if (!m) {
    const lower = full.toLowerCase();
    if (lower !== full && referenceRegexp.test(lower)) {
      throw refError(`repository name must be lowercase: "${s}"`);
    }
    throw refError(`"${s}" is not a valid image reference (expected [registry/]name[:tag][@digest])`);
  }
  const nameMatch = anchoredNameRegexp.exec(m[1]);
  /* c8 ignore next 3 -- the name always matches once the whole reference did */
  if (!nameMatch || nameMatch[1] === undefined) {
    throw refError(`"${s}" is not a valid image reference`);
  }
  const registry = nameMatch[1];
  const repository = nameMatch[2];
  if (repository.length > REPOSITORY_NAME_MAX) {
    throw refError(`repository name must not be more than ${REPOSITORY_NAME_MAX} characters`);
  }
  const tag = m[2];
  const digest = m[3];
  if (digest !== undefined) {
    const err = digestError(digest);
    if (err) throw refError(`${err}: "${digest}"`);
  }
  const ref: ImageReference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) ref.tag = DEFAULT_TAG;
  return ref;
}

/** Like parseReference but returns null instead of throwing. */
export function tryParseReference(s: string): ImageReference | null {
  try {
    return parseReference(s);
  } catch {
    return null;
  }
}

/** `docker.io/library/busybox`, `host:5000/ns/app` (no tag, no digest). */
export function fullName(ref: Pick<ImageReference, 'registry' | 'repository'>): string {
  return `${ref.registry}/${ref.repository}`;
}

/** How Docker prints the name: `busybox`, `user/app`, `host:5000/ns/app` (no tag, no digest). */
export function familiarName(ref: Pick<ImageReference, 'registry' | 'repository'>): string {
  if (ref.registry !== DEFAULT_REGISTRY) return fullName(ref);
  if (ref.repository.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = ref.repository.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return ref.repository;
}

function suffix(ref: ImageReference): string {
  return (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** `docker.io/library/busybox:latest`, `host:5000/app@sha256:...`, `a/b:t@sha256:...` */
export function canonicalString(ref: ImageReference): string {
  return fullName(ref) + suffix(ref);
}

/** `busybox:latest`, `user/app@sha256:...` — Docker's FamiliarString. */
export function familiarString(ref: ImageReference): string {
  return familiarName(ref) + suffix(ref);
}

/** Validate a registry host[:port] as the grammar's domain production. */
export function isValidRegistry(registry: string): boolean {
  return anchoredDomainRegexp.test(registry);
}
