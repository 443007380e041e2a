import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class PortCommand extends SkiffCommand {
  static override paths = [['port']];
  static override usage = Command.Usage({
    description: 'List port mappings or a specific mapping for the container',
    details: 'One line per published port, `PORT/PROTO -> HOSTIP:HOSTPORT` (only `HOSTIP:HOSTPORT` when PRIVATE_PORT is given), as `docker port`.',
    examples: [['Every mapping', '$0 port web'], ['Where port 80 went', '$0 port web 80/tcp']],
  });
  container = Option.String({ name: 'CONTAINER' });
  privatePort = Option.String({ name: 'PRIVATE_PORT[/PROTO]', required: false });

  async execute(): Promise<number> {
    const { containerPortLines } = await import('../../../engine/port');
    this.out(containerPortLines(this.engine, this.container, this.privatePort).map((l) => `${l}\n`).join(''));
    return 0;
  }
}
