import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class PsCommand extends SkiffCommand {
  static override paths = [['ps'], ['container', 'ls'], ['container', 'list'], ['container', 'ps']];
  static override usage = Command.Usage({ description: 'List containers' });
  all = Option.Boolean('-a,--all', false, { description: 'Show all containers (default shows just running)' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Only display container IDs' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: "Don't truncate output" });

  async execute(): Promise<number> {
    const { listContainers } = await import('../../../engine/ps');
    this.out(listContainers(this.engine, { all: this.all, quiet: this.quiet, noTrunc: this.noTrunc }));
    return 0;
  }
}
