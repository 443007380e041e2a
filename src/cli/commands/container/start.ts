import { Command, Option } from 'clipanion';
import { ContainerTargetsCommand } from '../../options/container-targets';
import type { ContainerRecord } from '../../../engine/container-store';

export class StartCommand extends ContainerTargetsCommand {
  static override paths = [['start'], ['container', 'start']];
  static override usage = Command.Usage({
    description: 'Start one or more stopped containers',
    examples: [['Start attached, forwarding stdin', '$0 start -ai mycontainer']],
  });
  // -a is --attach here, as Docker's; Podman's --all has no short form on start
  override all = Option.Boolean('--all', false, { description: 'Start all containers that are not running (Podman)' });
  attach = Option.Boolean('-a,--attach', false, { description: 'Attach STDOUT/STDERR and forward signals' });
  detachKeys = Option.String('--detach-keys', { description: 'Override the key sequence for detaching a container' });
  interactive = Option.Boolean('-i,--interactive', false, { description: "Attach container's STDIN" });

  protected appliesToAll(c: ContainerRecord): boolean { return c.state.status === 'created' || c.state.status === 'exited'; }

  async execute(): Promise<number> {
    const { startContainer } = await import('../../../engine/start');
    const attach = this.attach || this.interactive;
    if (attach && this.containers.length) {
      // attached: the container's exit code is ours, and nothing is printed for it
      let code = 0;
      for (const name of this.containers) {
        const c = this.engine.containers.mustFind(name);
        code = (await startContainer(this.engine, c, { attach, interactive: this.interactive, detachKeys: this.detachKeys })) ?? 0;
      }
      return code;
    }
    return this.eachContainer(async (name) => {
      await startContainer(this.engine, this.engine.containers.mustFind(name), { attach: false, interactive: false });
    });
  }
}
