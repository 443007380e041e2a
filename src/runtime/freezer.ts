import fs from 'node:fs';
import path from 'node:path';

/**
 * The cgroup v1 freezer, for `pause`/`unpause`. Containers are not placed in cgroups at start
 * (cgroup limits come later), so pausing moves the container's processes into a freezer
 * cgroup of their own first: children inherit their parent's cgroup, so once the tree is in
 * and frozen nothing new escapes it. Only root can create cgroups on a v1 host; rootless
 * skiff says so instead (cgroup v2 with a delegated subtree would be the way there).
 */

const V1_FREEZER = '/sys/fs/cgroup/freezer';

/** Why this process cannot freeze containers, or undefined when it can. */
export function freezerUnavailable(rootless: boolean): string | undefined {
  if (fs.existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    return 'this host uses cgroup v2, whose freezer skiff does not drive yet';
  }
  if (!fs.existsSync(path.join(V1_FREEZER, 'freezer.state')) && !fs.existsSync(path.join(V1_FREEZER, 'tasks'))) {
    return 'the cgroup v1 freezer controller is not mounted at /sys/fs/cgroup/freezer';
  }
  if (rootless) {
    return 'rootless containers cannot be paused on a cgroup v1 host: freezing needs a freezer cgroup, which only root can create; run skiff as root, or use a cgroup v2 host with a delegated subtree';
  }
  return undefined;
}

/** The freezer cgroup of one container. */
export function freezerCgroup(containerId: string): string {
  return path.join(V1_FREEZER, 'skiff', containerId);
}

/** `pid` and every process below it (found through /proc/PID/task/TID/children). */
export function processTree(pid: number): number[] {
  const seen = new Set<number>();
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    let tasks: string[];
    try { tasks = fs.readdirSync(`/proc/${p}/task`); } catch { continue; /* gone */ }
    for (const t of tasks) {
      try {
        for (const c of fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').split(' ')) if (c.trim()) todo.push(Number(c));
      } catch { /* exited meanwhile */ }
    }
  }
  return [...seen];
}

function moveInto(cgroup: string, pids: number[]): void {
  for (const p of pids) {
    try { fs.writeFileSync(path.join(cgroup, 'cgroup.procs'), `${p}\n`); } catch { /* exited meanwhile */ }
  }
}

function members(cgroup: string): Set<number> {
  return new Set(fs.readFileSync(path.join(cgroup, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number));
}

async function waitForState(cgroup: string, want: 'FROZEN' | 'THAWED', timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (fs.readFileSync(path.join(cgroup, 'freezer.state'), 'utf8').trim() !== want) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/**
 * Freeze the process tree under `init` in the container's freezer cgroup. The tree is moved in
 * until a pass finds nothing new (a process forked meanwhile by one not yet moved), then
 * frozen, then checked once more: a straggler is moved into the frozen cgroup, which freezes it.
 */
export async function freezeTree(containerId: string, init: number): Promise<void> {
  const cg = freezerCgroup(containerId);
  fs.mkdirSync(cg, { recursive: true });
  for (let pass = 0; pass < 10; pass++) {
    const inside = members(cg);
    const missing = processTree(init).filter((p) => !inside.has(p));
    if (missing.length === 0) break;
    moveInto(cg, missing);
  }
  fs.writeFileSync(path.join(cg, 'freezer.state'), 'FROZEN');
  if (!(await waitForState(cg, 'FROZEN'))) throw new Error(`the freezer cgroup ${cg} did not reach FROZEN`);
  const inside = members(cg);
  moveInto(cg, processTree(init).filter((p) => !inside.has(p)));
}

/** Thaw the container's freezer cgroup (nothing to do when it has none). */
export async function thawTree(containerId: string): Promise<void> {
  const cg = freezerCgroup(containerId);
  if (!fs.existsSync(cg)) return;
  fs.writeFileSync(path.join(cg, 'freezer.state'), 'THAWED');
  if (!(await waitForState(cg, 'THAWED'))) throw new Error(`the freezer cgroup ${cg} did not thaw`);
}

/**
 * Thaw without waiting for the kernel to confirm (for callers that cannot await: settling a
 * lost container). A frozen process holds a SIGKILL until it thaws. Best effort.
 */
export function thawNow(containerId: string): void {
  try { fs.writeFileSync(path.join(freezerCgroup(containerId), 'freezer.state'), 'THAWED'); } catch { /* no freezer cgroup */ }
}

/** Remove the container's freezer cgroup once its processes are gone (best effort). */
export function removeFreezerCgroup(containerId: string): void {
  try { fs.rmdirSync(freezerCgroup(containerId)); } catch { /* none, or not empty yet */ }
}
