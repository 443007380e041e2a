import type { StrictValidator } from 'typanion';
import { UsageError } from '../../errors';

interface ValidationState { coercions?: [string, () => void][]; coercion?: (v: unknown) => () => void }

/**
 * A validator for an int flag (`-n, --last int`): an integer becomes a number, so help and man
 * pages read its type as `int` (help/spec.ts); anything else is left as typed, for intValue() to
 * refuse in Docker's words (clipanion would say its own).
 */
function coerceInt(value: unknown, state?: ValidationState): value is number | string {
  if (typeof value === 'string' && /^[-+]?\d+$/.test(value) && state?.coercions && state.coercion) {
    state.coercions.push(['.', state.coercion.bind(null, Number(value))]);
  }
  return true;
}

export const intLike = coerceInt as unknown as StrictValidator<unknown, number | string>;

/** The flag's number, or pflag's error for a value that is not an integer (exit 125). */
export function intValue(value: number | string | undefined, flag: string): number | undefined {
  if (value === undefined || typeof value === 'number') return value;
  throw new UsageError(`invalid argument "${value}" for "${flag}" flag: strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
}
