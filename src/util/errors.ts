/**
 * SkiffError and its kinds live in src/errors.ts (the lowest layer, with the exit-code table);
 * re-exported here for the modules that import them from util.
 */
export { SkiffError } from '../errors';
