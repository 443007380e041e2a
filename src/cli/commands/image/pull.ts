import { Command, Option } from 'clipanion';
import { tlsVerifyFlag } from '../../options/tls';
import { SkiffCommand } from '../../base';

export class PullCommand extends SkiffCommand {
  static override paths = [['pull'], ['image', 'pull']];
  static override usage = Command.Usage({
    description: 'Download an image from a registry',
    details: 'Resolves NAME[:TAG|@DIGEST] on its registry (docker.io for short names), picks the manifest for this platform from a multi-platform index, and streams every missing layer through digest verification and unpacking. Layers already present are not downloaded again.',
    examples: [['Pull from Docker Hub', '$0 pull busybox'], ['Pull from a local registry without TLS', '$0 pull --tls-verify=false localhost:5000/app:v1'],
      ['Pull another platform', '$0 pull --platform linux/arm64 alpine']],
  });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Suppress verbose output' });
  platform = Option.String('--platform', { description: 'Set platform if server is multi-platform capable (os/arch[/variant])' });
  tlsVerify = Option.String('--tls-verify', { tolerateBoolean: true, description: 'Require HTTPS and verify certificates (--tls-verify=false for an insecure registry)' });
  name = Option.String({ name: 'NAME[:TAG|@DIGEST]' });

  async execute(): Promise<number> {
    const { pullImage } = await import('../../../engine/pull');
    await pullImage(this.engine, this.name, {
      out: this.context.stdout as NodeJS.WriteStream, quiet: this.quiet, platform: this.platform, tlsVerify: tlsVerifyFlag(this.tlsVerify),
    });
    return 0;
  }
}
