import { Command, Option } from 'clipanion';
import { reportInspect } from '../../output/inspect';
import { SkiffCommand } from '../../base';

export class ContainerInspectCommand extends SkiffCommand {
  static override paths = [['container', 'inspect']];
  static override usage = Command.Usage({
    description: 'Display detailed information on one or more containers',
    details: 'Prints a JSON array in the format of `docker container inspect` (Id, State, Config, HostConfig, GraphDriver, NetworkSettings...). With --format, each container goes through a Go template instead. Containers that are not found are reported on stderr and the command exits 1, after printing the others.',
    examples: [
      ['The state of a container', "$0 container inspect -f '{{.State.Status}}' web"],
      ['Its environment as JSON', "$0 container inspect -f '{{json .Config.Env}}' web"],
    ],
  });
  format = Option.String('-f,--format', { description: 'Format output using a Go template' });
  size = Option.Boolean('-s,--size', false, { description: 'Display total file sizes' });
  containers = Option.Rest({ required: 1, name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { inspectObjects } = await import('../../../engine/container-inspect');
    return reportInspect(this, inspectObjects(this.engine, this.containers, { type: 'container', size: this.size }), this.format);
  }
}
