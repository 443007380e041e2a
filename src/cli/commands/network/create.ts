import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class NetworkCreateCommand extends SkiffCommand {
  static override paths = [['network', 'create']];
  static override usage = Command.Usage({
    description: 'Create a network',
    details: 'Creates a user-defined bridge network and prints its ID. Containers on it (`run --network NAME`, `network connect`) reach each other by name and by `--network-alias`; containers on different networks cannot reach each other; an `--internal` network has no way out. Without --subnet the first free /24 of 10.89.1.0-10.89.255.0 is taken; the gateway is the first address unless --gateway says otherwise. Rootless, the bridges live in one network namespace of the user\'s, kept by a small holder process while containers use it, with slirp4netns as the way out (docs/ARCHITECTURE.md, "User-defined networks").',
    examples: [['A network with its own subnet', '$0 network create --subnet 10.90.0.0/24 app'], ['A network with no way out', '$0 network create --internal backend']],
  });
  attachable = Option.Boolean('--attachable', false, { description: 'Enable manual container attachment' });
  driver = Option.String('-d,--driver', { description: 'Driver to manage the Network (default "bridge")' });
  gateway = Option.Array('--gateway', { description: 'IPv4 or IPv6 Gateway for the master subnet' });
  internal = Option.Boolean('--internal', false, { description: 'Restrict external access to the network' });
  ipv6 = Option.Boolean('--ipv6', false, { description: 'Enable or disable IPv6 address assignment' });
  label = Option.Array('--label', [], { description: 'Set metadata on a network' });
  opt = Option.Array('-o,--opt', [], { description: 'Set driver specific options' });
  subnet = Option.Array('--subnet', { description: 'Subnet in CIDR format that represents a network segment' });
  name = Option.String({ name: 'NETWORK' });

  async execute(): Promise<number> {
    const { createNetwork, keyValues } = await import('../../../engine/network-create');
    if (this.ipv6) {
      const { InvalidError } = await import('../../../errors');
      throw new InvalidError('IPv6 is not supported on skiff networks yet: create the network without --ipv6');
    }
    const n = await createNetwork(this.engine, this.name, {
      driver: this.driver, subnet: this.subnet, gateway: this.gateway, internal: this.internal,
      labels: keyValues(this.label), options: keyValues(this.opt),
    });
    this.out(`${n.id}\n`);
    return 0;
  }
}
