import { SkiffError } from '../../util/errors';

/** `--tls-verify[=true|false]` as Podman spells it (Docker has only per-registry config). */
export function tlsVerifyFlag(value: string | boolean | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === true || value === 'true') return true;
  if (value === 'false') return false;
  throw new SkiffError(`invalid value "${value}" for --tls-verify: use true or false`);
}
