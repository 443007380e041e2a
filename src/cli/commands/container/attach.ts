import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class AttachCommand extends SkiffCommand {
  static override paths = [['attach']];
  static override usage = Command.Usage({
    description: 'Attach local standard input, output, and error streams to a running container',
    details: 'Detach with ctrl-p ctrl-q (or --detach-keys): the container keeps running. The exit code is the container\'s when it exits while attached.',
    examples: [['Attach, detaching with ctrl-x', '$0 attach --detach-keys ctrl-x mycontainer']],
  });
  detachKeys = Option.String('--detach-keys', { description: 'Override the key sequence for detaching a container' });
  noStdin = Option.Boolean('--no-stdin', false, { description: 'Do not attach STDIN' });
  sigProxy = Option.Boolean('--sig-proxy', true, { description: 'Proxy all received signals to the process' });
  container = Option.String({ name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { attachContainer } = await import('../../../engine/attach');
    const c = this.engine.containers.mustFind(this.container);
    return attachContainer(this.engine, c, { stdin: !this.noStdin, sigProxy: this.sigProxy, detachKeys: this.detachKeys });
  }
}
