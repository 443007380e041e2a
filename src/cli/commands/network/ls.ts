import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class NetworkLsCommand extends SkiffCommand {
  static override paths = [['network', 'ls'], ['network', 'list']];
  static override usage = Command.Usage({
    description: 'List networks',
    details: 'Lists Docker\'s predefined networks `bridge` (the default user-mode network), `host` and `none`, and the user-defined networks. Filters: `name=` (substring), `id=` (prefix), `label=KEY[=VALUE]`, `driver=`, `type=builtin|custom`. --format takes a Go template over .ID, .Name, .Driver, .Scope, .IPv6, .Internal, .Labels, .Label "KEY", .CreatedAt.',
    examples: [['Names only', "$0 network ls --format '{{.Name}}'"]],
  });
  filter = Option.Array('-f,--filter', [], { description: 'Provide filter values (e.g. "driver=bridge")' });
  format = Option.String('--format', { description: 'Format output using a custom template' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: 'Do not truncate the output' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Only display network IDs' });

  async execute(): Promise<number> {
    const { listNetworks, NETWORK_LS_DEFAULT_FORMAT, NETWORK_LS_HEADERS } = await import('../../../engine/network-list');
    const { renderList } = await import('../../output/render');
    const rows = listNetworks(this.engine, { filters: this.filter, noTrunc: this.noTrunc });
    this.out(renderList(rows, { format: this.format, quiet: this.quiet }, { defaultFormat: NETWORK_LS_DEFAULT_FORMAT, headers: NETWORK_LS_HEADERS }));
    return 0;
  }
}
