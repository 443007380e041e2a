import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { openBuildContext, parseBuildContextFlags } from '../build/context';
import { parseDockerfile, planBuild, platformArgs } from '../build/dockerfile';
import { BuildError, UsageError } from '../errors';
import { hostPlatform } from '../image/platform';
import { buildImage, type BuildReporter } from './build';
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
  /** --squash: the layers the build made as one */
  squash?: boolean;
  pull: boolean;
  network?: string;
  /** --secret id=ID,src=FILE */
  secrets: string[];
  platform?: string;
  iidfile?: string;
  /** --build-context NAME=DIR|docker-image://REF */
  buildContexts: string[];
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

/** Read the Dockerfile and the context, plan the stages, build, and write --iidfile. Returns the image ID. */
export async function runBuild(engine: Engine, r: BuildRequest): Promise<string> {
  const named = parseBuildContextFlags(r.buildContexts);
  const buildArgs = parseBuildArgs(r.buildArgs);
  const labels = parseBuildLabels(r.labels);
  const secrets = parseSecrets(r.secrets);
  if (/^(https?|git):\/\//.test(r.context) || r.context.startsWith('git@')) {
    throw new BuildError(`unable to prepare context: remote contexts (${r.context}) are not supported; clone or download it first`);
  }
  engine.ensureDirs();
  // a context unpacked from a tar goes under the store's tmp/, in a flock'd dir that the next
  // command removes if this one is killed
  const tmpDir = (await engine.layers()).tempDir('build-context');
  let context: Awaited<ReturnType<typeof openBuildContext>> | undefined;
  try {
    context = await openBuildContext({ context: r.context, file: r.file, stdin: r.stdin, tmpDir });
    const dockerfile = parseDockerfile(context.dockerfile.text, context.dockerfile.name);
    const plan = planBuild(dockerfile, {
      target: r.target, buildArgs, contexts: new Set(named.keys()), automaticArgs: platformArgs(hostPlatform()),
    });
    // a Dockerfile alone on stdin has an empty temporary context: COPY finds nothing there
    const id = await buildImage(engine, {
      plan, context, namedContexts: named, tags: r.tags, labels, noCache: r.noCache, squash: r.squash ?? false, pull: r.pull, network: r.network,
      secrets, platform: r.platform, reporter: r.reporter,
    });
    if (r.iidfile) fs.writeFileSync(r.iidfile, id);
    return id;
  } finally {
    await context?.close();
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}
