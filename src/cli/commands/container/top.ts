import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class TopCommand extends SkiffCommand {
  static override paths = [['top']];
  static override usage = Command.Usage({
    description: 'Display the running processes of a container',
    details: 'Runs ps(1) on the host with the given options (default -ef) and shows the lines of the container\'s processes.',
    examples: [['Default columns', '$0 top mycontainer'], ['Custom columns', '$0 top mycontainer -o pid,comm']],
  });
  container = Option.String({ name: 'CONTAINER' });
  psArgs = Option.Proxy({ name: 'ps OPTIONS' });

  async execute(): Promise<number> {
    const { containerTop } = await import('../../../engine/top');
    this.out(containerTop(this.engine, this.container, this.psArgs));
    return 0;
  }
}
