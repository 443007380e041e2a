import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class ExportCommand extends SkiffCommand {
  static override paths = [['export']];
  static override usage = Command.Usage({
    description: "Export a container's filesystem as a tar archive",
    examples: [['To a file', '$0 export -o web.tar web'], ['List what is in it', '$0 export web | tar t']],
  });
  output = Option.String('-o,--output', { description: 'Write to a file, instead of STDOUT' });
  container = Option.String({ name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { exportContainer } = await import('../../../engine/export');
    await exportContainer(this.engine, this.container, this.output, process.stdout.isTTY === true);
    return 0;
  }
}
