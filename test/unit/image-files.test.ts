import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readImageFile } from '../../src/storage/image-files';

let tmp: string;
let host: string;
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\n';
const HOST_SECRET = 'secret:x:0:0:host:/host:/bin/sh\n';

/** A layer dir built from { 'a/b': 'content' | { link } | 'dir/' }. */
function layer(name: string, entries: Record<string, string | { link: string }>): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  for (const [p, v] of Object.entries(entries)) {
    const full = path.join(dir, p);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    if (typeof v === 'object') fs.symlinkSync(v.link, full);
    else if (p.endsWith('/')) fs.mkdirSync(full, { recursive: true });
    else fs.writeFileSync(full, v);
  }
  return dir;
}

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'image-files-'));
  // a host directory that looks like an image's /etc: a link out of the image must not reach it
  host = path.join(tmp, 'host-etc');
  fs.mkdirSync(host);
  fs.writeFileSync(path.join(host, 'passwd'), HOST_SECRET);
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('readImageFile: symlinks resolve inside the image', () => {
  it('does not follow a parent link to a host directory (absolute target)', () => {
    const l = layer('l0', { etc: { link: host } });
    expect(readImageFile([l], 'etc/passwd')).toBeUndefined();
  });

  it('does not follow a parent link that climbs out with .. (relative target)', () => {
    const l = layer('l0', { etc: { link: '../host-etc' } }); // from l0/: tmp/host-etc on the host
    expect(readImageFile([l], 'etc/passwd')).toBeUndefined();
  });

  it('does not follow the file itself to a host file', () => {
    const l = layer('l0', { 'etc/passwd': { link: path.join(host, 'passwd') } });
    expect(readImageFile([l], 'etc/passwd')).toBeUndefined();
  });

  it('clamps an absolute target at the image root: it names the image\'s own file', () => {
    // the same host path exists inside the image: that copy is the one read
    const l = layer('l0', { etc: { link: host }, [`${host.slice(1)}/passwd`]: PASSWD });
    expect(readImageFile([l], 'etc/passwd')).toBe(PASSWD);
  });

  it('follows etc -> /usr/etc (absolute) and etc -> usr/etc (relative) inside the image', () => {
    const abs = layer('abs', { etc: { link: '/usr/etc' }, 'usr/etc/passwd': PASSWD });
    const rel = layer('rel', { etc: { link: 'usr/etc' }, 'usr/etc/passwd': PASSWD });
    const dots = layer('dots', { etc: { link: '../../usr/./etc' }, 'usr/etc/passwd': PASSWD });
    expect(readImageFile([abs], 'etc/passwd')).toBe(PASSWD);
    expect(readImageFile([rel], 'etc/passwd')).toBe(PASSWD);
    expect(readImageFile([dots], 'etc/passwd')).toBe(PASSWD);
  });

  it('follows a final link inside the image, and a link in one layer to a file in another', () => {
    const bottom = layer('bottom', { 'usr/etc/passwd': PASSWD });
    const top = layer('top', { etc: { link: '/usr/etc' } });
    expect(readImageFile([bottom, top], 'etc/passwd')).toBe(PASSWD);
    const fileLink = layer('filelink', { 'etc/passwd': { link: '../usr/etc/passwd' } });
    expect(readImageFile([bottom, fileLink], 'etc/passwd')).toBe(PASSWD);
  });

  it('gives up on a link loop', () => {
    const l = layer('l0', { etc: { link: 'etc2' }, etc2: { link: '/etc' } });
    expect(readImageFile([l], 'etc/passwd')).toBeUndefined();
  });
});

describe('readImageFile: layer order', () => {
  it('takes the topmost layer\'s file', () => {
    const bottom = layer('bottom', { 'etc/passwd': 'low\n' });
    const top = layer('top', { 'etc/passwd': 'high\n' });
    expect(readImageFile([bottom, top], 'etc/passwd')).toBe('high\n');
    expect(readImageFile([top, bottom], 'etc/passwd')).toBe('low\n');
  });

  it('merges directories: a file only in a lower layer is found below an upper etc/', () => {
    const bottom = layer('bottom', { 'etc/passwd': PASSWD });
    const top = layer('top', { 'etc/group': 'root:x:0:\n' });
    expect(readImageFile([bottom, top], 'etc/passwd')).toBe(PASSWD);
  });

  it('an upper layer\'s non-directory hides a lower directory of the same name', () => {
    const bottom = layer('bottom', { 'etc/passwd': PASSWD });
    const top = layer('top', { etc: 'a file now' });
    expect(readImageFile([bottom, top], 'etc/passwd')).toBeUndefined();
  });

  it('an upper layer\'s link replaces a lower etc/ directory (the link is followed, not merged)', () => {
    const bottom = layer('bottom', { 'etc/passwd': 'old\n', 'usr/etc/passwd': PASSWD });
    const top = layer('top', { etc: { link: '/usr/etc' } });
    expect(readImageFile([bottom, top], 'etc/passwd')).toBe(PASSWD);
  });

  it.runIf(process.getuid?.() === 0)('a whiteout hides the file, or its parent, in lower layers', () => {
    const bottom = layer('bottom', { 'etc/passwd': PASSWD });
    const top = layer('top', { 'etc/': '' });
    const wh = layer('wh', {});
    for (const [dir, p] of [[top, 'etc/passwd'], [wh, 'etc']] as const) {
      const r = spawnSync('mknod', [path.join(dir, p), 'c', '0', '0']);
      expect(r.status, String(r.stderr)).toBe(0);
    }
    expect(readImageFile([bottom, top], 'etc/passwd')).toBeUndefined();
    expect(readImageFile([bottom, wh], 'etc/passwd')).toBeUndefined();
    expect(readImageFile([bottom], 'etc/passwd')).toBe(PASSWD);
  });
});
