import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class RmiCommand extends SkiffCommand {
  static override paths = [['rmi'], ['image', 'rm'], ['image', 'remove']];
  static override usage = Command.Usage({ description: 'Remove one or more images' });
  force = Option.Boolean('-f,--force', false, { description: 'Force removal of the image' });
  images = Option.Rest({ required: 1, name: 'IMAGE' });

  async execute(): Promise<number> {
    const { removeImage } = await import('../../../engine/images');
    let code = 0;
    for (const name of this.images) {
      try {
        this.out((await removeImage(this.engine, name, this.force)).map((l) => `${l}\n`).join(''));
      } catch (e) {
        this.context.stderr.write(`Error response from skiff: ${(e as Error).message}\n`);
        code = (e as { exitCode?: number }).exitCode ?? 1;
      }
    }
    return code;
  }
}
