import { describe, expect, test } from 'vitest';
import { ellipsis, historyItems, historyRows, rfc3339 } from '../../src/engine/history';
import {
  filterImages, globMatch, labelsMatch, parseFilters, parseTimestamp, referenceMatches, IMAGES_FILTERS,
} from '../../src/engine/image-filters';
import { imageInspect, inspectConfig } from '../../src/engine/inspect';
import { importConfig } from '../../src/engine/import';
import { ociManifest } from '../../src/engine/save';
import { tagTarget } from '../../src/engine/tag';
import { MEDIA_TYPES } from '../../src/image/media-types';
import type { ImageRecord } from '../../src/image/store';
import { goJson, goStruct, parseTemplate } from '../../src/util/go-template';

function image(over: Partial<ImageRecord> & { labels?: Record<string, string>; created?: string } = {}): ImageRecord {
  const { labels, created, ...rest } = over;
  return {
    id: 'sha256:' + 'a'.repeat(64), repoTags: [], repoDigests: [], chainIds: ['sha256:' + 'c'.repeat(64)], size: 100,
    loadedAt: '2025-01-01T00:00:00Z',
    config: { created: created ?? '2024-01-01T00:00:00Z', architecture: 'amd64', os: 'linux', config: { Labels: labels } },
    ...rest,
  };
}

describe('filters', () => {
  test('parseFilters: key=value, case-insensitive keys, repeated keys, unknown keys refused (125)', () => {
    const f = parseFilters(['Dangling=true', 'label=a', 'label=b=c'], IMAGES_FILTERS);
    expect(f.get('dangling')).toEqual(['true']);
    expect(f.get('label')).toEqual(['a', 'b=c']);
    expect(() => parseFilters(['x=1'], IMAGES_FILTERS)).toThrow("invalid filter 'x'");
    expect(() => parseFilters(['dangling'], IMAGES_FILTERS)).toThrow(/bad format of filter/);
    try { parseFilters(['x=1'], IMAGES_FILTERS); } catch (e) { expect((e as { exitCode: number }).exitCode).toBe(125); }
  });

  test.each([
    ['busybox', 'busybox', true],
    ['busy*', 'busybox', true],
    ['*', 'ns/app', false],
    ['*/*', 'ns/app', true],
    ['app:v?', 'app:v1', true],
    ['app:v[0-9]', 'app:v7', true],
    ['app:v[!0-9]', 'app:v7', false],
    ['a\\*b', 'a*b', true],
    ['a.b', 'axb', false],
  ])('globMatch(%s, %s) = %s (Go path.Match)', (p, n, want) => {
    expect(globMatch(p, n)).toBe(want);
  });

  test('reference matches the familiar name:tag, then the familiar name', () => {
    expect(referenceMatches('busybox', 'docker.io/library/busybox:latest')).toBe(true);
    expect(referenceMatches('busybox:*', 'docker.io/library/busybox:1.36')).toBe(true);
    expect(referenceMatches('busybox:latest', 'docker.io/library/busybox:1.36')).toBe(false);
    expect(referenceMatches('localhost:5000/*', 'localhost:5000/app:1')).toBe(true);
    expect(referenceMatches('docker.io/library/busybox', 'docker.io/library/busybox:latest')).toBe(false);
  });

  test('labels: KEY and KEY=VALUE, all must match', () => {
    expect(labelsMatch(['a'], { a: '1' })).toBe(true);
    expect(labelsMatch(['a=1', 'b'], { a: '1' })).toBe(false);
    expect(labelsMatch(['a=2'], { a: '1' })).toBe(false);
    expect(labelsMatch(['a'], undefined)).toBe(false);
  });

  test('timestamps: unix seconds, RFC 3339, durations before now', () => {
    const now = Date.parse('2025-06-01T00:00:00Z');
    expect(parseTimestamp('1700000000', now)).toBe(1700000000000);
    expect(parseTimestamp('2024-01-01T00:00:00Z', now)).toBe(Date.parse('2024-01-01T00:00:00Z'));
    expect(parseTimestamp('2024-01-01', now)).toBe(Date.parse('2024-01-01'));
    expect(parseTimestamp('1h30m', now)).toBe(now - 90 * 60000);
    expect(() => parseTimestamp('yesterday', now)).toThrow(/invalid filter value/);
  });

  test('filterImages: AND across keys; reference keeps the matching tags only', () => {
    const a = image({ id: 'sha256:' + '1'.repeat(64), repoTags: ['docker.io/library/a:1', 'docker.io/library/b:1'], labels: { k: 'v' }, created: '2024-01-01T00:00:00Z' });
    const b = image({ id: 'sha256:' + '2'.repeat(64), repoTags: [], created: '2024-02-01T00:00:00Z' });
    const c = image({ id: 'sha256:' + '3'.repeat(64), repoTags: ['docker.io/library/c:1'], created: '2024-03-01T00:00:00Z' });
    const all = [a, b, c];
    const find = (r: string) => all.find((i) => i.repoTags.some((t) => t.includes(`/${r}`)))!;
    const run = (...f: string[]) => filterImages(all, parseFilters(f, IMAGES_FILTERS), { find });
    expect(run('dangling=true').map((i) => i.id)).toEqual([b.id]);
    expect(run('dangling=false').map((i) => i.id)).toEqual([a.id, c.id]);
    expect(run('reference=a').map((i) => i.repoTags)).toEqual([['docker.io/library/a:1']]);
    expect(run('label=k', 'dangling=false').map((i) => i.id)).toEqual([a.id]);
    expect(run('since=a:1').map((i) => i.id)).toEqual([b.id, c.id]);
    expect(run('before=c:1', 'since=a:1').map((i) => i.id)).toEqual([b.id]);
    expect(() => run('dangling=maybe')).toThrow(/dangling=maybe/);
  });
});

describe('history', () => {
  const hist = [
    { created: '2024-01-01T00:00:00Z', created_by: 'ADD file', comment: '' },
    { created: '2024-01-02T00:00:00Z', created_by: 'ENV A=1', empty_layer: true },
    { created: '2024-01-03T00:00:00Z', created_by: 'RUN\tmake', comment: 'built' },
  ];

  test('newest first, the image ID on top, layer sizes in order, empty layers 0', () => {
    const items = historyItems('sha256:' + 'f'.repeat(64), hist, [100, 200]);
    expect(items.map((i) => [i.id.slice(0, 9), i.createdBy, i.size])).toEqual([
      ['sha256:ff', 'RUN\tmake', 200], ['<missing>', 'ENV A=1', 0], ['<missing>', 'ADD file', 100],
    ]);
    expect(historyItems('x', [], [1])).toEqual([]);
  });

  test('rows: tabs in CREATED BY become spaces, ellipsis at 45, human or raw', () => {
    const items = historyItems('sha256:' + 'f'.repeat(64), [{ created: '2024-01-01T00:00:00Z', created_by: `${'x'.repeat(50)}\ty` }], [1234567]);
    const human = historyRows(items, { human: true, noTrunc: false }, Date.parse('2024-01-01T01:00:00Z'))[0] as Record<string, string>;
    expect(human.ID).toBe('f'.repeat(12));
    expect(human.CreatedBy).toBe(`${'x'.repeat(44)}…`);
    expect(human.CreatedSince).toBe('About an hour ago');
    expect(human.Size).toBe('1.23MB');
    const raw = historyRows(items, { human: false, noTrunc: true })[0] as Record<string, string>;
    expect(raw.CreatedBy).toBe(`${'x'.repeat(50)} y`);
    expect(raw.Size).toBe('1234567');
    expect(raw.ID).toBe('sha256:' + 'f'.repeat(64));
  });

  test('ellipsis and RFC 3339', () => {
    expect(ellipsis('short', 45)).toBe('short');
    expect(ellipsis('abcdef', 4)).toBe('abc…');
    expect(rfc3339(0).endsWith('Z') || /[+-]\d\d:\d\d$/.test(rfc3339(0))).toBe(true);
  });
});

describe('inspect', () => {
  test('Config: Docker field order, null for absent lists and maps, omitempty fields only when set', () => {
    const c = goJson(inspectConfig({ Cmd: ['sh'] }));
    expect(c).toBe('{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["sh"],"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null}');
    const full = JSON.parse(goJson(inspectConfig({ ExposedPorts: { '80/tcp': {} }, StopSignal: 'SIGINT', Labels: { b: '2', a: '1' } })));
    expect(Object.keys(full).indexOf('ExposedPorts')).toBe(6);
    expect(full.StopSignal).toBe('SIGINT');
    expect(Object.keys(full.Labels)).toEqual(['a', 'b']);
  });

  test('the inspect object: familiar tags, RootFS, GraphDriver, template access by .ID and .Id', () => {
    const rec = image({ repoTags: ['docker.io/library/busybox:latest'], repoDigests: [`docker.io/library/busybox@sha256:${'d'.repeat(64)}`] });
    (rec.config as { rootfs?: object }).rootfs = { type: 'layers', diff_ids: ['sha256:' + 'c'.repeat(64)] };
    (rec.config as { history?: object[] }).history = [{ comment: 'last' }];
    const o = imageInspect(rec, { driver: 'overlay', layerDirs: ['/l1/diff', '/l2/diff'] });
    const j = JSON.parse(goJson(o));
    expect(j.RepoTags).toEqual(['busybox:latest']);
    expect(j.RepoDigests).toEqual([`busybox@sha256:${'d'.repeat(64)}`]);
    expect(j.Comment).toBe('last');
    expect(j.GraphDriver).toEqual({ Data: { LowerDir: '/l1/diff', UpperDir: '/l2/diff' }, Name: 'overlay' });
    expect(j.RootFS.Layers).toEqual(['sha256:' + 'c'.repeat(64)]);
    expect(parseTemplate('{{.ID}} {{.Id}}').execute(o)).toBe(`${rec.id} ${rec.id}`);
    const vfs = JSON.parse(goJson(imageInspect(rec, { driver: 'vfs', layerDirs: ['/l1'] })));
    expect(vfs.GraphDriver).toEqual({ Data: null, Name: 'vfs' });
  });
});

describe('save and import helpers', () => {
  test('ociManifest rewrites a Docker manifest with OCI media types, same blobs', () => {
    const docker = {
      schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifest,
      config: { mediaType: MEDIA_TYPES.dockerConfig, digest: 'sha256:' + '1'.repeat(64), size: 10 },
      layers: [
        { mediaType: MEDIA_TYPES.dockerLayerGzip, digest: 'sha256:' + '2'.repeat(64), size: 20 },
        { mediaType: MEDIA_TYPES.dockerLayer, digest: 'sha256:' + '3'.repeat(64), size: 30 },
      ],
    };
    const bytes = Buffer.from(JSON.stringify(docker));
    const oci = ociManifest({ mediaType: MEDIA_TYPES.dockerManifest, digest: 'sha256:x', bytes });
    const m = JSON.parse(oci.bytes.toString());
    expect(oci.mediaType).toBe(MEDIA_TYPES.ociManifest);
    expect(m.config).toEqual({ mediaType: MEDIA_TYPES.ociConfig, digest: docker.config.digest, size: 10 });
    expect(m.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual([MEDIA_TYPES.ociLayerGzip, MEDIA_TYPES.ociLayer]);
    expect(oci.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const same = { mediaType: MEDIA_TYPES.ociManifest, digest: 'sha256:y', bytes };
    expect(ociManifest(same)).toBe(same);
  });

  test('importConfig: Docker key order, one history entry', () => {
    const c = importConfig({ created: '2025-01-01T00:00:00Z', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, config: { Cmd: ['sh'] }, diffId: 'sha256:d', comment: 'Imported from -' });
    expect(Object.keys(c)).toEqual(['created', 'architecture', 'os', 'variant', 'config', 'rootfs', 'history']);
    expect((c as { history: object[] }).history).toEqual([{ created: '2025-01-01T00:00:00Z', comment: 'Imported from -' }]);
  });

  test('tagTarget: name alone is :latest, digests refused', () => {
    expect(tagTarget('busybox')).toEqual({ registry: 'docker.io', repository: 'library/busybox', tag: 'latest' });
    expect(() => tagTarget(`busybox@sha256:${'a'.repeat(64)}`)).toThrow(/digest/);
  });
});
