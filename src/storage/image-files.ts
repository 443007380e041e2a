import fs from 'node:fs';
import path from 'node:path';

/** An overlay whiteout: a 0:0 character device hides the same path in lower layers. */
function isWhiteout(st: fs.Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/**
 * Read a small text file (like /etc/passwd) from an image without mounting it: look through
 * the layer dirs from the top down, stopping at a whiteout of the file or of a parent.
 * `layerDirs` is bottom-to-top. Symlinked parents are not followed (rare for /etc).
 */
export function readImageFile(layerDirs: string[], file: string): string | undefined {
  const parts = file.split('/').filter(Boolean);
  for (let i = layerDirs.length - 1; i >= 0; i--) {
    let p = layerDirs[i];
    for (let j = 0; j < parts.length; j++) {
      p = path.join(p, parts[j]);
      let st: fs.Stats;
      try { st = fs.lstatSync(p); } catch { break; }
      if (isWhiteout(st)) return undefined;
      if (j === parts.length - 1 && st.isFile()) {
        try { return fs.readFileSync(p, 'utf8'); } catch { return undefined; }
      }
    }
  }
  return undefined;
}
