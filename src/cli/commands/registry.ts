import { Command, Option } from 'clipanion';
import { SkiffError } from '../../util/errors';
import { SkiffCommand } from '../base';

/** `--tls-verify[=true|false]` as Podman spells it (Docker has only per-registry config). */
export function tlsVerifyFlag(value: string | boolean | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === true || value === 'true') return true;
  if (value === 'false') return false;
  throw new SkiffError(`invalid value "${value}" for --tls-verify: use true or false`);
}

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
    const { pullImage } = await import('../../engine/pull');
    await pullImage(this.engine, this.name, {
      out: this.context.stdout as NodeJS.WriteStream, quiet: this.quiet, platform: this.platform, tlsVerify: tlsVerifyFlag(this.tlsVerify),
    });
    return 0;
  }
}

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
    const { pushImage } = await import('../../engine/push');
    await pushImage(this.engine, this.name, { out: this.context.stdout as NodeJS.WriteStream, quiet: this.quiet, tlsVerify: tlsVerifyFlag(this.tlsVerify) });
    return 0;
  }
}
