import fs from 'node:fs';
import { Command, Option } from 'clipanion';
import { SkiffError } from '../../util/errors';
import { SkiffCommand } from '../base';

export class ImagesCommand extends SkiffCommand {
  static override paths = [['images'], ['image', 'ls'], ['image', 'list']];
  static override usage = Command.Usage({
    description: 'List images',
    details: `Filters (\`-f key=value\`, repeatable; different keys must all match): \`dangling=true|false\`, \`reference=PATTERN\` (a glob on the familiar name, with or without tag: \`busybox\`, \`*/app:v*\`), \`label=KEY\` or \`label=KEY=VALUE\` (all must match), \`before=IMAGE\`, \`since=IMAGE\`, \`until=TIMESTAMP\`.

--format takes a Go template (\`table\` prefix for columns with a header, \`json\` for one JSON object per line) over .ID, .Repository, .Tag, .Digest, .CreatedSince, .CreatedAt, .Size.`,
    examples: [
      ['Dangling images only', '$0 images -f dangling=true'],
      ['Images of one repository, by glob', "$0 images --filter 'reference=skiff-test/*'"],
      ['Custom columns', "$0 images --format 'table {{.Repository}}:{{.Tag}}\\t{{.Size}}'"],
    ],
  });
  all = Option.Boolean('-a,--all', false, { description: 'Show all images' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Only show image IDs' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: "Don't truncate output" });
  digests = Option.Boolean('--digests', false, { description: 'Show digests' });
  filter = Option.Array('-f,--filter', [], { description: 'Filter output based on conditions provided (key=value)' });
  format = Option.String('--format', { description: 'Format output using a Go template, "table", "table TEMPLATE" or "json"' });
  reference = Option.String({ required: false, name: 'REPOSITORY[:TAG]' });

  async execute(): Promise<number> {
    const { listImages } = await import('../../engine/images');
    this.out(listImages(this.engine, {
      all: this.all, quiet: this.quiet, noTrunc: this.noTrunc, reference: this.reference,
      filters: this.filter, format: this.format, digests: this.digests,
    }));
    return 0;
  }
}

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
    const { loadImages } = await import('../../engine/load');
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

export class RmiCommand extends SkiffCommand {
  static override paths = [['rmi'], ['image', 'rm'], ['image', 'remove']];
  static override usage = Command.Usage({ description: 'Remove one or more images' });
  force = Option.Boolean('-f,--force', false, { description: 'Force removal of the image' });
  images = Option.Rest({ required: 1, name: 'IMAGE' });

  async execute(): Promise<number> {
    const { removeImage } = await import('../../engine/images');
    let code = 0;
    for (const name of this.images) {
      try {
        this.out((await removeImage(this.engine, name, this.force)).map((l) => `${l}\n`).join(''));
      } catch (e) {
        this.context.stderr.write(`Error response from skiff: ${(e as Error).message}\n`);
        code = (e as { exitCode?: number }).exitCode ?? 1;
      }
    }
    return code;
  }
}
