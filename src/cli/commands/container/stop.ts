import { Command, Option } from 'clipanion';
import { isInt } from '../../options/int-flag';
import { ContainerTargetsCommand } from '../../options/container-targets';
import type { ContainerRecord } from '../../../engine/container-store';

export class StopCommand extends ContainerTargetsCommand {
  static override paths = [['stop']];
  static override usage = Command.Usage({
    description: 'Stop one or more running containers',
    details: "Sends the container's stop signal (--stop-signal, the image's STOPSIGNAL, else SIGTERM), then SIGKILL once the timeout (--stop-timeout, else 10 s; -1 waits for ever) has passed.",
    examples: [['Give it 30 seconds', '$0 stop -t 30 web']],
  });
  signal = Option.String('-s,--signal', { description: 'Signal to send to the container' });
  timeout = Option.String('-t,--timeout,--time', { validator: isInt, description: 'Seconds to wait before killing the container' });
  ignore = Option.Boolean('-i,--ignore', false, { description: 'Ignore containers that do not exist (Podman)' });

  protected appliesToAll(c: ContainerRecord): boolean { return c.state.status === 'running' || c.state.status === 'paused'; }
  protected override ignoreMissing(): boolean { return this.ignore; }

  async execute(): Promise<number> {
    const timeout = this.timeout;
    const { stopContainer } = await import('../../../engine/stop');
    const { parseSignal } = await import('../../../util/signals');
    if (this.signal !== undefined) parseSignal(this.signal);
    return this.eachContainer(async (name) => { await stopContainer(this.engine, name, { timeout, signal: this.signal }); });
  }
}
