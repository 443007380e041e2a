import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class HealthcheckRunCommand extends SkiffCommand {
  static override paths = [['healthcheck', 'run']];
  static override usage = Command.Usage({
    description: 'Run the healthcheck of a container now',
    details: "Runs the container's healthcheck once (as the monitor does at every interval), records the result and prints the health: healthy (exit 0), unhealthy (exit 1) or starting (exit 1), as Podman's command.",
    examples: [['Check a container', '$0 healthcheck run mycontainer']],
  });
  container = Option.String({ name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { runningContainer } = await import('../../../engine/exec');
    const { runHealthcheckNow } = await import('../../../engine/healthcheck');
    const state = await runHealthcheckNow(this.engine, runningContainer(this.engine, this.container));
    this.out(`${state.Status}\n`);
    return state.Status === 'healthy' ? 0 : 1;
  }
}
