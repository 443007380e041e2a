import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';

export class CommitCommand extends SkiffCommand {
  static override paths = [['commit']];
  static override usage = Command.Usage({
    description: "Create a new image from a container's changes",
    examples: [
      ['Commit with a tag', '$0 commit web myimage:v2'],
      ['Change the command of the new image', `$0 commit -c 'CMD ["sh"]' -m 'added tools' web myimage:v3`],
    ],
  });
  author = Option.String('-a,--author', { description: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' });
  change = Option.Array('-c,--change', [], { description: 'Apply Dockerfile instruction to the created image' });
  message = Option.String('-m,--message', { description: 'Commit message' });
  pause = Option.Boolean('-p,--pause', true, { description: 'Pause container during commit (default true; rootless on cgroup v1, where skiff cannot freeze, the layer is read as it is)' });
  container = Option.String({ name: 'CONTAINER' });
  reference = Option.String({ name: 'REPOSITORY[:TAG]', required: false });

  async execute(): Promise<number> {
    const { commitContainer } = await import('../../../engine/commit');
    const id = await commitContainer(this.engine, {
      container: this.container, reference: this.reference, changes: this.change, message: this.message, author: this.author, pause: this.pause,
    });
    this.out(`${id}\n`);
    return 0;
  }
}
