import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class VersionCommand extends SkiffCommand {
  static override paths = [['version']];
  static override usage = Command.Usage({
    description: 'Show the skiff version information',
    details: 'Shows the version of skiff and of the Node.js runtime built into it. --format takes a Go template over {{.Client.Version}}, {{.Client.ApiVersion}}, {{.Client.NodeVersion}}, {{.Client.Os}}, {{.Client.Arch}}, {{.Client.Rootless}}, or `json`.',
  });
  format = Option.String('-f,--format', { description: 'Format the output using a Go template ({{.Client.Version}}, {{.Client.NodeVersion}}, {{json .}})' });

  async execute(): Promise<number> {
    const { clientVersion, versionInfo } = await import('../../../engine/version');
    const { renderObject } = await import('../../output/render');
    const { versionText } = await import('../../output/version');
    const info = versionInfo(clientVersion());
    this.out(renderObject(info, this.format, () => versionText(info)));
    return 0;
  }
}
