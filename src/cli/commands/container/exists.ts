import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class ContainerExistsCommand extends SkiffCommand {
  static override paths = [['container', 'exists']];
  static override usage = Command.Usage({
    description: 'Check if a container exists',
    details: "Podman's: exit 0 when the container exists, 1 when it does not; prints nothing.",
  });
  container = Option.String({ name: 'CONTAINER' });

  async execute(): Promise<number> {
    try {
      return this.engine.containers.find(this.container) ? 0 : 1;
    } catch {
      return 1; // an ambiguous prefix names no one container
    }
  }
}
