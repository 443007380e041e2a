import fs from 'node:fs';
import path from 'node:path';
import { readJson, writeJsonAtomic } from '../state/atomic';
import { withLock } from '../state/lock';
import { SkiffError } from '../util/errors';
import type { DriverName } from '../storage/driver';
import type { NetworkMode, SecurityInput } from '../runtime/oci-spec';

export type ContainerStatus = 'created' | 'running' | 'exited';

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
    network: NetworkMode;
    autoRemove: boolean;
    /** capabilities, seccomp, no_new_privs, privileged; absent in records older than these flags = defaults */
    security?: SecurityInput;
    /** as asked, for inspect (Config.Entrypoint/Cmd/WorkingDir, HostConfig.CapAdd/CapDrop, AttachStd*); absent in older records */
    entrypoint?: string[];
    cmd?: string[];
    workingDir?: string;
    capAdd?: string[];
    capDrop?: string[];
    securityOpt?: string[];
    attach?: { stdin: boolean; stdout: boolean; stderr: boolean };
  };
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
  };
}

export class ContainerStore {
  constructor(readonly dataRoot: string) {}

  get root(): string { return path.join(this.dataRoot, 'containers'); }
  get lockFile(): string { return path.join(this.dataRoot, 'containers.lock'); }
  dir(id: string): string { return path.join(this.root, id); }
  private file(id: string): string { return path.join(this.dir(id), 'container.json'); }

  get(id: string): ContainerRecord | undefined {
    try { return readJson<ContainerRecord>(this.file(id)); } catch { return undefined; }
  }

  list(): ContainerRecord[] {
    let ids: string[];
    try { ids = fs.readdirSync(this.root); } catch { return []; }
    return ids.flatMap((id) => { const c = this.get(id); return c ? [c] : []; });
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

  /** Docker's lookup: exact ID, exact name, then a unique ID prefix. */
  find(nameOrId: string): ContainerRecord | undefined {
    const all = this.list();
    const name = nameOrId.replace(/^\//, '');
    const exact = all.find((c) => c.id === nameOrId) ?? all.find((c) => c.name === name);
    if (exact) return exact;
    const byPrefix = all.filter((c) => c.id.startsWith(nameOrId));
    if (byPrefix.length > 1) throw new SkiffError(`multiple containers match "${nameOrId}": give more of the ID`);
    return byPrefix[0];
  }

  mustFind(nameOrId: string): ContainerRecord {
    const c = this.find(nameOrId);
    if (!c) throw new SkiffError(`No such container: ${nameOrId}`, 1);
    return c;
  }
}
