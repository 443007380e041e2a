import { VERSION } from '../util/version';
import { extractGlobals, invalidLogLevel } from './globals';
import { programName } from './program';

/**
 * `skiff --version` (or `-v`): Docker's one line, for `rest`, the command line after the global
 * options; undefined for any other command line.
 */
export function versionLine(rest: readonly string[]): string | undefined {
  return rest.length === 1 && (rest[0] === '--version' || rest[0] === '-v') ? `${programName()} version ${VERSION}\n` : undefined;
}

/**
 * versionLine of a whole command line, when its global options are all well formed; undefined
 * otherwise, so that main.ts reports them. The single executable's main script answers with it
 * before compiling the bundle (src/sea-main.ts).
 */
export function versionLineOf(argv: readonly string[]): string | undefined {
  const parsed = extractGlobals([...argv]);
  if ('error' in parsed || invalidLogLevel(parsed.globals.logLevel)) return undefined;
  return versionLine(parsed.rest);
}
