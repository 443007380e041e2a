import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';
import { forEachTarget } from '../../targets';

export class WaitCommand extends SkiffCommand {
  static override paths = [['wait']];
  static override usage = Command.Usage({
    description: 'Block until one or more containers stop, then print their exit codes',
    details: "Prints each container's exit code, one line each, in the order given. Podman's --condition waits for another state instead (running, paused, created, exited, stopped) and prints -1.",
  });
  condition = Option.String('--condition', { description: 'State to wait for (Podman): stopped, exited, running, paused or created' });
  containers = Option.Rest({ required: 1, name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { checkCondition, waitContainer } = await import('../../../engine/wait');
    if (this.condition !== undefined) checkCondition(this.condition);
    return forEachTarget(this, this.containers, (name) => waitContainer(this.engine, name, this.condition), {
      done: (_name, exitCode) => this.out(`${exitCode}\n`),
    });
  }
}
