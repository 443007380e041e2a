import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class ContainerPruneCommand extends SkiffCommand {
  static override paths = [['container', 'prune']];
  static override usage = Command.Usage({
    description: 'Remove all stopped containers',
    details: 'Removes every container that is not running (created ones too). Asks first unless -f; with no answer nothing is removed. Filters: `until=TIMESTAMP` (or a duration such as 24h), `label=KEY[=VALUE]`, `label!=KEY[=VALUE]`.',
    examples: [['Without asking', '$0 container prune -f'], ['Only those older than an hour', '$0 container prune -f --filter until=1h']],
  });
  filter = Option.Array('--filter', [], { description: 'Provide filter values (e.g. "until=<timestamp>")' });
  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });

  async execute(): Promise<number> {
    const { CONTAINER_PRUNE_WARNING, checkPruneFilters, formatContainerPruneReport, pruneContainers } = await import('../../../engine/container-prune');
    checkPruneFilters(this.filter); // a bad filter fails before the question
    if (!this.force) {
      const { confirm } = await import('../../../util/prompt');
      if (!(await confirm(CONTAINER_PRUNE_WARNING, process.stdin, this.context.stdout))) return 0;
    }
    this.out(formatContainerPruneReport(await pruneContainers(this.engine, this.filter)));
    return 0;
  }
}
