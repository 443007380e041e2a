import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class ImagePruneCommand extends SkiffCommand {
  static override paths = [['image', 'prune']];
  static override usage = Command.Usage({
    description: 'Remove unused images',
    details: 'Removes dangling images (without a tag), or with -a every image, that no container (running or stopped) was created from, then the layers and blobs no image or container needs. Asks first unless -f; with no answer (STDIN closed or empty) nothing is removed. Filters: `until=TIMESTAMP` (or a duration such as 24h), `label=KEY[=VALUE]`, `label!=KEY[=VALUE]`.',
    examples: [['Without asking', '$0 image prune -f'], ['Every unused image older than a day', '$0 image prune -a -f --filter until=24h']],
  });
  all = Option.Boolean('-a,--all', false, { description: 'Remove all unused images, not just dangling ones' });
  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });
  filter = Option.Array('--filter', [], { description: 'Provide filter values (e.g. "until=<timestamp>")' });

  async execute(): Promise<number> {
    const { pruneImages, pruneWarning } = await import('../../../engine/prune');
    const { pruneReportText } = await import('../../output/prune');
    const { parseFilters, PRUNE_FILTERS } = await import('../../../engine/image-filters');
    parseFilters(this.filter, PRUNE_FILTERS); // a bad filter fails before the question
    if (!this.force) {
      const { confirm } = await import('../../../util/prompt');
      if (!(await confirm(pruneWarning(this.all), process.stdin, this.context.stdout))) return 0;
    }
    this.out(pruneReportText(await pruneImages(this.engine, { all: this.all, filters: this.filter })));
    return 0;
  }
}
