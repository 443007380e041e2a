import fs from 'node:fs';
import path from 'node:path';
import { BuildCache, baseKey, FileDigests, stepKey, type CachedLayer } from '../build/cache';
import { expandInstruction, parseDockerfile, platformArgs, runScript, stageArgScope, undefinedVariableWarnings, type ArgScope, type BuildPlan, type StagePlan, type SourceRef } from '../build/dockerfile';
import type { Command, CopyInstruction, Instruction, RunInstruction, RunMount, Stage } from '../build/dockerfile/types';
import { BuildError } from '../errors';
import { chainIds } from '../image/chain-id';
import { canonicalString, familiarString, parseReference } from '../image/reference';
import { hostPlatform, parsePlatform, platformString } from '../image/platform';
import type { ImageConfig, ImageRecord, LayerDescriptor } from '../image/store';
import type { OciMount } from '../runtime/oci-spec';
import { parseNetworkMode, type NetworkMode } from '../network/network-mode';
import { resolveUser, type ResolvedUser } from '../runtime/user';
import type { LayerStore } from '../storage/layer-store';
import { readImageFile, resolveLayers } from '../storage/image-files';
import { overlayMountOptions } from '../storage/overlay-options';
import { SkiffError } from '../util/errors';
import { BuildStepRoot } from './build-container';
import { adoptUpperLayer } from './upper-layer';
import { contextPath, openNamedDirectory, PathMatcher, resolveCopySources, resolveInContext, type ContextFiles, type CopySource, type NamedContext } from '../build/context';
import { copyDestination, InputDigest, packEntries, parseChmod, planContextSource, retarEntries, type CopyOwner, type PlannedEntry } from './build-copy';
import type { Engine } from './context';
import { DEFAULT_PATH } from './env';
import { usingLayers } from './layers-in-use';
import { tagTarget } from './tag';

/** How the build reports progress (cli/output/build-progress.ts draws it). */
export interface BuildReporter {
  /** A new step (Docker's vertex), e.g. `[2/3] RUN echo hi`. */
  step(label: string): BuildStepReport;
  warn(message: string): void;
}

export interface BuildStepReport {
  cached(): void;
  /** the command's own output (RUN), as it comes */
  output(chunk: Buffer): void;
  /** a line about the step (`writing image sha256:… done`) */
  log(line: string): void;
  done(): void;
  failed(message: string): void;
}

export interface BuildOptions {
  /** the parsed Dockerfile, its needed stages in order and the build args (the front end's planBuild) */
  plan: BuildPlan;
  /** the build context; undefined for a Dockerfile alone on STDIN */
  context?: ContextFiles;
  /** --build-context NAME=DIR|docker-image://REF */
  namedContexts: Map<string, NamedContext>;
  /** -t, as given */
  tags: string[];
  /** --label */
  labels: Record<string, string>;
  noCache: boolean;
  /** --squash: the layers the build made (over the final stage's base image) as one */
  squash?: boolean;
  /** --pull: always fetch the base images */
  pull: boolean;
  /** --network for RUN: default, none, host */
  network?: string;
  /** --secret id=ID,src=FILE */
  secrets: Record<string, string>;
  platform?: string;
  reporter: BuildReporter;
}

/** One history entry of the image config (OCI). */
interface HistoryEntry { created?: string; created_by?: string; comment?: string; empty_layer?: boolean; author?: string }

type ContainerConfig = NonNullable<ImageConfig['config']> & {
  Shell?: string[]; OnBuild?: string[] | null; ArgsEscaped?: boolean;
  Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
};

/** The image a stage has built so far. */
interface ImageState {
  os: string;
  architecture: string;
  variant?: string;
  author?: string;
  config: ContainerConfig;
  history: HistoryEntry[];
  layers: LayerDescriptor[];
  /** the unpacked size of all layers */
  size: number;
  /** the cache key of this state (chains the base image and every instruction) */
  key: string;
  /** what came from the base image (FROM an image, or scratch), for --squash */
  base: { layers: number; history: number; size: number; id?: string };
  /**
   * When the newest layer was made (or the base image): the time of every history entry
   * after it and of the image, so a rebuild from the cache makes the same image ID.
   */
  time: string;
}

/** The platform args the front end sets: this host's (builds are for the host's platform only). */
function automaticArgs(): Map<string, string> {
  return platformArgs(hostPlatform());
}

/** `KEY=VALUE` lists: set or replace KEY. */
function setEnv(env: string[], key: string, value: string): string[] {
  return [...env.filter((e) => e.split('=', 1)[0] !== key), `${key}=${value}`];
}

/** The build args a RUN sees, for its cache key (the proxy args are not part of it, as Docker's). */
function argsKey(scope: ArgScope): string {
  return [...scope.entries()].map(([k, v]) => `${k}=${v}`).join('\n');
}

function envLookup(env: string[], name: string): string | undefined {
  for (let i = env.length - 1; i >= 0; i--) {
    const eq = env[i].indexOf('=');
    if (env[i].slice(0, eq) === name) return env[i].slice(eq + 1);
  }
  return undefined;
}

/** Docker's argv for a RUN/CMD/ENTRYPOINT: exec form as is, shell form through SHELL. */
function commandArgs(c: Command, shell: string[] | undefined): string[] {
  return c.form === 'exec' ? c.args : [...(shell ?? ['/bin/sh', '-c']), c.text];
}

function stepFailed(message: string, loc: { file: string; line: number }): SkiffError {
  return new BuildError(message, loc);
}

/** Runs a planned Dockerfile: the stages the target needs, dependencies first. */
class Builder {
  private readonly results = new Map<number, ImageState>();
  private readonly cache: BuildCache;
  private readonly digests: FileDigests;
  private readonly multiStage: boolean;
  private layers!: LayerStore;
  private readonly network: NetworkMode;
  private readonly plan: BuildPlan;

  constructor(private readonly engine: Engine, private readonly o: BuildOptions) {
    this.plan = o.plan;
    this.cache = new BuildCache(engine.paths.dataRoot);
    this.digests = new FileDigests(engine.paths.dataRoot);
    this.multiStage = o.plan.dockerfile.stages.length > 1;
    this.network = buildNetwork(o.network);
  }

  async run(): Promise<string> {
    for (const w of this.plan.warnings) this.o.reporter.warn(`${w.message} (${w.file}:${w.line})`);
    this.layers = await this.engine.layers();
    let state: ImageState | undefined;
    for (const sp of this.plan.stages) {
      state = await this.buildStage(sp);
      this.results.set(sp.stage.index, state);
    }
    this.digests.save();
    const unused = this.plan.buildArgs.unconsumed();
    if (unused.length) this.o.reporter.warn(`One or more build-args [${unused.join(' ')}] were not consumed`);
    return this.exportImage(this.o.squash ? await this.squash(state!) : state!);
  }

  /**
   * --squash (Docker's): the layers the build made over the base image become one, applied in
   * order onto one tree by the helper (whiteouts and opaque directories as overlay would see
   * them) and adopted as a layer; the build's history entries stay, marked empty, and a last
   * entry says `merge <unsquashed image ID> to <base image ID>`. Nothing to do for one layer.
   */
  private async squash(state: ImageState): Promise<ImageState> {
    const made = state.layers.slice(state.base.layers);
    if (made.length < 2) return state;
    const step = this.o.reporter.step('squashing layers');
    const scratch = this.layers.tempDir('squash');
    try {
      const tree = path.join(scratch, 'tree');
      fs.mkdirSync(tree, { mode: 0o755 });
      await this.layers.merge(tree, made.map((l) => ({ file: this.engine.blobs.path(l.digest), diffId: l.diffId })));
      const base = state.layers.slice(0, state.base.layers);
      const layer = await adoptUpperLayer(this.engine, this.layers, tree, scratch, base.map((l) => l.diffId));
      const unsquashed = `sha256:${createHashHex(configBytes(state, this.o.labels))}`;
      const history: HistoryEntry[] = state.history.map((h, i) => (i < state.base.history ? h : { ...h, empty_layer: true }));
      history.push({ created: state.time, comment: `merge ${unsquashed} to ${state.base.id ?? 'scratch'}` });
      step.done();
      return { ...state, layers: [...base, layer.descriptor], size: state.base.size + layer.size, history };
    } catch (e) {
      step.failed((e as Error).message);
      throw e;
    } finally {
      await this.layers.removeTree(scratch).catch(() => undefined);
    }
  }

  /** What a FROM, COPY --from or RUN --mount from= names, as an image state. */
  private async source(ref: SourceRef, label: string): Promise<ImageState> {
    switch (ref.kind) {
      case 'scratch': {
        const p = hostPlatform();
        return { os: p.os, architecture: p.architecture, variant: p.variant, config: { Env: [DEFAULT_PATH] }, history: [], layers: [], size: 0, key: baseKey(undefined), time: new Date(0).toISOString(), base: { layers: 0, history: 0, size: 0 } };
      }
      case 'stage': {
        const done = this.results.get(ref.index);
        if (!done) throw new BuildError(`stage ${ref.index} was not built before the stage that needs it`);
        return done;
      }
      case 'context':
      case 'image': {
        const named = ref.kind === 'context' ? this.o.namedContexts.get(ref.name) : undefined;
        if (named?.kind === 'dir') throw new BuildError(`--build-context ${named.name}: a directory can be copied from (COPY --from=${named.name}) but not built on`);
        const imageRef = ref.kind === 'image' ? ref.ref : named!.ref;
        const step = this.o.reporter.step(label);
        try {
          const image = await this.image(imageRef, step);
          step.done();
          return stateOf(image);
        } catch (e) {
          step.failed((e as Error).message);
          throw e;
        }
      }
    }
  }

  private label(stage: Stage, k: number, n: number, text: string): string {
    const who = this.multiStage ? `${stage.name ?? `stage-${stage.index}`} ` : '';
    return `[${who}${k}/${n}] ${text}`;
  }

  private async buildStage(sp: StagePlan): Promise<ImageState> {
    const stage = sp.stage;
    const escape = this.plan.dockerfile.directives.escape;
    const scope = stageArgScope(this.plan, automaticArgs());
    if (sp.platform) this.checkPlatform(sp.platform);
    const fromText = sp.base.kind === 'image' ? `FROM ${sp.base.ref}` : stage.from.text;
    // ONBUILD triggers of a base image run first, in this build's context; the child does not
    // inherit them. A local image is looked at before its step is drawn, to number the steps.
    const count = (list: Instruction[]) => list.filter((i) => ['RUN', 'COPY', 'ADD', 'WORKDIR'].includes(i.kind)).length + 1;
    const peek = sp.base.kind === 'image' && !this.o.pull ? this.engine.images.find(sp.base.ref) : undefined;
    const steps = count([...onbuildTriggers(peek?.config.config as ContainerConfig | undefined, stage), ...stage.instructions]);
    let state = await this.source(sp.base, this.label(stage, 1, steps, fromText));
    const triggers = sp.base.kind === 'image' ? onbuildTriggers(state.config, stage) : [];
    if (triggers.length) state = { ...state, config: { ...state.config, OnBuild: undefined } };
    const instructions = [...triggers, ...stage.instructions];
    let k = 1;
    let cmdSet = false;
    const lookup = (n: string) => envLookup(state.config.Env ?? [], n) ?? scope.get(n);
    for (const raw of instructions) {
      if (raw.kind === 'ARG') {
        for (const w of undefinedVariableWarnings(raw, scope.declare(raw, lookup))) this.o.reporter.warn(`${w.message} (${w.file}:${w.line})`);
        state = { ...state, key: stepKey(state.key, ['ARG', argsKey(scope)]) };
        continue;
      }
      const { instruction: ins } = expandInstruction(raw, lookup, escape);
      const empty = (mutate: (c: ContainerConfig) => void, createdBy = ins.text) => {
        const config = structuredClone(state.config);
        mutate(config);
        const key = stepKey(state.key, [JSON.stringify(config), state.author ?? '']);
        const time = this.metadataTime(key);
        state = { ...state, config, time, history: [...state.history, { created: time, created_by: createdBy, comment: 'buildkit.dockerfile.v0', empty_layer: true }], key };
      };
      switch (ins.kind) {
        case 'ENV':
          empty((c) => { for (const [k2, v] of ins.pairs) c.Env = setEnv(c.Env ?? [], k2, v); });
          break;
        case 'LABEL':
          empty((c) => { for (const [k2, v] of ins.pairs) c.Labels = { ...(c.Labels ?? {}), [k2]: v }; });
          break;
        case 'MAINTAINER':
          state = { ...state, author: ins.name };
          empty(() => undefined);
          break;
        case 'WORKDIR':
          state = await this.workdirStep(state, path.posix.resolve('/', state.config.WorkingDir || '/', ins.path), ins.text,
            this.label(stage, ++k, steps, ins.text));
          break;
        case 'USER':
          empty((c) => { c.User = ins.user; });
          break;
        case 'CMD':
          empty((c) => { c.Cmd = commandArgs(ins.command, c.Shell); });
          cmdSet = true;
          break;
        case 'ENTRYPOINT':
          empty((c) => {
            c.Entrypoint = commandArgs(ins.command, c.Shell);
            if (!cmdSet) c.Cmd = undefined; // an inherited CMD is reset by a new ENTRYPOINT (Docker)
          });
          break;
        case 'EXPOSE':
          empty((c) => {
            for (const p of ins.ports) c.ExposedPorts = { ...(c.ExposedPorts ?? {}), [p.includes('/') ? p.toLowerCase() : `${p}/tcp`]: {} };
          });
          break;
        case 'VOLUME':
          empty((c) => { for (const v of ins.paths) c.Volumes = { ...(c.Volumes ?? {}), [v]: {} }; });
          break;
        case 'SHELL':
          empty((c) => { c.Shell = ins.shell; });
          break;
        case 'STOPSIGNAL':
          empty((c) => { c.StopSignal = ins.signal; });
          break;
        case 'HEALTHCHECK':
          empty((c) => {
            c.Healthcheck = ins.test === null ? { Test: ['NONE'] } : {
              Test: ins.test,
              ...(ins.options.interval !== undefined ? { Interval: ins.options.interval } : {}),
              ...(ins.options.timeout !== undefined ? { Timeout: ins.options.timeout } : {}),
              ...(ins.options.startPeriod !== undefined ? { StartPeriod: ins.options.startPeriod } : {}),
              ...(ins.options.startInterval !== undefined ? { StartInterval: ins.options.startInterval } : {}),
              ...(ins.options.retries !== undefined ? { Retries: ins.options.retries } : {}),
            };
          });
          break;
        case 'ONBUILD':
          empty((c) => { c.OnBuild = [...(c.OnBuild ?? []), ins.trigger.text]; });
          break;
        case 'RUN':
          state = await this.runStep(sp, ins, (raw as RunInstruction).mounts, state, scope, this.label(stage, ++k, steps, ins.text));
          break;
        case 'COPY':
        case 'ADD':
          state = await this.copyStep(sp, ins, sp.refs.get(raw as CopyInstruction), state, this.label(stage, ++k, steps, ins.text));
          break;
        default:
          break; // FROM starts a stage (the parser splits there); ARG is handled above
      }
    }
    return state;
  }

  private checkPlatform(p: string): void {
    const wanted = parsePlatform(p);
    const host = hostPlatform();
    if (wanted.os !== host.os || wanted.architecture !== host.architecture) {
      throw new SkiffError(`platform ${p} is not this host's (${platformString(host)}): skiff builds for the host's platform only`, 1);
    }
  }

  private async image(name: string, step: BuildStepReport): Promise<ImageRecord> {
    const local = this.o.pull ? undefined : this.engine.images.find(name);
    if (local) { step.cached(); return local; }
    const { pullImage } = await import('./pull');
    const out = new (process.getBuiltinModule('node:stream')).Writable({
      write(chunk: Buffer, _enc, cb) { for (const l of chunk.toString('utf8').split(/[\r\n]+/)) if (l.trim()) step.log(l.trim()); cb(); },
    });
    return (await pullImage(this.engine, name, { out, quiet: false, printReference: false, platform: this.o.platform })).image;
  }

  /**
   * When a metadata step (ENV, LABEL…) was first made: remembered under its key like a layer
   * step's, so it is now on a first build and the same on a rebuild (same image ID).
   */
  private metadataTime(key: string): string {
    const hit = this.o.noCache ? undefined : this.cache.get(key);
    if (hit?.created) return hit.created;
    const created = new Date().toISOString();
    this.cache.put(key, { diffId: '', digest: '', mediaType: '', blobSize: 0, size: 0, layer: false, created });
    return created;
  }

  /** The step's cache entry, if its layer is still in the store. */
  private cached(key: string, parent: ImageState): CachedLayer | undefined {
    if (this.o.noCache) return undefined;
    const hit = this.cache.get(key);
    if (!hit) return undefined;
    if (!hit.layer) return hit;
    const chain = chainIds([...parent.layers.map((l) => l.diffId), hit.diffId]);
    return this.layers.has(chain.at(-1)!) && this.engine.blobs.has(hit.digest) ? hit : undefined;
  }

  private withLayer(state: ImageState, key: string, hit: CachedLayer, createdBy: string): ImageState {
    const time = hit.created ?? state.time;
    const history: HistoryEntry = { created: time, created_by: createdBy, comment: 'buildkit.dockerfile.v0', ...(hit.layer ? {} : { empty_layer: true }) };
    return {
      ...state, key, time, history: [...state.history, history],
      layers: hit.layer ? [...state.layers, { mediaType: hit.mediaType, digest: hit.digest, size: hit.blobSize, diffId: hit.diffId }] : state.layers,
      size: state.size + (hit.layer ? hit.size : 0),
    };
  }

  private userOf(state: ImageState, spec: string): ResolvedUser {
    const dirs = this.layerDirs(state);
    return resolveUser(spec, readImageFile(dirs, 'etc/passwd'), readImageFile(dirs, 'etc/group'));
  }

  private layerDirs(state: ImageState): string[] {
    return chainIds(state.layers.map((l) => l.diffId)).map((c) => this.layers.diffDir(c));
  }

  /** The step root's changes as the step's layer, remembered in the cache under KEY. */
  private async commitStep(root: BuildStepRoot, state: ImageState, key: string, createdBy: string, step: BuildStepReport,
    exclude: string[] = []): Promise<ImageState> {
    const layer = await root.commit(state.layers.map((l) => l.diffId), exclude);
    const created = new Date().toISOString();
    const entry: CachedLayer = layer
      ? { diffId: layer.descriptor.diffId, digest: layer.descriptor.digest, mediaType: layer.descriptor.mediaType, blobSize: layer.descriptor.size, size: layer.size, layer: true, created }
      : { diffId: '', digest: '', mediaType: '', blobSize: 0, size: 0, layer: false, created };
    this.cache.put(key, entry);
    step.done();
    return this.withLayer(state, key, entry, createdBy);
  }

  /** One step that makes a layer in a step root: from the cache, or by FN and a commit. */
  private async layerStep(state: ImageState, key: string, label: string, createdBy: string,
    fn: (root: BuildStepRoot, step: BuildStepReport) => Promise<string[] | void>): Promise<ImageState> {
    const step = this.o.reporter.step(label);
    const hit = this.cached(key, state);
    if (hit) {
      step.cached();
      return this.withLayer(state, key, hit, createdBy);
    }
    const root = await BuildStepRoot.create(this.engine, this.layers, chainIds(state.layers.map((l) => l.diffId)));
    try {
      const exclude = await fn(root, step);
      return await this.commitStep(root, state, key, createdBy, step, exclude ?? []);
    } catch (e) {
      step.failed((e as Error).message);
      throw e;
    } finally {
      await root.remove().catch(() => undefined);
    }
  }

  /**
   * WORKDIR: the config's working directory, and the directory itself when it is missing
   * (owned by the current USER, as BuildKit makes it): a layer only when something was created.
   */
  private async workdirStep(state: ImageState, dir: string, text: string, label: string): Promise<ImageState> {
    const config = { ...state.config, WorkingDir: dir };
    const withDir = { ...state, config };
    const key = stepKey(state.key, ['WORKDIR', dir, config.User ?? '']);
    return this.layerStep(withDir, key, label, text, async (root) => {
      const { base, missing } = await deepestExisting(root, dir);
      if (missing.length === 0) return;
      const user = this.userOf(state, config.User ?? '');
      const dirs: PlannedEntry[] = missing.map((_, i) => ({ name: missing.slice(0, i + 1).join('/'), type: 'directory', mode: 0o755, uid: user.uid, gid: user.gid, mtime: new Date() }));
      await root.tarIn(packEntries(dirs), base, 'WORKDIR');
    });
  }

  private async runStep(sp: StagePlan, ins: RunInstruction, rawMounts: RunInstruction['mounts'], state: ImageState, scope: ArgScope, label: string): Promise<ImageState> {
    const script = runScript(ins);
    const argv = !script ? commandArgs(ins.command, state.config.Shell)
      : script.kind === 'shell' ? [...(state.config.Shell ?? ['/bin/sh', '-c']), script.text] : [`/dev/pipes/${script.name}`];
    const network = ins.network ? buildNetwork(ins.network, `${ins.loc.file}:${ins.loc.line}: RUN --network`) : this.network;
    const mounts = await Promise.all(ins.mounts.map(async (m, i) => `${JSON.stringify(m)}\0${await this.mountInputKey(sp, m, rawMounts[i], ins)}`));
    const key = stepKey(state.key, ['RUN', JSON.stringify(argv), script?.kind === 'file' ? script.content : '', argsKey(scope), JSON.stringify(network), ...mounts]);
    const createdBy = `RUN ${argv.join(' ')} # buildkit`;
    return this.layerStep(state, key, label, createdBy, async (root, step) => {
      const user = this.userOf(state, state.config.User ?? '');
      let env = [...(state.config.Env ?? [])];
      if (!env.some((e) => e.startsWith('PATH='))) env = [DEFAULT_PATH, ...env];
      for (const [k2, v] of scope.runEnvironment()) if (envLookup(env, k2) === undefined) env.push(`${k2}=${v}`);
      if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home}`);
      const runMounts = await this.runMounts(sp, ins, rawMounts, state);
      // The mount points the run creates are not the step's changes (BuildKit removes them too).
      const stubs: string[] = [];
      for (const m of runMounts) {
        const found = await deepestExisting(root, m.destination).catch(() => undefined); // undefined: a file is there
        if (found?.missing.length) stubs.push(path.posix.join(found.base, found.missing[0]).slice(1));
      }
      if (script?.kind === 'file') {
        // BuildKit's place for a heredoc script with its own interpreter (#!)
        const file = path.join(root.dir, 'script');
        fs.writeFileSync(file, script.content, { mode: 0o755 });
        runMounts.push({ destination: `/dev/pipes/${script.name}`, type: 'bind', source: file, options: ['rbind', 'ro', 'nodev', 'nosuid'] });
      }
      const outFile = path.join(root.dir, 'output');
      const fd = fs.openSync(outFile, 'w+', 0o600);
      const tail = followFile(fd, (chunk) => step.output(chunk));
      let code: number;
      try {
        code = await root.run({ args: argv, env, cwd: state.config.WorkingDir || '/', user, network, mounts: runMounts, outputFd: fd });
      } finally {
        await tail.stop();
        fs.closeSync(fd);
      }
      if (code !== 0) {
        throw stepFailed(`process "${argv.join(' ')}" did not complete successfully: exit code: ${code}`, ins.loc);
      }
      return stubs;
    });
  }

  /** RUN --mount: what each becomes in the step's container. */
  private async runMounts(sp: StagePlan, ins: RunInstruction, rawMounts: RunInstruction['mounts'], state: ImageState): Promise<OciMount[]> {
    const out: OciMount[] = [];
    for (const [i, m] of ins.mounts.entries()) {
      switch (m.type) {
        case 'cache': {
          const target = path.posix.resolve(state.config.WorkingDir || '/', m.target ?? '');
          const id = (m.id ?? target).replace(/[^A-Za-z0-9_.-]/g, '_');
          const dir = path.join(this.cache.dir, 'mounts', id);
          fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
          out.push({ destination: target, type: 'bind', source: dir, options: ['rbind', 'nodev', 'nosuid', ...(m.readonly ? ['ro'] : [])] });
          break;
        }
        case 'tmpfs':
          out.push({ destination: path.posix.resolve(state.config.WorkingDir || '/', m.target ?? ''), type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(m.size ? [`size=${m.size}`] : [])] });
          break;
        case 'secret': {
          const id = m.id ?? path.posix.basename(m.target ?? '');
          const src = this.o.secrets[id];
          if (src === undefined) {
            if (m.required) throw stepFailed(`secret ${id} not found: pass it with --secret id=${id},src=FILE`, ins.loc);
            break;
          }
          out.push({ destination: m.target ?? `/run/secrets/${id}`, type: 'bind', source: src, options: ['rbind', 'ro', 'nodev', 'nosuid', 'noexec'] });
          break;
        }
        case 'bind': {
          const target = path.posix.resolve(state.config.WorkingDir || '/', m.target ?? '');
          const ref = sp.refs.get(rawMounts[i]);
          const named = ref?.kind === 'context' ? this.o.namedContexts.get(ref.name) : undefined;
          if (ref && named?.kind !== 'dir') {
            const src = await this.source(ref, `[internal] load ${ref.kind === 'image' ? ref.ref : named?.name ?? m.from}`);
            out.push(this.stageMount(src, m.source ?? '/', target, m.from ?? '', ins));
            break;
          }
          const ctx = named?.kind === 'dir' ? await this.namedDirectory(named) : this.o.context;
          if (!ctx) throw stepFailed('RUN --mount=type=bind needs a build context', ins.loc);
          const rel = contextPath(m.source ?? '.');
          const inside = rel === undefined ? undefined : await resolveInContext(ctx.root, rel, true, ins.loc);
          if (rel === undefined) throw stepFailed(`RUN --mount source ${m.source} is outside the build context`, ins.loc);
          if (inside === undefined) throw stepFailed(`RUN --mount source ${m.source}: not found in the build context`, ins.loc);
          const real = inside === '.' ? ctx.root : path.join(ctx.root, inside);
          // read-only (BuildKit makes a writable scratch copy with rw; the context is never written)
          out.push({ destination: target, type: 'bind', source: real, options: ['rbind', 'ro', 'nodev', 'nosuid'] });
          break;
        }
        case 'ssh':
          throw stepFailed('RUN --mount=type=ssh is not supported', ins.loc);
      }
    }
    return out;
  }

  /**
   * What a bind mount's content is, for the RUN's cache key: the digest of the context files it
   * shows, or the key of the stage (the ID of the image) it comes from. Other mounts: nothing
   * (a cache mount's content is deliberately not part of the key, as BuildKit's).
   */
  private async mountInputKey(sp: StagePlan, m: RunMount, raw: RunMount, ins: RunInstruction): Promise<string> {
    if (m.type !== 'bind') return '';
    const ref = sp.refs.get(raw);
    const named = ref?.kind === 'context' ? this.o.namedContexts.get(ref.name) : undefined;
    if (ref?.kind === 'stage') return this.results.get(ref.index)?.key ?? '';
    if (ref && named?.kind !== 'dir') return ref.kind === 'image' ? ref.ref : ref.kind === 'context' ? ref.name : 'scratch';
    const ctx = named?.kind === 'dir' ? await this.namedDirectory(named) : this.o.context;
    if (!ctx) return '';
    const digest = new InputDigest();
    for (const src of await this.resolveSources(ctx, [m.source ?? '.'], ins)) {
      await planContextSource(ctx, src, '', { uid: 0, gid: 0 }, undefined, this.digests, digest, []);
    }
    return digest.hex();
  }

  /**
   * RUN --mount=type=bind,from=STAGE|IMAGE: that image's SOURCE, read-only. A directory is an
   * overlay of its own layers' copies of it (no upper dir: nothing is written), a file a bind
   * of the layer file that holds it.
   */
  private stageMount(src: ImageState, source: string, target: string, from: string, ins: RunInstruction): OciMount {
    const dirs = this.layerDirs(src);
    const rel = path.posix.normalize(`/${source}`).slice(1);
    let lowers: string[];
    if (rel === '') lowers = [...dirs].reverse();
    else {
      const found = resolveLayers(dirs, rel);
      if (!found) throw stepFailed(`RUN --mount source ${source}: not found in ${from}`, ins.loc);
      if (!found[0].st.isDirectory()) return { destination: target, type: 'bind', source: found[0].host, options: ['rbind', 'ro', 'nodev', 'nosuid'] };
      lowers = found.map((e) => e.host);
    }
    // overlay wants two lower dirs when there is no upper one
    const empty = path.join(this.cache.dir, 'empty');
    fs.mkdirSync(empty, { recursive: true, mode: 0o755 });
    return { destination: target, type: 'overlay', source: 'overlay',
      options: ['ro', 'nodev', 'nosuid', `lowerdir=${[...lowers, empty].join(':')}`, ...overlayMountOptions(this.engine.userns !== undefined)] };
  }

  private chownOf(state: ImageState, spec: string | undefined): CopyOwner {
    if (!spec) return { uid: 0, gid: 0 };
    const [user, group] = spec.split(':', 2);
    const u = this.userOf(state, user);
    if (group === undefined || group === '') return { uid: u.uid, gid: /^[0-9]+$/.test(user) ? u.uid : u.uid };
    const g = this.userOf(state, `${user}:${group}`);
    return { uid: u.uid, gid: g.gid };
  }

  private async copyStep(sp: StagePlan, ins: CopyInstruction, from: SourceRef | undefined, state: ImageState, label: string): Promise<ImageState> {
    const dest = copyDestination(ins.dest, state.config.WorkingDir);
    const owner = this.chownOf(state, ins.chown);
    const chmod = parseChmod(ins.chmod);
    const sources = ins.sources;
    const heredocs = new Map(ins.heredocs.map((h) => [h.name, h]));
    const named = from?.kind === 'context' ? this.o.namedContexts.get(from.name) : undefined;
    if (from && named?.kind !== 'dir') return this.copyFromStep(ins, state, from, sources, dest, owner, chmod, label);
    const ctx = named?.kind === 'dir' ? await this.namedDirectory(named) : this.o.context;

    // Plan the entries and digest them (the cache key's input) before anything is mounted: a
    // hit needs no step root. A file source is planned under its own name, and renamed to the
    // destination's when that turns out not to be a directory.
    const digest = new InputDigest();
    const planned: PlannedEntry[] = [];
    const archives: string[] = [];
    let dirSource = false;
    const local = sources.filter((s) => !heredocs.has(s) && !/^https?:\/\//.test(s));
    const resolved = local.length ? await this.resolveSources(ctx, local, ins) : [];
    const many = resolved.length + sources.length - local.length > 1;
    if (many && !dest.trailingSlash) {
      throw stepFailed(`When using ${ins.kind} with more than one source file, the destination must be a directory and end with a /`, ins.loc);
    }
    const exclude = ins.exclude.length ? new PathMatcher(ins.exclude) : undefined;
    for (const src of resolved) {
      const f = src.entry;
      if (ins.kind === 'ADD' && f.type === 'file' && isArchive(f.abs)) {
        archives.push(f.abs);
        digest.add({ name: f.path, type: 'file', mode: 0, uid: 0, gid: 0, mtime: new Date(0) }, this.digests.digest(f.abs, fs.lstatSync(f.abs, { bigint: true })));
        continue;
      }
      dirSource ||= f.type === 'dir';
      const name = src.parentsPath ?? (f.type === 'dir' ? '' : path.posix.basename(src.matched));
      await planContextSource(ctx!, src, name === '.' ? '' : name, owner, chmod, this.digests, digest, planned, exclude);
    }
    for (const s of sources.filter((s2) => heredocs.has(s2))) {
      const data = Buffer.from(heredocs.get(s)!.content);
      const e: PlannedEntry = { name: s, type: 'file', mode: chmod ?? 0o644, ...owner, mtime: new Date(), data, size: data.length };
      planned.push(e);
      digest.add(e, createHashHex(data));
    }
    for (const url of sources.filter((s2) => /^https?:\/\//.test(s2))) {
      if (ins.kind !== 'ADD') throw stepFailed(`COPY cannot download ${url}: use ADD`, ins.loc);
      const data = await download(url, ins.loc);
      const e: PlannedEntry = { name: path.posix.basename(new URL(url).pathname) || 'index.html', type: 'file', mode: chmod ?? 0o600, ...owner, mtime: new Date(), data, size: data.length };
      planned.push(e);
      digest.add(e, createHashHex(data));
    }
    const key = stepKey(state.key, [ins.kind, dest.abs, String(dest.trailingSlash), JSON.stringify({ chown: ins.chown, chmod: ins.chmod }), digest.hex()]);
    return this.layerStep(state, key, label, `${ins.text} # buildkit`, async (root) => {
      const destIsDir = dest.trailingSlash || many || dirSource || archives.length > 0 || (await root.stat(dest.abs)) === 'dir';
      const destDir = destIsDir ? dest.abs : path.posix.dirname(dest.abs);
      // one file onto a file path: it takes the destination's name
      if (!destIsDir && planned.length === 1 && planned[0].type !== 'directory') planned[0] = { ...planned[0], name: path.posix.basename(dest.abs) };
      const { base, missing } = await deepestExisting(root, destDir);
      const prefix = missing.join('/');
      const dirs: PlannedEntry[] = missing.map((_, i) => ({ name: missing.slice(0, i + 1).join('/'), type: 'directory', mode: 0o755, ...owner, mtime: new Date() }));
      const files = planned.map((e) => ({ ...e, name: [prefix, e.name].filter(Boolean).join('/') })).filter((e) => e.name !== '');
      await root.tarIn(packEntries([...dirs, ...files]), base, ins.kind);
      for (const a of archives) {
        await root.tarIn(retarEntries(await decompressed(a), prefix, ins.chown ? owner : undefined, undefined), base, ins.kind);
      }
    });
  }

  private async resolveSources(ctx: ContextFiles | undefined, sources: string[], ins: { kind: string; loc: CopyInstruction['loc']; parents?: boolean }): Promise<CopySource[]> {
    if (!ctx) throw stepFailed(`${ins.kind} needs a build context: this Dockerfile was given without one`, ins.loc);
    return resolveCopySources(ctx, sources, { loc: ins.loc, parents: ins.parents });
  }

  private readonly namedDirs = new Map<string, Promise<ContextFiles>>();
  private namedDirectory(nc: Extract<NamedContext, { kind: 'dir' }>): Promise<ContextFiles> {
    let p = this.namedDirs.get(nc.name);
    if (!p) this.namedDirs.set(nc.name, (p = openNamedDirectory(nc)));
    return p;
  }

  /** COPY --from=STAGE|IMAGE: the paths read out of that root by the helper, re-owned on the way. */
  private async copyFromStep(ins: CopyInstruction, state: ImageState, from: SourceRef, sources: string[],
    dest: { abs: string; trailingSlash: boolean }, owner: CopyOwner, chmod: number | undefined, label: string): Promise<ImageState> {
    const src = await this.source(from, `[internal] load image ${from.kind === 'image' ? from.ref : ins.from}`);
    if (sources.length > 1 && !dest.trailingSlash) {
      throw stepFailed(`When using ${ins.kind} with more than one source file, the destination must be a directory and end with a /`, ins.loc);
    }
    const key0 = stepKey(state.key, [ins.kind, 'from', src.key, JSON.stringify(sources), dest.abs, String(dest.trailingSlash), JSON.stringify({ chown: ins.chown, chmod: ins.chmod })]);
    return this.layerStep(state, key0, label, `${ins.text} # buildkit`, async (root) => {
      const srcRoot = await BuildStepRoot.create(this.engine, this.layers, chainIds(src.layers.map((l) => l.diffId)));
      try {
        const destIsDir = dest.trailingSlash || sources.length > 1 || (await root.stat(dest.abs)) === 'dir';
        for (const s of sources) {
          const p = path.posix.resolve('/', s);
          const kind = await srcRoot.stat(p);
          if (kind === 'missing') throw stepFailed(`failed to compute cache key: "${p}": not found`, ins.loc);
          const isDir = kind === 'dir';
          const destDir = isDir || destIsDir ? dest.abs : path.posix.dirname(dest.abs);
          const { base, missing } = await deepestExisting(root, destDir);
          const dirs: PlannedEntry[] = missing.map((_, i) => ({ name: missing.slice(0, i + 1).join('/'), type: 'directory', mode: 0o755, ...owner, mtime: new Date() }));
          if (dirs.length) await root.tarIn(packEntries(dirs), base, ins.kind);
          const name = isDir ? '' : destIsDir ? path.posix.basename(p) : path.posix.basename(dest.abs);
          const out = srcRoot.tarOut(p, name, ins.kind);
          await root.tarIn(retarEntries(out, missing.join('/'), owner, chmod), base, ins.kind);
        }
      } finally {
        await srcRoot.remove().catch(() => undefined);
      }
    });
  }

  /** The final image: config, history, layers, recorded with its tags (ImageStore.commit). */
  private async exportImage(state: ImageState): Promise<string> {
    const step = this.o.reporter.step('exporting to image');
    const created = state.time;
    const bytes = configBytes(state, this.o.labels);
    const tags = this.o.tags.map((t) => canonicalString(tagTarget(t)));
    const image = await this.engine.images.commit({ source: 'import', configBytes: bytes, layers: state.layers, size: state.size, tags, recordedAt: created });
    step.log(`writing image ${image.id} done`);
    for (const t of tags) step.log(`naming to ${familiarString(parseReference(t))} done`);
    step.done();
    return image.id;
  }
}

/** The image config (OCI) of a state, with the build's --label added. */
function configBytes(state: ImageState, labels: Record<string, string>): Buffer {
  const config: ContainerConfig = { ...state.config };
  if (Object.keys(labels).length) config.Labels = { ...(config.Labels ?? {}), ...labels };
  return Buffer.from(JSON.stringify({
    architecture: state.architecture,
    ...(state.author ? { author: state.author } : {}),
    config,
    created: state.time,
    history: state.history,
    os: state.os,
    rootfs: { type: 'layers', diff_ids: state.layers.map((l) => l.diffId) },
    ...(state.variant ? { variant: state.variant } : {}),
  }));
}

function createHashHex(data: Buffer): string {
  return process.getBuiltinModule('node:crypto').createHash('sha256').update(data).digest('hex');
}

/** The deepest directory of DIR that exists in ROOT, and the names below it still to create. */
async function deepestExisting(root: BuildStepRoot, dir: string): Promise<{ base: string; missing: string[] }> {
  const missing: string[] = [];
  let cur = dir;
  for (;;) {
    const kind = await root.stat(cur);
    if (kind === 'dir') return { base: cur, missing };
    if (kind !== 'missing') throw new SkiffError(`cannot copy to ${dir}: ${cur} exists and is not a directory`, 1);
    missing.unshift(path.posix.basename(cur));
    cur = path.posix.dirname(cur);
  }
}

/** ADD of a local archive: gzip'd or plain tar are extracted. */
function isArchive(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(262);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true;
    return n >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
  } finally {
    fs.closeSync(fd);
  }
}

async function decompressed(file: string): Promise<import('node:stream').Readable> {
  const input = fs.createReadStream(file);
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(2);
  fs.readSync(fd, head, 0, 2, 0);
  fs.closeSync(fd);
  if (head[0] === 0x1f && head[1] === 0x8b) return input.pipe(process.getBuiltinModule('node:zlib').createGunzip());
  return input;
}

async function download(url: string, loc: { file: string; line: number }): Promise<Buffer> {
  let res: Response;
  try { res = await fetch(url); } catch (e) {
    throw stepFailed(`failed to download ${url}: ${(e as Error).message}`, loc);
  }
  if (!res.ok) throw stepFailed(`failed to download ${url}: ${res.status} ${res.statusText}`, loc);
  return Buffer.from(await res.arrayBuffer());
}

/** A base image's ONBUILD triggers, parsed by the front end as instructions of STAGE's file. */
function onbuildTriggers(config: ContainerConfig | undefined, stage: Stage): Instruction[] {
  const triggers = config?.OnBuild ?? [];
  if (!triggers.length) return [];
  const parsed = parseDockerfile(`FROM scratch\n${triggers.join('\n')}\n`, stage.from.loc.file);
  return parsed.stages[0].instructions.map((i) => ({ ...i, loc: stage.from.loc, text: `ONBUILD ${i.text}` }));
}

function stateOf(image: ImageRecord): ImageState {
  const full = image.config as ImageConfig & { variant?: string; author?: string };
  const p = hostPlatform();
  return {
    os: full.os ?? p.os, architecture: full.architecture ?? p.architecture, variant: full.variant, ...(full.author ? { author: full.author } : {}),
    config: structuredClone(full.config ?? {}) as ContainerConfig,
    history: [...(full.history ?? [])] as HistoryEntry[],
    layers: [...(image.layers ?? [])],
    size: image.size,
    key: baseKey(image.id),
    time: full.created ?? new Date(0).toISOString(),
    base: { layers: image.layers?.length ?? 0, history: full.history?.length ?? 0, size: image.size, id: image.id },
  };
}

/**
 * The build's network for RUN (`--network`, `RUN --network`): `default` (also `bridge`, or
 * Podman's `pasta[:OPTS]`/`slirp4netns[:OPTS]`) is a network namespace of the step's own with
 * the same user-mode helper as `run`'s default network; `none` has only loopback; `host` is the
 * host's. Containers' and user-defined networks are not for builds, as in Docker.
 */
function buildNetwork(n: string | undefined, where = '--network'): NetworkMode {
  let mode: NetworkMode | undefined;
  try { mode = parseNetworkMode(n); } catch { /* said below */ }
  if (mode && (mode.kind === 'usermode' || mode.kind === 'none' || mode.kind === 'host')) return mode;
  throw new SkiffError(`${where}: network mode "${n}" not supported by build: use default, host or none`, 1);
}

/** Copy what a file receives to FN as it grows (the RUN's output, written by the monitor). */
function followFile(fd: number, fn: (chunk: Buffer) => void): { stop(): Promise<void> } {
  let pos = 0;
  const buf = Buffer.allocUnsafe(65536);
  const drain = () => {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) return;
      pos += n;
      fn(Buffer.from(buf.subarray(0, n)));
    }
  };
  const timer = setInterval(drain, 50);
  return { async stop() { clearInterval(timer); drain(); } };
}

/**
 * `skiff build`: runs the Dockerfile's stages that the target needs and records the image.
 * Layers made along the way are safe from a concurrent rmi or prune until the image names them.
 */
export async function buildImage(engine: Engine, o: BuildOptions): Promise<string> {
  if (o.platform) {
    const wanted = parsePlatform(o.platform);
    const host = hostPlatform();
    if (wanted.os !== host.os || wanted.architecture !== host.architecture) {
      throw new SkiffError(`platform ${o.platform} is not this host's (${platformString(host)}): skiff builds for the host's platform only`, 1);
    }
  }
  for (const t of o.tags) tagTarget(t);
  engine.ensureDirs();
  return usingLayers(engine, () => new Builder(engine, o).run());
}

