import fs from 'node:fs';
import { Command, Option } from 'clipanion';
import { SkiffError } from '../../../util/errors';
import { SkiffCommand } from '../../base';

export class LoadCommand extends SkiffCommand {
  static override paths = [['load'], ['image', 'load']];
  static override usage = Command.Usage({
    description: 'Load an image from a tar archive or STDIN',
    details: 'Reads a Docker archive (docker save) or an OCI archive. Every blob is verified against its digest before anything is stored.',
    examples: [['Load from a file', '$0 load -i busybox.tar'], ['Load from stdin', '$0 load < busybox.tar']],
  });
  input = Option.String('-i,--input', { description: 'Read from tar archive file, instead of STDIN' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Suppress the load output' });

  async execute(): Promise<number> {
    const { loadImages } = await import('../../../engine/load');
    if (!this.input && process.stdin.isTTY) {
      throw new SkiffError('requested load from stdin, but stdin is empty: use -i FILE or pipe an archive in');
    }
    let input: NodeJS.ReadableStream;
    if (this.input) {
      try { fs.accessSync(this.input, fs.constants.R_OK); } catch (e) {
        throw new SkiffError(`open ${this.input}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`, 1);
      }
      input = fs.createReadStream(this.input);
    } else {
      input = process.stdin;
    }
    const lines = await loadImages(this.engine, input as import('node:stream').Readable);
    if (!this.quiet) this.out(lines.map((l) => `${l}\n`).join(''));
    return 0;
  }
}
