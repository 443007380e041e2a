/**
 * The errors that reach the user, and the ONE table that turns them into exit codes.
 *
 * docker-cli's rule (cmd/docker/docker.go getExitCode): an error exits 1 unless it is a
 * cli.StatusError carrying its own code. StatusErrors are made in few places: flag and usage
 * errors (125), `run` and `create`, which wrap every failure as 125 (126 when the command
 * cannot be executed, 127 when it is not found), inspect/version/info templates that do not
 * parse (64), and a signal (128+n). So a missing container is 1 for `rm` and `inspect`, but 125
 * for `run`: the exit code is the kind of the error AND the verb's context (`run`/`create` or
 * not); the table below holds both columns.
 *
 * This file is the lowest layer of src/: every layer may throw these.
 */

/** What went wrong, as far as the exit code (and a script reading it) cares. */
export type ErrorKind =
  | 'usage'          // a flag or argument the command line itself gets wrong (bad flag value)
  | 'invalid'        // a well-formed request the engine refuses (bad reference, filter, name)
  | 'not-found'      // no such container, image, file...
  | 'conflict'       // the object is in the wrong state or in use (name taken, container running)
  | 'unavailable'    // the host lacks something: a tool, permission, space, a namespace
  | 'upstream'       // a registry or another server failed or refused
  | 'internal'       // skiff's own fault (a bug, a damaged store)
  | 'template'       // an inspect/version/info --format that does not parse
  | 'interrupted'    // the user pressed ^C at a prompt
  | 'exec-not-found' // run: the container's command does not exist
  | 'exec-denied'    // run: the container's command cannot be executed
  | 'build'          // build: a Dockerfile, context or step that fails (docker build exits 1)
  | 'client';        // run/start refusing before asking anything of the engine (docker-cli's plain errors: 1 even for run)

/** Exit codes per kind: for most verbs, and for the verbs that create a container (run, create). */
export const EXIT_CODES: Readonly<Record<ErrorKind, { verb: number; run: number }>> = {
  usage: { verb: 125, run: 125 },
  invalid: { verb: 1, run: 125 },
  'not-found': { verb: 1, run: 125 },
  conflict: { verb: 1, run: 125 },
  unavailable: { verb: 1, run: 125 },
  upstream: { verb: 1, run: 125 },
  internal: { verb: 1, run: 125 },
  template: { verb: 64, run: 64 },
  interrupted: { verb: 130, run: 130 },
  'exec-not-found': { verb: 127, run: 127 },
  'exec-denied': { verb: 126, run: 126 },
  build: { verb: 1, run: 1 },
  client: { verb: 1, run: 1 },
};

/** Which column of EXIT_CODES applies: `run` for the verbs that, as Docker's, wrap failures as 125. */
export type ErrorContext = 'verb' | 'run';

/**
 * The one error type that reaches the user: a single clear line and an exit code.
 * `new SkiffError(message, exitCode)` (the exit code chosen by the thrower; 125 when omitted)
 * keeps working; new code throws one of the kinds below, whose code comes from EXIT_CODES.
 */
export class SkiffError extends Error {
  /** the kind, for errors made by kind; undefined for an exit code chosen by the thrower */
  readonly kind?: ErrorKind;
  constructor(message: string, public exitCode = 125, kind?: ErrorKind) {
    super(message);
    this.name = 'SkiffError';
    this.kind = kind;
  }
}

function kindError(kind: ErrorKind, name: string) {
  return class extends SkiffError {
    constructor(message: string) {
      super(message, EXIT_CODES[kind].verb, kind);
      this.name = name;
    }
  };
}

export const UsageError = kindError('usage', 'UsageError');
export const InvalidError = kindError('invalid', 'InvalidError');
export const NotFoundError = kindError('not-found', 'NotFoundError');
export const ConflictError = kindError('conflict', 'ConflictError');
export const UnavailableError = kindError('unavailable', 'UnavailableError');
export const UpstreamError = kindError('upstream', 'UpstreamError');
export const InternalError = kindError('internal', 'InternalError');
export const TemplateError = kindError('template', 'TemplateError');
/** docker-cli's own refusals before it calls the daemon ('the input device is not a TTY', -a with -d): exit 1, also for run. */
export const ClientError = kindError('client', 'ClientError');

/** Where a build error points: the Dockerfile as the user named it and a 1-based line. */
export interface BuildErrorLocation { file: string; line: number }

/**
 * A Dockerfile that does not parse, a context that cannot be read, a step that fails: one line
 * naming the file and line when there is one ("Dockerfile:3: unknown instruction: FOO"), as a
 * compiler does, and exit 1 as `docker build`.
 */
export class BuildError extends SkiffError {
  readonly location?: BuildErrorLocation;
  constructor(message: string, location?: BuildErrorLocation) {
    super(location ? `${location.file}:${location.line}: ${message}` : message, EXIT_CODES.build.verb, 'build');
    this.name = 'BuildError';
    this.location = location;
  }
}

/** Node's system errors (fs, child_process, net): ENOENT and the like, with syscall and path. */
interface NodeSystemError extends Error { code: string; syscall?: string; path?: string; dest?: string; errno?: number }

function isSystemError(e: unknown): e is NodeSystemError {
  return e instanceof Error && typeof (e as NodeSystemError).code === 'string' && /^E[A-Z0-9]+$/.test((e as NodeSystemError).code);
}

const ERRNO_KINDS: Record<string, ErrorKind> = {
  ENOENT: 'not-found', ENOTDIR: 'not-found',
  EACCES: 'unavailable', EPERM: 'unavailable', EROFS: 'unavailable', ENOSPC: 'unavailable', EDQUOT: 'unavailable',
  EMFILE: 'unavailable', ENFILE: 'unavailable', ENOMEM: 'unavailable', EIO: 'unavailable', EBUSY: 'conflict',
  EEXIST: 'conflict', ENOTEMPTY: 'conflict',
  ECONNREFUSED: 'upstream', ECONNRESET: 'upstream', ETIMEDOUT: 'upstream', ENOTFOUND: 'upstream', EAI_AGAIN: 'upstream',
};

/**
 * Node words a system error "EACCES: permission denied, open '/x'"; say it as Go does,
 * "open /x: permission denied", the words Docker users know.
 */
function systemErrorMessage(e: NodeSystemError): string {
  const m = /^[A-Z0-9_]+: (.*?)(?:, \w+ '.*')?$/s.exec(e.message);
  const reason = m ? m[1] : e.message;
  const target = e.dest !== undefined ? `${e.path} -> ${e.dest}` : e.path;
  const op = [e.syscall, target].filter((x) => x !== undefined && x !== '').join(' ');
  return op ? `${op}: ${reason}` : reason;
}

/**
 * Any thrown value as a SkiffError: SkiffErrors unchanged, Node system errors worded as Go's
 * with their kind, anything else (a bug) internal, its message kept.
 */
export function asSkiffError(e: unknown): SkiffError {
  if (e instanceof SkiffError) return e;
  if (isSystemError(e)) {
    const kind = ERRNO_KINDS[e.code] ?? 'internal';
    return new SkiffError(systemErrorMessage(e), EXIT_CODES[kind].verb, kind);
  }
  const message = e instanceof Error ? e.message : String(e);
  return new SkiffError(message || 'unknown error', EXIT_CODES.internal.verb, 'internal');
}

/**
 * The exit code for an error in a context. Errors with a kind read the table; a code chosen by
 * the thrower stands, except that `run`/`create` report a plain failure (1) as 125, as Docker's
 * run does with every daemon error.
 */
export function exitCodeOf(e: unknown, context: ErrorContext = 'verb'): number {
  const err = asSkiffError(e);
  if (err.kind) return EXIT_CODES[err.kind][context];
  if (context === 'run' && err.exitCode === 1) return 125;
  return err.exitCode;
}
