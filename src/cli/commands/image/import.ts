import fs from 'node:fs';
import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class ImportCommand extends SkiffCommand {
  static override paths = [['import'], ['image', 'import']];
  static override usage = Command.Usage({
    description: 'Import the contents from a tarball to create a filesystem image',
    details: 'The tarball (plain, gzip or zstd) comes from a file, from STDIN (`-`) or from an http(s) URL, and becomes a one-layer image; the new image ID is printed. -c applies Dockerfile instructions to its config: CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR. Entries that would land outside the image (.. paths, links pointing out) are refused.',
    examples: [
      ['From a file, with a tag', '$0 import rootfs.tar myimage:1.0'],
      ['From STDIN, with a default command', 'tar -C rootfs -c . | $0 import -c \'CMD ["/bin/sh"]\' - myimage'],
      ['From a URL', '$0 import https://example.com/rootfs.tar.gz example/imported'],
    ],
  });
  change = Option.Array('-c,--change', [], { description: 'Apply Dockerfile instruction to the created image' });
  message = Option.String('-m,--message', { description: 'Set commit message for imported image' });
  platform = Option.String('--platform', { description: 'Set platform (os/arch[/variant]) of the image; default: this host' });
  source = Option.String({ name: 'file|URL|-' });
  reference = Option.String({ required: false, name: 'REPOSITORY[:TAG]' });

  async execute(): Promise<number> {
    const { importImage } = await import('../../../engine/import');
    const id = await importImage(this.engine, {
      source: this.source, reference: this.reference, changes: this.change, message: this.message,
      platform: this.platform, stdin: process.stdin,
    });
    this.out(`${id}\n`);
    return 0;
  }
}
