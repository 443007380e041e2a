import { Option } from 'clipanion';
import { asSkiffError, UsageError, type SkiffError } from '../../errors';
import { SkiffCommand } from '../base';
import { forEachTarget } from '../targets';
import type { ContainerRecord } from '../../engine/container-store';

/**
 * The verbs that act on several containers (stop, kill, rm, start, restart, pause, unpause):
 * CONTAINER... or Podman's --all, each container in turn, Docker's output (each name as typed
 * on stdout, each failure as one line on stderr, exit 1 if any failed, the others still done).
 */
export abstract class ContainerTargetsCommand extends SkiffCommand {
  /** help shows `CONTAINER [CONTAINER...]`, as Docker's, though --all may replace them (help/spec.ts) */
  static requiredInUsage = 1;
  all = Option.Boolean('-a,--all', false, { description: 'Act on all containers this verb applies to (Podman)' });
  containers = Option.Rest({ name: 'CONTAINER' });

  /** With --all: which containers (observed state) the verb applies to. */
  protected abstract appliesToAll(c: ContainerRecord): boolean;

  /** Podman's --ignore (rm, stop, kill): a missing container is not an error. */
  protected ignoreMissing(): boolean { return false; }

  /**
   * Run `op` on each target. Returns the exit code, or prints Docker's usage error when there
   * is no target at all. `op` returns what to print for it (default: the name as given; null:
   * nothing).
   */
  protected async eachContainer(op: (nameOrId: string) => Promise<string | void | null>): Promise<number> {
    if (this.all && this.containers.length) {
      throw new UsageError('--all and a list of containers cannot be used together');
    }
    if (!this.all && this.containers.length === 0) {
      const { missingArgument } = await import('../help/dispatch');
      return missingArgument(this.path, this.constructor as never);
    }
    let targets = this.containers;
    if (this.all) {
      const { refreshState } = await import('../../engine/container-state');
      targets = this.engine.containers.list().map((c) => refreshState(this.engine, c)).filter((c) => this.appliesToAll(c)).map((c) => c.id);
    }
    // Podman's --ignore: a missing container is skipped without a word
    const quietMissing = (e: unknown) => this.ignoreMissing() && isNotFound(e);
    return forEachTarget(this, targets, async (name) => {
      try { return await op(name); } catch (e) { if (quietMissing(e)) return null; throw e; }
    }, { done: (name, shown) => { if (shown !== null) this.out(`${shown ?? name}\n`); }, tolerate: this.tolerate() });
  }

  /** Which reported failures do not fail the verb (rm -f of a missing container, as Docker). */
  protected tolerate(): ((e: SkiffError) => boolean) | undefined { return undefined; }
}

/** A missing container: by kind, or by Docker's wording for errors made with a plain code. */
export function isNotFound(e: unknown): boolean {
  const err = asSkiffError(e);
  return err.kind === 'not-found' || /^No such container: /.test(err.message);
}
