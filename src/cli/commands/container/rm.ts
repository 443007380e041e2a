import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';
import { forEachTarget } from '../../targets';

export class RmCommand extends SkiffCommand {
  static override paths = [['rm'], ['container', 'rm']];
  static override usage = Command.Usage({ description: 'Remove one or more containers' });
  force = Option.Boolean('-f,--force', false, { description: 'Force the removal of a running container (uses SIGKILL)' });
  containers = Option.Rest({ required: 1, name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { removeContainer } = await import('../../../engine/remove');
    return forEachTarget(this, this.containers, (name) => removeContainer(this.engine, name, this.force), {
      done: (name) => this.out(`${name}\n`),
      // as Docker: with -f, a container that does not exist is reported but does not fail rm
      tolerate: (e) => this.force && e.kind === 'not-found',
    });
  }
}
