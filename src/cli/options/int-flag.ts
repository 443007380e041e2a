import type { StrictValidator, ValidationState } from 'typanion';

/**
 * The validator of an `int` flag (--stop-timeout, stop -t, ps -n): clipanion turns the value into
 * a number, help shows the flag as `int` as Docker's does (cli/help/spec.ts), and a value that is
 * not a whole number is a usage error before the command runs (pflag's words for most such
 * values come earlier, from cli/help/argv.ts).
 *
 * Written against clipanion's validator protocol (typanion's: push errors, coerce through
 * state.coercions) rather than built with typanion's combinators: evaluating typanion's module
 * cost every command with an int flag (ps, run, stop, rm...) its load at start-up, and this is
 * all of it that skiff used. Only the type comes from typanion.
 */
function isIntTest(value: unknown, state?: ValidationState): value is number {
  const n = typeof value === 'string' && /^[+-]?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    state?.errors?.push(`${state.p ?? '.'}: Expected an integer (got ${typeof value === 'string' ? JSON.stringify(value) : String(value)})`);
    return false;
  }
  if (n !== value) {
    if (!state?.coercions || !state.coercion) {
      state?.errors?.push(`${state.p ?? '.'}: Unbound coercion result`);
      return false;
    }
    const coerce = state.coercion;
    state.coercions.push([state.p ?? '.', () => coerce(n)]);
  }
  return true;
}

export const isInt = isIntTest as StrictValidator<unknown, number>;
