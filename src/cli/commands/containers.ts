import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../base';
import type { CreateOptions } from '../../engine/create';

/** The flags `run` and `create` share (Docker's container config flags). */
abstract class ContainerConfigCommand extends SkiffCommand {
  env = Option.Array('-e,--env', [], { description: 'Set environment variables (KEY=VALUE, or KEY to copy it from here)' });
  envFile = Option.Array('--env-file', [], { description: 'Read environment variables from a file' });
  workdir = Option.String('-w,--workdir', { description: 'Working directory inside the container' });
  user = Option.String('-u,--user', { description: 'Username or UID (format: <name|uid>[:<group|gid>])' });
  entrypoint = Option.String('--entrypoint', { description: 'Overwrite the default ENTRYPOINT of the image' });
  name = Option.String('--name', { description: 'Assign a name to the container' });
  hostname = Option.String('-h,--hostname', { description: 'Container host name' });
  network = Option.String('--network,--net', { description: 'Connect a container to a network: none or host' });
  interactive = Option.Boolean('-i,--interactive', false, { description: 'Keep STDIN open' });
  tty = Option.Boolean('-t,--tty', false, { description: 'Allocate a pseudo-TTY' });
  rm = Option.Boolean('--rm', false, { description: 'Automatically remove the container when it exits' });
  pull = Option.String('--pull', 'missing', { description: 'Pull image before running: always, missing or never' });
  platform = Option.String('--platform', { description: 'Set platform if the image is pulled (os/arch[/variant])' });
  capAdd = Option.Array('--cap-add', [], { description: 'Add Linux capabilities (e.g. NET_ADMIN, or ALL)' });
  capDrop = Option.Array('--cap-drop', [], { description: 'Drop Linux capabilities (e.g. NET_RAW, or ALL)' });
  privileged = Option.Boolean('--privileged', false, { description: 'Give extended privileges to this container (all capabilities, no seccomp, host devices)' });
  securityOpt = Option.Array('--security-opt', [], { description: 'Security options: seccomp=unconfined|PROFILE.json, no-new-privileges[=true|false], systempaths=unconfined' });
  image = Option.String({ name: 'IMAGE' });
  command = Option.Proxy({ name: 'COMMAND' });

  protected createOptions(): CreateOptions {
    return {
      image: this.image, command: this.command, name: this.name, env: this.env, envFiles: this.envFile,
      workdir: this.workdir, user: this.user, entrypoint: this.entrypoint, hostname: this.hostname,
      network: this.network, tty: this.tty, interactive: this.interactive, autoRemove: this.rm, pull: this.pull, platform: this.platform,
      security: this.securityOpt.length || this.capAdd.length || this.capDrop.length || this.privileged
        ? { securityOpt: this.securityOpt, capAdd: this.capAdd, capDrop: this.capDrop, privileged: this.privileged } : undefined,
    };
  }
}

export class RunCommand extends ContainerConfigCommand {
  static override paths = [['run'], ['container', 'run']];
  static override usage = Command.Usage({
    description: 'Create and run a new container from an image',
    details: 'Runs COMMAND (or the image\'s default) in a new container, rootless. The exit code is the container\'s; 125 means skiff itself failed, 126 that the command cannot be executed, 127 that it was not found.',
    examples: [['Run a shell', '$0 run --rm -it busybox sh'], ['Pipe data through a container', 'echo hi | $0 run -i busybox cat']],
  });
  detach = Option.Boolean('-d,--detach', false, { description: 'Run container in background and print container ID' });

  async execute(): Promise<number> {
    const { createContainer } = await import('../../engine/create');
    const { startContainer } = await import('../../engine/start');
    const c = await createContainer(this.engine, this.createOptions());
    const code = await startContainer(this.engine, c, { attach: !this.detach, interactive: this.interactive });
    if (this.detach) this.out(`${c.id}\n`);
    return code ?? 0;
  }
}

export class CreateCommand extends ContainerConfigCommand {
  static override paths = [['create'], ['container', 'create']];
  static override usage = Command.Usage({
    description: 'Create a new container',
    details: 'Creates the container and prints its ID; start it with `skiff start`.',
    examples: [['Create, then start attached', '$0 create --name web busybox echo hi && $0 start -a web']],
  });

  async execute(): Promise<number> {
    const { createContainer } = await import('../../engine/create');
    const c = await createContainer(this.engine, this.createOptions());
    this.out(`${c.id}\n`);
    return 0;
  }
}

export class StartCommand extends SkiffCommand {
  static override paths = [['start'], ['container', 'start']];
  static override usage = Command.Usage({
    description: 'Start one or more stopped containers',
    examples: [['Start attached, forwarding stdin', '$0 start -ai mycontainer']],
  });
  attach = Option.Boolean('-a,--attach', false, { description: 'Attach STDOUT/STDERR and forward signals' });
  interactive = Option.Boolean('-i,--interactive', false, { description: "Attach container's STDIN" });
  containers = Option.Rest({ required: 1, name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { startContainer } = await import('../../engine/start');
    let code = 0;
    for (const name of this.containers) {
      const c = this.engine.containers.mustFind(name);
      const attach = this.attach || this.interactive;
      const r = await startContainer(this.engine, c, { attach, interactive: this.interactive });
      if (attach) code = r ?? 0;
      else this.out(`${name}\n`);
    }
    return code;
  }
}

export class PsCommand extends SkiffCommand {
  static override paths = [['ps'], ['container', 'ls'], ['container', 'list'], ['container', 'ps']];
  static override usage = Command.Usage({ description: 'List containers' });
  all = Option.Boolean('-a,--all', false, { description: 'Show all containers (default shows just running)' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Only display container IDs' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: "Don't truncate output" });

  async execute(): Promise<number> {
    const { listContainers } = await import('../../engine/ps');
    this.out(listContainers(this.engine, { all: this.all, quiet: this.quiet, noTrunc: this.noTrunc }));
    return 0;
  }
}

export class RmCommand extends SkiffCommand {
  static override paths = [['rm'], ['container', 'rm']];
  static override usage = Command.Usage({ description: 'Remove one or more containers' });
  force = Option.Boolean('-f,--force', false, { description: 'Force the removal of a running container (uses SIGKILL)' });
  containers = Option.Rest({ required: 1, name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { removeContainer } = await import('../../engine/remove');
    let code = 0;
    for (const name of this.containers) {
      try {
        await removeContainer(this.engine, name, this.force);
        this.out(`${name}\n`);
      } catch (e) {
        // Docker goes on with the other containers and reports each failure.
        this.context.stderr.write(`Error: ${(e as Error).message}\n`);
        code = 1;
      }
    }
    return code;
  }
}
