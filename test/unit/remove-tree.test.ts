// removeTree: rm -rf that also takes what kernel overlayfs leaves behind (a mode-000 work/ in
// its workdir), which Node >= 24's fs.rmSync refuses. Root bypasses permissions, so the
// permission cases only say something when run unprivileged.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeTree } from '../../src/util/remove-tree';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-remove-tree-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('removeTree', () => {
  it('removes a tree whose overlay workdir has an empty mode-000 work/ (as overlayfs leaves it)', () => {
    const probe = path.join(tmp, 'probe');
    fs.mkdirSync(path.join(probe, 'work', 'work'), { recursive: true });
    fs.mkdirSync(path.join(probe, 'upper', 'etc'), { recursive: true });
    fs.writeFileSync(path.join(probe, 'upper', 'etc', 'hostname'), 'x');
    fs.chmodSync(path.join(probe, 'work', 'work'), 0);
    removeTree(probe);
    expect(fs.existsSync(probe)).toBe(false);
  });

  it('removes a mode-000 directory that is not empty, and read-only ones', () => {
    const d = path.join(tmp, 'locked');
    fs.mkdirSync(path.join(d, 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(d, 'a', 'b', 'f'), 'x');
    fs.chmodSync(path.join(d, 'a', 'b'), 0o500);
    fs.chmodSync(path.join(d, 'a'), 0);
    removeTree(d);
    expect(fs.existsSync(d)).toBe(false);
  });

  it('is quiet about a missing directory and leaves symlinked directories outside alone', () => {
    removeTree(path.join(tmp, 'nothing-here'));
    const outside = path.join(tmp, 'outside');
    fs.mkdirSync(outside, { mode: 0o500 });
    const d = path.join(tmp, 'tree');
    fs.mkdirSync(path.join(d, 'w'), { recursive: true });
    fs.chmodSync(path.join(d, 'w'), 0);
    fs.symlinkSync(outside, path.join(d, 'link'));
    removeTree(d);
    expect(fs.existsSync(d)).toBe(false);
    expect(fs.statSync(outside).mode & 0o777).toBe(0o500);
  });
});
