import { Command, Option } from 'clipanion';
import { SkiffError } from '../../util/errors';
import { reportInspect } from '../output/inspect';
import { SkiffCommand } from '../base';

export class InspectCommand extends SkiffCommand {
  static override paths = [['inspect']];
  static override usage = Command.Usage({
    description: 'Return low-level information on skiff objects',
    details: 'Containers and images, as `skiff container inspect` and `skiff image inspect` print them. A name is looked up as a container first, then as an image, unless --type says which.',
    examples: [
      ['An image\'s entrypoint', "$0 inspect -f '{{json .Config.Entrypoint}}' busybox"],
      ['A container\'s state', "$0 inspect --type container -f '{{.State.Status}}' web"],
    ],
  });
  format = Option.String('-f,--format', { description: 'Format output using a Go template' });
  type = Option.String('--type', { description: 'Only inspect objects of the given type (container or image)' });
  size = Option.Boolean('-s,--size', false, { description: 'Display total file sizes if the type is container' });
  names = Option.Rest({ required: 1, name: 'NAME|ID' });

  async execute(): Promise<number> {
    if (this.type !== undefined && this.type !== 'image' && this.type !== 'container') {
      throw new SkiffError(`"${this.type}" is not a valid value for --type`, 125);
    }
    const { inspectObjects } = await import('../../engine/container-inspect');
    return reportInspect(this, inspectObjects(this.engine, this.names, { type: this.type, size: this.size }), this.format);
  }
}
