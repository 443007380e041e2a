import { Command } from 'clipanion';
import { ContainerTargetsCommand } from '../../options/container-targets';
import type { ContainerRecord } from '../../../engine/container-store';

export class UnpauseCommand extends ContainerTargetsCommand {
  static override paths = [['unpause']];
  static override usage = Command.Usage({ description: 'Unpause all processes within one or more containers' });

  protected appliesToAll(c: ContainerRecord): boolean { return c.state.status === 'paused'; }

  async execute(): Promise<number> {
    const { unpauseContainer } = await import('../../../engine/pause');
    return this.eachContainer(async (name) => { await unpauseContainer(this.engine, name); });
  }
}
