import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { buildOciSpec, type NetworkNamespace, type OciMount } from '../runtime/oci-spec';
import { encodeMonitorSpec } from '../runtime/monitor-spec';
import { monitorFile, spawnMonitor } from '../runtime/monitor-client';
import { idMapped } from '../runtime/userns';
import { seccompProgramHex } from '../runtime/seccomp/program';
import type { ResolvedUser } from '../runtime/user';
import type { LayerStore } from '../storage/layer-store';
import { SkiffError } from '../util/errors';
import { RUNTIME_MOUNT_POINTS, spawnHelperStream } from './container-fs';
import type { Engine } from './context';
import { ownChanges, parseChanges, RUNTIME_MOUNT_PARENTS } from './diff';
import { rootfsMountIn } from './rootfs';
import { storeUpperLayer, type StoredLayer } from './upper-layer';

/** One RUN: the process and what is mounted for it besides the rootfs. */
export interface BuildRun {
  args: string[];
  env: string[];
  cwd: string;
  user: ResolvedUser;
  network: NetworkNamespace;
  /** RUN --mount: cache dirs, binds, tmpfs, secrets */
  mounts: OciMount[];
  /** where the command's stdout and stderr go (one fd, as Docker interleaves them) */
  outputFd: number;
}

/**
 * The writable root of one build step (RUN, COPY, ADD): an overlay upper dir over the layers
 * of the image so far, in a staging dir under tmp/ (flock'd, so a killed build leaves nothing
 * the next command does not remove), never a container record (a build step is not a
 * container the user sees in ps, as with Docker and Podman). The helper does every write
 * inside the user namespace, so files keep their owners; the upper dir becomes the step's
 * layer through the commit path (storeUpperLayer).
 */
export class BuildStepRoot {
  private constructor(private readonly engine: Engine, private readonly layers: LayerStore, readonly dir: string,
    private readonly chainIds: readonly string[]) {}

  static async create(engine: Engine, layers: LayerStore, chainIds: readonly string[]): Promise<BuildStepRoot> {
    const driver = await engine.driver();
    if (driver !== 'overlay') {
      throw new SkiffError(`build: the ${driver} storage driver is not supported by build yet (it needs kernel overlayfs to keep each step's changes apart); use --storage-driver overlay`, 1);
    }
    const dir = layers.tempDir('build');
    for (const d of ['upper', 'work', 'merged']) fs.mkdirSync(path.join(dir, d), { mode: 0o755 });
    return new BuildStepRoot(engine, layers, dir, chainIds);
  }

  private get mount() {
    return rootfsMountIn(this.engine, this.layers, this.dir, { driver: 'overlay', layers: [...this.chainIds] });
  }

  /** The helper's ROOT arguments for this step's merged view, writable (copy_in_out.c). */
  private rootArgs(): string[] {
    const { target, mount } = this.mount;
    return ['--overlay', mount.data, target];
  }

  /** What PATH is in the step's root (dir, file, symlink T, other, missing), symlinks followed. */
  async stat(p: string): Promise<string> {
    const out = await spawnHelperStream(this.engine.userns, ['stat-path', '--follow', ...this.rootArgs(), p], ['ignore', 'pipe'],
      'build', { collectStdout: true }).done;
    return out.trim();
  }

  /** Apply the tar from INPUT below DIR of the step's root (owners as in the tar, or OWNER for all). */
  async tarIn(input: Readable, dir: string, what: string, owner?: string): Promise<void> {
    const into = spawnHelperStream(this.engine.userns, ['tar-in', ...(owner ? ['--owner', owner] : []), ...this.rootArgs(), dir],
      ['pipe', 'ignore'], what);
    input.on('error', (e) => into.child.stdin!.destroy(e));
    input.pipe(into.child.stdin!);
    await into.done;
  }

  /** PATH of the step's root as a tar (its top entry named NAME; "" for a directory's children). */
  tarOut(p: string, name: string, what: string): Readable {
    const out = spawnHelperStream(this.engine.userns, ['tar-out', '--name', name, ...this.rootArgs(), p], ['ignore', 'pipe'], what);
    out.done.catch((e: Error) => out.child.stdout!.destroy(e));
    return out.child.stdout!;
  }

  /** Run one command in the step's root; returns its exit code (126/127 when it cannot be run). */
  async run(r: BuildRun): Promise<number> {
    const { target, mount } = this.mount;
    for (const [f, text] of [['hostname', 'buildkitsandbox\n'], ['hosts', hostsFile(r.network)], ['resolv.conf', readOr('/etc/resolv.conf')]]) {
      fs.writeFileSync(path.join(this.dir, f), text);
    }
    const spec = buildOciSpec({
      rootfs: target, hostname: 'buildkitsandbox', args: r.args, env: r.env, cwd: r.cwd, user: r.user, tty: false,
      network: r.network, rootless: this.engine.paths.rootless,
      ttyGroupMapped: !this.engine.userns || idMapped(this.engine.userns.gidMap, 5),
      etcFiles: { hostname: path.join(this.dir, 'hostname'), hosts: path.join(this.dir, 'hosts'), resolvConf: path.join(this.dir, 'resolv.conf') },
    });
    spec.mounts.push(...r.mounts);
    const seccompProgram = spec.linux.seccomp && await seccompProgramHex(spec.linux.seccomp, spec.process.capabilities.bounding);
    const specFile = monitorFile(this.dir, 'spec');
    fs.writeFileSync(specFile, encodeMonitorSpec(spec, {
      rootfsMount: mount, keepStdin: false, readyFd: 3, pidFile: monitorFile(this.dir, 'pid'), seccompProgram, attached: true,
    }));
    const monitor = spawnMonitor(this.engine.userns, specFile, [-1, r.outputFd, r.outputFd]);
    // ^C stops the command (the monitor passes the signal on); the build then fails and cleans up.
    const unforward = monitor.forwardSignals();
    try {
      const failure = await monitor.ready();
      if (failure) {
        if (failure.code === 126 || failure.code === 127) return failure.code;
        throw new SkiffError(`build: cannot run the command: ${failure.message ?? `monitor exit ${failure.monitorExit}`}`, 1);
      }
      return await monitor.exited();
    } finally {
      unforward();
    }
  }

  /**
   * The step's changes as a layer over PARENT_DIFF_IDS; undefined when it changed nothing (the
   * runtime's mount points, and /etc holding them, are no change: as `diff` and `commit`).
   */
  async commit(parentDiffIds: readonly string[], exclude: readonly string[] = []): Promise<StoredLayer | undefined> {
    const upper = path.join(this.dir, 'upper');
    const lowers = this.chainIds.map((c) => this.layers.diffDir(c)).reverse();
    const out = await spawnHelperStream(this.engine.userns, ['changes', upper, ...lowers], ['ignore', 'pipe'], 'build', { collectStdout: true }).done;
    const own = ownChanges(parseChanges(out)).filter((c) => !exclude.some((e) => c.path === `/${e}` || c.path.startsWith(`/${e}/`)));
    if (own.length === 0) return undefined;
    const untouchedParents = [...RUNTIME_MOUNT_PARENTS].filter((p) => !own.some((c) => c.path === p || c.path.startsWith(`${p}/`)));
    const staging = this.layers.tempDir('build-layer');
    try {
      return await storeUpperLayer(this.engine, this.layers, upper, staging, parentDiffIds,
        [...RUNTIME_MOUNT_POINTS, ...untouchedParents.map((p) => p.slice(1)), ...exclude]);
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }

  /** Remove the step's root (its files may be owned by sub-IDs: the helper removes them). */
  async remove(): Promise<void> {
    await this.layers.removeTree(this.dir);
  }
}

function readOr(file: string): string {
  try { return fs.readFileSync(file, 'utf8'); } catch { return ''; }
}

function hostsFile(network: NetworkNamespace): string {
  if (network === 'host') return readOr('/etc/hosts');
  return '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n';
}
