import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class InfoCommand extends SkiffCommand {
  static override paths = [['info'], ['system', 'info']];
  static override usage = Command.Usage({
    description: 'Display system-wide information',
    details: 'Shows whether skiff runs rootless, the UID/GID mappings, the storage driver and paths, the kernel, and which helper programs were found. --format takes a Go template over Docker\'s field names where skiff has the thing (.Containers, .ContainersRunning, .Images, .Driver, .KernelVersion, .OperatingSystem, .Architecture, .NCPU, .MemTotal, .DockerRootDir, .ServerVersion, .CgroupVersion, .SecurityOptions) and skiff\'s own under .Skiff (.Skiff.Rootless, .Skiff.UIDMap, .Skiff.Helpers...), or `json`.',
    examples: [['The storage driver', "$0 info --format '{{.Driver}}'"], ['Everything as JSON', "$0 info --format '{{json .}}'"]],
  });
  format = Option.String('-f,--format', { description: 'Format output using a Go template, or "json"' });

  async execute(): Promise<number> {
    const { systemInfo } = await import('../../../engine/info');
    const { renderObject } = await import('../../output/render');
    const { infoText } = await import('../../output/info');
    const info = systemInfo(this.engine);
    this.out(renderObject(info, this.format, () => infoText(info)));
    return 0;
  }
}
