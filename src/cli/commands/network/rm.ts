import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';
import { forEachTarget } from '../../targets';

export class NetworkRmCommand extends SkiffCommand {
  static override paths = [['network', 'rm'], ['network', 'remove']];
  static override usage = Command.Usage({
    description: 'Remove one or more networks',
    details: 'A network that a container is on (running or not) is refused: remove the container or `network disconnect` it first. Each network removed is printed as it was named. With -f, a network that does not exist is no error.',
  });
  force = Option.Boolean('-f,--force', false, { description: 'Do not error if the network does not exist' });
  networks = Option.Rest({ required: 1, name: 'NETWORK' });

  async execute(): Promise<number> {
    const { removeNetwork } = await import('../../../engine/network-remove');
    const { NotFoundError } = await import('../../../errors');
    let code = 0;
    for (const ref of this.networks) {
      const c = await forEachTarget(this, [ref], async (r) => {
        try {
          await removeNetwork(this.engine, r);
        } catch (e) {
          if (this.force && e instanceof NotFoundError) return false;
          throw e;
        }
        return true;
      }, { done: (r, removed) => { if (removed) this.out(`${r}\n`); } });
      if (code === 0) code = c;
    }
    return code;
  }
}
