import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';
import { isInt } from '../../options/int-flag';

export class PsCommand extends SkiffCommand {
  static override paths = [['ps'], ['container', 'ls'], ['container', 'list'], ['container', 'ps']];
  static override usage = Command.Usage({
    description: 'List containers',
    details: 'Filters (`-f key=value`, repeatable; values of one key are ORed, keys ANDed): `id`, `name` (regular expressions), `label=KEY` or `label=KEY=VALUE`, `status=created|running|exited|...`, `exited=CODE`, `ancestor=IMAGE`, `before=CONTAINER`, `since=CONTAINER`; status and exited filters also show stopped containers.\n\n--format takes a Go template (`table` prefix for columns with a header, `json` for one JSON object per line) over .ID, .Image, .Command, .CreatedAt, .RunningFor, .Ports, .State, .Status, .Size, .Names, .Labels, .Label "KEY", .Mounts, .Networks.',
    examples: [
      ['Names and states of all containers', "$0 ps -a --format '{{.Names}}\\t{{.State}}'"],
      ['IDs of the containers that exited with 1', '$0 ps -q -f exited=1'],
    ],
  });
  all = Option.Boolean('-a,--all', false, { description: 'Show all containers (default shows just running)' });
  filter = Option.Array('-f,--filter', [], { description: 'Filter output based on conditions provided' });
  format = Option.String('--format', { description: 'Format output using a Go template, "table", "table TEMPLATE" or "json"' });
  last = Option.String('-n,--last', { validator: isInt, description: 'Show n last created containers (includes all states) (default -1)' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Show the latest created container (includes all states)' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: "Don't truncate output" });
  noHeading = Option.Boolean('--noheading', false, { description: 'Do not print the column headings (Podman)' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Only display container IDs' });

  async execute(): Promise<number> {
    const last = this.last;
    const { listContainers, emptyContainerRow, PS_DEFAULT_FORMAT, PS_HEADERS } = await import('../../../engine/ps');
    const { renderList } = await import('../../output/render');
    const rows = listContainers(this.engine, {
      all: this.all, noTrunc: this.noTrunc, filters: this.filter, last: this.latest ? 1 : last,
    });
    this.out(renderList(rows, { format: this.format, quiet: this.quiet, noHeading: this.noHeading }, { defaultFormat: PS_DEFAULT_FORMAT, headers: PS_HEADERS, probeRow: this.format ? emptyContainerRow() : undefined }));
    return 0;
  }
}
