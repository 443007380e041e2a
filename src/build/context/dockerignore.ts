/**
 * `.dockerignore` with Docker's rules (moby/patternmatcher and its ignorefile reader):
 *  - one pattern a line; a line starting with `#` is a comment; surrounding spaces trimmed;
 *    a pattern is cleaned as a path (`./a//b/` → `a/b`) and a leading `/` dropped, so patterns
 *    are relative to the context root;
 *  - `*` matches within one path component, `?` one character, `[a-z]` a class, `\` escapes;
 *    `**` matches any number of components (`**​/x`, `a/**`, `a/**​/b`);
 *  - a pattern that matches a directory excludes everything under it;
 *  - the LAST matching pattern wins: `!pattern` re-includes what earlier lines excluded.
 * The same matcher serves COPY --exclude.
 */
import { posix } from 'node:path';
import { BuildError } from '../../errors';

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

interface Pattern {
  /** The cleaned pattern, without its `!`. */
  text: string;
  exclusion: boolean;
  type: MatchType;
  regexp?: RegExp;
}

/** Characters with a meaning in a regular expression that a pattern takes literally. */
const LITERAL = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

/** Go's filepath.Clean for slash paths. */
function cleanPath(p: string): string {
  const cleaned = posix.normalize(p);
  return cleaned.length > 1 && cleaned.endsWith('/') ? cleaned.slice(0, -1) : cleaned;
}

/**
 * Compiles a cleaned pattern as patternmatcher does: plain text is an exact match, `x/**` a
 * prefix match, a leading `**` a suffix match, anything else a regular expression.
 */
function compile(text: string, exclusion: boolean): Pattern {
  let re = '^';
  let type: MatchType = 'exact';
  const chars = Array.from(text);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        const start = i;
        i++;
        if (chars[i + 1] === '/') i++;
        if (i + 1 >= chars.length) {
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          re += '(.*/)?';
          type = 'regexp';
        }
        // a pattern that starts with ** is a suffix match, unless more wildcards follow
        if (start === 0) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if (LITERAL.has(ch)) {
      re += '\\' + ch;
    } else if (ch === '\\') {
      if (i + 1 < chars.length) {
        re += '\\' + chars[++i];
        type = 'regexp';
      } else re += '\\\\';
    } else if (ch === '[' || ch === ']') {
      re += ch;
      type = 'regexp';
    } else {
      re += ch;
    }
  }
  const pattern: Pattern = { text, exclusion, type };
  try {
    // checked even for the simple match types, as Go's filepath.Match(p, ".") checks syntax
    const compiled = new RegExp(re + '$');
    if (type === 'regexp') pattern.regexp = compiled;
  } catch {
    throw new BuildError(`syntax error in pattern ${exclusion ? '!' : ''}${text}`);
  }
  return pattern;
}

function matchOne(p: Pattern, path: string): boolean {
  switch (p.type) {
    case 'exact':
      return path === p.text;
    case 'prefix':
      return path.startsWith(p.text.slice(0, -2));
    case 'suffix': {
      const suffix = p.text.slice(2);
      return path.endsWith(suffix) || (suffix.startsWith('/') && path === suffix.slice(1));
    }
    default:
      return p.regexp!.test(path);
  }
}

/** Which paths of a context a list of patterns excludes. */
export class PathMatcher {
  private readonly patterns: Pattern[];
  /** Whether any `!` pattern exists: an excluded directory must then still be walked. */
  readonly hasExclusions: boolean;

  /** `patterns` as ignorefile yields them (cleaned, `!` kept). Throws BuildError on bad syntax. */
  constructor(patterns: string[]) {
    this.patterns = [];
    for (const raw of patterns) {
      let p = raw.trim();
      if (p === '') continue;
      let exclusion = false;
      if (p.startsWith('!')) {
        if (p.length === 1) throw new BuildError('illegal exclusion pattern: "!"');
        exclusion = true;
        p = p.slice(1);
      }
      this.patterns.push(compile(cleanPath(p), exclusion));
    }
    this.hasExclusions = this.patterns.some((p) => p.exclusion);
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /**
   * Whether a path (relative to the context root, `/`-separated) is excluded: it, or one of
   * its parent directories, matches a pattern, and no later `!` pattern matches it again.
   */
  excludes(path: string): boolean {
    const file = cleanPath(path);
    if (file === '.' || file === '') return false;
    const parent = posix.dirname(file);
    const parentDirs = parent === '.' ? [] : parent.split('/');
    let matched = false;
    for (const p of this.patterns) {
      // an inclusion only matters while not excluded, an exclusion only once excluded
      if (p.exclusion !== matched) continue;
      let match = matchOne(p, file);
      for (let i = 0; !match && i < parentDirs.length; i++) match = matchOne(p, parentDirs.slice(0, i + 1).join('/'));
      if (match) matched = !p.exclusion;
    }
    return matched;
  }
}

/** The patterns of a .dockerignore file's text, as Docker's ignorefile.ReadAll reads them. */
export function readIgnoreFile(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    let p = line.trim();
    if (p === '') continue;
    const invert = p.startsWith('!');
    if (invert) p = p.slice(1).trim();
    if (p.length > 0) {
      p = cleanPath(p);
      if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
    }
    out.push(invert ? `!${p}` : p);
  }
  return out;
}

/** A matcher from a .dockerignore file's text. */
export function parseDockerignore(text: string): PathMatcher {
  return new PathMatcher(readIgnoreFile(text));
}
