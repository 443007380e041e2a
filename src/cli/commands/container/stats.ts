import { Command, Option } from 'clipanion';
import { SkiffCommand } from '../../base';
import { reportError } from '../../output/errors';

/** How long between the two samples that give CPU % (and between frames when streaming), as Docker. */
const INTERVAL_MS = 1000;

export class StatsCommand extends SkiffCommand {
  static override paths = [['stats']];
  static override usage = Command.Usage({
    description: "Display a live stream of container(s) resource usage statistics",
    details: "Without a CONTAINER, every running container (-a: every container). The figures come from the container's own cgroup v2 when it has one, else from /proc of its processes: CPU time, proportional memory (PSS), storage I/O, threads; \"--\" where they cannot be read. The limit is the host's memory when the container has none.\n\n--format takes a Go template (`table` prefix for columns with a header, `json` for one JSON object per line) over .Container, .Name, .ID, .CPUPerc, .MemUsage, .MemPerc, .NetIO, .BlockIO, .PIDs.",
    examples: [
      ['One reading of every running container', '$0 stats --no-stream'],
      ['Names and memory only', "$0 stats --no-stream --format '{{.Name}}: {{.MemUsage}}'"],
    ],
  });
  all = Option.Boolean('-a,--all', false, { description: 'Show all containers (default shows just running)' });
  format = Option.String('--format', { description: 'Format output using a Go template, "table", "table TEMPLATE" or "json"' });
  noStream = Option.Boolean('--no-stream', false, { description: 'Disable streaming stats and only pull the first result' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: "Do not truncate output" });
  containers = Option.Rest({ name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { sampleContainer, statsRow, statsTargets, STATS_DEFAULT_FORMAT, STATS_HEADERS } = await import('../../../engine/stats');
    const { checkFormat, renderList } = await import('../../output/render');
    checkFormat(this.format);
    const clear = !this.noStream && !!(this.context.stdout as { isTTY?: boolean }).isTTY && !process.env.NO_COLOR;
    let previous = new Map<string, ReturnType<typeof sampleContainer>>();
    let code = 0;
    for (let frame = 0; ; frame++) {
      const { targets, errors } = statsTargets(this.engine, this.containers, this.all);
      if (frame === 0) {
        for (const e of errors) code = reportError(this.context.stderr, e, this.errorContext);
        if (this.containers.length && !targets.length) return code;
        // the first reading: CPU % needs two
        for (const t of targets) previous.set(t.c.id, sampleContainer(t.c));
        if (targets.some((t) => t.c.state.status === 'running')) await sleep(INTERVAL_MS);
      }
      const current = new Map<string, ReturnType<typeof sampleContainer>>();
      const rows = targets.map((t) => {
        const s = sampleContainer(t.c);
        current.set(t.c.id, s);
        return statsRow(t.c, t.typed, previous.get(t.c.id), s, this.noTrunc);
      });
      previous = current;
      const text = renderList(rows, { format: this.format }, { defaultFormat: STATS_DEFAULT_FORMAT, headers: STATS_HEADERS });
      this.out(clear ? `\x1b[2J\x1b[H${text}` : text);
      if (this.noStream) return code;
      await sleep(INTERVAL_MS);
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
