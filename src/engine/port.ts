import { InvalidError, NotFoundError } from '../errors';
import { portLines, splitPortKey } from '../network/ports';
import type { Engine } from './context';
import { boundPorts } from './container-network';
import { isLive, refreshState } from './container-state';

/** `port CONTAINER [PRIVATE_PORT[/PROTO]]`: the host addresses of a running container's published ports. */
export function containerPortLines(engine: Engine, name: string, privatePort?: string): string[] {
  const c = refreshState(engine, engine.containers.mustFind(name));
  const bound = isLive(c) ? boundPorts(engine.containers.dir(c.id)) : [];
  if (privatePort === undefined) return portLines(bound);
  if (!/^\d+(\/[a-z]+)?$/.test(privatePort)) throw new InvalidError(`invalid port (${privatePort}): use PORT or PORT/PROTO`);
  const only = splitPortKey(privatePort.includes('/') ? privatePort : `${privatePort}/tcp`);
  const out = portLines(bound, only);
  if (!out.length) throw new NotFoundError(`No public port '${only.containerPort}/${only.protocol}' published for ${name}`);
  return out;
}
