import fs from 'node:fs';
import path from 'node:path';
import { readJson, writeJsonAtomic } from '../state/atomic';
import { withLock } from '../state/lock';
import { MAX_KEY, NameIndex } from '../state/name-index';
import { InvalidError, NotFoundError } from '../errors';
import type { DriverName } from '../storage/driver';
import type { SecurityInput } from '../runtime/oci-spec';
import type { NetworkSettings } from './container-network';
import type { RestartPolicy, RunFlags } from '../runtime/run-flags';
import type { LogConfig } from '../runtime/log-config';
import type { Endpoint } from '../network/user-networks/endpoint';
import type { MountRequest } from '../runtime/mount-spec';
import type { KeepId } from '../runtime/keep-id';

/**
 * Docker's State.Status values. `running`, `paused` and `restarting` have a live monitor;
 * `removing` is held by an `rm` under way; the moves between them are in container-state.ts.
 */
export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** The statuses in which a monitor looks after the container (it has a process, or will have). */
export const LIVE_STATUSES: ReadonlySet<ContainerStatus> = new Set(['running', 'paused', 'restarting']);

/** containers/<id>/container.json: one file per container, written atomically under a lock. */
export interface ContainerRecord {
  id: string;
  name: string;
  created: string;
  image: string;          // as the user typed it
  imageId: string;
  /** the resolved process: what `ps` shows as COMMAND */
  path: string;
  args: string[];
  config: {
    env: string[];
    cwd: string;
    user: { uid: number; gid: number; additionalGids: number[] };
    userSpec: string;
    hostname: string;
    tty: boolean;
    openStdin: boolean;
    /** --network as Docker's HostConfig.NetworkMode text (network/network-mode.ts parses it) */
    network: string;
    /** -p, -P, --expose, --dns*, --add-host, --domainname (container-network.ts); absent = none */
    net?: NetworkSettings;
    autoRemove: boolean;
    /** capabilities, seccomp, no_new_privs, privileged; absent in records older than these flags = defaults */
    security?: SecurityInput;
    /** --label / --label-file over the image's labels */
    labels?: Record<string, string>;
    /** --stop-signal, else the image's StopSignal (as given: stop parses it when used) */
    stopSignal?: string;
    /** --stop-timeout in seconds (-1: wait for ever) */
    stopTimeout?: number;
    /** --restart; absent = no */
    restartPolicy?: RestartPolicy;
    /** --init, namespace modes, --ulimit, --oom-score-adj, --group-add, --device, --tmpfs; absent = defaults */
    run?: RunFlags;
    /** --log-driver/--log-opt (Docker's HostConfig.LogConfig); absent in older records = json-file */
    logConfig?: LogConfig;
    /** Docker's Config.Healthcheck (durations in ns): the --health-* flags over the image's HEALTHCHECK */
    healthcheck?: HealthConfig;
    /** as asked, for inspect (Config.Entrypoint/Cmd/WorkingDir, HostConfig.CapAdd/CapDrop, AttachStd*); absent in older records */
    entrypoint?: string[];
    cmd?: string[];
    workingDir?: string;
    capAdd?: string[];
    capDrop?: string[];
    securityOpt?: string[];
    attach?: { stdin: boolean; stdout: boolean; stderr: boolean };
    /** -v, --mount, --volumes-from and the image's VOLUMEs (volume sources are volume names); absent = none */
    mounts?: MountRequest[];
    /** --read-only */
    readOnlyRootfs?: boolean;
    /** --volumes-from as typed (HostConfig.VolumesFrom) */
    volumesFrom?: string[];
    /** --userns=keep-id: the IDs the host user has in the container's own user namespace */
    keepId?: KeepId;
  };
  /** user-defined networks the container is on, by network name (network-connect.ts) */
  endpoints?: Record<string, Endpoint>;
  /** the container log the monitor writes (Docker's LogPath); absent with --log-driver none */
  logPath?: string;
  storage: { driver: DriverName; layers: string[] };
  state: {
    status: ContainerStatus;
    pid?: number;
    pidStart?: string;     // the container process's start time (as monitorStart)
    monitorPid?: number;
    monitorStart?: string; // /proc/PID/stat start time: guards against PID reuse
    exitCode?: number;
    startedAt?: string;
    finishedAt?: string;
    /** why skiff ended it (Docker's State.Error), e.g. its monitor died */
    error?: string;
    /** the boot the PIDs above belong to (process-identity.ts currentBootId) */
    bootId?: string;
    /** --restart: how many times the monitor restarted it since the last start (Docker's RestartCount) */
    restartCount?: number;
    /** between two runs, waiting out the restart back-off (Docker's State.Restarting) */
    restarting?: boolean;
    /**
     * this start's runs go out through their user networks (a user-network mode, or started with
     * endpoints), not a user-mode helper of their own: connect and disconnect move their default
     * route as Docker does (network-connect.ts). Unset on a run started by an older skiff.
     */
    routedByNetworks?: boolean;
  };
}

/** Docker's HealthConfig: Test is [] (inherit), ["NONE"], ["CMD", ...] or ["CMD-SHELL", cmd]; durations in ns, 0 = default. */
export interface HealthConfig { Test: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number }

/** How many more name entries than containers before claimName drops those of removed ones. */
const STALE_ENTRIES = 64;

export class ContainerStore {
  constructor(readonly dataRoot: string) {}

  get root(): string { return path.join(this.dataRoot, 'containers'); }
  get lockFile(): string { return path.join(this.dataRoot, 'containers.lock'); }
  dir(id: string): string { return path.join(this.root, id); }
  private file(id: string): string { return path.join(this.dir(id), 'container.json'); }
  /**
   * Held by the verbs that change what runs (start, rm) for as long as they do it: an `rm`
   * racing a `start` of one container waits for it instead of removing a root a monitor is
   * being started on. Inside the directory, so `rm` takes it away with the container.
   */
  opLock(id: string): string { return path.join(this.dir(id), 'op.lock'); }

  get(id: string): ContainerRecord | undefined { return this.read(this.file(id)); }

  /** A record, or undefined when missing or unreadable (a half-created or half-removed one). */
  private read(file: string): ContainerRecord | undefined {
    try { return readJson<ContainerRecord>(file); } catch { return undefined; }
  }

  list(): ContainerRecord[] {
    const root = this.root;
    let ids: string[];
    try { ids = fs.readdirSync(root); } catch { return []; }
    // Plain concatenation, not get(id)'s path.join: readdir's names hold no '/', and with 500
    // containers joining (and normalising) three paths per record was a quarter of the list's
    // CPU in a cold process (docs/PERFORMANCE.md, "ps -a with 500 containers").
    return ids.flatMap((id) => { const c = this.read(`${root}/${id}/container.json`); return c ? [c] : []; });
  }

  /** --rm containers are ephemeral: their record is not worth an fsync on the start-up path. */
  save(rec: ContainerRecord): void { writeJsonAtomic(this.file(rec.id), rec, !rec.config.autoRemove); }

  /** Read-modify-write one container under the store lock. */
  async update(id: string, fn: (c: ContainerRecord) => void): Promise<ContainerRecord | undefined> {
    return withLock(this.lockFile, () => {
      const c = this.get(id);
      if (!c) return undefined;
      fn(c);
      this.save(c);
      return c;
    });
  }

  /**
   * container-names/NAME -> ID, so that neither a lookup by name nor the clash check of create
   * and rename reads every record. Writers hold lockFile and keep this order: the entry before
   * the record that takes the name, the record (or its new name) before the old entry goes. So
   * every record's name has its entry; an entry whose record is missing or is named otherwise
   * was left by a crash in between (or by an --rm container's monitor, which removes the
   * directory only) and is free: the next claim of the name replaces it.
   */
  get names(): NameIndex { return new NameIndex(path.join(this.dataRoot, 'container-names')); }

  /**
   * The container that holds `name` (no leading '/'). Through the index, one readlink and one
   * record; in a store made before the index, by reading the records until the one named so.
   */
  findByName(name: string): ContainerRecord | undefined {
    const names = this.names;
    if (!names.exists()) return this.list().find((c) => c.name === name);
    const id = names.lookup(name);
    const c = id === undefined || id.includes('/') ? undefined : this.get(id);
    return c?.name === name ? c : undefined;
  }

  /**
   * Give `name` to container `id`, or return the container that holds it already. Callers hold
   * lockFile and write the record with its new name next (see names). A store made before the
   * index gets it first, from its records.
   */
  claimName(name: string, id: string): ContainerRecord | undefined {
    if (name.length > MAX_KEY) throw new InvalidError(`Invalid container name (${name.slice(0, 40)}...): longer than ${MAX_KEY} characters`);
    const names = this.names;
    if (!names.exists()) names.create(this.list().map((c) => [c.name, c.id]));
    else this.pruneNames(names);
    const had = names.tryClaim(name, id);
    if (had === undefined || had === id) return undefined;
    const holder = had.includes('/') ? undefined : this.get(had);
    if (holder?.name === name) return holder;
    names.point(name, id); // stale: its container is gone or was renamed
    return undefined;
  }

  /**
   * Drop the entries of containers whose directory is gone, once there are STALE_ENTRIES more
   * entries than containers: an --rm container's monitor removes its directory but not its name
   * (it cannot tell whether the name is still its own), and names given once with --rm would
   * otherwise pile up. Two directory reads per create; the entries are read only when pruning.
   */
  private pruneNames(names: NameIndex): void {
    let ids: string[];
    try { ids = fs.readdirSync(this.root); } catch { ids = []; }
    const entries = names.count();
    if (entries <= ids.length + STALE_ENTRIES) return;
    const live = new Set(ids);
    for (const [name, id] of names.entries()) if (!live.has(id)) names.drop(name, id);
  }

  /** Take back `name` from container `id` (after its record lost it: renamed or removed). Callers hold lockFile. */
  releaseName(name: string, id: string): void {
    try { this.names.drop(name, id); } catch { /* a stale entry is harmless */ }
  }

  /**
   * Docker's order: the exact ID, then the exact name, then a unique ID prefix. Reads only the
   * records it needs (an ID is the directory's name; a name is looked up in the index), not all
   * of them as list() does: `exec`, `stop` or `logs` of one container cost the same with 500
   * containers in the store as with one.
   */
  find(nameOrId: string): ContainerRecord | undefined {
    const root = this.root;
    let ids: string[];
    try { ids = fs.readdirSync(root); } catch { return undefined; }
    if (ids.includes(nameOrId)) {
      const c = this.get(nameOrId);
      if (c?.id === nameOrId) return c;
    }
    const named = this.findByName(nameOrId.replace(/^\//, ''));
    if (named) return named;
    // directories without a readable record (being created or removed) do not count
    const records = ids.filter((id) => id.startsWith(nameOrId)).flatMap((id) => { const c = this.get(id); return c ? [c] : []; });
    if (records.length > 1) throw new InvalidError(`multiple containers match "${nameOrId}": give more of the ID`);
    return records[0];
  }

  mustFind(nameOrId: string): ContainerRecord {
    const c = this.find(nameOrId);
    if (!c) throw new NotFoundError(`No such container: ${nameOrId}`);
    return c;
  }
}
