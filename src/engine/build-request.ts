import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { parseDockerfile, planBuild, platformArgs } from '../build/dockerfile';
import { BuildError, UsageError } from '../errors';
import { hostPlatform } from '../image/platform';
import { buildImage, type BuildReporter } from './build';
import type { BuildContextFiles } from './build-copy';
import type { Engine } from './context';

/** `skiff build` as the command line gives it, before anything is read. */
export interface BuildRequest {
  /** PATH or `-` */
  context: string;
  /** -f: the Dockerfile (relative to the current directory, as Docker's), `-` for STDIN */
  file?: string;
  tags: string[];
  /** --build-arg NAME=VALUE, or NAME (its value from the environment) */
  buildArgs: string[];
  labels: string[];
  target?: string;
  noCache: boolean;
  pull: boolean;
  network?: string;
  /** --secret id=ID,src=FILE */
  secrets: string[];
  platform?: string;
  iidfile?: string;
  stdin: Readable;
  reporter: BuildReporter;
}

/** --build-arg: `NAME=VALUE`, or `NAME` for the value of that environment variable (skipped when unset). */
export function parseBuildArgs(args: string[], env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq === 0) throw new UsageError(`invalid argument "${a}" for "--build-arg" flag: the name is empty`);
    if (eq > 0) out.set(a.slice(0, eq), a.slice(eq + 1));
    else if (env[a] !== undefined) out.set(a, env[a]!);
  }
  return out;
}

/** --label KEY=VALUE (KEY alone: an empty value). */
export function parseBuildLabels(labels: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) {
    const eq = l.indexOf('=');
    const key = eq < 0 ? l : l.slice(0, eq);
    if (!key) throw new UsageError(`invalid argument "${l}" for "--label" flag: the name is empty`);
    out[key] = eq < 0 ? '' : l.slice(eq + 1);
  }
  return out;
}

/** --secret id=ID,src=FILE (also `source=`, and `type=file`): the files RUN --mount=type=secret binds. */
export function parseSecrets(specs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const fields = new Map(spec.split(',').map((f) => {
      const eq = f.indexOf('=');
      return (eq < 0 ? [f, ''] : [f.slice(0, eq).toLowerCase(), f.slice(eq + 1)]) as [string, string];
    }));
    const type = fields.get('type') ?? 'file';
    if (type !== 'file') throw new UsageError(`invalid secret "${spec}": only type=file is supported`);
    const src = fields.get('src') ?? fields.get('source');
    const id = fields.get('id') ?? (src ? path.basename(src) : undefined);
    if (!id || !src) throw new UsageError(`invalid secret "${spec}": use id=ID,src=FILE`);
    let st: fs.Stats;
    try { st = fs.statSync(src); } catch {
      throw new BuildError(`secret ${id}: cannot read ${src}: no such file`);
    }
    if (!st.isFile()) throw new BuildError(`secret ${id}: ${src} is not a regular file`);
    out[id] = path.resolve(src);
  }
  return out;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The Dockerfile: -f, else PATH/Dockerfile, else PATH/Containerfile (Podman's name). */
function dockerfilePath(contextDir: string, file: string | undefined): string {
  if (file !== undefined) return path.resolve(file);
  for (const name of ['Dockerfile', 'Containerfile']) {
    const p = path.join(contextDir, name);
    if (fs.existsSync(p)) return p;
  }
  return path.join(contextDir, 'Dockerfile');
}

/**
 * The context as a directory on disk. Interim until the context reader (src/build/context/)
 * lands: sources are literal paths that must stay inside the directory.
 */
function directoryContext(root: string): BuildContextFiles {
  const real = fs.realpathSync(root);
  return {
    root,
    resolve(sources: string[]): string[] {
      return sources.map((s) => {
        const rel = path.posix.normalize(s).replace(/^\/+/, '').replace(/\/+$/, '');
        const clean = rel === '.' ? '' : rel;
        if (clean === '..' || clean.startsWith('../')) throw new BuildError(`forbidden path outside the build context: ${s}`);
        const abs = path.join(root, clean);
        let target: string;
        try { target = fs.realpathSync(abs); } catch {
          throw new BuildError(`failed to compute cache key: "/${clean}": not found`);
        }
        if (target !== real && !target.startsWith(`${real}/`)) throw new BuildError(`forbidden path outside the build context: ${s}`);
        return clean;
      });
    },
    excluded: () => false,
  };
}

const NO_CONTEXT: BuildContextFiles = {
  resolve: () => { throw new BuildError('this build has no context: COPY and ADD need a build context directory'); },
  excluded: () => false,
};

/** Read the Dockerfile and the context, plan the stages, build, and write --iidfile. Returns the image ID. */
export async function runBuild(engine: Engine, r: BuildRequest): Promise<string> {
  let text: string;
  let fileName: string;
  let context: BuildContextFiles;
  if (r.context === '-') {
    if (r.file === '-') throw new UsageError('invalid argument: can\'t use stdin for both build context and dockerfile');
    text = (await readAll(r.stdin)).toString('utf8');
    fileName = 'Dockerfile';
    context = NO_CONTEXT;
  } else {
    if (/^(https?|git):\/\//.test(r.context) || r.context.startsWith('git@')) {
      throw new BuildError(`unable to prepare context: remote contexts (${r.context}) are not supported; clone or download it first`);
    }
    let st: fs.Stats;
    try { st = fs.statSync(r.context); } catch {
      throw new BuildError(`unable to prepare context: path "${r.context}" not found`);
    }
    if (!st.isDirectory()) throw new BuildError(`unable to prepare context: path "${r.context}" is not a directory`);
    context = directoryContext(path.resolve(r.context));
    if (r.file === '-') {
      text = (await readAll(r.stdin)).toString('utf8');
      fileName = 'Dockerfile';
    } else {
      const file = dockerfilePath(r.context, r.file);
      try { text = fs.readFileSync(file, 'utf8'); } catch {
        throw new BuildError(`failed to read dockerfile: open ${r.file ?? path.join(r.context, 'Dockerfile')}: no such file or directory`);
      }
      fileName = path.basename(file);
    }
  }
  const dockerfile = parseDockerfile(text, fileName);
  const plan = planBuild(dockerfile, { target: r.target, buildArgs: parseBuildArgs(r.buildArgs), automaticArgs: platformArgs(hostPlatform()) });
  const id = await buildImage(engine, {
    plan, context, tags: r.tags, labels: parseBuildLabels(r.labels), noCache: r.noCache, pull: r.pull, network: r.network,
    secrets: parseSecrets(r.secrets), platform: r.platform, reporter: r.reporter,
  });
  if (r.iidfile) fs.writeFileSync(r.iidfile, id);
  return id;
}
