import { SkiffError } from '../util/errors';
import { joinedContainer, type RunFlags } from '../runtime/run-flags';
import type { NetworkMode } from '../network/network-mode';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { refreshState } from './container-state';

/**
 * `--ipc/--pid/--network container:ID`: the host PID of the other container's process,
 * whose namespace this one joins at start (moby's checks: the donor must be running, and an
 * IPC donor must have been started with --ipc shareable).
 */
export function namespaceDonorPids(engine: Engine, run: RunFlags | undefined, network?: NetworkMode): { ipc?: number; pid?: number; net?: number } {
  const pids: { ipc?: number; pid?: number; net?: number } = {};
  const ipc = joinedContainer(run?.ipc), pid = joinedContainer(run?.pid);
  if (ipc !== undefined) {
    const donor = runningDonor(engine, ipc, 'IPC');
    if (donor.config.run?.ipc !== 'shareable') {
      throw new SkiffError(`can't join IPC of container ${donor.id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
    }
    pids.ipc = donor.state.pid;
  }
  if (pid !== undefined) pids.pid = runningDonor(engine, pid, 'PID').state.pid;
  if (network?.kind === 'container') pids.net = runningDonor(engine, network.container, 'network').state.pid;
  return pids;
}

function runningDonor(engine: Engine, id: string, what: string): ContainerRecord {
  const found = engine.containers.get(id);
  if (!found) throw new SkiffError(`No such container: ${id}`);
  const donor = refreshState(engine, found);
  if (donor.state.status !== 'running' || donor.state.restarting || !donor.state.pid) {
    throw new SkiffError(`cannot join ${what} of a non running container: ${id}`);
  }
  return donor;
}
