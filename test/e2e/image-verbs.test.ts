// The local image verbs: tag, image inspect / inspect, history, save, import, image prune,
// images --filter/--format, and rmi's untag-vs-delete rules, against the real binary.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  BUSYBOX,
  CONFIG,
  LAYERED,
  destroyStore,
  errorLines,
  fixture,
  fixtureInfo,
  looksLikeStackTrace,
  newStore,
  parseTable,
  sh,
  shq,
  skiff,
  skiffPty,
  store,
  uniqueName,
  useStore,
  walk,
  type Store,
} from './harness';

useStore({ load: ['busybox.docker.tar', 'layered.oci.tar', 'config.docker.tar'] });

const info = fixtureInfo();
const short = (id: string) => id.slice('sha256:'.length, 'sha256:'.length + 12);
const extraStores: Store[] = [];
const tmpDirs: string[] = [];
afterAll(async () => {
  for (const s of extraStores) await destroyStore(s);
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});
function freshStore(): Store {
  const s = newStore();
  extraStores.push(s);
  return s;
}
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(process.env.SKIFF_E2E_TMP || os.tmpdir(), 'skv-'));
  tmpDirs.push(d);
  return d;
}

async function ok(args: string[], opts: Parameters<typeof skiff>[1] = {}) {
  const r = await skiff(args, opts);
  expect(r.code, `skiff ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

async function rows(args: string[] = [], s?: Store) {
  return parseTable((await ok(['images', ...args], { store: s })).stdout).rows;
}

/** What must not change when an operation is refused: IDs and names (not the ages). */
async function imageSnapshot(): Promise<string> {
  return (await ok(['images', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}'])).stdout;
}

async function inspect(name: string, s?: Store) {
  return JSON.parse((await ok(['image', 'inspect', name], { store: s })).stdout)[0];
}

function blobsOf(s: Store): string[] {
  try {
    return fs.readdirSync(path.join(s.root, 'blobs', 'sha256')).map((h) => `sha256:${h}`);
  } catch {
    return [];
  }
}

/** One member of a tar archive into a file. */
function extract(archive: string, member: string, out: string): void {
  const r = spawnSync('sh', ['-c', `tar -xOf ${shq(archive)} ${shq(member)} > ${shq(out)}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar -xOf ${archive} ${member}: ${r.stderr}`);
}

/** The layer tar inside one of the hostile docker archives (legacy layout: <id>/layer.tar). */
function hostileLayer(name: string, dir: string): string {
  const archive = fixture(`hostile/${name}`);
  const list = spawnSync('tar', ['-tf', archive], { encoding: 'utf8' }).stdout.split('\n');
  const member = list.find((l) => l.endsWith('/layer.tar'))!;
  const out = path.join(dir, name.replace(/\.tar$/, '-layer.tar'));
  extract(archive, member, out);
  return out;
}

/** The busybox root filesystem as a plain tarball (its layer, from a save). */
async function busyboxRootfs(dir: string): Promise<string> {
  const out = path.join(dir, 'rootfs.tar');
  if (fs.existsSync(out)) return out;
  const archive = path.join(dir, 'busybox-save.tar');
  await ok(['save', '-o', archive, BUSYBOX]);
  extract(archive, `blobs/sha256/${info[BUSYBOX].layers[0]}`, out);
  return out;
}

// -------------------------------------------------------------------------------------------

describe('tag', () => {
  test('tag adds a name; images lists it with the same ID', async () => {
    await ok(['tag', BUSYBOX, 'skiff-test/tagged:v1']);
    const row = (await rows(['--no-trunc'])).find((r) => r.REPOSITORY === 'skiff-test/tagged' && r.TAG === 'v1');
    expect(row?.['IMAGE ID']).toBe(info[BUSYBOX].id);
  });

  test('a target without tag is :latest, normalised like Docker (docker.io/library/x is x)', async () => {
    await ok(['image', 'tag', short(info[BUSYBOX].id), 'docker.io/library/skiffshort']);
    expect((await inspect('skiffshort:latest')).Id).toBe(info[BUSYBOX].id);
  });

  test('tagging moves the tag from the image that had it', async () => {
    await ok(['tag', LAYERED, 'skiff-test/moving:1']);
    await ok(['tag', CONFIG, 'skiff-test/moving:1']);
    expect((await inspect('skiff-test/moving:1')).Id).toBe(info[CONFIG].id);
    expect((await inspect(LAYERED)).RepoTags).toEqual([LAYERED]);
    await ok(['rmi', 'skiff-test/moving:1']);
  });

  test('a digest target is refused (125); a missing source exits 1 naming it', async () => {
    const d = await skiff(['tag', BUSYBOX, `skiff-test/x@sha256:${'a'.repeat(64)}`]);
    expect(d.code).toBe(125);
    expect(errorLines(d.stderr)).toHaveLength(1);
    const bad = await skiff(['tag', BUSYBOX, 'Upper/Case']);
    expect(bad.code).toBe(125);
    const m = await skiff(['tag', 'skiff-test/nope:1', 'skiff-test/y']);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/No such image: skiff-test\/nope:1/);
    expect(looksLikeStackTrace(m.stderr)).toBe(false);
  });
});

describe('image inspect', () => {
  test('Docker-compatible JSON array with the image config', async () => {
    const r = await ok(['image', 'inspect', CONFIG]);
    const arr = JSON.parse(r.stdout);
    expect(Array.isArray(arr)).toBe(true);
    const img = arr[0];
    expect(Object.keys(img).slice(0, 5)).toEqual(['Id', 'RepoTags', 'RepoDigests', 'Parent', 'Comment']);
    expect(img.Id).toBe(info[CONFIG].id);
    expect(img.RepoTags).toEqual([CONFIG]);
    expect(img.RepoDigests).toEqual([]);
    expect(img.Parent).toBe('');
    expect(img.Created).toBe('2024-01-01T00:00:00Z');
    expect(img.DockerVersion).toBe('');
    expect(img.Config).toMatchObject({
      Hostname: '', Domainname: '', User: 'app', AttachStdin: false, AttachStdout: false, AttachStderr: false,
      Tty: false, OpenStdin: false, StdinOnce: false, Cmd: ['default'], Image: '', Volumes: null,
      WorkingDir: '/home/app', Entrypoint: ['/bin/echo', 'entry'], OnBuild: null, Labels: null,
    });
    expect(img.Config.Env).toContain('FOO=bar');
    expect(img.Os).toBe('linux');
    expect(typeof img.Architecture).toBe('string');
    expect(img.Size).toBeGreaterThan(1_000_000);
    expect(Object.keys(img.GraphDriver)).toEqual(['Data', 'Name']);
    expect(img.RootFS).toEqual({ Type: 'layers', Layers: info[CONFIG].layers.map((l) => `sha256:${l}`) });
    expect(Object.keys(img.Metadata)).toEqual(['LastTagTime']);
    // Docker's indentation: four spaces
    expect(r.stdout.split('\n')[2]).toMatch(/^ {8}"Id": /);
  });

  test.each([
    ['{{.Id}}', () => info[CONFIG].id],
    ['{{.ID}}', () => info[CONFIG].id],
    ['{{json .Config.Entrypoint}}', () => '["/bin/echo","entry"]'],
    ['{{index .RepoTags 0}}', () => CONFIG],
    ['{{join .Config.Entrypoint " "}}', () => '/bin/echo entry'],
    ['{{.Config.Cmd}}', () => '[default]'],
    ['{{range .Config.Env}}{{if eq . "FOO=bar"}}found{{end}}{{end}}', () => 'found'],
    ['{{if .Config.Labels}}labels{{else}}none{{end}}', () => 'none'],
    ['{{len .RootFS.Layers}} {{upper .Os}}', () => '1 LINUX'],
  ])('--format %s', async (format, want) => {
    const r = await ok(['image', 'inspect', '--format', format, CONFIG]);
    expect(r.stdout).toBe(`${want()}\n`);
  });

  test('GraphDriver.Data names the layer directories that hold the image files, bottom layer last', async () => {
    const layered = JSON.parse((await ok(['image', 'inspect', LAYERED])).stdout)[0].GraphDriver;
    expect(layered.Name).not.toBe('vfs'); // overlay works on the test machines: the dirs are shown
    const dirs: string[] = [layered.Data.UpperDir, ...layered.Data.LowerDir.split(':')];
    expect(dirs).toHaveLength(info[LAYERED].layers.length);
    for (const d of dirs) expect(fs.statSync(d).isDirectory(), d).toBe(true);
    const busybox = JSON.parse((await ok(['image', 'inspect', BUSYBOX])).stdout)[0].GraphDriver;
    expect(fs.existsSync(path.join(busybox.Data.UpperDir, 'bin', 'busybox'))).toBe(true);
  });

  test('{{json .Config}} is the Config object', async () => {
    const r = await ok(['image', 'inspect', '-f', '{{json .Config}}', CONFIG]);
    expect(JSON.parse(r.stdout).WorkingDir).toBe('/home/app');
  });

  test('several images, one missing: the others are printed, then "skiff: No such image", exit 1', async () => {
    const r = await skiff(['image', 'inspect', '-f', '{{.Id}}', BUSYBOX, 'skiff-test/missing:1', LAYERED]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${info[BUSYBOX].id}\n${info[LAYERED].id}\n`);
    expect(errorLines(r.stderr)).toEqual(['skiff: No such image: skiff-test/missing:1']);
    const json = await skiff(['image', 'inspect', 'skiff-test/missing:1']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual([]);
  });

  test('plain `inspect` works for images; by short ID too', async () => {
    const r = await ok(['inspect', '--format', '{{.Id}}', short(info[LAYERED].id)]);
    expect(r.stdout).toBe(`${info[LAYERED].id}\n`);
    const missing = await skiff(['inspect', 'skiff-test/none']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No such object: skiff-test\/none/);
  });

  test('template errors: one line, 64 when the template does not parse, 1 when it fails on the image (as Docker)', async () => {
    for (const [f, code] of [['{{.Id', 64], ['{{.NoSuchField}}', 1], ['{{nofunc .Id}}', 64]] as const) {
      const r = await skiff(['image', 'inspect', '-f', f, BUSYBOX]);
      expect(r.code, f).toBe(code);
      expect(errorLines(r.stderr), f).toHaveLength(1);
      expect(r.stderr).toMatch(/template/);
      expect(looksLikeStackTrace(r.stderr)).toBe(false);
    }
  });
});

describe('history', () => {
  test('IMAGE CREATED CREATED BY SIZE COMMENT, newest first, <missing> below the top', async () => {
    const r = await ok(['history', CONFIG]);
    const t = parseTable(r.stdout);
    expect(t.header).toEqual(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT']);
    expect(t.rows.map((x) => x.IMAGE)).toEqual([short(info[CONFIG].id), ...Array(5).fill('<missing>')]);
    expect(t.rows[0]['CREATED BY']).toBe('CMD ["default"]');
    expect(t.rows[0].SIZE).toBe('0B');
    expect(t.rows.at(-1)!['CREATED BY']).toBe('ADD busybox-static rootfs /');
    expect(t.rows.at(-1)!.SIZE).toMatch(/^\d+(\.\d+)?MB$/);
    expect(t.rows[0].CREATED).toMatch(/ago$/);
  });

  test('-H=false prints bytes and RFC 3339 dates; --no-trunc the full ID; -q the IDs', async () => {
    const raw = parseTable((await ok(['history', '-H=false', '--no-trunc', LAYERED])).stdout).rows;
    expect(raw[0].IMAGE).toBe(info[LAYERED].id);
    expect(raw[0].CREATED).toBe('2024-01-01T00:00:00Z');
    expect(raw.map((x) => x.SIZE).every((s) => /^\d+$/.test(s))).toBe(true);
    const q = await ok(['image', 'history', '-q', LAYERED]);
    expect(q.stdout).toBe(`${short(info[LAYERED].id)}\n<missing>\n<missing>\n`);
  });

  test('--format and json', async () => {
    const f = await ok(['history', '--format', '{{.ID}}|{{.CreatedBy}}', BUSYBOX]);
    expect(f.stdout).toBe(`${short(info[BUSYBOX].id)}|CMD ["sh"]\n<missing>|ADD busybox-static rootfs /\n`);
    const j = await ok(['history', '--format', 'json', BUSYBOX]);
    const first = JSON.parse(j.stdout.split('\n')[0]);
    expect(Object.keys(first)).toEqual(['Comment', 'CreatedAt', 'CreatedBy', 'CreatedSince', 'ID', 'Size']);
  });

  test('a missing image exits 1', async () => {
    const r = await skiff(['history', 'skiff-test/none']);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
  });
});

describe('save', () => {
  test('docker-archive (default): Docker 25+ layout, loads into a fresh store with the same IDs and tags', async () => {
    const dir = tmpDir();
    const out = path.join(dir, 'two.tar');
    await ok(['tag', BUSYBOX, 'skiff-test/busybox:second']);
    await ok(['save', '-o', out, 'skiff-test/busybox', LAYERED]);
    const names = spawnSync('tar', ['-tf', out], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    for (const n of ['oci-layout', 'index.json', 'manifest.json', 'blobs/sha256/']) expect(names).toContain(n);
    const manifest = JSON.parse(spawnSync('tar', ['-xOf', out, 'manifest.json'], { encoding: 'utf8' }).stdout);
    expect(manifest).toHaveLength(2);
    // `repo` alone saves every tag of the repository
    expect(manifest[0].RepoTags.sort()).toEqual(['skiff-test/busybox:latest', 'skiff-test/busybox:second']);
    expect(manifest[0].Config).toBe(`blobs/sha256/${info[BUSYBOX].id.slice(7)}`);
    for (const l of manifest.flatMap((m: { Layers: string[] }) => m.Layers)) expect(names).toContain(l);
    const index = JSON.parse(spawnSync('tar', ['-xOf', out, 'index.json'], { encoding: 'utf8' }).stdout);
    expect(index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations['io.containerd.image.name']).sort())
      .toEqual(['docker.io/skiff-test/busybox:latest', 'docker.io/skiff-test/busybox:second', 'docker.io/skiff-test/layered:latest']);

    const s = freshStore();
    const r = await ok(['load', '-i', out], { store: s });
    expect(r.stdout).toMatch(/Loaded image: skiff-test\/busybox:second/);
    const loaded = await rows(['--no-trunc'], s);
    expect(loaded.filter((x) => x.REPOSITORY === 'skiff-test/busybox').map((x) => x['IMAGE ID'])).toEqual([info[BUSYBOX].id, info[BUSYBOX].id]);
    expect(loaded.find((x) => x.REPOSITORY === 'skiff-test/layered')?.['IMAGE ID']).toBe(info[LAYERED].id);
    const run = await skiff(['run', '--rm', LAYERED, 'cat', '/etc/motd'], { store: s });
    expect(run.stdout).toBe('layer2\n');
    await ok(['rmi', 'skiff-test/busybox:second']);
  });

  test('the manifest an image was loaded with is saved byte for byte, and survives save | load | save', async () => {
    const indexOf = (archive: string) => JSON.parse(spawnSync('tar', ['-xOf', archive, 'index.json'], { encoding: 'utf8' }).stdout);
    const original = indexOf(fixture('layered.oci.tar')).manifests[0].digest;
    const dir = tmpDir();
    const first = path.join(dir, 'first.tar');
    await ok(['save', '-o', first, LAYERED]);
    expect(indexOf(first).manifests.map((m: { digest: string }) => m.digest)).toEqual([original]);
    const s = freshStore();
    await ok(['load', '-i', first], { store: s });
    const second = path.join(dir, 'second.tar');
    await ok(['save', '-o', second, LAYERED], { store: s });
    expect(indexOf(second).manifests.map((m: { digest: string }) => m.digest)).toEqual([original]);
    expect(blobsOf(s)).toContain(original);
  });

  test('the same image saved twice is byte-identical (streamed to a pipe)', async () => {
    const a = await sh(`"$SKIFF" save ${BUSYBOX} | sha256sum`);
    const b = await sh(`"$SKIFF" image save ${BUSYBOX} | sha256sum`);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/^[0-9a-f]{64} /);
    expect(a.stdout).toBe(b.stdout);
  });

  test('save | load round trip through a pipe', async () => {
    const s = freshStore();
    const r = await sh(`"$SKIFF" save ${CONFIG} | SKIFF_ROOT=${shq(s.root)} SKIFF_RUNROOT=${shq(s.runroot)} "$SKIFF" load`);
    expect(r.code, r.stderr).toBe(0);
    expect((await inspect(CONFIG, s)).Id).toBe(info[CONFIG].id);
  });

  test('--format oci-archive: a plain OCI layout, names in org.opencontainers.image.ref.name', async () => {
    const dir = tmpDir();
    const out = path.join(dir, 'oci.tar');
    await ok(['save', '--format', 'oci-archive', '-o', out, CONFIG]);
    const names = spawnSync('tar', ['-tf', out], { encoding: 'utf8' }).stdout.split('\n');
    expect(names).not.toContain('manifest.json');
    const index = JSON.parse(spawnSync('tar', ['-xOf', out, 'index.json'], { encoding: 'utf8' }).stdout);
    expect(index.manifests[0].mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(index.manifests[0].annotations['org.opencontainers.image.ref.name']).toBe('docker.io/skiff-test/config:latest');
    const s = freshStore();
    await ok(['load', '-i', out], { store: s });
    expect((await inspect(CONFIG, s)).Id).toBe(info[CONFIG].id);
    const skopeo = spawnSync('sh', ['-c', 'command -v skopeo']).status === 0;
    if (skopeo) {
      const r = spawnSync('skopeo', ['inspect', `oci-archive:${out}:docker.io/skiff-test/config:latest`], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
  });

  test('refuses to write to a terminal (exit 1), and writes nothing for a missing image', async () => {
    const r = await skiffPty(['save', BUSYBOX]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/cowardly refusing to save to a terminal\. Use the -o flag or redirect/);
    const dir = tmpDir();
    const out = path.join(dir, 'none.tar');
    const m = await skiff(['save', '-o', out, BUSYBOX, 'skiff-test/none:1']);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/No such image: skiff-test\/none:1/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('import', () => {
  test('a file becomes a one-layer image with the tag, runnable, "Imported from -" in history', async () => {
    const dir = tmpDir();
    const rootfs = await busyboxRootfs(dir);
    const r = await ok(['import', rootfs, 'skiff-test/imported:1']);
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const img = await inspect('skiff-test/imported:1');
    expect(img.Id).toBe(r.stdout.trim());
    expect(img.RootFS.Layers).toEqual([`sha256:${info[BUSYBOX].layers[0]}`]);
    expect(img.Os).toBe('linux');
    expect(Date.now() - Date.parse(img.Created)).toBeLessThan(120_000);
    const h = parseTable((await ok(['history', 'skiff-test/imported:1'])).stdout).rows;
    expect(h).toHaveLength(1);
    expect(h[0].COMMENT).toBe('Imported from -');
    const run = await skiff(['run', '--rm', 'skiff-test/imported:1', '/bin/cat', '/etc/motd']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('skiff-test busybox\n');
  });

  test('gzip from stdin, with -c changes and -m', async () => {
    const dir = tmpDir();
    const rootfs = await busyboxRootfs(dir);
    const r = await sh(`gzip -c ${shq(rootfs)} | "$SKIFF" import -m 'from a pipe' -c 'ENV GREETING="hello there"' -c 'CMD echo $GREETING from $0' -c 'LABEL org.example.kind=imported' -c 'WORKDIR /tmp' -c 'EXPOSE 8080' - skiff-test/imported:2`);
    expect(r.code, r.stderr).toBe(0);
    const img = await inspect('skiff-test/imported:2');
    expect(img.Config.Env).toEqual(['GREETING=hello there']);
    expect(img.Config.Cmd).toEqual(['/bin/sh', '-c', 'echo $GREETING from $0']);
    expect(img.Config.Labels).toEqual({ 'org.example.kind': 'imported' });
    expect(img.Config.WorkingDir).toBe('/tmp');
    expect(img.Config.ExposedPorts).toEqual({ '8080/tcp': {} });
    expect(img.Comment).toBe('from a pipe');
    const run = await skiff(['run', '--rm', 'skiff-test/imported:2']);
    expect(run.stdout).toBe('hello there from /bin/sh\n');
    const pwd = await skiff(['run', '--rm', 'skiff-test/imported:2', 'pwd']);
    expect(pwd.stdout).toBe('/tmp\n');
  });

  test('from an http URL', async () => {
    const dir = tmpDir();
    const rootfs = await busyboxRootfs(dir);
    const server = http.createServer((req, res) => {
      if (req.url === '/rootfs.tar') {
        res.writeHead(200, { 'content-type': 'application/x-tar' });
        fs.createReadStream(rootfs).pipe(res);
      } else if (req.url === '/moved') {
        res.writeHead(302, { location: '/rootfs.tar' });
        res.end();
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await ok(['import', `${base}/moved`, 'skiff-test/imported:url']);
      const h = await ok(['history', '--format', '{{.Comment}}', 'skiff-test/imported:url']);
      expect(h.stdout).toBe(`Imported from ${base}/moved\n`);
      const nf = await skiff(['import', `${base}/nothing`]);
      expect(nf.code).toBe(1);
      expect(nf.stderr).toMatch(/404/);
    } finally {
      server.close();
    }
  });

  test('bad input: a missing file (1), an invalid change (125), not a tarball (125)', async () => {
    const before = await imageSnapshot();
    const m = await skiff(['import', '/nonexistent/rootfs.tar']);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/no such file or directory/);
    const c = await skiff(['import', '-c', 'RUN rm -rf /', fixture('hostile/garbage.tar')]);
    expect(c.code).toBe(125);
    expect(c.stderr).toMatch(/run is not a valid change command/);
    const g = await skiff(['import', fixture('hostile/garbage.tar'), 'skiff-test/garbage']);
    expect(g.code).toBe(125);
    expect(errorLines(g.stderr)).toHaveLength(1);
    expect(looksLikeStackTrace(g.stderr)).toBe(false);
    expect(await imageSnapshot()).toBe(before);
  });

  describe.each(['dotdot.tar', 'symlink-escape.tar', 'hardlink-escape.tar'])('hostile tarball %s', (file) => {
    test('is refused with 125, nothing lands outside the store, no image is created', async () => {
      const dir = tmpDir();
      const layer = hostileLayer(file, dir);
      const before = await imageSnapshot();
      const r = await skiff(['import', layer, `skiff-test/hostile-import:${file.replace(/\.tar$/, '')}`]);
      expect(r.code, r.stdout).toBe(125);
      expect(errorLines(r.stderr)).toHaveLength(1);
      expect(looksLikeStackTrace(r.stderr)).toBe(false);
      for (const p of ['/tmp/pwned-by-skiff', '/tmp/evil-by-skiff', path.join(path.dirname(store().dir), 'evil'), path.join(store().dir, 'evil')]) {
        expect(fs.existsSync(p), p).toBe(false);
      }
      const passwd = fs.statSync('/etc/passwd');
      expect(walk(store().dir).filter((f) => f.st.isFile() && f.st.ino === passwd.ino && f.st.dev === passwd.dev)).toEqual([]);
      expect(await imageSnapshot()).toBe(before);
    });
  });
});

describe('images --filter and --format', () => {
  test('dangling=true|false', async () => {
    const dir = tmpDir();
    const id = (await ok(['import', await busyboxRootfs(dir)])).stdout.trim();
    const dangling = await rows(['--no-trunc', '-f', 'dangling=true']);
    expect(dangling.map((r) => r['IMAGE ID'])).toContain(id);
    expect(dangling.every((r) => r.REPOSITORY === '<none>' && r.TAG === '<none>')).toBe(true);
    const tagged = await rows(['--no-trunc', '--filter', 'dangling=false']);
    expect(tagged.map((r) => r['IMAGE ID'])).not.toContain(id);
    expect(tagged.find((r) => r.REPOSITORY === 'skiff-test/busybox')).toBeDefined();
  });

  test('reference globs match the familiar name with and without tag; several values are ORed', async () => {
    const byName = await rows(['-f', 'reference=skiff-test/lay*']);
    expect(byName.map((r) => r.REPOSITORY)).toEqual(['skiff-test/layered']);
    const byTag = await rows(['-f', 'reference=*/imported:?']);
    expect(byTag.map((r) => `${r.REPOSITORY}:${r.TAG}`).sort()).toEqual(['skiff-test/imported:1', 'skiff-test/imported:2']);
    const two = await rows(['-f', 'reference=skiff-test/config', '-f', 'reference=skiff-test/layered']);
    expect(two.map((r) => r.REPOSITORY).sort()).toEqual(['skiff-test/config', 'skiff-test/layered']);
  });

  test('label=KEY and label=KEY=VALUE; AND across keys', async () => {
    expect((await rows(['-f', 'label=org.example.kind'])).map((r) => `${r.REPOSITORY}:${r.TAG}`)).toEqual(['skiff-test/imported:2']);
    expect(await rows(['-f', 'label=org.example.kind=other'])).toEqual([]);
    expect(await rows(['-f', 'label=org.example.kind=imported', '-f', 'dangling=true'])).toEqual([]);
  });

  test('before= and since= another image', async () => {
    const since = await rows(['-f', `since=${CONFIG}`]);
    expect(since.map((r) => r.REPOSITORY)).toContain('skiff-test/imported');
    expect(since.map((r) => r.REPOSITORY)).not.toContain('skiff-test/busybox');
    const before = await rows(['-f', 'before=skiff-test/imported:1']);
    expect(before.map((r) => r.REPOSITORY)).toContain('skiff-test/busybox');
    expect(before.map((r) => r.REPOSITORY)).not.toContain('skiff-test/imported');
  });

  test('an unknown filter is one error line, exit 125', async () => {
    const r = await skiff(['images', '-f', 'colour=blue']);
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toEqual(["skiff: invalid filter 'colour'"]);
    const bad = await skiff(['images', '-f', 'dangling']);
    expect(bad.code).toBe(125);
  });

  test('--format with a table and a plain template', async () => {
    const t = await ok(['images', '--format', 'table {{.Repository}}\\t{{.ID}}', '-f', 'reference=skiff-test/config']);
    expect(parseTable(t.stdout).header).toEqual(['REPOSITORY', 'IMAGE ID']);
    expect(parseTable(t.stdout).rows).toEqual([{ REPOSITORY: 'skiff-test/config', 'IMAGE ID': short(info[CONFIG].id) }]);
    const p = await ok(['images', '--format', '{{.Repository}}:{{.Tag}}', 'skiff-test/config']);
    expect(p.stdout).toBe('skiff-test/config:latest\n');
    const j = await ok(['images', '--format', 'json', 'skiff-test/config']);
    expect(JSON.parse(j.stdout).ID).toBe(short(info[CONFIG].id));
  });
});

describe('rmi semantics (as Docker with the containerd store)', () => {
  test('by ID, an image with several tags is refused without -f; -f untags all and deletes', async () => {
    const dir = tmpDir();
    const id = (await ok(['import', await busyboxRootfs(dir), 'skiff-test/multi:a'])).stdout.trim();
    await ok(['tag', id, 'skiff-test/multi:b']);
    const r = await skiff(['rmi', short(id)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/conflict: unable to delete [0-9a-f]{12} \(must be forced\) - image is referenced in multiple repositories/);
    const f = await ok(['rmi', '-f', short(id)]);
    expect(f.stdout.split('\n').filter(Boolean).sort()).toEqual(['Deleted: ' + id, 'Untagged: skiff-test/multi:a', 'Untagged: skiff-test/multi:b'].sort());
    expect((await skiff(['image', 'inspect', id])).code).toBe(1);
    // its layer blob and config are gone from the blob store
    expect(blobsOf(store())).not.toContain(id);
  });

  test('by name, one of several tags: only that tag goes', async () => {
    await ok(['tag', CONFIG, 'skiff-test/config:extra']);
    const r = await ok(['rmi', 'skiff-test/config:extra']);
    expect(r.stdout).toBe('Untagged: skiff-test/config:extra\n');
    expect((await inspect(CONFIG)).Id).toBe(info[CONFIG].id);
  });

  test('a stopped container: rmi by name refuses; -f untags and leaves the image dangling for it', async () => {
    const dir = tmpDir();
    const id = (await ok(['import', '-c', 'CMD ["/bin/cat", "/etc/motd"]', await busyboxRootfs(dir), 'skiff-test/used:1'])).stdout.trim();
    const name = uniqueName('uses');
    await ok(['create', '--name', name, 'skiff-test/used:1']);
    const r = await skiff(['rmi', 'skiff-test/used:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/conflict: unable to delete skiff-test\/used:1 \(must be forced\) - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}/);
    const byId = await skiff(['rmi', short(id)]);
    expect(byId.code).toBe(1);
    expect(byId.stderr).toMatch(/image is being used by stopped container/);
    const f = await ok(['rmi', '-f', 'skiff-test/used:1']);
    expect(f.stdout).toBe('Untagged: skiff-test/used:1\n');
    const dangling = await rows(['--no-trunc', '-f', 'dangling=true']);
    expect(dangling.map((x) => x['IMAGE ID'])).toContain(id);
    // the container still works
    const start = await skiff(['start', '-a', name]);
    expect(start.code, start.stderr).toBe(0);
    expect(start.stdout).toBe('skiff-test busybox\n');
    // image prune leaves an image a container uses
    await ok(['image', 'prune', '-f']);
    expect((await skiff(['image', 'inspect', id])).code).toBe(0);
    await ok(['rm', name]);
  });

  test('a running container: rmi -f by ID cannot be forced', async () => {
    const name = uniqueName('running');
    await ok(['run', '-d', '--name', name, BUSYBOX, 'sleep', '60']);
    try {
      const r = await skiff(['rmi', '-f', info[BUSYBOX].id]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/\(cannot be forced\) - image is being used by running container/);
      expect((await inspect(BUSYBOX)).Id).toBe(info[BUSYBOX].id);
    } finally {
      await skiff(['rm', '-f', name]);
    }
  });
});

describe('image prune', () => {
  test('without -f it asks; no answer (closed stdin) removes nothing', async () => {
    const dir = tmpDir();
    const id = (await ok(['import', await busyboxRootfs(dir)])).stdout.trim();
    const r = await ok(['image', 'prune']);
    expect(r.stdout).toMatch(/^WARNING! This will remove all dangling images\.\nAre you sure you want to continue\? \[y\/N\] /);
    expect(r.stdout).not.toMatch(/Deleted/);
    expect((await skiff(['image', 'inspect', id])).code).toBe(0);
    const no = await ok(['image', 'prune'], { input: 'n\n' });
    expect(no.stdout).not.toMatch(/Deleted/);
    expect((await skiff(['image', 'inspect', id])).code).toBe(0);
  });

  test('y removes the dangling images and their blobs, keeps tagged ones, prints Docker\'s report', async () => {
    const unused = (await ok(['images', '-q', '--no-trunc', '-f', 'dangling=true'])).stdout.split('\n').filter(Boolean);
    expect(unused.length).toBeGreaterThan(0);
    const r = await ok(['image', 'prune'], { input: 'y\n' });
    expect(r.stdout).toMatch(/Deleted Images:\n/);
    expect(r.stdout).toMatch(/\n\nTotal reclaimed space: \d+(\.\d+)?[kMG]?B\n$/);
    expect((await ok(['images', '-q', '-f', 'dangling=true'])).stdout).toBe('');
    for (const id of unused) {
      expect(r.stdout).toContain(`deleted: ${id}`);
      expect(blobsOf(store())).not.toContain(id);
    }
    expect((await inspect(BUSYBOX)).Id).toBe(info[BUSYBOX].id);
    const again = await ok(['image', 'prune', '-f']);
    expect(again.stdout).toBe('Total reclaimed space: 0B\n');
  });

  test('-a -f removes every image no container uses, with untagged: lines; blobs follow', async () => {
    const s = freshStore();
    await ok(['load', '-i', fixture('busybox.docker.tar')], { store: s });
    await ok(['load', '-i', fixture('layered.oci.tar')], { store: s });
    const name = uniqueName('keep');
    await ok(['create', '--name', name, BUSYBOX, 'true'], { store: s });
    const r = await ok(['image', 'prune', '-a', '-f'], { store: s });
    expect(r.stdout).toBe(`Deleted Images:\nuntagged: ${LAYERED}\ndeleted: ${info[LAYERED].id}\n\n${r.stdout.split('\n\n')[1]}`);
    expect(r.stdout).toMatch(/Total reclaimed space: [1-9]/);
    expect((await rows([], s)).map((x) => x.REPOSITORY)).toEqual(['skiff-test/busybox']);
    const blobs = blobsOf(s);
    expect(blobs).toContain(info[BUSYBOX].id);
    expect(blobs).not.toContain(info[LAYERED].id);
    await ok(['rm', name], { store: s });
    await ok(['rmi', BUSYBOX], { store: s });
    expect(blobsOf(s)).toEqual([]);
    expect(fs.readdirSync(path.join(s.root, 'layers')).filter((n) => !n.endsWith('.lock'))).toEqual([]);
  });

  test('--filter with an unknown key is refused before asking', async () => {
    const r = await skiff(['image', 'prune', '--filter', 'dangling=true']);
    expect(r.code).toBe(125);
    expect(r.stdout).toBe('');
    expect(errorLines(r.stderr)).toEqual(["skiff: invalid filter 'dangling'"]);
  });
});

describe('layer collection while another process uses layers', () => {
  const layerNames = (s: Store) => fs.readdirSync(path.join(s.root, 'layers')).filter((n) => /^[0-9a-f]{64}$/.test(n));

  test('rmi leaves unreferenced layers to a later collection while a load is running', async () => {
    // A load (like a pull, import or create) has no record naming its layers until it ends;
    // an rmi in between must not collect layers it may be about to reference.
    const s = freshStore();
    await ok(['load', '-i', fixture('busybox.docker.tar')], { store: s });
    const before = layerNames(s);
    expect(before.length).toBeGreaterThan(0);
    const fifo = path.join(tmpDir(), 'archive');
    const r = await sh(
      [
        `mkfifo ${shq(fifo)}`,
        `"$SKIFF" load < ${shq(fifo)} > ${shq(fifo)}.out 2>&1 & pid=$!`,
        `exec 3> ${shq(fifo)}`, // the load starts reading now, and waits for input
        // until the load holds its shared lock, an exclusive try-lock succeeds
        `i=0; while flock -n -x ${shq(path.join(s.root, 'layers-in-use.lock'))} true; do i=$((i+1)); [ $i -lt 100 ] || exit 9; sleep 0.05; done`,
        `"$SKIFF" rmi ${BUSYBOX} || exit 8`,
        `ls ${shq(path.join(s.root, 'layers'))} | grep -cE '^[0-9a-f]{64}$'`,
        `cat ${shq(fixture('busybox.docker.tar'))} >&3; exec 3>&-`,
        'wait $pid; echo "load exit $?"',
        `cat ${shq(fifo)}.out`,
      ].join('\n'),
      { store: s },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.split('\n');
    expect(out).toContain(`Deleted: ${info[BUSYBOX].id}`);
    expect(out, r.stdout).toContain(String(before.length)); // the layers were left alone
    expect(out).toContain('load exit 0');
    expect(out).toContain(`Loaded image: ${BUSYBOX}`);
    expect(layerNames(s).sort()).toEqual(before.sort());
    expect((await ok(['run', '--rm', BUSYBOX, 'echo', 'still whole'], { store: s })).stdout).toBe('still whole\n');
    // with nothing in use, the next rmi collects them
    await ok(['rmi', BUSYBOX], { store: s });
    expect(layerNames(s)).toEqual([]);
  });
});
