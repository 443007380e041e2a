import { readContainerPid, readExitFile, readRestartState } from '../runtime/monitor-client';
import { processStartTime } from '../runtime/process-identity';
import { withLock } from '../state/lock';
import { SkiffError } from '../util/errors';
import { LIVE_STATUSES, type ContainerRecord, type ContainerStatus } from './container-store';
import type { Engine } from './context';
import { bootTime, fromOtherBoot, LOST_ERROR, LOST_EXIT_CODE, monitorAlive, REBOOT_ERROR, REBOOT_EXIT_CODE, settleLostContainer } from './lost-container';

export { monitorAlive } from './lost-container';

/**
 * The one owner of a container's state. A record says what skiff last wrote; with no daemon,
 * what is TRUE also depends on whether the monitor still runs (and on which boot it ran), so
 * every verb reads state through `observe`/`refreshState` and changes it through `transition`,
 * which checks the move against Docker's state machine under containers.lock:
 *
 *   created -> running <-> paused        running/paused/restarting -> exited (the monitor's exit)
 *   exited -> running (start, restart)   running -> restarting -> running (--restart, the monitor)
 *   any but removing -> removing -> (gone)
 */

const LIVE = LIVE_STATUSES;

export const isLive = (c: ContainerRecord): boolean => LIVE.has(c.state.status);

const MOVES: Readonly<Record<ContainerStatus, readonly ContainerStatus[]>> = {
  created: ['running', 'removing'],
  running: ['paused', 'restarting', 'exited', 'removing'],
  paused: ['running', 'exited', 'removing'],
  restarting: ['running', 'exited', 'removing'],
  exited: ['running', 'removing'],
  // an `rm` that died half way leaves `removing`: the next rm finishes the job
  removing: ['removing'],
  dead: ['removing'],
};

export function canMove(from: ContainerStatus, to: ContainerStatus): boolean {
  return MOVES[from].includes(to);
}

/**
 * The state as it is, without writing anything: a live record whose monitor is gone has
 * exited (with the code the monitor left, or as a lost container). Readers must never race a
 * concurrent `rm` (or the monitor's --rm cleanup) on the directory, so this only computes.
 */
export function observe(engine: Engine, c: ContainerRecord): ContainerRecord {
  if (c.state.status === 'running' && c.config.restartPolicy && monitorAlive(c)) return withRestartState(engine, c);
  if (!isLive(c) || monitorAlive(c)) return c;
  const exit = readExitFile(engine.containers.dir(c.id));
  if (exit) {
    // the restarts its monitor made stay counted once it is gone (Docker's RestartCount)
    const r = c.config.restartPolicy ? readRestartState(engine.containers.dir(c.id)) : undefined;
    const restarts = r?.count ? { restartCount: r.count, restarting: undefined, startedAt: r.startedAt } : {};
    return { ...c, state: { ...c.state, status: 'exited', ...exit, pid: undefined, ...restarts } };
  }
  if (fromOtherBoot(c)) {
    return { ...c, state: { ...c.state, status: 'exited', exitCode: REBOOT_EXIT_CODE, error: REBOOT_ERROR, finishedAt: bootTime(), pid: undefined } };
  }
  return { ...c, state: { ...c.state, status: 'exited', exitCode: LOST_EXIT_CODE, error: LOST_ERROR, finishedAt: new Date().toISOString(), pid: undefined } };
}

/**
 * `observe`, and a container nobody looks after any more (its monitor died without an exit
 * code, or the host rebooted) is settled as a daemon would have: src/engine/lost-container.ts.
 */
export function refreshState(engine: Engine, c: ContainerRecord): ContainerRecord {
  const seen = observe(engine, c);
  if (seen !== c && (seen.state.error === LOST_ERROR || seen.state.error === REBOOT_ERROR)) settleLostContainer(engine, c);
  return seen;
}

/** The container as it is now (looked up by name or ID), or Docker's "No such container". */
export function currentState(engine: Engine, nameOrId: string): ContainerRecord {
  return refreshState(engine, engine.containers.mustFind(nameOrId));
}

/**
 * Move container `id` to status `to` under containers.lock: re-read, observe, check the move,
 * let `apply` fill in the rest of the state, save. Throws Docker's message for an impossible
 * move (`refuse` words it per verb) and "No such container" when it has been removed meanwhile.
 */
export async function transition(
  engine: Engine, id: string, to: ContainerStatus,
  apply: (c: ContainerRecord) => void = () => undefined,
  refuse: (c: ContainerRecord) => string = (c) => `cannot move container ${c.name} from ${c.state.status} to ${to}`,
): Promise<ContainerRecord> {
  return withLock(engine.containers.lockFile, () => {
    const rec = engine.containers.get(id);
    if (!rec) throw new SkiffError(`No such container: ${id}`, 1);
    const c = observe(engine, rec);
    if (!canMove(c.state.status, to)) throw new SkiffError(refuse(c), 1);
    c.state.status = to;
    apply(c);
    engine.containers.save(c);
    return c;
  });
}

/** Docker's State object (`inspect`), from an observed record. */
export function dockerState(c: ContainerRecord): object {
  const s = c.state;
  const zero = '0001-01-01T00:00:00Z';
  return {
    Status: s.status,
    Running: LIVE.has(s.status),
    Paused: s.status === 'paused',
    Restarting: s.status === 'restarting',
    OOMKilled: false,
    Dead: s.status === 'dead',
    Pid: LIVE.has(s.status) ? s.pid ?? 0 : 0,
    ExitCode: s.exitCode ?? 0,
    Error: s.error ?? '',
    StartedAt: s.startedAt ?? zero,
    FinishedAt: s.finishedAt ?? zero,
  };
}

/**
 * Write down the exit of a container whose monitor has gone (stop, kill): the observed state
 * becomes the record, so that it no longer depends on the exit file. Only while the record
 * still belongs to the run that `seen` saw (a new start may have followed).
 */
export async function recordExit(engine: Engine, seen: ContainerRecord): Promise<void> {
  await withLock(engine.containers.lockFile, () => {
    const rec = engine.containers.get(seen.id);
    if (!rec || !isLive(rec) || rec.state.monitorPid !== seen.state.monitorPid) return;
    const now = observe(engine, rec);
    if (now !== rec) engine.containers.save(now);
  });
}

/**
 * A container with a restart policy: its monitor may have run it again since the record was
 * written (another PID, a restart count) or be waiting out a back-off (Docker's "restarting").
 * Read-only, like the rest: the record is rewritten by the next start or rm.
 */
function withRestartState(engine: Engine, c: ContainerRecord): ContainerRecord {
  const dir = engine.containers.dir(c.id);
  const r = readRestartState(dir);
  if (!r || r.count === 0) return c;
  const exit = readExitFile(dir);
  const pid = r.restarting ? undefined : readContainerPid(dir);
  return {
    ...c,
    state: {
      ...c.state, restartCount: r.count, restarting: r.restarting || undefined, startedAt: r.startedAt,
      pid, pidStart: pid ? processStartTime(pid) : undefined,
      ...(r.restarting && exit ? { exitCode: exit.exitCode, finishedAt: exit.finishedAt } : {}),
    },
  };
}
