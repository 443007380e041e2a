import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readImageArchive, type ArchiveImage } from '../../src/image/archive';
import { SkiffError } from '../../src/util/errors';
import { END_OF_ARCHIVE, chunked, packTar, rawEntry, sha256, type PackEntry } from './image-tar-fixtures';

const T = new Date(1700000000 * 1000);
const hex = (d: string) => d.slice('sha256:'.length);

let root: string;
let staging: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'skiff-archive-test-'));
  staging = join(root, 'staging');
  await mkdir(staging);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function layer(files: Record<string, string>): Promise<Buffer> {
  return packTar(Object.entries(files).map(([name, data]) => ({ name, data, mtime: T })));
}

function config(diffIds: string[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      ...extra,
    }),
  );
}

const file = (name: string, data: Buffer | string): PackEntry => ({ name, data, mtime: T });
const dir = (name: string): PackEntry => ({ name, type: 'directory', mtime: T });

async function load(tar: Buffer, chunk = 1000, platform?: { os: string; architecture: string; variant?: string }) {
  return readImageArchive(chunked(tar, chunk), staging, platform ? { platform } : {});
}

async function loadFails(tar: Buffer): Promise<SkiffError> {
  try {
    await load(tar);
  } catch (e) {
    expect(e).toBeInstanceOf(SkiffError);
    expect((e as SkiffError).exitCode).toBe(125);
    return e as SkiffError;
  }
  throw new Error('expected the archive to be rejected');
}

async function expectLayerBytes(img: ArchiveImage, i: number, bytes: Buffer) {
  expect(img.layers[i].path.startsWith(staging + '/')).toBe(true);
  expect((await readFile(img.layers[i].path)).equals(bytes)).toBe(true);
}

// ---- fixtures -------------------------------------------------------------------------------

async function dockerLegacyArchive(opts: { manifestFirst?: boolean; dupSymlink?: boolean } = {}) {
  const l1 = await layer({ 'bin/sh': 'shell', 'etc/passwd': 'root:x:0:0' });
  const l2 = await layer({ 'app/run': 'run' });
  const layers = opts.dupSymlink ? [l1, l2, l1] : [l1, l2];
  const cfg = config(layers.map((l) => sha256(l)));
  const cfgName = `${hex(sha256(cfg))}.json`;
  const ids = ['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)].slice(0, layers.length);
  const manifest = Buffer.from(
    JSON.stringify([{ Config: cfgName, RepoTags: ['busybox:latest', 'example.com:5000/ns/app:v1'], Layers: ids.map((id) => `${id}/layer.tar`) }]),
  );
  const body: PackEntry[] = [];
  ids.forEach((id, i) => {
    body.push(dir(`${id}/`), file(`${id}/VERSION`, '1.0'), file(`${id}/json`, '{}'));
    if (opts.dupSymlink && i === 2) {
      body.push({ name: `${id}/layer.tar`, type: 'symlink', linkname: `../${ids[0]}/layer.tar`, mtime: T });
    } else {
      body.push(file(`${id}/layer.tar`, layers[i]));
    }
  });
  body.push(file(cfgName, cfg), file('repositories', '{}'));
  const entries = opts.manifestFirst ? [file('manifest.json', manifest), ...body] : [...body, file('manifest.json', manifest)];
  return { tar: await packTar(entries), l1, l2, cfg };
}

/** Docker 25+ `docker save`: OCI layout plus manifest.json pointing into blobs/. */
async function dockerOciArchive() {
  const l1 = await layer({ 'bin/sh': 'shell' });
  const cfg = config([sha256(l1)]);
  const man = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(cfg), size: cfg.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(l1), size: l1.length }],
    }),
  );
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: sha256(man),
          size: man.length,
          annotations: { 'io.containerd.image.name': 'docker.io/library/busybox:latest', 'org.opencontainers.image.ref.name': 'latest' },
        },
      ],
    }),
  );
  const manifestJson = Buffer.from(
    JSON.stringify([{ Config: `blobs/sha256/${hex(sha256(cfg))}`, RepoTags: ['busybox:latest'], Layers: [`blobs/sha256/${hex(sha256(l1))}`] }]),
  );
  const tar = await packTar([
    dir('blobs/'),
    dir('blobs/sha256/'),
    file(`blobs/sha256/${hex(sha256(l1))}`, l1),
    file(`blobs/sha256/${hex(sha256(cfg))}`, cfg),
    file(`blobs/sha256/${hex(sha256(man))}`, man),
    file('index.json', index),
    file('manifest.json', manifestJson),
    file('oci-layout', '{"imageLayoutVersion":"1.0.0"}'),
  ]);
  return { tar, l1, cfg };
}

function manifestFor(cfg: Buffer, layers: { digest: string; size: number; mediaType: string }[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(cfg), size: cfg.length },
      layers,
    }),
  );
}

const blob = (b: Buffer): PackEntry => file(`blobs/sha256/${hex(sha256(b))}`, b);

async function ociArchive(opts: { refName?: string; extraIndex?: unknown[] } = {}) {
  const l1 = await layer({ 'etc/os-release': 'ID=test' });
  const l1gz = gzipSync(l1);
  const l2 = await layer({ 'usr/bin/app': 'app' });
  const cfg = config([sha256(l1), sha256(l2)]);
  const man = manifestFor(cfg, [
    { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(l1gz), size: l1gz.length },
    { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(l2), size: l2.length },
  ]);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: sha256(man),
          size: man.length,
          annotations: { 'org.opencontainers.image.ref.name': opts.refName ?? 'example.com/app:v1' },
        },
        ...(opts.extraIndex ?? []),
      ],
    }),
  );
  // index.json first, blobs after: order must not matter
  const tar = await packTar([
    file('index.json', index),
    file('oci-layout', '{"imageLayoutVersion":"1.0.0"}'),
    blob(l2),
    blob(cfg),
    blob(man),
    blob(l1gz),
  ]);
  return { tar, l1, l1gz, l2, cfg, man };
}

// ---- tests ----------------------------------------------------------------------------------

describe('Docker archives', () => {
  for (const manifestFirst of [false, true]) {
    it(`legacy layout (manifest.json ${manifestFirst ? 'first' : 'last'})`, async () => {
      const { tar, l1, l2, cfg } = await dockerLegacyArchive({ manifestFirst });
      const images = await load(tar, 777);
      expect(images).toHaveLength(1);
      const img = images[0];
      expect(img.repoTags).toEqual(['busybox:latest', 'example.com:5000/ns/app:v1']);
      expect(img.config.digest).toBe(sha256(cfg));
      expect(img.config.bytes.equals(cfg)).toBe(true);
      expect(img.config.parsed.rootfs.diff_ids).toEqual([sha256(l1), sha256(l2)]);
      expect(img.manifestDigest).toBeUndefined();
      expect(img.layers.map((l) => ({ ...l, path: '' }))).toEqual([
        { path: '', diffId: sha256(l1), fileDigest: sha256(l1), size: l1.length, compression: 'none' },
        { path: '', diffId: sha256(l2), fileDigest: sha256(l2), size: l2.length, compression: 'none' },
      ]);
      await expectLayerBytes(img, 0, l1);
      await expectLayerBytes(img, 1, l2);
    });
  }

  it('legacy layout with a symlinked duplicate layer', async () => {
    const { tar, l1 } = await dockerLegacyArchive({ dupSymlink: true });
    const [img] = await load(tar);
    expect(img.layers).toHaveLength(3);
    expect(img.layers[2].path).toBe(img.layers[0].path);
    await expectLayerBytes(img, 2, l1);
  });

  it('Docker 25+ layout: manifest.json wins, blob digests are known', async () => {
    const { tar, l1, cfg } = await dockerOciArchive();
    const images = await load(tar);
    expect(images).toHaveLength(1);
    expect(images[0].repoTags).toEqual(['busybox:latest']);
    expect(images[0].config.digest).toBe(sha256(cfg));
    expect(images[0].layers[0].digest).toBe(sha256(l1));
    expect(images[0].layers[0].diffId).toBe(sha256(l1));
    await expectLayerBytes(images[0], 0, l1);
  });

  it('a gzip-compressed archive is read the same way', async () => {
    const { tar, cfg } = await dockerLegacyArchive();
    const [img] = await load(gzipSync(tar), 333);
    expect(img.config.digest).toBe(sha256(cfg));
  });

  it('several images, untagged ones, and duplicates merged by config', async () => {
    const l1 = await layer({ a: '1' });
    const c1 = config([sha256(l1)]);
    const c2 = config([sha256(l1)], { author: 'x' });
    const man = [
      { Config: `${hex(sha256(c1))}.json`, RepoTags: ['one:1'], Layers: ['l/layer.tar'] },
      { Config: `${hex(sha256(c2))}.json`, RepoTags: null, Layers: ['l/layer.tar'] },
      { Config: `${hex(sha256(c1))}.json`, RepoTags: ['one:2', 'one:1'], Layers: ['l/layer.tar'] },
    ];
    const tar = await packTar([
      file('l/layer.tar', l1),
      file(`${hex(sha256(c1))}.json`, c1),
      file(`${hex(sha256(c2))}.json`, c2),
      file('manifest.json', JSON.stringify(man)),
    ]);
    const images = await load(tar);
    expect(images.map((i) => [i.config.digest, i.repoTags])).toEqual([
      [sha256(c1), ['one:1', 'one:2']],
      [sha256(c2), []],
    ]);
  });

  it('gzip-compressed layer.tar is accepted and marked as such', async () => {
    const l1 = await layer({ a: '1' });
    const gz = gzipSync(l1);
    const c = config([sha256(l1)]);
    const tar = await packTar([
      file('x/layer.tar', gz),
      file(`${hex(sha256(c))}.json`, c),
      file('manifest.json', JSON.stringify([{ Config: `${hex(sha256(c))}.json`, RepoTags: [], Layers: ['x/layer.tar'] }])),
    ]);
    const [img] = await load(tar);
    expect(img.layers[0]).toMatchObject({ compression: 'gzip', diffId: sha256(l1), fileDigest: sha256(gz) });
  });
});

describe('OCI archives', () => {
  it('reads index -> manifest -> config/layers with digests and media types', async () => {
    const { tar, l1, l1gz, l2, cfg, man } = await ociArchive();
    const images = await load(tar);
    expect(images).toHaveLength(1);
    const img = images[0];
    expect(img.repoTags).toEqual(['example.com/app:v1']);
    expect(img.manifestDigest).toBe(sha256(man));
    expect(img.config.digest).toBe(sha256(cfg));
    expect(img.layers.map((l) => ({ ...l, path: '' }))).toEqual([
      {
        path: '',
        digest: sha256(l1gz),
        diffId: sha256(l1),
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        fileDigest: sha256(l1gz),
        size: l1gz.length,
        compression: 'gzip',
      },
      {
        path: '',
        digest: sha256(l2),
        diffId: sha256(l2),
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        fileDigest: sha256(l2),
        size: l2.length,
        compression: 'none',
      },
    ]);
    await expectLayerBytes(img, 0, l1gz);
  });

  it('tags: familiar full names kept, a bare tag loads untagged', async () => {
    expect((await load((await ociArchive({ refName: 'docker.io/library/alpine:3' })).tar))[0].repoTags).toEqual(['alpine:3']);
    await rm(staging, { recursive: true });
    await mkdir(staging);
    expect((await load((await ociArchive({ refName: 'latest' })).tar))[0].repoTags).toEqual([]);
  });

  async function multiArch(present: ('amd64' | 'arm64')[]) {
    const mk = async (arch: string) => {
      const l = await layer({ arch });
      const c = config([sha256(l)], { architecture: arch });
      const m = manifestFor(c, [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(l), size: l.length }]);
      return { arch, l, c, m };
    };
    const all = [await mk('amd64'), await mk('arm64')];
    const att = Buffer.from(JSON.stringify({ schemaVersion: 2, layers: [], config: {} }));
    const idx = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          ...all.map((x) => ({
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: sha256(x.m),
            size: x.m.length,
            platform: { os: 'linux', architecture: x.arch },
          })),
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: sha256(att),
            size: att.length,
            platform: { os: 'unknown', architecture: 'unknown' },
            annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
          },
        ],
      }),
    );
    const top = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.index.v1+json',
            digest: sha256(idx),
            size: idx.length,
            annotations: { 'io.containerd.image.name': 'docker.io/library/multi:1', 'org.opencontainers.image.ref.name': '1' },
          },
        ],
      }),
    );
    const entries: PackEntry[] = [file('oci-layout', '{"imageLayoutVersion":"1.0.0"}'), file('index.json', top), blob(idx), blob(att)];
    for (const x of all) if (present.includes(x.arch as 'amd64')) entries.push(blob(x.l), blob(x.c), blob(x.m));
    return { tar: await packTar(entries), all, idx };
  }

  it('nested index: picks the requested platform, skips attestations', async () => {
    const { tar, all } = await multiArch(['amd64', 'arm64']);
    const [img] = await load(tar, 1000, { os: 'linux', architecture: 'arm64' });
    expect(img.config.digest).toBe(sha256(all[1].c));
    expect(img.repoTags).toEqual(['multi:1']);
  });

  it('nested index: takes the only platform present in the archive', async () => {
    const { tar, all } = await multiArch(['arm64']);
    const [img] = await load(tar, 1000, { os: 'linux', architecture: 'amd64' });
    expect(img.config.digest).toBe(sha256(all[1].c));
  });

  it('nested index: no image for this platform among several', async () => {
    const { tar, idx } = await multiArch(['amd64', 'arm64']);
    await expect(load(tar, 1000, { os: 'linux', architecture: 's390x' })).rejects.toThrow(
      `invalid archive: index.json: manifests[0]: index ${sha256(idx)} has no image for linux/s390x`,
    );
  });
});

describe('verification failures', () => {
  it('truncated archive', async () => {
    const { tar } = await dockerLegacyArchive();
    const e = await loadFails(tar.subarray(0, Math.floor(tar.length / 2) + 100));
    expect(e.message).toBe(
      'archive is truncated or corrupt: Unexpected end of data; the file is incomplete or damaged, export it again',
    );
  });

  it('corrupt tar header', async () => {
    const { tar } = await dockerLegacyArchive();
    tar[10] ^= 0x20; // a byte of the first entry's name: the checksum no longer matches
    const e = await loadFails(tar);
    expect(e.message).toBe(
      'archive is truncated or corrupt: Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?; the file is incomplete or damaged, export it again',
    );
  });

  it('OCI blob whose content does not match its name', async () => {
    const l = await layer({ a: 'b' });
    const tampered = await layer({ a: 'c' });
    const e = await loadFails(
      await packTar([file('index.json', '{"manifests":[]}'), file(`blobs/sha256/${hex(sha256(l))}`, tampered)]),
    );
    expect(e.message).toBe(
      `invalid archive: blob ${sha256(l)} does not match its content (${sha256(tampered)}); the archive is corrupt`,
    );
  });

  it('OCI blob named by something that is not a digest', async () => {
    const e = await loadFails(await packTar([file('index.json', '{"manifests":[]}'), file('blobs/sha256/abc', 'x')]));
    expect(e.message).toBe('invalid archive: blob blobs/sha256/abc is not named by a valid sha256 digest');
  });

  it('OCI descriptor size mismatch', async () => {
    const l = await layer({ a: 'b' });
    const c = config([sha256(l)]);
    const m = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(c), size: c.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(l), size: l.length + 1 }],
      }),
    );
    const idx = JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(m), size: m.length }] });
    const e = await loadFails(await packTar([file('index.json', idx), blob(l), blob(c), blob(m)]));
    expect(e.message).toBe(
      `invalid archive: blob ${sha256(l)} has ${l.length} bytes but its descriptor says ${l.length + 1}; the archive is corrupt`,
    );
  });

  it('OCI blob referenced but missing', async () => {
    const { man } = await ociArchive();
    const idx = JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(man), size: man.length }] });
    const e = await loadFails(await packTar([file('index.json', idx), blob(man)]));
    expect(e.message).toMatch(/^invalid archive: manifest sha256:[0-9a-f]{64}: config: blob sha256:[0-9a-f]{64} is not in the archive$/);
  });

  it('legacy config whose content does not match its file name', async () => {
    const l1 = await layer({ a: '1' });
    const c = config([sha256(l1)]);
    const wrong = 'f'.repeat(64);
    const tar = await packTar([
      file('x/layer.tar', l1),
      file(`${wrong}.json`, c),
      file('manifest.json', JSON.stringify([{ Config: `${wrong}.json`, RepoTags: ['a:b'], Layers: ['x/layer.tar'] }])),
    ]);
    const e = await loadFails(tar);
    expect(e.message).toBe(
      `invalid archive: image config ${wrong}.json does not match its digest (content is ${sha256(c)}); the archive is corrupt`,
    );
  });

  it('uncompressed layer that does not match its diff ID', async () => {
    const l1 = await layer({ a: '1' });
    const other = await layer({ a: '2' });
    const c = config([sha256(other)]);
    const tar = await packTar([
      file('x/layer.tar', l1),
      file(`${hex(sha256(c))}.json`, c),
      file('manifest.json', JSON.stringify([{ Config: `${hex(sha256(c))}.json`, RepoTags: [], Layers: ['x/layer.tar'] }])),
    ]);
    const e = await loadFails(tar);
    expect(e.message).toBe(
      `invalid archive: layer x/layer.tar does not match its diff ID ${sha256(other)} (content is ${sha256(l1)}); the archive is corrupt`,
    );
  });

  it('layer count differs from diff_ids', async () => {
    const l1 = await layer({ a: '1' });
    const c = config([sha256(l1), sha256(l1)]);
    const tar = await packTar([
      file('x/layer.tar', l1),
      file(`${hex(sha256(c))}.json`, c),
      file('manifest.json', JSON.stringify([{ Config: `${hex(sha256(c))}.json`, RepoTags: [], Layers: ['x/layer.tar'] }])),
    ]);
    const e = await loadFails(tar);
    expect(e.message).toBe(
      `invalid archive: manifest.json[0] (config ${sha256(c)}): the image has 1 layer but its config lists 2 (rootfs.diff_ids)`,
    );
  });

  it('malformed manifest.json', async () => {
    const e = await loadFails(await packTar([file('manifest.json', '[{"Config": ')]));
    expect(e.message.startsWith('invalid archive: manifest.json: ')).toBe(true);
    expect(e.message).toMatch(/JSON/);
    const e2 = await loadFails(await packTar([file('manifest.json', '{"Config": "x"}')]));
    expect(e2.message).toBe('invalid archive: manifest.json: expected a JSON array');
  });

  it('manifest.json pointing at a missing layer', async () => {
    const l1 = await layer({ a: '1' });
    const c = config([sha256(l1)]);
    const tar = await packTar([
      file(`${hex(sha256(c))}.json`, c),
      file('manifest.json', JSON.stringify([{ Config: `${hex(sha256(c))}.json`, RepoTags: [], Layers: ['abc/layer.tar'] }])),
    ]);
    expect((await loadFails(tar)).message).toBe('invalid archive: manifest.json[0]: layer 1: "abc/layer.tar" is not in the archive');
  });

  it('config without rootfs', async () => {
    const c = Buffer.from('{"architecture":"amd64"}');
    const tar = await packTar([
      file(`${hex(sha256(c))}.json`, c),
      file('manifest.json', JSON.stringify([{ Config: `${hex(sha256(c))}.json`, RepoTags: [], Layers: [] }])),
    ]);
    expect((await loadFails(tar)).message).toBe(`invalid archive: config ${hex(sha256(c))}.json: rootfs.diff_ids is missing`);
  });

  it('invalid repo tags', async () => {
    const c = config([]);
    for (const [tag, why] of [
      ['Foo:latest', 'invalid reference format: repository name (library/Foo) must be lowercase'],
      ['busybox', 'a tag needs name:tag and no digest'],
    ]) {
      const tar = await packTar([
        file(`${hex(sha256(c))}.json`, c),
        file('manifest.json', JSON.stringify([{ Config: `${hex(sha256(c))}.json`, RepoTags: [tag], Layers: [] }])),
      ]);
      expect((await loadFails(tar)).message).toBe(`invalid archive: manifest.json[0]: invalid repo tag ${JSON.stringify(tag)}: ${why}`);
      await rm(staging, { recursive: true });
      await mkdir(staging);
    }
  });

  it('empty and unrecognised archives', async () => {
    expect((await loadFails(END_OF_ARCHIVE)).message).toBe(
      'invalid archive: the archive is empty; expected the output of `docker save` or an OCI image archive',
    );
    expect((await loadFails(await packTar([file('hello.txt', 'hi')]))).message).toBe(
      'invalid archive: no manifest.json or index.json found; expected the output of `docker save` or an OCI image archive',
    );
  });
});

describe('hostile archives', () => {
  async function outsideUntouched() {
    // nothing may appear next to the staging directory or anywhere above it
    expect((await readdir(root)).sort()).toEqual(['staging']);
    for (const f of await readdir(staging)) expect(f).toMatch(/^entry-[0-9a-f]{8}-\d{6}$/);
  }

  it('rejects ../ entries before writing anything there', async () => {
    const { tar: good } = await dockerLegacyArchive();
    const evil = await packTar([file('../evil', 'x')]);
    const e = await loadFails(Buffer.concat([evil.subarray(0, evil.length - 1024), good]));
    expect(e.message).toBe('invalid archive: entry "../evil" points outside the archive; the archive is corrupt or malicious');
    await outsideUntouched();
  });

  it('rejects absolute entries', async () => {
    const e = await loadFails(await packTar([file('/etc/evil', 'x')]));
    expect(e.message).toBe('invalid archive: entry "/etc/evil" is an absolute path; the archive is corrupt or malicious');
    await outsideUntouched();
  });

  it('rejects links that escape', async () => {
    const e = await loadFails(await packTar([{ name: 'x/layer.tar', type: 'symlink', linkname: '../../etc/passwd', mtime: T }]));
    expect(e.message).toBe(
      'invalid archive: link "x/layer.tar" -> "../../etc/passwd" points outside the archive; the archive is corrupt or malicious',
    );
    const e2 = await loadFails(Buffer.concat([rawEntry({ name: 'h', type: '1', linkname: '../x' }), END_OF_ARCHIVE]));
    expect(e2.message).toContain('link "h" -> "../x" points outside the archive');
    await outsideUntouched();
  });

  it('manifest.json paths outside the archive are refused', async () => {
    const tar = await packTar([
      file('manifest.json', JSON.stringify([{ Config: '../../../etc/passwd', RepoTags: [], Layers: [] }])),
    ]);
    expect((await loadFails(tar)).message).toBe(
      'invalid archive: manifest.json[0]: config: path "../../../etc/passwd" points outside the archive',
    );
  });

  it('archive entries never keep their own names in the staging directory', async () => {
    const { tar } = await dockerLegacyArchive();
    await load(tar);
    await outsideUntouched();
    expect((await readdir(staging)).length).toBe(2 * 3 + 3); // 2 layers x 3 files + config, repositories, manifest
  });
});
