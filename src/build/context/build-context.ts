/**
 * Opening a build's context and Dockerfile, as `docker build PATH | - | TARBALL` does:
 *  - PATH, a directory: the context; the Dockerfile is `-f` (relative to the current
 *    directory, as Docker's CLI) or PATH/Dockerfile, else PATH/Containerfile (Podman's name);
 *  - `-`: stdin holds either a tar archive (plain or gzip) — the context, with its Dockerfile
 *    inside — or a Dockerfile alone, with an empty context;
 *  - a tar archive file: the context, unpacked like stdin's;
 *  - `-f -`: the Dockerfile from stdin, with a directory context.
 * The ignore file is `<Dockerfile>.dockerignore` beside the Dockerfile when there is one
 * (BuildKit), else `.dockerignore` at the context root. A context unpacked from a tar, or the
 * empty one, lives in a private temporary directory that close() removes.
 */
import { mkdtemp, readFile, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, posix, relative, resolve } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { BuildError } from '../../errors';
import { removeTree } from '../../util/remove-tree';
import { parseDockerignore, PathMatcher } from './dockerignore';
import { looksLikeTar, unpackTarContext, unsupportedCompression } from './tar-context';

export interface ContextOptions {
  /** The PATH argument: a directory, `-` (stdin), or a tar archive. */
  context: string;
  /** `-f`: a path (relative to cwd), `-` for stdin; the default name in the context when absent. */
  file?: string;
  /** Where `-` reads from (process.stdin). */
  stdin?: Readable;
  cwd?: string;
  /** The directory that takes a context unpacked from a tar (the store's tmp); os.tmpdir() by default. */
  tmpDir?: string;
}

export interface BuildContext {
  /** The context's files: the user's directory, or a temporary one. */
  root: string;
  /** .dockerignore of the build (empty when there is none). */
  ignore: PathMatcher;
  dockerfile: {
    /** How messages name it: as the user gave it (`-f`), `Dockerfile` otherwise. */
    name: string;
    text: string;
  };
  /** Removes a temporary root; nothing for a user's directory. Safe to call twice. */
  close(): Promise<void>;
}

const DEFAULT_NAMES = ['Dockerfile', 'Containerfile'];

/** A stream's first bytes (enough to recognise a tar) and a stream of everything. */
async function readHead(input: Readable, n = 512): Promise<{ head: Buffer; rest: Readable; ended: boolean }> {
  const chunks: Buffer[] = [];
  let len = 0;
  const ended = await new Promise<boolean>((resolve, reject) => {
    const done = (atEnd: boolean) => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      input.pause();
      resolve(atEnd);
    };
    const onData = (chunk: Buffer | string) => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      chunks.push(b);
      len += b.length;
      if (len >= n) done(false);
    };
    const onEnd = () => done(true);
    const onError = (e: Error) => reject(new BuildError(`unable to read the build context: ${e.message}`));
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onError);
  });
  const head = Buffer.concat(chunks);
  const rest = new PassThrough();
  rest.write(head);
  if (ended) rest.end();
  else {
    input.on('error', (e) => rest.destroy(e));
    input.pipe(rest);
  }
  return { head, rest, ended };
}

async function readAll(input: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function isDirectory(p: string): Promise<boolean | undefined> {
  const st = await stat(p).catch(() => undefined);
  return st ? st.isDirectory() : undefined;
}

async function readDockerfile(path: string, name: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new BuildError(`failed to read dockerfile: open ${name}: ${why}`);
  }
}

async function ignoreFor(root: string, dockerfilePath: string | undefined): Promise<PathMatcher> {
  for (const candidate of [dockerfilePath && `${dockerfilePath}.dockerignore`, join(root, '.dockerignore')]) {
    if (!candidate) continue;
    const text = await readFile(candidate, 'utf8').catch(() => undefined);
    if (text !== undefined) return parseDockerignore(text);
  }
  return new PathMatcher([]);
}

/** The Dockerfile's path in a context directory: -f as given, or the default names. */
async function locateDockerfile(root: string, file: string | undefined, cwd: string, inTar: boolean): Promise<{ path: string; name: string }> {
  if (file !== undefined) {
    // -f is relative to the current directory for a directory context, to the root in a tar
    if (inTar && /^\.\.(\/|$)/.test(posix.normalize(file.replace(/^\/+/, '')))) {
      throw new BuildError(`the Dockerfile ${file} is outside the build context`);
    }
    return { path: inTar ? join(root, posix.normalize(file.replace(/^\/+/, ''))) : resolve(cwd, file), name: file };
  }
  for (const name of DEFAULT_NAMES) {
    if ((await isDirectory(join(root, name))) === false) return { path: join(root, name), name };
  }
  return { path: join(root, 'Dockerfile'), name: inTar ? 'Dockerfile' : relativeName(cwd, join(root, 'Dockerfile')) };
}

/** A path as short as the user would write it from cwd. */
function relativeName(cwd: string, p: string): string {
  const rel = relative(cwd, p);
  return rel.startsWith('..') ? p : rel;
}

/** Opens the context and reads the Dockerfile. Throws BuildError (nothing left behind). */
export async function openBuildContext(options: ContextOptions): Promise<BuildContext> {
  const cwd = options.cwd ?? process.cwd();
  const { context, file } = options;
  if (context === '') throw new BuildError('unable to prepare context: path "" not found (give a directory, a tar archive or -)');
  if (context === '-' && file === '-') throw new BuildError("invalid argument: can't use stdin for both build context and dockerfile");
  if (context !== '-') {
    const abs = resolve(cwd, context);
    const dir = await isDirectory(abs);
    if (dir === undefined) throw new BuildError(`unable to prepare context: path "${context}" not found`);
    if (dir) return openDirectory(abs, options, cwd);
    const { createReadStream } = process.getBuiltinModule('node:fs');
    return openTar(createReadStream(abs), options, basename(context));
  }
  if (!options.stdin) throw new BuildError('unable to prepare context: no standard input to read the context from');
  return openTar(options.stdin, options, 'stdin');
}

async function openDirectory(root: string, options: ContextOptions, cwd: string): Promise<BuildContext> {
  let text: string;
  let name: string;
  let path: string | undefined;
  if (options.file === '-') {
    if (!options.stdin) throw new BuildError('unable to read the Dockerfile: no standard input');
    text = await readAll(options.stdin);
    name = 'Dockerfile';
  } else {
    ({ path, name } = await locateDockerfile(root, options.file, cwd, false));
    text = await readDockerfile(path, name);
  }
  return { root, ignore: await ignoreFor(root, path), dockerfile: { name, text }, close: async () => {} };
}

/** A temporary root; removed when anything after it fails. */
async function withTemporaryRoot(options: ContextOptions, fill: (root: string) => Promise<Omit<BuildContext, 'root' | 'close'>>): Promise<BuildContext> {
  const root = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'skiff-build-context-'));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    removeTree(root);
    await rmdir(root).catch(() => {});
  };
  try {
    return { root, close, ...(await fill(root)) };
  } catch (e) {
    await close();
    throw e;
  }
}

async function openTar(input: Readable, options: ContextOptions, label: string): Promise<BuildContext> {
  const { head, rest, ended } = await readHead(input);
  const compression = unsupportedCompression(head);
  if (compression) {
    rest.destroy();
    throw new BuildError(`build context (${label}): ${compression}-compressed build contexts are not supported; use a plain or gzip-compressed tar`);
  }
  return withTemporaryRoot(options, async (root) => {
    if (!looksLikeTar(head)) {
      if (label !== 'stdin') throw new BuildError(`unable to prepare context: ${label} is neither a directory nor a tar archive`);
      // stdin held a Dockerfile: the context is empty
      const text = ended ? head.toString('utf8') : await readAll(rest);
      if (options.file !== undefined) throw new BuildError('a Dockerfile on stdin takes no -f: there is no context to find it in');
      return { ignore: new PathMatcher([]), dockerfile: { name: 'Dockerfile', text } };
    }
    await unpackTarContext(rest, head, root, `build context (${label})`);
    if (options.file === '-') throw new BuildError("invalid argument: can't use stdin for both build context and dockerfile");
    const { path, name } = await locateDockerfile(root, options.file, root, true);
    const text = await readDockerfile(path, name);
    return { ignore: await ignoreFor(root, path), dockerfile: { name, text } };
  });
}
