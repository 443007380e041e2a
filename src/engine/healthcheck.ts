import fs from 'node:fs';
import { encodeExecSpec } from '../runtime/monitor-spec';
import { monitorFile, spawnExec } from '../runtime/monitor-client';
import type { OciSpec } from '../runtime/oci-spec';
import { SkiffError } from '../util/errors';
import { parseGoDuration } from '../util/format';
import type { ContainerRecord, HealthConfig } from './container-store';
import type { Engine } from './context';
import { effective, healthState, type HealthState } from './health-state';

/**
 * Healthchecks: the container's HealthConfig (flags over the image's HEALTHCHECK), the probe the
 * monitor runs (an exec spec: native/helper/health.c) and `healthcheck run`; the health itself
 * is read from the probe log in health-state.ts.
 */


export interface HealthFlags {
  cmd?: string;
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  retries?: number;
  none: boolean;
}

function duration(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const ns = parseGoDuration(v);
  if (ns === undefined) throw new SkiffError(`invalid argument "${v}" for "--${flag}" flag: time: invalid duration "${v}"`);
  return ns;
}

/** The --health-* flags as Docker's HealthConfig (undefined: none given), with Docker's checks. */
export function healthConfigFromFlags(f: HealthFlags): HealthConfig | undefined {
  const interval = duration(f.interval, 'health-interval');
  const timeout = duration(f.timeout, 'health-timeout');
  const startPeriod = duration(f.startPeriod, 'health-start-period');
  const any = f.cmd !== undefined || interval !== undefined || timeout !== undefined || startPeriod !== undefined || f.retries !== undefined;
  if (f.none) {
    if (any) throw new SkiffError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  if (interval !== undefined && interval < 0) throw new SkiffError('--health-interval cannot be negative');
  if (timeout !== undefined && timeout < 0) throw new SkiffError('--health-timeout cannot be negative');
  if (startPeriod !== undefined && startPeriod < 0) throw new SkiffError('--health-start-period cannot be negative');
  if (f.retries !== undefined && f.retries < 0) throw new SkiffError('--health-retries cannot be negative');
  for (const [name, v] of [['Interval', interval], ['Timeout', timeout], ['StartPeriod', startPeriod]] as const) {
    if (v !== undefined && v !== 0 && v < 1e6) throw new SkiffError(`${name} in Healthcheck cannot be less than 1ms`);
  }
  return {
    Test: f.cmd !== undefined ? ['CMD-SHELL', f.cmd] : [],
    ...(interval ? { Interval: interval } : {}), ...(timeout ? { Timeout: timeout } : {}),
    ...(startPeriod ? { StartPeriod: startPeriod } : {}), ...(f.retries ? { Retries: f.retries } : {}),
  };
}

/** Docker's merge: what the flags leave unset (empty Test, zero durations) comes from the image. */
export function mergeHealthConfig(flags: HealthConfig | undefined, image: HealthConfig | undefined): HealthConfig | undefined {
  if (!flags) return image;
  if (!image || flags.Test[0] === 'NONE') return flags;
  return {
    Test: flags.Test.length ? flags.Test : image.Test,
    ...(flags.Interval || image.Interval ? { Interval: flags.Interval || image.Interval } : {}),
    ...(flags.Timeout || image.Timeout ? { Timeout: flags.Timeout || image.Timeout } : {}),
    ...(flags.StartPeriod || image.StartPeriod ? { StartPeriod: flags.StartPeriod || image.StartPeriod } : {}),
    ...(flags.Retries || image.Retries ? { Retries: flags.Retries || image.Retries } : {}),
  };
}

/**
 * At start: the probe's exec spec (the container's own process settings and seccomp program,
 * the probe's argv, no terminal, no stdin) and what the monitor needs to run it; a fresh log,
 * as a started container's health starts over. Undefined when the container has no healthcheck.
 */
export function prepareHealthcheck(engine: Engine, c: ContainerRecord, spec: OciSpec, seccompProgram: string | undefined):
  { spec: string; log: string; intervalMs: number; timeoutMs: number } | undefined {
  const h = effective(c);
  if (!h) return undefined;
  const dir = engine.containers.dir(c.id);
  const file = monitorFile(dir, 'healthSpec');
  const proc = { ...spec.process, terminal: false, args: h.argv };
  fs.writeFileSync(file, encodeExecSpec(proc, { keepStdin: false, detach: false, readyFd: -1, seccompProgram }), { mode: 0o600 });
  const log = monitorFile(dir, 'healthLog');
  fs.rmSync(log, { force: true });
  return { spec: file, log, intervalMs: h.interval / 1e6, timeoutMs: h.timeout / 1e6 };
}

/**
 * `skiff healthcheck run CTR` (Podman's command): one probe now, through the same exec spec and
 * helper as the monitor's, its result appended to the same log; returns the health after it.
 */
export async function runHealthcheckNow(engine: Engine, c: ContainerRecord & { state: { pid: number; pidStart: string } }): Promise<HealthState> {
  const h = effective(c);
  if (!h) throw new SkiffError(`container ${c.name} has no defined healthcheck`);
  const dir = engine.containers.dir(c.id);
  const outFile = `${dir}/health-run-${process.pid}.out`;
  const out = fs.openSync(outFile, 'w+', 0o600);
  const t0 = Date.now();
  let code: number;
  try {
    const probe = spawnExec(monitorFile(dir, 'healthSpec'), [-1, out, out], { pid: c.state.pid, start: c.state.pidStart });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<number>((resolve) => { timer = setTimeout(() => resolve(-1), h.timeout / 1e6); });
    code = await Promise.race([probe.exited(), timedOut]);
    clearTimeout(timer);
    if (code === -1) {
      try { process.kill(probe.pid, 'SIGTERM'); } catch { /* gone */ }
      await probe.exited();
    }
  } finally {
    fs.closeSync(out);
  }
  const output = fs.readFileSync(outFile).subarray(0, 4096);
  fs.rmSync(outFile, { force: true });
  fs.appendFileSync(monitorFile(dir, 'healthLog'), `${t0} ${Date.now()} ${code} ${output.toString('hex')}\n`, { mode: 0o600 });
  return healthState(engine, c)!;
}
