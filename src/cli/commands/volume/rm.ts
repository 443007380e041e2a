import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';
import { forEachTarget } from '../../targets';

export class VolumeRmCommand extends SkiffCommand {
  static override paths = [['volume', 'rm'], ['volume', 'remove']];
  static override usage = Command.Usage({
    description: 'Remove one or more volumes. You cannot remove a volume that is in use by a container.',
    details: 'A volume that any container uses, running or stopped, is refused (remove the container first, with -v for its anonymous volumes). With -f a volume that does not exist is no error.',
    examples: [['Remove a volume', '$0 volume rm data']],
  });
  force = Option.Boolean('-f,--force', false, { description: 'Force the removal of one or more volumes' });
  volumes = Option.Rest({ required: 1, name: 'VOLUME' });

  async execute(): Promise<number> {
    const { removeVolume } = await import('../../../engine/volume-remove');
    // -f: the daemon answers a missing volume with success, so Docker prints its name too
    return forEachTarget(this, this.volumes, (name) => removeVolume(this.engine, name, this.force), {
      done: (name) => this.out(`${name}\n`),
    });
  }
}
