import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { DEFAULT_LOG_CONFIG, logLimits, logPathFor, type LogConfig } from '../runtime/log-config';

/** The log config of a container (records older than log drivers: json-file). */
export function logConfigOf(c: ContainerRecord): LogConfig {
  return c.config.logConfig ?? DEFAULT_LOG_CONFIG;
}

/** The log file of a container, undefined with --log-driver none. */
export function logPathOf(engine: Engine, c: ContainerRecord): string | undefined {
  return c.logPath ?? logPathFor(engine.containers.dir(c.id), c.id, logConfigOf(c));
}

/** What the monitor is told to write (monitor-spec `log`), undefined when nothing is logged. */
export function containerLog(engine: Engine, c: ContainerRecord): { format: 'json-file' | 'k8s-file'; path: string; maxSize: number; maxFiles: number } | undefined {
  const cfg = logConfigOf(c);
  const file = logPathOf(engine, c);
  if (cfg.Type === 'none' || !file) return undefined;
  return { format: cfg.Type, path: file, ...logLimits(cfg) };
}
