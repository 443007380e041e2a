import path from 'node:path';
import { SkiffError } from '../util/errors';

/**
 * A container's log driver and options (`--log-driver`, `--log-opt`), checked as Docker's
 * json-file driver checks them when the container is created. The monitor writes the log
 * (native/helper/logfile.c); `engine/logs.ts` reads it.
 */

export type LogDriver = 'json-file' | 'k8s-file' | 'none';

/** Docker's HostConfig.LogConfig, as stored in the container record. */
export interface LogConfig { Type: LogDriver; Config: Record<string, string> }

const DRIVERS: LogDriver[] = ['json-file', 'k8s-file', 'none'];
/** The options skiff acts on; Docker's json-file also takes labels/env/tag, which only matter to log shippers. */
const FILE_OPTIONS = ['max-size', 'max-file'];

/** Go units.FromHumanSize (decimal, as Docker's json-file reads max-size): "10m" = 10 000 000 bytes. */
export function parseHumanSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(s.trim());
  if (!m) throw new SkiffError(`invalid size: '${s}'`);
  const unit = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 }[m[2].toLowerCase() as '' | 'k'];
  return Math.floor(Number(m[1]) * unit);
}

/** The log config of `--log-driver D --log-opt K=V ...`; throws Docker's message for what it refuses. */
export function parseLogConfig(driver: string | undefined, opts: string[]): LogConfig {
  const type = (driver || 'json-file') as LogDriver;
  if (!DRIVERS.includes(type)) {
    throw new SkiffError(`logger: no log driver named '${driver}' is registered (skiff has ${DRIVERS.join(', ')})`);
  }
  const config: Record<string, string> = {};
  for (const o of opts) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new SkiffError(`invalid log opt '${o}': use KEY=VALUE`);
    config[o.slice(0, eq)] = o.slice(eq + 1);
  }
  for (const key of Object.keys(config)) {
    if (type === 'none' || !FILE_OPTIONS.includes(key)) throw new SkiffError(`unknown log opt '${key}' for ${type} log driver`);
  }
  logLimits({ Type: type, Config: config });
  return { Type: type, Config: config };
}

/** max-size in bytes (0: unlimited) and max-file (at least 1), validated as Docker does. */
export function logLimits(c: LogConfig): { maxSize: number; maxFiles: number } {
  let maxSize = 0;
  let maxFiles = 1;
  const size = c.Config['max-size'];
  if (size !== undefined) {
    maxSize = parseHumanSize(size);
    if (maxSize <= 0) throw new SkiffError('max-size must be a positive number');
  }
  const files = c.Config['max-file'];
  if (files !== undefined) {
    if (!/^[+-]?\d+$/.test(files)) throw new SkiffError(`strconv.Atoi: parsing "${files}": invalid syntax`);
    maxFiles = Number(files);
    if (maxFiles < 1) throw new SkiffError('max-file cannot be less than 1');
  }
  return { maxSize, maxFiles };
}

/** Where the log of a container lives: Docker's `<id>-json.log`, Podman's `ctr.log` for k8s-file; none has no file. */
export function logPathFor(containerDir: string, id: string, c: LogConfig): string | undefined {
  if (c.Type === 'none') return undefined;
  return path.join(containerDir, c.Type === 'k8s-file' ? 'ctr.log' : `${id}-json.log`);
}

/** The config of a record written before log drivers: json-file, Docker's default. */
export const DEFAULT_LOG_CONFIG: LogConfig = { Type: 'json-file', Config: {} };
