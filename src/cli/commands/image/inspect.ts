import { Command, Option } from 'clipanion';
import { reportInspect } from '../../output/inspect';
import { SkiffCommand } from '../../base';

export class ImageInspectCommand extends SkiffCommand {
  static override paths = [['image', 'inspect']];
  static override usage = Command.Usage({
    description: 'Display detailed information on one or more images',
    details: 'Prints a JSON array in the format of `docker image inspect` (Id, RepoTags, RepoDigests, Created, Config, Architecture, Os, Size, GraphDriver, RootFS, Metadata). With --format, each image goes through a Go template instead (Docker\'s functions json, join, split, upper, lower, title, pad, truncate are available). Images that are not found are reported on stderr and the command exits 1, after printing the others.',
    examples: [
      ['The image ID', "$0 image inspect --format '{{.Id}}' busybox"],
      ['The config as JSON', "$0 image inspect -f '{{json .Config}}' busybox"],
      ['Environment, one per line', "$0 image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' busybox"],
    ],
  });
  format = Option.String('-f,--format', { description: 'Format output using a Go template' });
  images = Option.Rest({ required: 1, name: 'IMAGE' });

  async execute(): Promise<number> {
    const { inspectImages } = await import('../../../engine/inspect');
    return reportInspect(this, inspectImages(this.engine, this.images), this.format);
  }
}
