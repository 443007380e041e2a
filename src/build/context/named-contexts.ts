/**
 * `--build-context NAME=VALUE` (BuildKit): an extra context a Dockerfile reaches by name, in
 * `COPY --from=NAME`, `RUN --mount=from=NAME` or `FROM NAME` (where it replaces the stage or
 * image of that name). VALUE is a local directory, or `docker-image://REF` for an image.
 * Remote forms (git and https URLs, oci-layout://) are refused with a clear message.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BuildError } from '../../errors';
import { parseDockerignore, PathMatcher } from './dockerignore';
import type { ContextFiles } from './sources';

export type NamedContext =
  | { name: string; kind: 'dir'; path: string }
  | { name: string; kind: 'image'; ref: string };

/** Reads one --build-context value. Throws BuildError worded for the flag. */
export function parseBuildContextFlag(value: string, cwd: string = process.cwd()): NamedContext {
  const eq = value.indexOf('=');
  if (eq <= 0 || eq === value.length - 1) {
    throw new BuildError(`invalid --build-context value "${value}": use NAME=PATH or NAME=docker-image://IMAGE`);
  }
  const name = value.slice(0, eq);
  const source = value.slice(eq + 1);
  if (source.startsWith('docker-image://')) {
    const ref = source.slice('docker-image://'.length);
    if (ref === '') throw new BuildError(`invalid --build-context value "${value}": no image after docker-image://`);
    return { name, kind: 'image', ref };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) || source.startsWith('git@') || source.startsWith('target:')) {
    throw new BuildError(`--build-context ${name}: ${source} is not supported; give a local directory or docker-image://IMAGE`);
  }
  return { name, kind: 'dir', path: resolve(cwd, source) };
}

/** Several --build-context values; a name given twice is an error. */
export function parseBuildContextFlags(values: string[], cwd?: string): Map<string, NamedContext> {
  const out = new Map<string, NamedContext>();
  for (const v of values) {
    const nc = parseBuildContextFlag(v, cwd);
    if (out.has(nc.name)) throw new BuildError(`--build-context ${nc.name} is given twice`);
    out.set(nc.name, nc);
  }
  return out;
}

/** A directory context's files and its own .dockerignore. Throws BuildError when it is not a directory. */
export async function openNamedDirectory(nc: Extract<NamedContext, { kind: 'dir' }>): Promise<ContextFiles> {
  const st = await stat(nc.path).catch(() => undefined);
  if (!st?.isDirectory()) throw new BuildError(`--build-context ${nc.name}: ${nc.path} is not a directory`);
  const text = await readFile(join(nc.path, '.dockerignore'), 'utf8').catch(() => undefined);
  return { root: nc.path, ignore: text === undefined ? new PathMatcher([]) : parseDockerignore(text) };
}
