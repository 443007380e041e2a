import { Command, Option } from 'clipanion';
import { ContainerConfigCommand } from '../../options/container-config';
import { ClientError } from '../../../errors';

export class RunCommand extends ContainerConfigCommand {
  static override paths = [['run'], ['container', 'run']];
  static override usage = Command.Usage({
    description: 'Create and run a new container from an image',
    details: 'Runs COMMAND (or the image\'s default) in a new container, rootless. The exit code is the container\'s; 125 means skiff itself failed, 126 that the command cannot be executed, 127 that it was not found.',
    examples: [['Run a shell', '$0 run --rm -it busybox sh'], ['Pipe data through a container', 'echo hi | $0 run -i busybox cat']],
  });
  /** Docker's run and create report every engine failure as 125 (src/errors.ts) */
  override readonly errorContext = 'run' as const;
  detach = Option.Boolean('-d,--detach', false, { description: 'Run container in background and print container ID' });
  sigProxy = Option.Boolean('--sig-proxy', true, { description: 'Proxy received signals to the process' });
  detachKeys = Option.String('--detach-keys', { description: 'Override the key sequence for detaching a container' });

  async execute(): Promise<number> {
    const { createContainer } = await import('../../../engine/create');
    const { startContainer } = await import('../../../engine/start');
    const { parseDetachKeys } = await import('../../../engine/detach-keys');
    parseDetachKeys(this.detachKeys); // refused before the container is created
    const options = this.createOptions();
    const streams = options.attach;
    // docker-cli's own checks, before it asks anything of the daemon (exit 1, not 125)
    if (this.detach && this.attach.length) throw new ClientError('conflicting options: cannot specify both --attach and --detach');
    // node:tty only here: loading it costs every other run a few ms of start-up
    if (!this.detach && this.tty && streams.stdin && !process.getBuiltinModule('node:tty').isatty(0)) {
      throw new ClientError('the input device is not a TTY');
    }
    const c = await createContainer(this.engine, { ...options, ...await this.healthOptions(), detach: this.detach });
    let code: number | undefined;
    try {
      code = await startContainer(this.engine, c, { attach: !this.detach, interactive: this.interactive, detachKeys: this.detachKeys, streams, sigProxy: this.sigProxy });
    } catch (e) {
      // --rm: a container that could not start (a published port in use) is not left behind
      if (this.rm) {
        const { removeContainer } = await import('../../../engine/remove');
        await removeContainer(this.engine, c.id, { force: true }).catch(() => undefined);
      }
      throw e;
    }
    if (this.detach) this.out(`${c.id}\n`);
    return code ?? 0;
  }
}
