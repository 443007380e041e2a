import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../base';

import { VERSION } from '../../util/version';

export class VersionCommand extends SkiffCommand {
  static override paths = [['version']];
  static override usage = Command.Usage({ description: 'Show the skiff version information' });
  format = Option.String('-f,--format', { description: 'Only "{{.Version}}" is supported for now' });

  async execute(): Promise<number> {
    if (this.format) {
      this.out(`${this.format.replace(/\{\{\s*\.(Client\.)?Version\s*\}\}/g, VERSION)}\n`);
      return 0;
    }
    this.out([
      `Version:      ${VERSION}`,
      `API version:  none (daemonless)`,
      `Node version: ${process.version}`,
      `OS/Arch:      linux/${process.arch === 'x64' ? 'amd64' : process.arch}`,
      `Rootless:     ${process.getuid!() !== 0}`,
    ].join('\n') + '\n');
    return 0;
  }
}

export class InfoCommand extends SkiffCommand {
  static override paths = [['info'], ['system', 'info']];
  static override usage = Command.Usage({
    description: 'Display system-wide information',
    details: 'Shows whether skiff runs rootless, the UID/GID mappings, the storage driver and paths, the kernel, and which helper programs were found.',
  });

  async execute(): Promise<number> {
    const { info } = await import('../../engine/info');
    this.out(info(this.engine));
    return 0;
  }
}
