import { Command, Option } from 'clipanion';
import { isInt } from '../../options/int-flag';
import { ContainerTargetsCommand, isNotFound } from '../../options/container-targets';

export class RmCommand extends ContainerTargetsCommand {
  static override paths = [['rm'], ['container', 'rm']];
  static override usage = Command.Usage({
    description: 'Remove one or more containers',
    details: 'A running container is refused unless -f, which kills it at once (SIGKILL), or with -t N stops it first as `stop -t N` would. With -f, a container that does not exist is reported and skipped (exit 0), as Docker does; -i (Podman) skips it silently.',
  });
  force = Option.Boolean('-f,--force', false, { description: 'Force the removal of a running container (uses SIGKILL)' });
  volumes = Option.Boolean('-v,--volumes', false, { description: 'Remove anonymous volumes associated with the container' });
  time = Option.String('-t,--time', { validator: isInt, description: 'Seconds to wait for stop before killing the container (Podman; with -f)' });
  ignore = Option.Boolean('-i,--ignore', false, { description: 'Ignore containers that do not exist (Podman)' });

  protected appliesToAll(): boolean { return true; }
  protected override ignoreMissing(): boolean { return this.ignore; }
  // Docker 28: with -f, a missing container is said on stderr but is no failure
  protected override tolerate() { return this.force ? isNotFound : undefined; }

  async execute(): Promise<number> {
    const timeout = this.time;
    const { removeContainer } = await import('../../../engine/remove');
    return this.eachContainer(async (name) => { await removeContainer(this.engine, name, { force: this.force, timeout, volumes: this.volumes }); });
  }
}
