import { Command, Option } from 'clipanion';
import { UsageError } from '../../../errors';
import { SkiffCommand } from '../../base';

export class HistoryCommand extends SkiffCommand {
  static override paths = [['history'], ['image', 'history']];
  static override usage = Command.Usage({
    description: 'Show the history of an image',
    details: 'One line per history entry of the image config, newest first. Only the newest line names the image: the others show <missing>, as Docker does for pulled and loaded images. --format takes a Go template over .ID, .CreatedSince, .CreatedAt, .CreatedBy, .Size, .Comment.',
    examples: [['Exact sizes and dates', '$0 history -H=false busybox'], ['Full commands', '$0 history --no-trunc --format "{{.CreatedBy}}" busybox']],
  });
  human = Option.String('-H,--human', { tolerateBoolean: true, description: 'Print sizes and dates in human readable format (default true; -H=false to turn off)' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: "Don't truncate output" });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Only show image IDs' });
  format = Option.String('--format', { description: 'Format output using a Go template, "table", "table TEMPLATE" or "json"' });
  image = Option.String({ name: 'IMAGE' });

  async execute(): Promise<number> {
    const { HISTORY_DEFAULT_FORMAT, HISTORY_HEADERS, imageHistory } = await import('../../../engine/history');
    const { renderList } = await import('../../output/render');
    const human = this.human === undefined || this.human === true || !/^(false|0)$/i.test(String(this.human));
    if (typeof this.human === 'string' && !/^(true|false|1|0)$/i.test(this.human)) {
      throw new UsageError(`invalid argument "${this.human}" for "-H, --human" flag: use true or false`);
    }
    const rows = imageHistory(this.engine, this.image, { human, noTrunc: this.noTrunc });
    this.out(renderList(rows, { format: this.format, quiet: this.quiet }, { defaultFormat: HISTORY_DEFAULT_FORMAT, headers: HISTORY_HEADERS }));
    return 0;
  }
}
