import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class VolumeLsCommand extends SkiffCommand {
  static override paths = [['volume', 'ls'], ['volume', 'list']];
  static override usage = Command.Usage({
    description: 'List volumes',
    details: `Filters (\`-f key=value\`, repeatable; different keys must all match): \`dangling=true|false\` (used by no container), \`driver=local\`, \`label=KEY\` or \`label=KEY=VALUE\`, \`name=REGEXP\`.

--format takes a Go template (\`table\` prefix for columns with a header, \`json\` for one JSON object per line) over .Name, .Driver, .Scope, .Mountpoint, .Labels, .Links, .Size.`,
    examples: [['Names only', '$0 volume ls -q'], ['Volumes no container uses', '$0 volume ls -f dangling=true']],
  });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Only display volume names' });
  filter = Option.Array('-f,--filter', [], { description: "Provide filter values (e.g. 'dangling=true')" });
  format = Option.String('--format', { description: 'Format output using a Go template, "table", "table TEMPLATE" or "json"' });

  async execute(): Promise<number> {
    const { listVolumes, VOLUME_DEFAULT_FORMAT, VOLUME_HEADERS } = await import('../../../engine/volume-list');
    const { renderList } = await import('../../output/render');
    this.out(renderList(listVolumes(this.engine, this.filter), { format: this.format, quiet: this.quiet }, {
      defaultFormat: VOLUME_DEFAULT_FORMAT, headers: VOLUME_HEADERS, quietFormat: '{{.Name}}',
    }));
    return 0;
  }
}
