// A build's RUN step is a hostile container: what it leaves in its overlay upper dir becomes the
// step's layer by a rename (src/engine/upper-layer.ts adoptUpperLayer), never unpacked from a tar.
// Symlinks out (absolute and ../), hard links, device nodes, fifos, whiteouts, a directory
// replaced by a symlink, names at NAME_MAX, a tree hundreds of levels deep and files this user
// cannot read must not make the build, a later step or a `run` of the image read or write outside
// the image, and the layer's tar must say what the tree holds (a save/load round trip runs the same).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { describe, expect, test } from 'vitest';
import { BUSYBOX, errorLines, isRootless, skiff, store, uniqueName, useStore, walk } from './harness';

useStore();

const tag = `${uniqueName('hostile-build')}:v1`;
/** Where a naive builder would have written on the host; unique to this run (other suites run at the same time). */
const escape = `/tmp/skiff-build-escape-${process.pid}`;
const DEPTH = 300; // each level cost the helper's tar writer 55 KiB of stack: it crashed at ~150
const LONG = 'n'.repeat(255);

function escapeTargets(): string[] {
  return [escape, `${escape}-through`, path.join(os.homedir(), 'skiff-build-evil'), '/skiff-build-evil'];
}

/** Files on the host that are hard links to the host's /etc/passwd, anywhere in the store. */
function passwdLinks(): string[] {
  const p = fs.statSync('/etc/passwd');
  return walk(store().dir, 1000).filter((f) => f.st.isFile() && f.st.ino === p.ino && f.st.dev === p.dev).map((f) => f.path);
}

function expectNoEscape() {
  for (const p of escapeTargets()) expect(fs.existsSync(p), `${p} must not exist on the host`).toBe(false);
  expect(passwdLinks()).toEqual([]);
}

// Step 2 plants everything; step 3 writes and reads through what step 2 left.
const DOCKERFILE = `FROM ${BUSYBOX}
RUN mkdir -p /h/gone /h/replaced && echo base > /h/replaced/file && echo base > /h/gone/file
RUN set -e; cd /h; \\
  ln -s ${escape} abs-out; \\
  ln -s ../../../../../../../../..${escape}-through up-out; \\
  ln -s / root-link; ln -s /etc/passwd passwd-link; ln -s ../../../../etc/passwd passwd-up; \\
  echo data > f; ln f hard; mkfifo fifo; \\
  rm -rf gone; rm -rf replaced; ln -s /tmp replaced; \\
  mkdir closed; echo inside > closed/file; chmod 000 closed; echo secret > unreadable; chmod 000 unreadable; \\
  echo sub > sub-owned; chown 1000:1000 sub-owned; chmod 600 sub-owned; \\
  touch ${LONG}; \\
  mkdir -p deep; cd deep; i=0; while [ $i -lt ${DEPTH} ]; do mkdir d; cd d; i=$((i+1)); done; echo bottom > leaf; cd /h; \\
  if mknod cdev c 1 3 2>/dev/null; then echo mknod-ok; fi
RUN echo w > /h/abs-out && echo w > /h/up-out && echo through > /h/replaced/through && cat /h/passwd-link > /h/copy-of-passwd && \\
  echo evil > /h/root-link/skiff-build-evil
`;

/** Every entry of the uncompressed tar BUF: name, type, link target. */
async function tarEntries(buf: Buffer): Promise<{ name: string; type: string; linkname: string | null; size: number }[]> {
  const out: { name: string; type: string; linkname: string | null; size: number }[] = [];
  const ex = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      out.push({ name: h.name, type: h.type ?? 'file', linkname: h.linkname ?? null, size: h.size ?? 0 });
      stream.on('end', next);
      stream.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  Readable.from([buf]).pipe(ex);
  await done;
  return out;
}

/** The files of a docker-archive tar: name → content. */
async function tarFiles(file: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const ex = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c) => { chunks.push(c as Buffer); });
      stream.on('end', () => { files.set(h.name, Buffer.concat(chunks)); next(); });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  fs.createReadStream(file).pipe(ex);
  await done;
  return files;
}

/** What a container of IMAGE sees below /h: one line per entry (type, mode, owner, link). */
async function listing(image: string): Promise<string> {
  const r = await skiff(['run', '--rm', image, 'sh', '-c', 'cd /h && find . | sort | while read -r f; do stat -c "%n %F %a %u:%g %N" "$f"; done']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('build: a RUN step that plants hostile entries in its own layer', () => {
  test('builds; nothing is read or written outside the image, by the build, a later step or run', async () => {
    expectNoEscape();
    const dir = path.join(store().dir, 'ctx');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'Dockerfile'), DOCKERFILE);
    fs.chmodSync(store().dir, 0o755);
    const b = await skiff(['build', '--progress', 'plain', '-t', tag, dir], { timeoutMs: 180_000 });
    expect(b.code, b.stderr).toBe(0);
    expectNoEscape();

    // inside the image: the writes landed in the image, through links resolved in its root
    const r = await skiff(['run', '--rm', tag, 'sh', '-c',
      `cat ${escape} ${escape}-through /tmp/through /skiff-build-evil; cmp /h/copy-of-passwd /etc/passwd && echo same-passwd; cat /h/deep/${'d/'.repeat(DEPTH)}leaf; readlink /h/replaced`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`w\nw\nthrough\nevil\nsame-passwd\nbottom\n/tmp\n`);
    expect(r.stdout).not.toContain(fs.readFileSync('/etc/passwd', 'utf8'));
    // a device node is in the image, and cannot be opened from it (every writable mount is nodev)
    const dev = await skiff(['run', '--rm', tag, 'sh', '-c', 'if [ -c /h/cdev ]; then head -c 1 /h/cdev >/dev/null 2>&1 && echo opened || echo refused; else echo none; fi']);
    expect(dev.stdout.trim()).toBe(isRootless() ? 'none' : 'refused');
    expectNoEscape();
  });

  test("the step's layer tar holds exactly the step's entries, as Docker writes them", async () => {
    const out = path.join(store().dir, 'saved.tar');
    const s = await skiff(['save', '-o', out, tag]);
    expect(s.code, s.stderr).toBe(0);
    const files = await tarFiles(out);
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as { Layers: string[] }[];
    const layers = manifest[0].Layers;
    expect(layers).toHaveLength(4); // busybox, step 1, step 2, step 3
    const entries = await tarEntries(files.get(layers[2])!);
    const byName = new Map(entries.map((e) => [e.name.replace(/\/$/, ''), e]));
    // nothing outside h/, no overlay detail (opaque or redirect markers are storage, not content)
    expect(entries.filter((e) => !e.name.startsWith('h/') && e.name !== 'h/')).toEqual([]);
    expect(byName.get('h/abs-out')).toMatchObject({ type: 'symlink', linkname: escape });
    expect(byName.get('h/up-out')).toMatchObject({ type: 'symlink', linkname: `../../../../../../../../..${escape}-through` });
    expect(byName.get('h/root-link')).toMatchObject({ type: 'symlink', linkname: '/' });
    expect(byName.get('h/passwd-link')).toMatchObject({ type: 'symlink', linkname: '/etc/passwd' });
    // the first name of a hard-linked file carries the data, the second links to it
    expect(byName.get('h/f')).toMatchObject({ type: 'file', size: 5 });
    expect(byName.get('h/hard')).toMatchObject({ type: 'link', linkname: 'h/f' });
    expect(byName.get('h/fifo')).toMatchObject({ type: 'fifo' });
    // deleted and replaced directories of the step before: a whiteout, and a symlink in its place
    expect(byName.get('h/.wh.gone')).toMatchObject({ type: 'file', size: 0 });
    expect(byName.get('h/replaced')).toMatchObject({ type: 'symlink', linkname: '/tmp' });
    expect([...byName.keys()].filter((n) => n.startsWith('h/replaced/'))).toEqual([]);
    expect(byName.get(`h/${LONG}`)).toMatchObject({ type: 'file' });
    expect(byName.get(`h/deep/${'d/'.repeat(DEPTH)}leaf`)).toMatchObject({ type: 'file', size: 7 });
    expect(byName.get('h/closed/file')).toMatchObject({ type: 'file', size: 7 });
    expect(byName.get('h/unreadable')).toMatchObject({ type: 'file', size: 7 });
    if (!isRootless()) expect(byName.get('h/cdev')).toMatchObject({ type: 'character-device' });
    expect(entries.filter((e) => /\.wh\.\.wh\.\.opq$/.test(e.name)).map((e) => e.name)).toEqual([]);
  });

  test('the layers as stored and as their tars load elsewhere: a container sees the same files', async () => {
    const before = await listing(tag);
    expect(before).toContain(`./${LONG} regular empty file`);
    const out = path.join(store().dir, 'roundtrip.tar');
    expect((await skiff(['save', '-o', out, tag])).code).toBe(0);
    expect((await skiff(['rmi', tag])).code).toBe(0);
    const l = await skiff(['load', '-i', out]);
    expect(l.code, l.stderr).toBe(0);
    expect(await listing(tag)).toBe(before);
    expectNoEscape();
  });

  // Two trees each shorter than PATH_MAX, one moved into the other: a path no tar header (and no
  // path-based walk, such as Docker's) can name. Docker fails with ENAMETOOLONG; so must skiff, cleanly.
  test('a tree deeper than a tar path can name: the build fails with the reason, no crash', async () => {
    const dir = path.join(store().dir, 'ctx-too-deep');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${BUSYBOX}
RUN set -e; n=$(printf '%0200d' 0); a=/a; b=/b; for i in 1 2 3 4 5 6 7 8 9 10; do a=$a/$n; b=$b/$n; done; \\
  mkdir -p $a $b/$n && echo bottom > $b/$n/leaf && mv /b $a/
`);
    const b = await skiff(['build', '-q', '-t', `${uniqueName('too-deep')}:v1`, dir], { timeoutMs: 180_000 });
    expect(b.code, b.stderr).not.toBe(0);
    expect(b.stderr).toMatch(/a path longer than 4096 bytes cannot be archived/);
    expect(errorLines(b.stderr).some((l) => /Segmentation|signal|core dumped/i.test(l))).toBe(false);
  });
});
