import { Command, Option } from 'clipanion';
import { reportInspect } from '../../output/inspect';
import { SkiffCommand } from '../../base';

export class NetworkInspectCommand extends SkiffCommand {
  static override paths = [['network', 'inspect']];
  static override usage = Command.Usage({
    description: 'Display detailed information on one or more networks',
    details: 'Prints a JSON array in the format of `docker network inspect` (Name, Id, Created, Scope, Driver, IPAM.Config with Subnet and Gateway, Internal, Containers: the running containers with their addresses, Options, Labels). With --format, each network goes through a Go template instead.',
    examples: [['The subnet', "$0 network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' app"]],
  });
  format = Option.String('-f,--format', { description: 'Format output using a custom template' });
  verbose = Option.Boolean('-v,--verbose', false, { description: 'Verbose output for diagnostics' });
  networks = Option.Rest({ required: 1, name: 'NETWORK' });

  async execute(): Promise<number> {
    const { inspectNetworks } = await import('../../../engine/network-inspect');
    return reportInspect(this, inspectNetworks(this.engine, this.networks), this.format);
  }
}
