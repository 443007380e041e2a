import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';
import { isInt } from '../../options/int-flag';
import { forEachTarget } from '../../targets';

export class UpdateCommand extends SkiffCommand {
  static override paths = [['update']];
  static override usage = Command.Usage({
    description: 'Update configuration of one or more containers',
    details: "--restart takes effect at once on a running container: its monitor reads the new policy when the command next exits (a stop by the user still ends it). The cgroup flags are written into the container's own cgroup v2; on a cgroup v1 host, where skiff gives containers no cgroups, they are refused with the reason (exit 1).",
    examples: [
      ['Restart a running container whenever it exits from now on', '$0 update --restart always web'],
      ['Limit memory (cgroup v2 hosts)', '$0 update -m 512m web'],
    ],
  });
  blkioWeight = Option.String('--blkio-weight', { validator: isInt, description: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)' });
  cpuPeriod = Option.String('--cpu-period', { validator: isInt, description: 'Limit CPU CFS (Completely Fair Scheduler) period' });
  cpuQuota = Option.String('--cpu-quota', { validator: isInt, description: 'Limit CPU CFS (Completely Fair Scheduler) quota' });
  cpuRtPeriod = Option.String('--cpu-rt-period', { validator: isInt, description: 'Limit the CPU real-time period in microseconds' });
  cpuRtRuntime = Option.String('--cpu-rt-runtime', { validator: isInt, description: 'Limit the CPU real-time runtime in microseconds' });
  cpuShares = Option.String('-c,--cpu-shares', { validator: isInt, description: 'CPU shares (relative weight)' });
  cpus = Option.String('--cpus', { description: 'Number of CPUs' });
  cpusetCpus = Option.String('--cpuset-cpus', { description: 'CPUs in which to allow execution (0-3, 0,1)' });
  cpusetMems = Option.String('--cpuset-mems', { description: 'MEMs in which to allow execution (0-3, 0,1)' });
  memory = Option.String('-m,--memory', { description: 'Memory limit' });
  memoryReservation = Option.String('--memory-reservation', { description: 'Memory soft limit' });
  memorySwap = Option.String('--memory-swap', { description: 'Swap limit equal to memory plus swap: -1 to enable unlimited swap' });
  pidsLimit = Option.String('--pids-limit', { validator: isInt, description: 'Tune container pids limit (set -1 for unlimited)' });
  restart = Option.String('--restart', { description: 'Restart policy to apply when a container exits' });
  containers = Option.Rest({ required: 1, name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { checkSomethingToUpdate, updateContainer } = await import('../../../engine/update');
    const request = {
      restart: this.restart,
      limits: {
        memory: this.memory, memoryReservation: this.memoryReservation, memorySwap: this.memorySwap, cpus: this.cpus,
        cpuShares: this.cpuShares, cpuPeriod: this.cpuPeriod,
        cpuQuota: this.cpuQuota, cpuRtPeriod: this.cpuRtPeriod,
        cpuRtRuntime: this.cpuRtRuntime, cpusetCpus: this.cpusetCpus, cpusetMems: this.cpusetMems,
        pidsLimit: this.pidsLimit, blkioWeight: this.blkioWeight,
      },
    };
    checkSomethingToUpdate(request);
    return forEachTarget(this, this.containers, (name) => updateContainer(this.engine, name, request), {
      done: (name) => this.out(`${name}\n`),
    });
  }
}
