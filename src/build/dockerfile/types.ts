/**
 * The parsed Dockerfile: the contract between the front end (src/build/dockerfile/: parser,
 * directives, heredocs, variable expansion, stage planning) and the executor (src/build/ and
 * engine/build.ts), which runs the instructions. Arguments are kept as written (unexpanded):
 * which words are expanded, and with which variables (build args in scope, ENV of the stage
 * including the base image's), is decided while executing, through expandInstruction().
 */

/** Where an instruction starts: the file as the user named it, and its 1-based first line. */
export interface SourceLocation {
  file: string;
  line: number;
}

/** A RUN/CMD/ENTRYPOINT/HEALTHCHECK command: shell form (one string) or exec form (JSON array). */
export type Command = { form: 'shell'; text: string } | { form: 'exec'; args: string[] };

/** `<<EOF` … `EOF`: the body of a here-document of RUN or COPY/ADD. */
export interface Heredoc {
  /** The delimiter word (EOF), which COPY also uses as the file name. */
  name: string;
  content: string;
  /** `<<-`: leading tabs were stripped from each line. */
  chomp: boolean;
  /** False when the delimiter was quoted (`<<"EOF"`): no variable expansion in the body. */
  expand: boolean;
}

/** `RUN --mount=type=…,…` (BuildKit), its keys parsed; values stay unexpanded strings. */
export interface RunMount {
  type: 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
  target?: string;
  source?: string;
  /** A stage name/index or an image, for bind and cache mounts. */
  from?: string;
  id?: string;
  readonly?: boolean;
  sharing?: 'shared' | 'private' | 'locked';
  mode?: string;
  uid?: string;
  gid?: string;
  required?: boolean;
  size?: string;
}

/** HEALTHCHECK options, durations in nanoseconds as the image config stores them. */
export interface HealthcheckOptions {
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

interface Base {
  loc: SourceLocation;
  /** The instruction as written, continuations joined into one line (history, progress). */
  text: string;
}

export interface FromInstruction extends Base { kind: 'FROM'; image: string; as?: string; platform?: string }
export interface RunInstruction extends Base {
  kind: 'RUN';
  command: Command;
  mounts: RunMount[];
  /** `--network=default|none|host`. */
  network?: string;
  security?: string;
  heredocs: Heredoc[];
}
export interface CopyInstruction extends Base {
  kind: 'COPY' | 'ADD';
  /** Sources as written (globs, URLs for ADD, heredoc names). */
  sources: string[];
  dest: string;
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  parents: boolean;
  /** ADD --checksum. */
  checksum?: string;
  /** `--exclude=PATTERN` (Dockerfile 1.7+): sources matching it are left out. */
  exclude: string[];
  heredocs: Heredoc[];
}
export interface EnvInstruction extends Base { kind: 'ENV'; pairs: [string, string][] }
export interface ArgInstruction extends Base { kind: 'ARG'; args: { name: string; default?: string }[] }
export interface WorkdirInstruction extends Base { kind: 'WORKDIR'; path: string }
export interface UserInstruction extends Base { kind: 'USER'; user: string }
export interface CmdInstruction extends Base { kind: 'CMD' | 'ENTRYPOINT'; command: Command }
export interface ExposeInstruction extends Base { kind: 'EXPOSE'; ports: string[] }
export interface LabelInstruction extends Base { kind: 'LABEL'; pairs: [string, string][] }
export interface VolumeInstruction extends Base { kind: 'VOLUME'; paths: string[] }
export interface ShellInstruction extends Base { kind: 'SHELL'; shell: string[] }
export interface StopSignalInstruction extends Base { kind: 'STOPSIGNAL'; signal: string }
export interface HealthcheckInstruction extends Base {
  kind: 'HEALTHCHECK';
  /** null for `HEALTHCHECK NONE`; otherwise Docker's Test form: ["CMD", …] or ["CMD-SHELL", text]. */
  test: string[] | null;
  options: HealthcheckOptions;
}
export interface OnbuildInstruction extends Base { kind: 'ONBUILD'; trigger: Instruction }
export interface MaintainerInstruction extends Base { kind: 'MAINTAINER'; name: string }

export type Instruction =
  | FromInstruction | RunInstruction | CopyInstruction | EnvInstruction | ArgInstruction
  | WorkdirInstruction | UserInstruction | CmdInstruction | ExposeInstruction | LabelInstruction
  | VolumeInstruction | ShellInstruction | StopSignalInstruction | HealthcheckInstruction
  | OnbuildInstruction | MaintainerInstruction;

/** One FROM and the instructions up to the next FROM. */
export interface Stage {
  /** Position in the file, from 0 (`COPY --from=0`). */
  index: number;
  /** `AS name`, lower-cased as Docker compares it. */
  name?: string;
  from: FromInstruction;
  instructions: Instruction[];
}

/** Something Docker accepts but warns about (an empty continuation line, an undefined variable). */
export interface BuildWarning {
  file: string;
  line: number;
  /** `Rule: text`, as Docker prints it. */
  message: string;
  /** The BuildKit check it comes from (`# check=skip=…` names it). */
  rule?: string;
}

export interface Dockerfile {
  file: string;
  /** Parser directives (`# syntax=`, `# escape=`, `# check=`). */
  directives: { syntax?: string; escape: '\\' | '`'; check?: string };
  /** ARGs before the first FROM: usable in FROM lines, and in a stage after a bare `ARG NAME`. */
  globalArgs: ArgInstruction[];
  stages: Stage[];
  /** What the parser warns about (added by the front end; absent in hand-made Dockerfiles). */
  warnings?: BuildWarning[];
}
