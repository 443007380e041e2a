/**
 * Build arguments and their scopes, as Docker's:
 *  - the ARGs before the first FROM (the global scope) serve the FROM lines; a stage sees one
 *    only after declaring it again with a bare `ARG NAME`;
 *  - in a stage, an ARG's value is the --build-arg given, else its own default, else the
 *    global one; it is in scope from its line to the end of the stage;
 *  - the platform args (TARGETPLATFORM, BUILDARCH…) are set in the global scope without a
 *    declaration, and in a stage when declared;
 *  - the proxy args (HTTP_PROXY…) reach every RUN when given with --build-arg, undeclared,
 *    and are kept out of the image history;
 *  - a --build-arg no ARG declared is reported (Docker's "were not consumed" warning).
 * ENV of the same name wins over an ARG when words are expanded: the caller puts ENV on top.
 */
import { expandWordAt, type VariableLookup } from './shell-lex';
import type { ArgInstruction, Dockerfile } from './types';

/** Docker's predefined args: usable in RUN without an ARG line. */
export const PROXY_ARGS: readonly string[] = [
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy',
  'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
];

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** BuildKit's automatic platform args for a target and a build platform. */
export function platformArgs(target: Platform, build: Platform = target): Map<string, string> {
  const name = (p: Platform) => [p.os, p.architecture, p.variant].filter(Boolean).join('/');
  return new Map([
    ['TARGETPLATFORM', name(target)], ['TARGETOS', target.os], ['TARGETARCH', target.architecture], ['TARGETVARIANT', target.variant ?? ''],
    ['BUILDPLATFORM', name(build)], ['BUILDOS', build.os], ['BUILDARCH', build.architecture], ['BUILDVARIANT', build.variant ?? ''],
  ]);
}

/** Which --build-args some ARG (or a proxy use) consumed: shared by all scopes of one build. */
export class BuildArgs {
  private readonly consumed = new Set<string>();
  constructor(readonly values: ReadonlyMap<string, string>) {}

  /** The --build-arg value for a declared name, and the name marked as used. */
  take(name: string): string | undefined {
    if (!this.values.has(name)) return undefined;
    this.consumed.add(name);
    return this.values.get(name);
  }
  /** The proxy args given: they reach RUN undeclared. */
  proxies(): Map<string, string> {
    const out = new Map<string, string>();
    for (const name of PROXY_ARGS) {
      const v = this.take(name);
      if (v !== undefined) out.set(name, v);
    }
    return out;
  }
  /** --build-args no ARG declared, sorted (Docker's warning lists them). */
  unconsumed(): string[] {
    return [...this.values.keys()].filter((k) => !this.consumed.has(k) && !PROXY_ARGS.includes(k)).sort();
  }
}

/** The ARGs in scope at one point: declared names and their values (unset when none). */
export class ArgScope {
  private readonly values = new Map<string, string>();
  private readonly declaredNames = new Set<string>();

  /**
   * @param buildArgs the build's --build-args
   * @param outer what a bare `ARG NAME` inherits: the global scope's values for a stage, the
   *   platform args for the global scope
   */
  constructor(private readonly buildArgs: BuildArgs, private readonly outer: ReadonlyMap<string, string>, private readonly escape: '\\' | '`' = '\\') {}

  /**
   * Declares the names of an ARG line. Defaults are expanded with `vars` (the stage's ENV and
   * the ARGs so far; the scope's own values when omitted). Returns the variables the defaults
   * used unset.
   */
  declare(instr: ArgInstruction, vars?: VariableLookup): string[] {
    const unset: string[] = [];
    for (const arg of instr.args) {
      const lookup = vars ?? ((n: string) => this.values.get(n));
      const name = expandWordAt(arg.name, lookup, this.escape, instr.loc).word;
      let value: string | undefined;
      if (arg.default !== undefined) {
        const r = expandWordAt(arg.default, lookup, this.escape, instr.loc);
        unset.push(...r.unset);
        value = r.word;
      } else value = this.outer.get(name);
      const given = this.buildArgs.take(name);
      if (given !== undefined) value = given;
      this.declaredNames.add(name);
      if (value === undefined) this.values.delete(name);
      else this.values.set(name, value);
    }
    return unset;
  }

  get(name: string): string | undefined {
    return this.values.get(name);
  }
  isDeclared(name: string): boolean {
    return this.declaredNames.has(name);
  }
  /** The declared args that have a value, in declaration order. */
  entries(): Map<string, string> {
    return new Map(this.values);
  }
  /** The environment a RUN gets from args: the proxies given, then the declared args. */
  runEnvironment(): Map<string, string> {
    return new Map([...this.buildArgs.proxies(), ...this.values]);
  }
}

/**
 * The global scope: the ARGs before the first FROM, declared in order, over the platform args.
 * Its lookup() serves the FROM lines (declared values first, then the platform args).
 */
export function globalScope(df: Dockerfile, buildArgs: BuildArgs, automatic: ReadonlyMap<string, string> = new Map()): { scope: ArgScope; lookup: VariableLookup } {
  const scope = new ArgScope(buildArgs, automatic, df.directives.escape);
  const lookup: VariableLookup = (n) => scope.get(n) ?? (scope.isDeclared(n) ? undefined : automatic.get(n));
  for (const arg of df.globalArgs) scope.declare(arg, lookup);
  return { scope, lookup };
}
