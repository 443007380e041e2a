import { Command } from 'clipanion';
import { ContainerConfigCommand } from '../../options/container-config';

export class CreateCommand extends ContainerConfigCommand {
  static override paths = [['create'], ['container', 'create']];
  static override usage = Command.Usage({
    description: 'Create a new container',
    details: 'Creates the container and prints its ID; start it with `skiff start`.',
    examples: [['Create, then start attached', '$0 create --name web busybox echo hi && $0 start -a web']],
  });

  /** Docker's run and create report every engine failure as 125 (src/errors.ts) */
  override readonly errorContext = 'run' as const;

  async execute(): Promise<number> {
    const { createContainer } = await import('../../../engine/create');
    const c = await createContainer(this.engine, { ...this.createOptions(), ...await this.healthOptions() });
    this.out(`${c.id}\n`);
    return 0;
  }
}
