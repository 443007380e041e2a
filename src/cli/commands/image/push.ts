import { Command, Option } from 'clipanion';
import { tlsVerifyFlag } from '../../options/tls';
import { SkiffCommand } from '../../base';

export class PushCommand extends SkiffCommand {
  static override paths = [['push'], ['image', 'push']];
  static override usage = Command.Usage({
    description: 'Upload an image to a registry',
    details: 'Sends the layers the registry does not have yet (mounting them from another repository of the same registry when the image came from there), then the config and the manifest. Log in first with `skiff login` when the registry needs it.',
    examples: [['Push to a local registry', '$0 push localhost:5000/app:v1']],
  });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Suppress verbose output' });
  tlsVerify = Option.String('--tls-verify', { tolerateBoolean: true, description: 'Require HTTPS and verify certificates (--tls-verify=false for an insecure registry)' });
  name = Option.String({ name: 'NAME[:TAG]' });

  async execute(): Promise<number> {
    const { pushImage } = await import('../../../engine/push');
    await pushImage(this.engine, this.name, { out: this.context.stdout as NodeJS.WriteStream, quiet: this.quiet, tlsVerify: tlsVerifyFlag(this.tlsVerify) });
    return 0;
  }
}
