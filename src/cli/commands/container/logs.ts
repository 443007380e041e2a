import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class LogsCommand extends SkiffCommand {
  static override paths = [['logs']];
  static override usage = Command.Usage({
    description: 'Fetch the logs of a container',
    examples: [['Follow the last 10 lines', '$0 logs -f --tail 10 mycontainer']],
  });
  details = Option.Boolean('--details', false, { description: 'Show extra details provided to logs' });
  follow = Option.Boolean('-f,--follow', false, { description: 'Follow log output' });
  since = Option.String('--since', { description: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' });
  tail = Option.String('-n,--tail', 'all', { description: 'Number of lines to show from the end of the logs' });
  timestamps = Option.Boolean('-t,--timestamps', false, { description: 'Show timestamps' });
  until = Option.String('--until', { description: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' });
  container = Option.String({ name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { showLogs } = await import('../../../engine/logs');
    const c = this.engine.containers.mustFind(this.container);
    await showLogs(this.engine, c, {
      follow: this.follow, tail: this.tail, since: this.since, until: this.until, timestamps: this.timestamps, details: this.details,
    });
    return 0;
  }
}
