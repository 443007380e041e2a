import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class ExecCommand extends SkiffCommand {
  static override paths = [['exec']];
  static override usage = Command.Usage({
    description: 'Execute a command in a running container',
    details: 'Runs COMMAND in every namespace of the running container, with its capabilities, seccomp filter and environment. The exit code is the command\'s; 126 means it cannot be executed, 127 that it was not found.',
    examples: [['Open a shell', '$0 exec -it mycontainer sh'], ['Run as another user', '$0 exec -u nobody mycontainer id']],
  });
  detach = Option.Boolean('-d,--detach', false, { description: 'Detached mode: run command in the background' });
  env = Option.Array('-e,--env', [], { description: 'Set environment variables' });
  envFile = Option.Array('--env-file', [], { description: 'Read in a file of environment variables' });
  interactive = Option.Boolean('-i,--interactive', false, { description: 'Keep STDIN open even if not attached' });
  privileged = Option.Boolean('--privileged', false, { description: 'Give extended privileges to the command' });
  tty = Option.Boolean('-t,--tty', false, { description: 'Allocate a pseudo-TTY' });
  user = Option.String('-u,--user', { description: 'Username or UID (format: "<name|uid>[:<group|gid>]")' });
  workdir = Option.String('-w,--workdir', { description: 'Working directory inside the container' });
  container = Option.String({ name: 'CONTAINER' });
  command = Option.Proxy({ name: 'COMMAND', required: 1 });

  async execute(): Promise<number> {
    const { execInContainer } = await import('../../../engine/exec');
    return execInContainer(this.engine, {
      container: this.container, command: this.command, interactive: this.interactive, tty: this.tty, detach: this.detach,
      user: this.user, env: this.env, envFiles: this.envFile, workdir: this.workdir, privileged: this.privileged,
    });
  }
}
