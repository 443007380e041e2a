import { Command } from 'clipanion';
import { SkiffCommand } from '../../base';

export class InfoCommand extends SkiffCommand {
  static override paths = [['info'], ['system', 'info']];
  static override usage = Command.Usage({
    description: 'Display system-wide information',
    details: 'Shows whether skiff runs rootless, the UID/GID mappings, the storage driver and paths, the kernel, and which helper programs were found.',
  });

  async execute(): Promise<number> {
    const { info } = await import('../../../engine/info');
    this.out(info(this.engine));
    return 0;
  }
}
