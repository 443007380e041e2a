import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class TagCommand extends SkiffCommand {
  static override paths = [['tag'], ['image', 'tag']];
  static override usage = Command.Usage({
    description: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
    details: 'SOURCE_IMAGE is a name or an image ID. TARGET_IMAGE is normalised as Docker does (`busybox` is docker.io/library/busybox:latest); a tag another image had moves to this one.',
    examples: [['Tag for a local registry', '$0 tag busybox localhost:5000/tools/busybox:1.36']],
  });
  source = Option.String({ name: 'SOURCE_IMAGE[:TAG]' });
  target = Option.String({ name: 'TARGET_IMAGE[:TAG]' });

  async execute(): Promise<number> {
    const { tagImage } = await import('../../../engine/tag');
    await tagImage(this.engine, this.source, this.target);
    return 0;
  }
}
