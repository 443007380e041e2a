import fs from 'node:fs';
import { monitorFile } from '../runtime/monitor-client';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';

/**
 * A container's health as Docker reports it (State.Health, the "(healthy)" of ps), computed
 * from the probe log the monitor appends to (`health.log`: START_MS END_MS EXIT HEX_OUTPUT per
 * probe; native/helper/health.c). Light on purpose: ps loads it.
 */

const SECOND = 1e9;
/** Docker's defaults (moby daemon/health.go). */
const DEFAULTS = { interval: 30 * SECOND, timeout: 30 * SECOND, startPeriod: 0, retries: 3 };
/** Docker keeps the last five results. */
const LOG_ENTRIES = 5;

export interface EffectiveHealth { argv: string[]; interval: number; timeout: number; startPeriod: number; retries: number }

/** The healthcheck that runs, with Docker's defaults; undefined for none (no Test, or NONE). */
export function effective(c: ContainerRecord): EffectiveHealth | undefined {
  const h = c.config.healthcheck;
  if (!h || h.Test.length === 0 || h.Test[0] === 'NONE') return undefined;
  const argv = h.Test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', h.Test.slice(1).join(' ')] : h.Test.slice(1);
  if (argv.length === 0) return undefined;
  return {
    argv, interval: h.Interval || DEFAULTS.interval, timeout: h.Timeout || DEFAULTS.timeout,
    startPeriod: h.StartPeriod || DEFAULTS.startPeriod, retries: h.Retries || DEFAULTS.retries,
  };
}

export interface HealthResult { Start: string; End: string; ExitCode: number; Output: string }
export interface HealthState { Status: 'starting' | 'healthy' | 'unhealthy'; FailingStreak: number; Log: HealthResult[] }

/**
 * Docker's State.Health from the probe log: a success makes the container healthy and resets
 * the streak; a failure during the start period does not count while it is still starting;
 * `retries` failures in a row make it unhealthy. Undefined without a healthcheck.
 */
export function healthState(engine: Engine, c: ContainerRecord): HealthState | undefined {
  const h = effective(c);
  if (!h) return undefined;
  let text = '';
  try { text = fs.readFileSync(monitorFile(engine.containers.dir(c.id), 'healthLog'), 'utf8'); } catch { /* no probe yet */ }
  const started = Date.parse(c.state.startedAt ?? c.created);
  const state: HealthState = { Status: 'starting', FailingStreak: 0, Log: [] };
  for (const line of text.split('\n')) {
    const m = /^(\d+) (\d+) (-?\d+) ([0-9a-f]*)$/.exec(line);
    if (!m) continue;
    const start = Number(m[1]), code = Number(m[3]);
    // a probe of the previous run can finish after the monitor started the log over for this one
    if (start < started) continue;
    const output = code === -1 ? `Health check exceeded timeout (${h.timeout / SECOND}s)` : Buffer.from(m[4], 'hex').toString('utf8');
    state.Log.push({ Start: new Date(start).toISOString(), End: new Date(Number(m[2])).toISOString(), ExitCode: code, Output: output });
    if (code === 0) {
      state.Status = 'healthy';
      state.FailingStreak = 0;
    } else if (!(state.Status === 'starting' && start - started < h.startPeriod / 1e6)) {
      state.FailingStreak++;
      if (state.FailingStreak >= h.retries) state.Status = 'unhealthy';
    }
  }
  state.Log = state.Log.slice(-LOG_ENTRIES);
  return state;
}

/** What ps adds to "Up 5 seconds": " (healthy)", " (health: starting)", " (unhealthy)". */
export function healthSuffix(engine: Engine, c: ContainerRecord): string {
  if (c.state.status !== 'running') return '';
  const s = healthState(engine, c);
  if (!s) return '';
  return s.Status === 'starting' ? ' (health: starting)' : ` (${s.Status})`;
}

