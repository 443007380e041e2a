import { Command, Option } from 'clipanion';
import { ContainerTargetsCommand } from '../../options/container-targets';
import type { ContainerRecord } from '../../../engine/container-store';

export class KillCommand extends ContainerTargetsCommand {
  static override paths = [['kill']];
  static override usage = Command.Usage({
    description: 'Kill one or more running containers',
    details: 'Sends SIGKILL (and waits until the container is gone), or the signal given with -s (sent, not waited for).',
    examples: [['Ask it to reload', '$0 kill -s HUP web']],
  });
  signal = Option.String('-s,--signal', 'KILL', { description: 'Signal to send to the container' });
  ignore = Option.Boolean('-i,--ignore', false, { description: 'Ignore containers that do not exist (Podman)' });

  protected appliesToAll(c: ContainerRecord): boolean { return c.state.status === 'running' || c.state.status === 'paused'; }
  protected override ignoreMissing(): boolean { return this.ignore; }

  async execute(): Promise<number> {
    const { killContainer } = await import('../../../engine/kill');
    const { parseSignal } = await import('../../../util/signals');
    parseSignal(this.signal);
    return this.eachContainer(async (name) => { await killContainer(this.engine, name, this.signal); });
  }
}
