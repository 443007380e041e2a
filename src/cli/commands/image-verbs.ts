import { Command, Option } from 'clipanion';
import { SkiffError } from '../../util/errors';
import { SkiffCommand } from '../base';

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
    const { tagImage } = await import('../../engine/tag');
    await tagImage(this.engine, this.source, this.target);
    return 0;
  }
}

/** Print what inspect found, then its errors as Docker does ("Error: ..." lines, exit 1). */
function reportInspect(cmd: SkiffCommand, r: { stdout: string; errors: string[] }): number {
  cmd.context.stdout.write(r.stdout);
  for (const e of r.errors) cmd.context.stderr.write(`Error: ${e}\n`);
  return r.errors.length ? 1 : 0;
}

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
    const { inspectImages } = await import('../../engine/inspect');
    return reportInspect(this, inspectImages(this.engine, this.images, this.format));
  }
}

export class InspectCommand extends SkiffCommand {
  static override paths = [['inspect']];
  static override usage = Command.Usage({
    description: 'Return low-level information on skiff objects',
    details: 'Images for now (containers will follow): the same output as `skiff image inspect`.',
    examples: [['An image\'s entrypoint', "$0 inspect -f '{{json .Config.Entrypoint}}' busybox"]],
  });
  format = Option.String('-f,--format', { description: 'Format output using a Go template' });
  type = Option.String('--type', { description: 'Only inspect objects of the given type (image)' });
  size = Option.Boolean('-s,--size', false, { description: 'Display total file sizes (accepted; image sizes are always shown)' });
  names = Option.Rest({ required: 1, name: 'NAME|ID' });

  async execute(): Promise<number> {
    if (this.type !== undefined && this.type !== 'image') {
      if (this.type === 'container') throw new SkiffError('inspect --type container is not supported yet; skiff inspect shows images for now', 125);
      throw new SkiffError(`"${this.type}" is not a valid value for --type`, 125);
    }
    const { inspectImages } = await import('../../engine/inspect');
    const word = this.type === 'image' ? 'image' : 'object';
    return reportInspect(this, inspectImages(this.engine, this.names, this.format, (n) => `No such ${word}: ${n}`));
  }
}

export class HistoryCommand extends SkiffCommand {
  static override paths = [['history'], ['image', 'history']];
  static override usage = Command.Usage({
    description: 'Show the history of an image',
    details: 'One line per history entry of the image config, newest first. Only the newest line names the image: the others show <missing>, as Docker does for pulled and loaded images. --format takes a Go template over .ID, .CreatedSince, .CreatedAt, .CreatedBy, .Size, .Comment.',
    examples: [['Exact sizes and dates', '$0 history -H=false busybox'], ['Full commands', '$0 history --no-trunc --format "{{.CreatedBy}}" busybox']],
  });
  human = Option.String('-H,--human', { tolerateBoolean: true, description: 'Print sizes and dates in human readable format (default true; -H=false to turn off)' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: "Don't truncate output" });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Only show image IDs' });
  format = Option.String('--format', { description: 'Format output using a Go template, "table", "table TEMPLATE" or "json"' });
  image = Option.String({ name: 'IMAGE' });

  async execute(): Promise<number> {
    const { imageHistory } = await import('../../engine/history');
    const human = this.human === undefined || this.human === true || !/^(false|0)$/i.test(String(this.human));
    if (typeof this.human === 'string' && !/^(true|false|1|0)$/i.test(this.human)) {
      throw new SkiffError(`invalid argument "${this.human}" for "-H, --human" flag: use true or false`, 125);
    }
    this.out(imageHistory(this.engine, this.image, { human, noTrunc: this.noTrunc, quiet: this.quiet, format: this.format }));
    return 0;
  }
}

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
    const { saveToFile, saveToStream } = await import('../../engine/save');
    if (this.output) await saveToFile(this.engine, this.images, this.format, this.output);
    else await saveToStream(this.engine, this.images, this.format, process.stdout);
    return 0;
  }
}

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
    const { importImage } = await import('../../engine/import');
    const id = await importImage(this.engine, {
      source: this.source, reference: this.reference, changes: this.change, message: this.message,
      platform: this.platform, stdin: process.stdin,
    });
    this.out(`${id}\n`);
    return 0;
  }
}

export class ImagePruneCommand extends SkiffCommand {
  static override paths = [['image', 'prune']];
  static override usage = Command.Usage({
    description: 'Remove unused images',
    details: 'Removes dangling images (without a tag), or with -a every image, that no container (running or stopped) was created from, then the layers and blobs no image or container needs. Asks first unless -f; with no answer (STDIN closed or empty) nothing is removed. Filters: `until=TIMESTAMP` (or a duration such as 24h), `label=KEY[=VALUE]`, `label!=KEY[=VALUE]`.',
    examples: [['Without asking', '$0 image prune -f'], ['Every unused image older than a day', '$0 image prune -a -f --filter until=24h']],
  });
  all = Option.Boolean('-a,--all', false, { description: 'Remove all unused images, not just dangling ones' });
  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });
  filter = Option.Array('--filter', [], { description: 'Provide filter values (e.g. "until=<timestamp>")' });

  async execute(): Promise<number> {
    const { formatPruneReport, pruneImages, pruneWarning } = await import('../../engine/prune');
    const { parseFilters, PRUNE_FILTERS } = await import('../../engine/image-filters');
    parseFilters(this.filter, PRUNE_FILTERS); // a bad filter fails before the question
    if (!this.force) {
      const { confirm } = await import('../../util/prompt');
      if (!(await confirm(pruneWarning(this.all), process.stdin, this.context.stdout))) return 0;
    }
    this.out(formatPruneReport(await pruneImages(this.engine, { all: this.all, filters: this.filter })));
    return 0;
  }
}
