import * as t from 'typanion';

/**
 * The validator of an `int` flag (--stop-timeout, stop -t): clipanion turns the value into a
 * number, help shows the flag as `int` as Docker's does, and a value that is not a whole
 * number is a usage error (exit 125) before the command runs.
 */
export const isInt = t.cascade(t.isNumber(), t.isInteger());
