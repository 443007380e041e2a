import { Command, Option } from 'clipanion';
import { tlsVerifyFlag } from '../../options/tls';
import { SkiffCommand } from '../../base';

export class LoginCommand extends SkiffCommand {
  static override paths = [['login']];
  static override usage = Command.Usage({
    description: 'Authenticate to a registry',
    details: 'Defaults to Docker Hub if no server is specified. The credentials are checked against the registry, then stored in the auth.json of skiff (~/.config/skiff/auth.json, /etc/skiff/auth.json as root; Docker config.json format, mode 0600), or in the credential helper that file names (credsStore, credHelpers). ~/.docker/config.json is read too, never written.',
    examples: [
      ['Log in to a local registry, the password on stdin', 'cat pw.txt | $0 login -u alice --password-stdin localhost:5000'],
      ['Log in to Docker Hub interactively', '$0 login'],
    ],
  });
  username = Option.String('-u,--username', { description: 'Username' });
  password = Option.String('-p,--password', { description: 'Password' });
  passwordStdin = Option.Boolean('--password-stdin', false, { description: 'Take the password from stdin' });
  tlsVerify = Option.String('--tls-verify', { tolerateBoolean: true, description: 'Require HTTPS and verify certificates (--tls-verify=false for an insecure registry)' });
  server = Option.String({ required: false, name: 'SERVER' });

  async execute(): Promise<number> {
    const { login } = await import('../../../engine/login');
    await login(this.engine, {
      server: this.server, username: this.username, password: this.password, passwordStdin: this.passwordStdin,
      tlsVerify: tlsVerifyFlag(this.tlsVerify),
      stdin: this.context.stdin, stdout: this.context.stdout, stderr: this.context.stderr,
    });
    return 0;
  }
}
