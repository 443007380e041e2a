// The build executor's pure parts: cache keys and remembered file digests, the progress views,
// the command line's build args/labels/secrets, COPY destinations and re-owned tar streams.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { extract as tarExtract, pack as tarPack } from 'tar-stream';
import { afterAll, describe, expect, test } from 'vitest';
import { baseKey, BuildCache, FileDigests, stepKey } from '../../src/build/cache';
import { buildProgress } from '../../src/cli/output/build-progress';
import { copyDestination, packEntries, parseChmod, retarEntries } from '../../src/engine/build-copy';
import { parseBuildArgs, parseBuildLabels, parseSecrets } from '../../src/engine/build-request';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'build-exec-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('cache keys', () => {
  test('chain the parent and each part; no two splits of the same text collide', () => {
    const base = baseKey('sha256:abc');
    expect(stepKey(base, ['RUN', 'a b'])).toBe(stepKey(base, ['RUN', 'a b']));
    expect(stepKey(base, ['RUN', 'a b'])).not.toBe(stepKey(base, ['RUN a', 'b']));
    expect(stepKey(base, ['x'])).not.toBe(stepKey(baseKey('sha256:abd'), ['x']));
    expect(baseKey(undefined)).not.toBe(baseKey('scratch-but-an-id'));
  });

  test('entries round-trip through the store', () => {
    const cache = new BuildCache(tmp);
    const key = stepKey(baseKey(undefined), ['COPY']);
    expect(cache.get(key)).toBeUndefined();
    const entry = { diffId: 'sha256:1', digest: 'sha256:1', mediaType: 'm', blobSize: 3, size: 2, layer: true, created: '2026-01-01T00:00:00Z' };
    cache.put(key, entry);
    expect(cache.get(key)).toEqual(entry);
  });

  test('file digests are remembered by stat and recomputed after a change', () => {
    const file = path.join(tmp, 'f');
    fs.writeFileSync(file, 'one');
    const d = new FileDigests(tmp);
    const first = d.digest(file, fs.lstatSync(file, { bigint: true }));
    expect(first).toBe('7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed');
    d.save();
    const again = new FileDigests(tmp);
    expect(again.digest(file, fs.lstatSync(file, { bigint: true }))).toBe(first);
    fs.writeFileSync(file, 'two');
    expect(again.digest(file, fs.lstatSync(file, { bigint: true }))).not.toBe(first);
  });
});

/** A stream that keeps what is written, and says whether it is a terminal. */
function sink(isTTY: boolean): Writable & { text: string; isTTY: boolean } {
  const w = new Writable({ write(chunk, _e, cb) { (w as unknown as { text: string }).text += chunk.toString(); cb(); } }) as Writable & { text: string; isTTY: boolean };
  w.text = '';
  w.isTTY = isTTY;
  return w;
}

describe('progress', () => {
  test('plain: numbered steps, timed output lines, CACHED, DONE, and the failure box', () => {
    const out = sink(false);
    const view = buildProgress('auto', out);
    const a = view.step('[1/2] FROM busybox');
    a.cached();
    a.done(); // after CACHED, nothing more
    const b = view.step('[2/2] RUN echo hi');
    b.output(Buffer.from('hi\npartial'));
    b.output(Buffer.from(' line\n'));
    b.failed('process "/bin/sh -c echo hi" did not complete successfully: exit code: 1');
    view.failed();
    expect(out.text).toMatch(/^#1 \[1\/2\] FROM busybox\n#1 CACHED\n\n#2 \[2\/2\] RUN echo hi\n#2 \d\.\d{3} hi\n#2 \d\.\d{3} partial line\n#2 ERROR: process/);
    expect(out.text).toContain('------\n > [2/2] RUN echo hi:\nhi\npartial line\n------\n');
  });

  test('quiet: silent until a failure, then everything', () => {
    const out = sink(false);
    const view = buildProgress('quiet', out);
    const s = view.step('[2/2] RUN x');
    s.output(Buffer.from('secret output\n'));
    s.done();
    expect(out.text).toBe('');
    view.failed();
    expect(out.text).toContain('secret output');
  });

  test('tty off a terminal: one line per finished step, no control sequences', () => {
    const out = sink(false);
    const view = buildProgress('tty', out);
    view.step('[1/2] FROM busybox').cached();
    const s = view.step('[2/2] RUN x');
    s.output(Buffer.from('hidden\n'));
    s.done();
    view.finish();
    expect(out.text).toMatch(/^=> CACHED \[1\/2\] FROM busybox\n=> \[2\/2\] RUN x {2}\d+\.\ds\n$/);
    expect(out.text).not.toContain('\x1b');
  });

  test('tty (auto) on a terminal: frames redrawn in place, the running step\'s last output lines, CACHED, FINISHED, warnings after', () => {
    const out = Object.assign(sink(true), { columns: 60, rows: 30 });
    const view = buildProgress('auto', out);
    view.step('[1/3] FROM busybox').cached();
    const s = view.step('[2/3] RUN x');
    s.output(Buffer.from(Array.from({ length: 8 }, (_, i) => `out-${i}\n`).join('')));
    const running = out.text;
    view.warn('something to say');
    s.done();
    const e = view.step('exporting to image');
    e.log('writing image sha256:abc done');
    e.done();
    view.finish();
    const frames = out.text.split('\x1b[J');
    // each later frame starts by moving up over the one before it
    expect(frames[1]).toMatch(/^\x1b\[\d+A\r\[\+\] Building /);
    // the running step shows its last six lines only
    expect(running).toContain(' => => # out-7\x1b[K\n');
    expect(running).toContain(' => => # out-2\x1b[K\n');
    expect(running).not.toContain(' => => # out-1\x1b[K');
    const last = frames.at(-2)!.replace(/^\x1b\[\d+A\r/, '').split('\x1b[K\n');
    expect(last[0]).toMatch(/^\[\+\] Building \d+\.\ds \(3\/3\) FINISHED$/);
    expect(last[1]).toMatch(/^ => CACHED \[1\/3\] FROM busybox +0\.0s$/);
    expect(last[2]).toMatch(/^ => \[2\/3\] RUN x +\d+\.\ds$/);
    expect(last[3]).toMatch(/^ => exporting to image +\d+\.\ds$/);
    expect(last[4]).toBe(' => => writing image sha256:abc done');
    for (const l of last) expect(l.length).toBeLessThan(60);
    expect(frames.at(-1)).toBe('WARNING: something to say\n');
  });

  test('tty on a terminal, failed: the step marked ERROR, then the box with its output', () => {
    const out = Object.assign(sink(true), { columns: 80, rows: 30 });
    const view = buildProgress('tty', out);
    const s = view.step('[2/2] RUN false');
    s.output(Buffer.from('why it failed\n'));
    s.failed('exit code: 1');
    view.failed();
    expect(out.text).toMatch(/ => ERROR \[2\/2\] RUN false +\d+\.\ds\x1b\[K\n\x1b\[J------\n > \[2\/2\] RUN false:\nwhy it failed\n------\n$/);
    expect(out.text).not.toContain('FINISHED');
  });
});

describe('command line values', () => {
  test('--build-arg NAME=VALUE, and NAME from the environment (skipped when unset)', () => {
    expect([...parseBuildArgs(['A=1', 'B=', 'C=x=y', 'HOME_X', 'MISSING'], { HOME_X: 'h' })]).toEqual([['A', '1'], ['B', ''], ['C', 'x=y'], ['HOME_X', 'h']]);
    expect(() => parseBuildArgs(['=v'])).toThrow(/name is empty/);
  });

  test('--label KEY=VALUE and KEY', () => {
    expect(parseBuildLabels(['a=1', 'b'])).toEqual({ a: '1', b: '' });
  });

  test('--secret id=…,src=…: the file must exist', () => {
    const f = path.join(tmp, 'sec');
    fs.writeFileSync(f, 's');
    expect(parseSecrets([`id=tok,src=${f}`, `source=${f}`])).toEqual({ tok: f, sec: f });
    expect(() => parseSecrets(['id=x,src=/nonexistent/x'])).toThrow(/secret x: cannot read/);
    expect(() => parseSecrets(['id=x,env=HOME'])).toThrow(/use id=ID,src=FILE/);
  });

  test('--chmod is octal', () => {
    expect(parseChmod('0755')).toBe(0o755);
    expect(parseChmod(undefined)).toBeUndefined();
    expect(() => parseChmod('u+x')).toThrow(/octal/);
  });
});

describe('COPY', () => {
  test('destinations: relative to WORKDIR, a trailing slash means a directory', () => {
    expect(copyDestination('x', '/app')).toEqual({ abs: '/app/x', trailingSlash: false });
    expect(copyDestination('./', '/app')).toEqual({ abs: '/app', trailingSlash: true });
    expect(copyDestination('/etc/', undefined)).toEqual({ abs: '/etc', trailingSlash: true });
    expect(copyDestination('.', '')).toEqual({ abs: '/', trailingSlash: true });
  });

  async function entries(stream: Readable): Promise<{ name: string; uid?: number; mode?: number; linkname?: string | null }[]> {
    const out: { name: string; uid?: number; mode?: number; linkname?: string | null }[] = [];
    const ex = tarExtract();
    ex.on('entry', (h, s, next) => { out.push({ name: h.name, uid: h.uid, mode: h.mode, linkname: h.linkname }); s.resume(); s.on('end', next); });
    await new Promise<void>((resolve, reject) => { ex.on('finish', resolve); ex.on('error', reject); stream.pipe(ex); });
    return out;
  }

  test('re-owned tar streams: names below the prefix, owners and modes replaced, escapes dropped', async () => {
    const pack = tarPack();
    pack.entry({ name: 'a', mode: 0o600, uid: 5 }, 'x');
    pack.entry({ name: '../evil', mode: 0o644 }, 'y');
    pack.entry({ name: 'l', type: 'symlink', linkname: '/etc/passwd' });
    pack.entry({ name: 'h', type: 'link', linkname: 'a' });
    pack.finalize();
    const got = await entries(retarEntries(pack as unknown as Readable, 'p/q', { uid: 7, gid: 8 }, 0o640));
    expect(got).toEqual([
      { name: 'p/q/a', uid: 7, mode: 0o640, linkname: null },
      { name: 'p/q/l', uid: 7, mode: 0o644, linkname: '/etc/passwd' }, // a symlink keeps its mode (it has none that matters)
      { name: 'p/q/h', uid: 7, mode: 0o644, linkname: 'p/q/a' },
    ]);
  });

  test('planned entries become a tar with the chosen owners', async () => {
    const file = path.join(tmp, 'content');
    fs.writeFileSync(file, 'abc');
    const got = await entries(packEntries([
      { name: 'd', type: 'directory', mode: 0o755, uid: 1, gid: 1, mtime: new Date() },
      { name: 'd/f', type: 'file', mode: 0o600, uid: 2, gid: 2, mtime: new Date(), source: file, size: 3 },
      { name: 'd/h', type: 'file', mode: 0o644, uid: 3, gid: 3, mtime: new Date(), data: Buffer.from('heredoc'), size: 7 },
    ]));
    expect(got.map((e) => [e.name, e.uid, e.mode])).toEqual([['d', 1, 0o755], ['d/f', 2, 0o600], ['d/h', 3, 0o644]]);
  });
});
