import fs from 'node:fs';
import { allCapabilities } from '../runtime/capabilities';
import { encodeExecSpec } from '../runtime/monitor-spec';
import { monitorFile, runExec } from '../runtime/monitor-client';
import type { OciSpec } from '../runtime/oci-spec';
import { seccompProgramHex } from '../runtime/seccomp/program';
import { resolveUser } from '../runtime/user';
import { assertUserMapped } from '../runtime/userns';
import { readImageFile } from '../storage/image-files';
import { SkiffError } from '../util/errors';
import { ClientError } from '../errors';
import type { ContainerRecord } from './container-store';
import { refreshState } from './container-state';
import type { Engine } from './context';
import { expandEnvArg, mergeEnv, readEnvFile } from './env';

export interface ExecOptions {
  container: string;
  command: string[];
  interactive: boolean;
  tty: boolean;
  detach: boolean;
  user?: string;
  env: string[];
  envFiles: string[];
  workdir?: string;
  privileged: boolean;
}

/** The helper's exit code when the container ended before it could join it (exec.c). */
const HELPER_NOT_RUNNING = 3;

/** The running container named, with its init's PID and start time; Docker's errors otherwise. */
export function runningContainer(engine: Engine, name: string): ContainerRecord & { state: { pid: number; pidStart: string } } {
  const c = refreshState(engine, engine.containers.mustFind(name));
  if (c.state.status !== 'running' || !c.state.pid || !c.state.pidStart) throw notRunning(c);
  return c as ContainerRecord & { state: { pid: number; pidStart: string } };
}

function notRunning(c: ContainerRecord): SkiffError {
  return new SkiffError(`container ${c.id} is not running`, 1);
}

/**
 * The exec'd process: the container's own settings (config.json, written when it started: caps,
 * no_new_privs, seccomp), with the user, env, working directory and terminal of this exec.
 * -u is resolved in the container's live /etc/passwd and /etc/group (through /proc/PID/root,
 * every link resolved inside the container's root), as runc does.
 */
function execProcess(engine: Engine, c: ContainerRecord & { state: { pid: number } }, spec: OciSpec, o: ExecOptions): OciSpec['process'] {
  let user = spec.process.user;
  let home: string | undefined;
  if (o.user !== undefined && o.user !== '') {
    const root = `/proc/${c.state.pid}/root`;
    const u = resolveUser(o.user, readImageFile([root], 'etc/passwd'), readImageFile([root], 'etc/group'));
    assertUserMapped(engine.userns, u.uid, u.gid, o.user);
    // Docker lists the primary GID first among the supplementary groups (as run does).
    user = { uid: u.uid, gid: u.gid, additionalGids: [...new Set([u.gid, ...u.additionalGids])] };
    home = u.home;
  }
  const userEnv = [...o.envFiles.flatMap((f) => readEnvFile(f, process.env)), ...o.env.map((e) => expandEnvArg(e, process.env))];
  const defaults = [...(o.tty ? ['TERM=xterm'] : []), ...(home !== undefined ? [`HOME=${home}`] : [])];
  const env = mergeEnv(mergeEnv(spec.process.env, defaults), userEnv);
  const caps = o.privileged ? allCapabilities() : spec.process.capabilities.bounding;
  return {
    ...spec.process,
    terminal: o.tty,
    user,
    args: o.command,
    env,
    cwd: o.workdir ?? spec.process.cwd,
    capabilities: { bounding: caps, effective: caps, permitted: caps },
  };
}

/**
 * Run a command in a running container (`skiff exec`) through `skiff-helper exec`, which joins
 * the container's namespaces. Attached, the helper gets our stdio (no copying through Node) and
 * its exit code, the command's, is returned; detached, we return once the command has exec'd.
 * Nothing else happens in this process meanwhile, so the wait blocks (runExec).
 */
export async function execInContainer(engine: Engine, o: ExecOptions): Promise<number> {
  if (o.workdir !== undefined && !o.workdir.startsWith('/')) {
    throw new SkiffError(`the working directory '${o.workdir}' is invalid, it needs to be an absolute path`);
  }
  // node:tty only here: loading it (with net and stream) costs every other exec ~5 ms of start-up
  if (o.tty && o.interactive && !o.detach && !process.getBuiltinModule('node:tty').isatty(0)) {
    throw new ClientError('the input device is not a TTY');
  }
  const c = runningContainer(engine, o.container);
  const dir = engine.containers.dir(c.id);
  let spec: OciSpec;
  try {
    spec = JSON.parse(fs.readFileSync(monitorFile(dir, 'config'), 'utf8')) as OciSpec;
  } catch (e) {
    throw new SkiffError(`cannot read the configuration of container ${c.name}: ${(e as Error).message}; restart it`);
  }
  const proc = execProcess(engine, c, spec, o);
  // --privileged: every capability and no seccomp filter for this process only.
  const seccomp = o.privileged ? undefined : spec.linux.seccomp;
  const seccompProgram = seccomp && await seccompProgramHex(seccomp, proc.capabilities.bounding);
  if (seccomp && !seccompProgram) throw new SkiffError('internal error: no seccomp program for the exec process');
  const flat = encodeExecSpec(proc, {
    target: { pid: c.state.pid, start: c.state.pidStart }, keepStdin: o.interactive && !o.detach,
    detach: o.detach, readyFd: 3, seccompProgram,
  });
  // In the container's directory (ours, not writable by anyone else); gone once the helper read
  // it. Named by our PID (unique among running skiffs; 'wx' refuses a leftover), not by random
  // bytes: node:crypto alone costs ~10 ms of start-up.
  const specFile = `${dir}/exec-${process.pid}.spec`;
  fs.rmSync(specFile, { force: true });
  fs.writeFileSync(specFile, flat, { mode: 0o600, flag: 'wx' });
  const stdio: [number, number, number] = o.detach ? [-1, -1, -1] : [o.interactive ? 0 : -1, 1, 2];
  let specLeft = true;
  const removeSpec = () => {
    if (specLeft) fs.rmSync(specFile, { force: true });
    specLeft = false;
  };
  let outcome: ReturnType<typeof runExec>;
  try {
    outcome = runExec(specFile, stdio, { forwardSignals: !o.detach, onReport: removeSpec });
  } catch (e) {
    throw new SkiffError(`cannot exec in container ${c.name}: ${(e as Error).message}`);
  } finally {
    removeSpec();
  }
  const { failure, code } = outcome;
  if (failure) {
    if (failure.message !== undefined) throw new SkiffError(failure.message, failure.code ?? 126);
    if (failure.monitorExit === HELPER_NOT_RUNNING) throw notRunning(c);
    // the helper said why on stderr itself
    throw new SkiffError(`cannot exec in container ${c.name} (helper exit ${failure.monitorExit})`);
  }
  return o.detach ? 0 : code; // detached: the helper returned right after `ok`
}
