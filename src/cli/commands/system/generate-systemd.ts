import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class GenerateSystemdCommand extends SkiffCommand {
  static override paths = [['generate', 'systemd']];
  static override usage = Command.Usage({
    description: 'Generate a systemd unit file that runs a container',
    details: 'Prints a unit that starts the container with `skiff start -a` and stops it with `skiff stop` (Podman\'s `generate systemd`). Without a daemon nothing restarts containers after a reboot: install the unit (rootless: in ~/.config/systemd/user/, then `systemctl --user enable`) for that. Restart= follows the container\'s --restart policy unless --restart-policy is given.',
    examples: [['Install a user unit for a container', '$0 generate systemd --name --files web && mv container-web.service ~/.config/systemd/user/']],
  });
  name = Option.Boolean('-n,--name', false, { description: 'Use the container name instead of its ID in the unit' });
  files = Option.Boolean('-f,--files', false, { description: 'Write the unit to container-NAME.service in the current directory' });
  time = Option.String('-t,--time', '10', { description: 'Stop timeout override in seconds' });
  restartPolicy = Option.String('--restart-policy', { description: 'systemd restart policy (default: from the container\'s --restart)' });
  container = Option.String({ name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { generateSystemd } = await import('../../../engine/generate-systemd');
    const { SkiffError } = await import('../../../util/errors');
    if (!/^[0-9]+$/.test(this.time)) throw new SkiffError(`invalid argument "${this.time}" for "-t, --time" flag: strconv.ParseUint: parsing "${this.time}": invalid syntax`);
    this.out(generateSystemd(this.engine, this.container, {
      useName: this.name, files: this.files, stopTimeout: Number(this.time), restartPolicy: this.restartPolicy,
    }));
    return 0;
  }
}
