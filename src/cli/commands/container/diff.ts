import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class DiffCommand extends SkiffCommand {
  static override paths = [['diff']];
  static override usage = Command.Usage({
    description: "Inspect changes to files or directories on a container's filesystem",
    details: 'One line per changed path: A (added), C (changed) or D (deleted), as `docker diff`.',
    examples: [['What a container changed', '$0 diff web']],
  });
  container = Option.String({ name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { containerChanges } = await import('../../../engine/diff');
    const changes = await containerChanges(this.engine, this.container);
    this.out(changes.map((c) => `${c.kind} ${c.path}\n`).join(''));
    return 0;
  }
}
