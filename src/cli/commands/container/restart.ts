import { Command, Option } from 'clipanion';
import { isInt } from '../../options/int-flag';
import { ContainerTargetsCommand } from '../../options/container-targets';

export class RestartCommand extends ContainerTargetsCommand {
  static override paths = [['restart']];
  static override usage = Command.Usage({
    description: 'Restart one or more containers',
    details: 'Stops the container as `stop` does (when it runs), then starts it detached.',
  });
  signal = Option.String('-s,--signal', { description: 'Signal to send to the container' });
  timeout = Option.String('-t,--timeout,--time', { validator: isInt, description: 'Seconds to wait before killing the container' });

  protected appliesToAll(): boolean { return true; }

  async execute(): Promise<number> {
    const timeout = this.timeout;
    const { restartContainer } = await import('../../../engine/restart');
    const { parseSignal } = await import('../../../util/signals');
    if (this.signal !== undefined) parseSignal(this.signal);
    return this.eachContainer(async (name) => { await restartContainer(this.engine, name, { timeout, signal: this.signal }); });
  }
}
