import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { buildOciSpec, type OciMount } from '../runtime/oci-spec';
import type { NetworkMode } from '../network/network-mode';
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
import { hostHasLoopbackResolver, NET_HELPER_LOG, NET_HELPER_PID, writeEtcFiles } from './container-network';
import { rootfsMountIn } from './rootfs';
import { adoptUpperLayer, type StoredLayer } from './upper-layer';

/** BuildKit's hostname for a RUN (Docker's builds show it too). */
const BUILD_HOSTNAME = 'buildkitsandbox';

/** One RUN: the process and what is mounted for it besides the rootfs. */
export interface BuildRun {
  args: string[];
  env: string[];
  cwd: string;
  user: ResolvedUser;
  /** default (the user-mode network, as `run`'s), none or host */
  network: NetworkMode;
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
    // no syncfs per copy: the step is synced once, when its layer is written (adoptUpperLayer)
    const into = spawnHelperStream(this.engine.userns, ['tar-in', '--no-sync', ...(owner ? ['--owner', owner] : []), ...this.rootArgs(), dir],
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
    const network = await this.network(r.network);
    const spec = buildOciSpec({
      rootfs: target, hostname: BUILD_HOSTNAME, args: r.args, env: r.env, cwd: r.cwd, user: r.user, tty: false,
      network: r.network.kind === 'host' ? 'host' : 'private', rootless: this.engine.paths.rootless,
      ttyGroupMapped: !this.engine.userns || idMapped(this.engine.userns.gidMap, 5),
      etcFiles: { hostname: path.join(this.dir, 'hostname'), hosts: path.join(this.dir, 'hosts'), resolvConf: path.join(this.dir, 'resolv.conf') },
    });
    spec.mounts.push(...r.mounts);
    const seccompProgram = spec.linux.seccomp && await seccompProgramHex(spec.linux.seccomp, spec.process.capabilities.bounding);
    const specFile = monitorFile(this.dir, 'spec');
    fs.writeFileSync(specFile, encodeMonitorSpec(spec, {
      rootfsMount: mount, keepStdin: false, readyFd: 3, pidFile: monitorFile(this.dir, 'pid'), seccompProgram, attached: true, network,
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
   * The step's /etc/hostname, hosts and resolv.conf (as a container's on that network), and for
   * the default network the user-mode helper the monitor starts on the step's namespace: planned
   * by the network module as for `run`, which also decides which helper.
   */
  private async network(mode: NetworkMode) {
    const etc = { hostname: BUILD_HOSTNAME, network: mode };
    if (mode.kind !== 'usermode') {
      writeEtcFiles(this.dir, etc, mode.kind === 'host' ? { hostGateway: '127.0.0.1' } : {});
      return undefined;
    }
    const { planUserMode } = await import('../network/usermode');
    const plan = planUserMode({
      helper: mode.helper, options: mode.options, configured: this.engine.config.defaultRootlessNetworkCmd,
      rootless: this.engine.paths.rootless, ports: [],
      apiSocket: path.join(this.engine.paths.runRoot, `slirp4netns-build-${path.basename(this.dir)}.sock`),
      needsDnsForwarder: hostHasLoopbackResolver(),
    });
    writeEtcFiles(this.dir, etc, plan);
    return {
      argv: plan.argv, log: path.join(this.dir, NET_HELPER_LOG), pidFile: path.join(this.dir, NET_HELPER_PID),
      apiSocket: plan.apiSocket, apiRequests: plan.apiRequests,
    };
  }

  /**
   * The step's changes as a layer over PARENT_DIFF_IDS; undefined when it changed nothing (the
   * runtime's mount points, and /etc holding them, are no change: as `diff` and `commit`). The
   * upper dir itself becomes the layer's tree, so the step root is spent afterwards.
   */
  async commit(parentDiffIds: readonly string[], exclude: readonly string[] = []): Promise<StoredLayer | undefined> {
    const upper = path.join(this.dir, 'upper');
    const lowers = this.chainIds.map((c) => this.layers.diffDir(c)).reverse();
    const out = await spawnHelperStream(this.engine.userns, ['changes', upper, ...lowers], ['ignore', 'pipe'], 'build', { collectStdout: true }).done;
    const own = ownChanges(parseChanges(out)).filter((c) => !exclude.some((e) => c.path === `/${e}` || c.path.startsWith(`/${e}/`)));
    if (own.length === 0) return undefined;
    const untouchedParents = [...RUNTIME_MOUNT_PARENTS].filter((p) => !own.some((c) => c.path === p || c.path.startsWith(`${p}/`)));
    // The step dir is the scratch space: remove() takes what is left of it (the helper's rm).
    return adoptUpperLayer(this.engine, this.layers, upper, this.dir, parentDiffIds,
      [...RUNTIME_MOUNT_POINTS, ...untouchedParents.map((p) => p.slice(1)), ...exclude]);
  }

  /** Remove the step's root (its files may be owned by sub-IDs: the helper removes them). */
  async remove(): Promise<void> {
    await this.layers.removeTree(this.dir);
  }
}

