import { Command, Option } from 'clipanion';
import { SkiffError } from '../../util/errors';
import { reportInspect } from '../output/inspect';
import { SkiffCommand } from '../base';

export class InspectCommand extends SkiffCommand {
  static override paths = [['inspect']];
  static override usage = Command.Usage({
    description: 'Return low-level information on skiff objects',
    details: 'Images for now (containers will follow): the same output as `skiff image inspect`.',
    examples: [['An image\'s entrypoint', "$0 inspect -f '{{json .Config.Entrypoint}}' busybox"]],
  });
  format = Option.String('-f,--format', { description: 'Format output using a Go template' });
  type = Option.String('--type', { description: 'Only inspect objects of the given type (image)' });
  size = Option.Boolean('-s,--size', false, { description: 'Display total file sizes (accepted; image sizes are always shown)' });
  names = Option.Rest({ required: 1, name: 'NAME|ID' });

  async execute(): Promise<number> {
    if (this.type !== undefined && this.type !== 'image') {
      if (this.type === 'container') throw new SkiffError('inspect --type container is not supported yet; skiff inspect shows images for now', 125);
      throw new SkiffError(`"${this.type}" is not a valid value for --type`, 125);
    }
    const { inspectImages } = await import('../../engine/inspect');
    const word = this.type === 'image' ? 'image' : 'object';
    return reportInspect(this, inspectImages(this.engine, this.names, (n) => `No such ${word}: ${n}`), this.format);
  }
}
