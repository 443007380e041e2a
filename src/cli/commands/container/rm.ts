import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class RmCommand extends SkiffCommand {
  static override paths = [['rm'], ['container', 'rm']];
  static override usage = Command.Usage({ description: 'Remove one or more containers' });
  force = Option.Boolean('-f,--force', false, { description: 'Force the removal of a running container (uses SIGKILL)' });
  containers = Option.Rest({ required: 1, name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { removeContainer } = await import('../../../engine/remove');
    let code = 0;
    for (const name of this.containers) {
      try {
        await removeContainer(this.engine, name, this.force);
        this.out(`${name}\n`);
      } catch (e) {
        // Docker goes on with the other containers and reports each failure.
        this.context.stderr.write(`Error: ${(e as Error).message}\n`);
        code = 1;
      }
    }
    return code;
  }
}
