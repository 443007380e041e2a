import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class LogoutCommand extends SkiffCommand {
  static override paths = [['logout']];
  static override usage = Command.Usage({
    description: 'Log out from a registry',
    details: 'Defaults to Docker Hub if no server is specified. Removes the credentials skiff stored (in its auth.json or its credential helper); those of ~/.docker/config.json are left to `docker logout`.',
    examples: [['Log out from a local registry', '$0 logout localhost:5000']],
  });
  server = Option.String({ required: false, name: 'SERVER' });

  async execute(): Promise<number> {
    const { logout } = await import('../../../engine/login');
    await logout(this.engine, { server: this.server, stdout: this.context.stdout, stderr: this.context.stderr });
    return 0;
  }
}
