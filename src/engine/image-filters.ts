/**
 * `--filter` for images and image prune, as Docker: `key=value` flags, AND across keys; within
 * a key, reference values are ORed while labels must all match (Docker's MatchKVList), and
 * before/since/until keep the most restrictive value.
 */
import { familiarName, familiarString, parseReference } from '../image/reference';
import type { ImageRecord } from '../image/store';
import { SkiffError } from '../util/errors';

export type ImageFilters = Map<string, string[]>;

/** Parse `--filter key=value` flags (key case-insensitive, as Docker's filters.ParseFlag). */
export function parseFilters(args: string[], accepted: readonly string[]): ImageFilters {
  const filters: ImageFilters = new Map();
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq < 0) throw new SkiffError(`bad format of filter (expected name=value): ${arg}`, 125);
    const key = arg.slice(0, eq).trim().toLowerCase();
    const value = arg.slice(eq + 1).trim();
    if (!accepted.includes(key)) throw new SkiffError(`invalid filter '${key}'`, 125);
    filters.set(key, [...(filters.get(key) ?? []), value]);
  }
  return filters;
}

export const IMAGES_FILTERS = ['dangling', 'label', 'before', 'since', 'reference', 'until'] as const;
export const PRUNE_FILTERS = ['label', 'label!', 'until'] as const;

/** dangling=true|false: true when any value says true (Docker's ExactMatch), else false. */
export function danglingFilter(filters: ImageFilters): boolean | undefined {
  const values = filters.get('dangling');
  if (!values) return undefined;
  for (const v of values) {
    if (v.toLowerCase() !== 'true' && v.toLowerCase() !== 'false' && v !== '1' && v !== '0') {
      throw new SkiffError(`invalid filter 'dangling=${v}': use dangling=true or dangling=false`, 125);
    }
  }
  return values.some((v) => v.toLowerCase() === 'true' || v === '1');
}

/** An image with no tag is dangling (digests alone do not name it for `images`). */
export const isDangling = (i: ImageRecord): boolean => i.repoTags.length === 0;

/**
 * Go's path.Match: `*` is any run of non-`/` characters, `?` one of them, `[...]` a class
 * (`[^...]` or `[!...]` negated), `\` escapes. A malformed pattern matches nothing.
 */
export function globMatch(pattern: string, name: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) return false;
      let body = pattern.slice(i + 1, end);
      if (body.startsWith('!') || body.startsWith('^')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\(.)/g, '\\$1').replace(/([\]])/g, '\\$1')}]`;
      i = end;
    } else re += escapeRe(c);
  }
  try {
    return new RegExp(`${re}$`).test(name);
  } catch {
    return false;
  }
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * Docker's reference.FamiliarMatch: the pattern against the familiar `name:tag`, then against the
 * familiar name alone. `tag` is a canonical reference.
 */
export function referenceMatches(pattern: string, tag: string): boolean {
  const ref = parseReference(tag);
  return globMatch(pattern, familiarString(ref)) || globMatch(pattern, familiarName(ref));
}

/** label=KEY or label=KEY=VALUE: every one must match (Docker's MatchKVList). */
export function labelsMatch(wanted: string[], labels: Record<string, string> | undefined): boolean {
  if (wanted.length === 0) return true;
  const have = labels ?? {};
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    const key = eq < 0 ? w : w.slice(0, eq);
    if (!Object.prototype.hasOwnProperty.call(have, key)) return false;
    return eq < 0 || have[key] === w.slice(eq + 1);
  });
}

/**
 * until=TIMESTAMP: RFC 3339 (date, or date and time), Unix seconds (with fraction), or a Go
 * duration before now ("10m", "1h30m"), as Docker's timetypes.GetTimestamp.
 */
export function parseTimestamp(value: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const dur = /^(?:(\d+(?:\.\d+)?)(h|m|s|ms|us|µs|ns))+$/.test(value) ? goDuration(value) : undefined;
  if (dur !== undefined) return now - dur;
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value) ? `${value}Z` : value);
  if (Number.isNaN(t)) throw new SkiffError(`invalid filter value "${value}": expected a timestamp (2006-01-02T15:04:05), Unix seconds, or a duration (10m, 1h30m)`, 125);
  return t;
}

function goDuration(s: string): number {
  const unit: Record<string, number> = { h: 3600000, m: 60000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  let ms = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) ms += Number(m[1]) * unit[m[2]];
  return ms;
}

export function createdMs(i: ImageRecord): number {
  return i.config.created ? Date.parse(i.config.created) : 0;
}

export interface FilterContext {
  /** resolves before=/since= images (throws No such image) */
  find(nameOrId: string): ImageRecord;
  now?: number;
}

/**
 * Apply filters to a list of images. Returns the matching images; with a reference filter,
 * each image keeps only the tags that match (Docker hides the other rows), and untagged images
 * are dropped.
 */
export function filterImages(images: ImageRecord[], filters: ImageFilters, ctx: FilterContext): ImageRecord[] {
  const dangling = danglingFilter(filters);
  const labels = filters.get('label') ?? [];
  const notLabels = filters.get('label!') ?? [];
  const before = filters.get('before')?.map((r) => createdMs(ctx.find(r)));
  const since = filters.get('since')?.map((r) => createdMs(ctx.find(r)));
  const until = filters.get('until')?.map((v) => parseTimestamp(v, ctx.now));
  const refs = filters.get('reference');
  const out: ImageRecord[] = [];
  for (const image of images) {
    if (dangling !== undefined && isDangling(image) !== dangling) continue;
    if (!labelsMatch(labels, image.config.config?.Labels)) continue;
    if (notLabels.length && notLabels.some((l) => labelsMatch([l], image.config.config?.Labels))) continue;
    const created = createdMs(image);
    if (before && !before.every((t) => created < t)) continue;
    if (since && !since.every((t) => created > t)) continue;
    if (until && !until.every((t) => created < t)) continue;
    if (refs) {
      const tags = image.repoTags.filter((t) => refs.some((p) => referenceMatches(p, t)));
      if (tags.length === 0) continue;
      out.push({ ...image, repoTags: tags });
      continue;
    }
    out.push(image);
  }
  return out;
}
