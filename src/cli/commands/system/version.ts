import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class VersionCommand extends SkiffCommand {
  static override paths = [['version']];
  static override usage = Command.Usage({
    description: 'Show the skiff version information',
    details: 'Shows the version of skiff and of the Node.js runtime built into it.',
  });
  format = Option.String('-f,--format', { description: 'Format the output using a Go template ({{.Client.Version}}, {{.Client.NodeVersion}}, {{json .}})' });

  async execute(): Promise<number> {
    const { clientVersion, formatVersion, versionText } = await import('../../../engine/version');
    const client = clientVersion();
    this.out(this.format ? formatVersion(this.format, client) : versionText(client));
    return 0;
  }
}
