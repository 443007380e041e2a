import { Command } from 'clipanion';
import { ContainerTargetsCommand } from '../../options/container-targets';
import type { ContainerRecord } from '../../../engine/container-store';

export class PauseCommand extends ContainerTargetsCommand {
  static override paths = [['pause']];
  static override usage = Command.Usage({
    description: 'Pause all processes within one or more containers',
    details: "Freezes the container's processes with the cgroup freezer: as root on a cgroup v1 host; rootless on cgroup v1 it cannot, and says so.",
  });

  protected appliesToAll(c: ContainerRecord): boolean { return c.state.status === 'running'; }

  async execute(): Promise<number> {
    const { pauseContainer } = await import('../../../engine/pause');
    return this.eachContainer(async (name) => { await pauseContainer(this.engine, name); });
  }
}
