import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class CpCommand extends SkiffCommand {
  static override paths = [['cp']];
  static override usage = Command.Usage({
    description: 'Copy files/folders between a container and the local filesystem',
    details: "Use '-' as the source to read a tar archive from stdin and extract it to a directory destination in a container. Use '-' as the destination to stream a tar archive of a container source to stdout. Paths in the container are resolved inside its root: a symlink there never leads to the host.",
    examples: [
      ['Copy a file out', '$0 cp web:/etc/nginx/nginx.conf .'],
      ['Copy a directory\'s contents in', '$0 cp ./site/. web:/usr/share/html'],
      ['Stream a tar of a directory', '$0 cp web:/var/log - | tar t'],
    ],
  });
  archive = Option.Boolean('-a,--archive', false, { description: 'Archive mode (copy all uid/gid information)' });
  followLink = Option.Boolean('-L,--follow-link', false, { description: 'Always follow symbol link in SRC_PATH' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached' });
  src = Option.String({ name: 'SRC_PATH' });
  dst = Option.String({ name: 'DEST_PATH' });

  async execute(): Promise<number> {
    const { copy } = await import('../../../engine/cp');
    await copy(this.engine, this.src, this.dst, { archive: this.archive, followLink: this.followLink, quiet: this.quiet },
      (line) => this.context.stderr.write(line));
    return 0;
  }
}
