import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class RenameCommand extends SkiffCommand {
  static override paths = [['rename']];
  static override usage = Command.Usage({ description: 'Rename a container' });
  container = Option.String({ name: 'CONTAINER' });
  newName = Option.String({ name: 'NEW_NAME' });

  async execute(): Promise<number> {
    const { renameContainer } = await import('../../../engine/rename');
    await renameContainer(this.engine, this.container, this.newName);
    return 0;
  }
}
