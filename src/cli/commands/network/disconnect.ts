import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class NetworkDisconnectCommand extends SkiffCommand {
  static override paths = [['network', 'disconnect']];
  static override usage = Command.Usage({
    description: 'Disconnect a container from a network',
    details: 'A running container loses its interface on the network at once; the address is given up and the peers stop resolving the container\'s names. With -f, a container that is not on the network (or a network that no longer exists) is no error.',
  });
  force = Option.Boolean('-f,--force', false, { description: 'Force the container to disconnect from a network' });
  network = Option.String({ name: 'NETWORK' });
  container = Option.String({ name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { disconnectNetwork } = await import('../../../engine/network-connect');
    await disconnectNetwork(this.engine, this.network, this.container, this.force);
    return 0;
  }
}
