import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class ImagesCommand extends SkiffCommand {
  static override paths = [['images'], ['image', 'ls'], ['image', 'list']];
  static override usage = Command.Usage({
    description: 'List images',
    details: `Filters (\`-f key=value\`, repeatable; different keys must all match): \`dangling=true|false\`, \`reference=PATTERN\` (a glob on the familiar name, with or without tag: \`busybox\`, \`*/app:v*\`), \`label=KEY\` or \`label=KEY=VALUE\` (all must match), \`before=IMAGE\`, \`since=IMAGE\`, \`until=TIMESTAMP\`.

--format takes a Go template (\`table\` prefix for columns with a header, \`json\` for one JSON object per line) over .ID, .Repository, .Tag, .Digest, .CreatedSince, .CreatedAt, .Size.`,
    examples: [
      ['Dangling images only', '$0 images -f dangling=true'],
      ['Images of one repository, by glob', "$0 images --filter 'reference=skiff-test/*'"],
      ['Custom columns', "$0 images --format 'table {{.Repository}}:{{.Tag}}\\t{{.Size}}'"],
    ],
  });
  all = Option.Boolean('-a,--all', false, { description: 'Show all images' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Only show image IDs' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: "Don't truncate output" });
  noHeading = Option.Boolean('--noheading', false, { description: 'Do not print the column headings (Podman)' });
  digests = Option.Boolean('--digests', false, { description: 'Show digests' });
  filter = Option.Array('-f,--filter', [], { description: 'Filter output based on conditions provided (key=value)' });
  format = Option.String('--format', { description: 'Format output using a Go template, "table", "table TEMPLATE" or "json"' });
  reference = Option.String({ required: false, name: 'REPOSITORY[:TAG]' });

  async execute(): Promise<number> {
    const { IMAGE_HEADERS, imagesDefaultFormat, listImages } = await import('../../../engine/images');
    const { renderList } = await import('../../output/render');
    const rows = listImages(this.engine, {
      all: this.all, noTrunc: this.noTrunc, reference: this.reference, filters: this.filter, digests: this.digests,
    });
    this.out(renderList(rows, { format: this.format, quiet: this.quiet, noHeading: this.noHeading }, {
      defaultFormat: imagesDefaultFormat(this.digests), headers: IMAGE_HEADERS, quietUnique: true,
    }));
    return 0;
  }
}
