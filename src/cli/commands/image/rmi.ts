import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';
import { forEachTarget } from '../../targets';

export class RmiCommand extends SkiffCommand {
  static override paths = [['rmi'], ['image', 'rm'], ['image', 'remove']];
  static override usage = Command.Usage({ description: 'Remove one or more images' });
  force = Option.Boolean('-f,--force', false, { description: 'Force removal of the image' });
  images = Option.Rest({ required: 1, name: 'IMAGE' });

  async execute(): Promise<number> {
    const { removeImage } = await import('../../../engine/images');
    return forEachTarget(this, this.images, (name) => removeImage(this.engine, name, this.force), {
      done: (_, lines) => this.out(lines.map((l) => `${l}\n`).join('')),
      // as Docker: with -f, images that do not exist are reported but do not fail the command
      tolerate: (e) => this.force && e.kind === 'not-found',
    });
  }
}
