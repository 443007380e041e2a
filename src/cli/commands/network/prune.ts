import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class NetworkPruneCommand extends SkiffCommand {
  static override paths = [['network', 'prune']];
  static override usage = Command.Usage({
    description: 'Remove all unused networks',
    details: 'Removes every user-defined network that no container is on. Asks first unless -f. Filters: `until=TIMESTAMP` (or a duration such as 24h), `label=KEY[=VALUE]`, `label!=KEY[=VALUE]`.',
    examples: [['Without asking', '$0 network prune -f']],
  });
  filter = Option.Array('--filter', [], { description: 'Provide filter values (e.g. "until=<timestamp>")' });
  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });

  async execute(): Promise<number> {
    const { NETWORK_PRUNE_WARNING, checkNetworkPruneFilters, formatNetworkPruneReport, pruneNetworks } = await import('../../../engine/network-remove');
    checkNetworkPruneFilters(this.filter);
    if (!this.force) {
      const { confirm } = await import('../../../util/prompt');
      if (!(await confirm(NETWORK_PRUNE_WARNING, process.stdin, this.context.stdout))) return 0;
    }
    this.out(formatNetworkPruneReport(await pruneNetworks(this.engine, this.filter)));
    return 0;
  }
}
