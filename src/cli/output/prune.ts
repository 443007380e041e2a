import type { PruneReport } from '../../engine/prune';
import { humanSize } from '../../util/format';

/** Docker's report: "Deleted Images:", untagged/deleted lines, a blank line, the total. */
export function pruneReportText(r: PruneReport): string {
  let out = '';
  if (r.deleted.length) {
    out += 'Deleted Images:\n';
    for (const d of r.deleted) {
      for (const u of d.untagged) out += `untagged: ${u}\n`;
      out += `deleted: ${d.id}\n`;
    }
    out += '\n';
  }
  return `${out}Total reclaimed space: ${humanSize(r.reclaimed, 4)}\n`;
}
