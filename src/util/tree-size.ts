import fs from 'node:fs';
import path from 'node:path';

/** Bytes of the files below DIR (what `du -b` counts, hard links once); unreadable parts are skipped. */
export function treeSize(dir: string): number {
  let total = 0;
  const seen = new Set<string>();
  const walk = (d: string) => {
    let names: string[];
    try { names = fs.readdirSync(d); } catch { return; }
    for (const n of names) {
      const p = path.join(d, n);
      let st: fs.Stats;
      try { st = fs.lstatSync(p); } catch { continue; }
      if (st.isDirectory()) { walk(p); continue; }
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      if (st.isFile() || st.isSymbolicLink()) total += st.size;
    }
  };
  walk(dir);
  return total;
}
