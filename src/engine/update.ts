import { writeFileAtomic } from '../state/atomic';
import { isCgroupV2, ownCgroup, writeLimits } from '../runtime/cgroup-v2';
import { monitorFile } from '../runtime/monitor-client';
import { anyLimit, cgroupWrites, type LimitFlags } from '../runtime/resource-limits';
import { parseRestartPolicy } from '../runtime/run-flags';
import { withLock } from '../state/lock';
import { SkiffError } from '../util/errors';
import type { Engine } from './context';
import { currentState, isLive, observe } from './container-state';

/**
 * `update`: a new restart policy, and cgroup limits where the container has a cgroup of its own.
 * There is no daemon to tell: the policy goes into the record (for the next start) and, while
 * the container runs, into the file its monitor reads each time the command exits
 * (native/helper/restart.c), so the change takes effect at the next exit. Limits are written
 * straight into the container's cgroup v2; a container without one (every container on a
 * cgroup v1 host) cannot take them, and says why in one line.
 */

export interface UpdateRequest {
  restart?: string;
  limits: LimitFlags;
}

/** Docker's refusal when no flag was given (docker/cli update.go). */
export function checkSomethingToUpdate(r: UpdateRequest): void {
  if (r.restart === undefined && !anyLimit(r.limits)) throw new SkiffError('you must provide one or more flags when using this command', 1);
}

function noCgroup(name: string, rootless: boolean): string {
  if (!isCgroupV2()) {
    return `Cannot update container ${name}: cgroup limits need a cgroup v2 host with a subtree delegated to ${rootless ? 'the user' : 'skiff'}; this host has cgroup v1, where skiff gives containers no cgroups (only --restart can be updated)`;
  }
  return `Cannot update container ${name}: it has no cgroup of its own (skiff-${name.slice(0, 12)}) to set limits in (only --restart can be updated)`;
}

export async function updateContainer(engine: Engine, nameOrId: string, r: UpdateRequest): Promise<void> {
  const c = currentState(engine, nameOrId);
  let policy: ReturnType<typeof parseRestartPolicy> | undefined;
  try {
    policy = r.restart !== undefined ? parseRestartPolicy(r.restart) : undefined;
  } catch (e) {
    throw new SkiffError((e as Error).message, 1); // docker update's own check: exit 1, not run's 125
  }
  if (policy && policy.name !== 'no' && c.config.autoRemove) {
    throw new SkiffError('Restart policy cannot be updated because AutoRemove is enabled for the container', 1);
  }
  // Every check first: a refused update changes nothing.
  const writes = anyLimit(r.limits) ? cgroupWrites(r.limits) : [];
  const cgroup = writes.length && c.state.pid && isLive(c) ? ownCgroup(c.state.pid, c.id) : undefined;
  if (writes.length && !cgroup) throw new SkiffError(noCgroup(c.id, engine.paths.rootless), 1);

  if (policy) {
    await withLock(engine.containers.lockFile, () => {
      const rec = engine.containers.get(c.id);
      if (!rec) throw new SkiffError(`No such container: ${nameOrId}`, 1);
      rec.config.restartPolicy = policy;
      engine.containers.save(rec);
      // a running monitor reads it at the next exit (start removes it: the record has it then)
      if (isLive(observe(engine, rec))) {
        writeFileAtomic(monitorFile(engine.containers.dir(c.id), 'policy'), `${policy.name} ${policy.maximumRetryCount}\n`);
      }
    });
  }
  if (cgroup) {
    try {
      writeLimits(cgroup, writes);
    } catch (e) {
      throw new SkiffError(`Cannot update container ${c.id}: ${(e as Error).message}`, 1);
    }
  }
}
