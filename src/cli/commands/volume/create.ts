import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class VolumeCreateCommand extends SkiffCommand {
  static override paths = [['volume', 'create']];
  static override usage = Command.Usage({
    description: 'Create a volume',
    details: 'Creates a volume of the local driver and prints its name (a random one when none is given; such a volume counts as anonymous for `volume prune`). A volume of that name that exists already is kept as it is and its name printed. Options of the local driver: `type`, `device` and `o` as for mount(8), e.g. `-o type=tmpfs -o device=tmpfs -o o=size=64m`, or `-o type=none -o o=bind -o device=/path`.',
    examples: [['A named volume', '$0 volume create data'], ['A tmpfs volume', '$0 volume create -o type=tmpfs -o device=tmpfs -o o=size=64m scratch']],
  });
  driver = Option.String('-d,--driver', 'local', { description: 'Specify volume driver name' });
  label = Option.Array('--label', [], { description: 'Set metadata for a volume' });
  opt = Option.Array('-o,--opt', [], { description: 'Set driver specific options' });
  name = Option.String({ required: false, name: 'VOLUME' });

  async execute(): Promise<number> {
    const { createVolume } = await import('../../../engine/volume-create');
    this.out(`${await createVolume(this.engine, { name: this.name, driver: this.driver, labels: this.label, opts: this.opt })}\n`);
    return 0;
  }
}
