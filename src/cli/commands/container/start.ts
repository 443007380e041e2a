import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class StartCommand extends SkiffCommand {
  static override paths = [['start'], ['container', 'start']];
  static override usage = Command.Usage({
    description: 'Start one or more stopped containers',
    examples: [['Start attached, forwarding stdin', '$0 start -ai mycontainer']],
  });
  attach = Option.Boolean('-a,--attach', false, { description: 'Attach STDOUT/STDERR and forward signals' });
  detachKeys = Option.String('--detach-keys', { description: 'Override the key sequence for detaching a container' });
  interactive = Option.Boolean('-i,--interactive', false, { description: "Attach container's STDIN" });
  containers = Option.Rest({ required: 1, name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { startContainer } = await import('../../../engine/start');
    let code = 0;
    for (const name of this.containers) {
      const c = this.engine.containers.mustFind(name);
      const attach = this.attach || this.interactive;
      const r = await startContainer(this.engine, c, { attach, interactive: this.interactive, detachKeys: this.detachKeys });
      if (attach) code = r ?? 0;
      else this.out(`${name}\n`);
    }
    return code;
  }
}
