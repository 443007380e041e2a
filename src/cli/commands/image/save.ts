import { Command, Option } from 'clipanion';
import { SkiffError } from '../../../util/errors';
import { SkiffCommand } from '../../base';

export class SaveCommand extends SkiffCommand {
  static override paths = [['save'], ['image', 'save']];
  static override usage = Command.Usage({
    description: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
    details: 'The default docker-archive is what Docker 25+ writes (an OCI layout with manifest.json), so `docker load` and `skiff load` read it; oci-archive is a plain OCI image layout. A repository name without a tag saves all its tags. Layers are written as they are stored, and the manifest is the one the image was pulled with, so digests survive a save/load/push round trip.',
    examples: [['To a file', '$0 save -o busybox.tar busybox'], ['Compressed, several images', '$0 save busybox alpine:3 | gzip > images.tar.gz'], ['OCI layout', '$0 save --format oci-archive -o busybox-oci.tar busybox']],
  });
  output = Option.String('-o,--output', { description: 'Write to a file, instead of STDOUT' });
  format = Option.String('--format', 'docker-archive', { description: 'docker-archive (default) or oci-archive' });
  images = Option.Rest({ required: 1, name: 'IMAGE' });

  async execute(): Promise<number> {
    if (this.format !== 'docker-archive' && this.format !== 'oci-archive') {
      throw new SkiffError(`unsupported save format "${this.format}": use docker-archive or oci-archive`, 125);
    }
    if (!this.output && process.stdout.isTTY) {
      throw new SkiffError('cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
    }
    const { saveToFile, saveToStream } = await import('../../../engine/save');
    if (this.output) await saveToFile(this.engine, this.images, this.format, this.output);
    else {
      const { exitReaderGone, isReaderGone } = await import('../../../util/reader-gone');
      // `save | head`: the write that finds the pipe closed ends the command, quietly
      process.stdout.on('error', (e) => { if (isReaderGone(e)) exitReaderGone(); });
      try {
        await saveToStream(this.engine, this.images, this.format, process.stdout);
      } catch (e) {
        if (isReaderGone(e)) exitReaderGone();
        throw e;
      }
    }
    return 0;
  }
}
