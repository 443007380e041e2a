import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';
import { isInt } from '../../options/int-flag';

export class NetworkConnectCommand extends SkiffCommand {
  static override paths = [['network', 'connect']];
  static override usage = Command.Usage({
    description: 'Connect a container to a network',
    details: 'Gives the container an address on the network (the next free one, or --ip) and names (its own name, its short ID and each --alias) that the other containers on the network resolve. A running container gets the interface (eth1, eth2...) at once and the running peers\' /etc/hosts are updated; a stopped one gets it when it starts.',
    examples: [['With an alias', '$0 network connect --alias db app mydb'], ['Give this network the default route', '$0 network connect --gw-priority 10 outside mydb']],
  });
  alias = Option.Array('--alias', [], { description: 'Add network-scoped alias for the container' });
  gwPriority = Option.String('--gw-priority', { validator: isInt, description: 'Highest gw-priority provides the default gateway. Accepts positive and negative values.' });
  ip = Option.String('--ip', { description: 'IPv4 address (e.g., "172.30.100.104")' });
  network = Option.String({ name: 'NETWORK' });
  container = Option.String({ name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { connectNetwork } = await import('../../../engine/network-connect');
    await connectNetwork(this.engine, this.network, this.container, { aliases: this.alias, ip: this.ip, gwPriority: this.gwPriority });
    return 0;
  }
}
