import { Command, Option } from 'clipanion';
import { reportInspect } from '../../output/inspect';
import { SkiffCommand } from '../../base';

export class VolumeInspectCommand extends SkiffCommand {
  static override paths = [['volume', 'inspect']];
  static override usage = Command.Usage({
    description: 'Display detailed information on one or more volumes',
    details: 'Prints a JSON array in the format of `docker volume inspect` (CreatedAt, Driver, Labels, Mountpoint, Name, Options, Scope), or each volume through the --format Go template. Volumes that are not found are reported on stderr and the command exits 1, after printing the others.',
    examples: [['Where the data is', "$0 volume inspect -f '{{.Mountpoint}}' data"]],
  });
  format = Option.String('-f,--format', { description: 'Format output using a Go template' });
  volumes = Option.Rest({ required: 1, name: 'VOLUME' });

  async execute(): Promise<number> {
    const { inspectVolumes } = await import('../../../engine/volume-list');
    return reportInspect(this, inspectVolumes(this.engine, this.volumes), this.format);
  }
}
