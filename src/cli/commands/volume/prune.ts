import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class VolumePruneCommand extends SkiffCommand {
  static override paths = [['volume', 'prune']];
  static override usage = Command.Usage({
    description: 'Remove unused local volumes',
    details: 'Removes the anonymous volumes no container uses (running or stopped), or with -a every unused volume, named ones too (Docker 28). Asks first unless -f; with no answer nothing is removed. Filters: `label=KEY[=VALUE]`, `label!=KEY[=VALUE]`, `all=true`.',
    examples: [['Without asking', '$0 volume prune -f'], ['Named volumes too', '$0 volume prune -a -f']],
  });
  all = Option.Boolean('-a,--all', false, { description: 'Remove all unused volumes, not just anonymous ones' });
  filter = Option.Array('--filter', [], { description: 'Provide filter values (e.g. "label=<label>")' });
  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });

  async execute(): Promise<number> {
    const { checkVolumePruneFilters, pruneVolumes, volumePruneReport, volumePruneWarning } = await import('../../../engine/volume-remove');
    checkVolumePruneFilters(this.filter); // a bad filter fails before the question
    if (!this.force) {
      const { confirm } = await import('../../../util/prompt');
      if (!(await confirm(volumePruneWarning(this.all), process.stdin, this.context.stdout))) return 0;
    }
    this.out(volumePruneReport(await pruneVolumes(this.engine, { all: this.all, filters: this.filter })));
    return 0;
  }
}
