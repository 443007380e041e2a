import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';
import { UsageError } from '../../../errors';

export class BuildCommand extends SkiffCommand {
  static override paths = [['build'], ['image', 'build'], ['builder', 'build'], ['buildx', 'build']];
  static override usage = Command.Usage({
    description: 'Build an image from a Dockerfile',
    details: 'Runs the Dockerfile (or Containerfile) in PATH, or the one given with -f, with PATH as the build context; `-` reads a Dockerfile (no context) or a tar context from STDIN. Each RUN runs in a container of the image so far, rootless; each RUN, COPY and ADD makes one layer. Steps whose instruction and inputs did not change come from the layer cache (--no-cache skips it). Progress goes to STDERR; -q prints only the image ID.',
    examples: [
      ['Build the current directory and tag the result', '$0 build -t myapp:1.0 .'],
      ['Another Dockerfile, a build arg, one stage', '$0 build -f docker/Dockerfile.prod --build-arg VERSION=2 --target runtime .'],
      ['A Dockerfile from STDIN, without context', '$0 build -t tools - < Dockerfile'],
    ],
  });
  buildArg = Option.Array('--build-arg', [], { description: 'Set build-time variables' });
  buildContext = Option.Array('--build-context', [], { description: 'Additional build contexts (e.g., name=path)' });
  file = Option.String('-f,--file', { description: 'Name of the Dockerfile (default: "PATH/Dockerfile")' });
  iidfile = Option.String('--iidfile', { description: 'Write the image ID to a file' });
  label = Option.Array('--label', [], { description: 'Set metadata for an image' });
  network = Option.String('--network', { description: 'Set the networking mode for the "RUN" instructions during build (default "default")' });
  noCache = Option.Boolean('--no-cache', false, { description: 'Do not use cache when building the image' });
  platform = Option.String('--platform', { description: 'Set target platform for build (this host\'s only)' });
  progress = Option.String('--progress', 'auto', { description: 'Set type of progress output ("auto", "quiet", "plain", "tty"). Use plain to show container output' });
  pull = Option.Boolean('--pull', false, { description: 'Always attempt to pull all referenced images' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Suppress the build output and print image ID on success' });
  rm = Option.Boolean('--rm', true, { description: 'Remove intermediate containers after a successful build (always)' });
  forceRm = Option.Boolean('--force-rm', false, { description: 'Always remove intermediate containers (always)' });
  squash = Option.Boolean('--squash', false, { description: 'Squash newly built layers into a single new layer' });
  secret = Option.Array('--secret', [], { description: 'Secret to expose to the build (format: "id=mysecret,src=/local/secret")' });
  tag = Option.Array('-t,--tag', [], { description: 'Name and optionally a tag (format: "name:tag")' });
  target = Option.String('--target', { description: 'Set the target build stage to build' });
  contextPath = Option.String({ name: 'PATH | -' });

  async execute(): Promise<number> {
    const { PROGRESS_MODES, buildProgress } = await import('../../output/build-progress');
    const mode = this.quiet ? 'quiet' : this.progress;
    if (!(PROGRESS_MODES as readonly string[]).includes(mode)) {
      throw new UsageError(`invalid progress mode "${this.progress}": use auto, plain, tty or quiet`);
    }
    const { runBuild } = await import('../../../engine/build-request');
    const view = buildProgress(mode as (typeof PROGRESS_MODES)[number], process.stderr);
    try {
      const id = await runBuild(this.engine, {
        context: this.contextPath, file: this.file, tags: this.tag, buildArgs: this.buildArg, labels: this.label,
        target: this.target, noCache: this.noCache, squash: this.squash, pull: this.pull, network: this.network, secrets: this.secret,
        platform: this.platform, iidfile: this.iidfile, buildContexts: this.buildContext, stdin: process.stdin, reporter: view,
      });
      view.finish();
      if (this.quiet) this.out(`${id}\n`);
    } catch (e) {
      view.failed();
      throw e;
    }
    return 0;
  }
}
