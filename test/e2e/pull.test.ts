// skiff pull (and run's implicit pull) against a real registry on 127.0.0.1 (Debian's
// docker-registry), seeded with skopeo so that skiff's own push is not what is tested here.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { startCuttingProxy } from './cutting-proxy';
import { errorLines, fixtureInfo, lines, looksLikeStackTrace, newStore, skiff, skiffPty, useStore, type Store, BUSYBOX, LAYERED } from './harness';
import { BUSYBOX_ZSTD, MULTIARCH, fixtureImage, useRegistry } from './registry';

const store = useStore({ load: [] });
const registry = useRegistry({ auth: 'none' });
const tokenRegistry = useRegistry({ auth: 'token' });

/** Files and dirs left in the store's tmp/ (a pull must leave none). */
function tmpLeftovers(s: Store): string[] {
  try { return fs.readdirSync(path.join(s.root, 'tmp')); } catch { return []; }
}

function imageIdOf(out: string, repo: string, tag = 'latest'): string | undefined {
  const row = lines(out).map((l) => l.split(/\s{2,}/)).find((c) => c[0] === repo && c[1] === tag);
  return row?.[2];
}

describe('pull from an anonymous registry', () => {
  test('pull by tag: Docker-like output, the image runs', async () => {
    const ref = await registry().seed(BUSYBOX, 'lib/busybox:latest');
    const r = await skiff(['pull', ref.replace(/:latest$/, '')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out[0]).toBe('Using default tag: latest');
    expect(out[1]).toBe('latest: Pulling from lib/busybox');
    expect(out).toContain(`Digest: ${fixtureImage(BUSYBOX).manifest!.digest}`);
    expect(out).toContain(`Status: Downloaded newer image for ${ref}`);
    expect(out.at(-1)).toBe(ref);
    const images = await skiff(['images', '--no-trunc']);
    expect(imageIdOf(images.stdout, `${registry().host}/lib/busybox`)).toBe(fixtureInfo()[BUSYBOX].id);
    const run = await skiff(['run', '--rm', ref, 'echo', 'pulled and running']);
    expect(run.stdout).toBe('pulled and running\n');
    expect(tmpLeftovers(store())).toEqual([]);
  });

  test('a second pull finds everything and says it is up to date', async () => {
    const ref = registry().ref('lib/busybox:latest');
    const r = await skiff(['pull', ref]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Already exists');
    expect(r.stdout).toContain(`Status: Image is up to date for ${ref}`);
  });

  test('pull -q prints only the reference', async () => {
    const ref = registry().ref('lib/busybox:latest');
    const r = await skiff(['pull', '-q', ref]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${ref}\n`);
  });

  test('pull by digest verifies it and records the digest, not a tag', async () => {
    const s = newStore();
    const digest = fixtureImage(BUSYBOX).manifest!.digest;
    const ref = `${registry().host}/lib/busybox@${digest}`;
    const r = await skiff(['pull', ref], { store: s });
    expect(r.code).toBe(0);
    expect(lines(r.stdout)[0]).toBe(`${digest}: Pulling from lib/busybox`);
    const images = await skiff(['images', '--no-trunc'], { store: s });
    expect(images.stdout).toContain(fixtureInfo()[BUSYBOX].id);
    // Pulled by digest only: the image has no tag, and runs by its digest reference.
    expect(imageIdOf(images.stdout, `${registry().host}/lib/busybox`, '<none>')).toBe(fixtureInfo()[BUSYBOX].id);
    const run = await skiff(['run', '--rm', ref, 'true'], { store: s });
    expect(run.code).toBe(0);
  });

  test('a multi-layer image with whiteouts, an opaque dir and a hard link unpacks as loaded', async () => {
    const ref = await registry().seed(LAYERED, 'lib/layered:v1');
    const r = await skiff(['pull', ref]);
    expect(r.code).toBe(0);
    const run = await skiff(['run', '--rm', ref, 'sh', '-c',
      'cat /etc/motd; ls /opaque; test -e /removed-dir && echo BAD; test -e /etc/removed-by-layer2 && echo BAD; [ "$(stat -c %i /data/original)" = "$(stat -c %i /data/hardlink)" ] && echo linked']);
    expect(run.stdout).toBe('layer2\nnew\nlinked\n');
  });

  test('a zstd-compressed image pulls and runs', async () => {
    const ref = await registry().seed(BUSYBOX_ZSTD, 'lib/busybox-zstd:latest');
    const r = await skiff(['pull', ref]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const run = await skiff(['run', '--rm', ref, 'echo', 'zstd ok']);
    expect(run.stdout).toBe('zstd ok\n');
  });
});

describe('output and configuration', () => {
  test('on a terminal: live per-layer lines with a Docker-style bar', async () => {
    const s = newStore();
    const ref = await registry().seed(BUSYBOX, 'tty/busybox:latest');
    const r = await skiffPty(['pull', ref], { store: s });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/[0-9a-f]{12}: (Downloading \[=*>\s*\] [\d.]+[kMG]?B\/[\d.]+[kMG]?B|Pull complete)/);
    expect(r.stdout).toContain('Pull complete');
    expect(r.stdout).toContain(`Status: Downloaded newer image for ${ref}`);
  });

  test('a mirror configured for a registry serves its pulls', async () => {
    const s = newStore();
    await registry().seed(BUSYBOX, 'mirrored/busybox:latest');
    // Port 9 on loopback (discard) has no registry: only the mirror can answer.
    fs.mkdirSync(s.configDir, { recursive: true });
    fs.writeFileSync(path.join(s.configDir, 'config.json'), JSON.stringify({
      registries: { '127.0.0.1:9': { mirrors: [registry().url] } },
    }));
    const r = await skiff(['pull', '127.0.0.1:9/mirrored/busybox:latest'], { store: s });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const run = await skiff(['run', '--rm', '127.0.0.1:9/mirrored/busybox:latest', 'echo', 'via mirror'], { store: s });
    expect(run.stdout).toBe('via mirror\n');
  });
});

describe('Bearer token auth (as Docker Hub)', () => {
  test('anonymous pull of a public repository: one token serves the whole pull', async () => {
    const s = newStore();
    const ref = await tokenRegistry().seed(LAYERED, 'public/layered:latest');
    tokenRegistry().tokenRequests.length = 0;
    const r = await skiff(['pull', ref], { store: s });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // manifest, config and two layers, all with the one pull-scoped token
    expect(tokenRegistry().tokenRequests.map((t) => [t.user, t.scopes])).toEqual([[null, ['repository:public/layered:pull']]]);
    const run = await skiff(['run', '--rm', ref, 'cat', '/etc/motd'], { store: s });
    expect(run.stdout).toBe('layer2\n');
  });

  test('anonymous pull of a private repository: access denied, exit 1, one line', async () => {
    const ref = await tokenRegistry().seed(BUSYBOX, 'private/busybox:latest');
    const r = await skiff(['pull', ref], { store: newStore() });
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('pull access denied');
  });
});

describe('platforms', () => {
  test('an index gives this host\'s image by default, another with --platform', async () => {
    const s = newStore();
    const fx = fixtureImage(MULTIARCH);
    const ref = await registry().seed(MULTIARCH, 'lib/multi:latest');
    const r = await skiff(['pull', ref], { store: s });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Digest: ${fx.index!.digest}`);
    const mine = await skiff(['run', '--rm', ref, 'cat', '/platform'], { store: s });
    expect(mine.stdout.trim()).toBe(fx.hostPlatform);
    const other = await skiff(['pull', '--platform', fx.otherPlatform!, ref], { store: s });
    expect(other.code).toBe(0);
    const otherId = fx.platforms![fx.otherPlatform!].id;
    const images = await skiff(['images', '--no-trunc'], { store: s });
    expect(imageIdOf(images.stdout, `${registry().host}/lib/multi`)).toBe(otherId);
  });

  test('a platform the index does not have: one line listing the ones it has, exit 1', async () => {
    const fx = fixtureImage(MULTIARCH);
    const ref = registry().ref('lib/multi:latest');
    const r = await skiff(['pull', '--platform', 'linux/s390x', ref], { store: newStore() });
    expect(r.code).toBe(1);
    const err = errorLines(r.stderr);
    expect(err).toHaveLength(1);
    expect(err[0]).toContain('no matching manifest for linux/s390x');
    expect(err[0]).toContain(fx.hostPlatform!);
    expect(err[0]).toContain(fx.otherPlatform!);
  });

  test('a malformed --platform is refused with exit 125', async () => {
    const r = await skiff(['pull', '--platform', 'linux', registry().ref('lib/multi:latest')]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('invalid platform "linux"');
  });
});

describe('errors', () => {
  test('an unknown tag: not found, exit 1, nothing stored', async () => {
    const s = newStore();
    const r = await skiff(['pull', registry().ref('lib/busybox:nope')], { store: s });
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('not found');
    expect((await skiff(['images', '-q'], { store: s })).stdout).toBe('');
  });

  test('malformed references are refused with exit 125', async () => {
    for (const bad of ['Busybox', 'busybox:', 'busybox@sha256:123', 'a//b']) {
      const r = await skiff(['pull', bad]);
      expect(r.code, bad).toBe(125);
      expect(errorLines(r.stderr), bad).toHaveLength(1);
      expect(looksLikeStackTrace(r.stderr)).toBe(false);
    }
  });

  test('a corrupted blob in the registry: the blob is named, the store is unchanged', async () => {
    const s = newStore();
    const fx = fixtureImage(BUSYBOX);
    const ref = await registry().seed(BUSYBOX, 'corrupt/busybox:latest');
    const layer = fx.blobs!.find((b) => b.mediaType.includes('layer'))!;
    registry().corruptBlob(layer.digest);
    try {
      const r = await skiff(['pull', ref], { store: s });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(layer.digest);
      expect(r.stderr).toMatch(/corrupt/);
      expect((await skiff(['images', '-q'], { store: s })).stdout).toBe('');
      expect(fs.existsSync(path.join(s.root, 'blobs/sha256', layer.digest.slice(7)))).toBe(false);
      const layersDir = path.join(s.root, 'layers');
      const committed = fs.existsSync(layersDir) ? fs.readdirSync(layersDir).filter((n) => /^[0-9a-f]{64}$/.test(n)) : [];
      expect(committed).toEqual([]);
      expect(tmpLeftovers(s)).toEqual([]);
    } finally {
      registry().corruptBlob(layer.digest); // flip it back: the blob is shared by other repositories
    }
  });
});

describe('broken connections', () => {
  test('a connection cut mid-blob is resumed with a Range request', async () => {
    const s = newStore();
    const ref = await registry().seed(BUSYBOX, 'cut/busybox:latest');
    const proxy = await startCuttingProxy(registry().host, { cutAfter: 200_000, shouldCut: (cuts) => cuts === 0 });
    try {
      const r = await skiff(['pull', `${proxy.host}/cut/busybox:latest`], { store: s });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(proxy.cuts).toBe(1);
      expect(proxy.requests.some((h) => /\r\nrange: bytes=\d+-/i.test(h))).toBe(true);
      const run = await skiff(['run', '--rm', `${proxy.host}/cut/busybox:latest`, 'echo', 'resumed'], { store: s });
      expect(run.stdout).toBe('resumed\n');
    } finally {
      await proxy.close();
    }
    expect(ref).toContain('cut/busybox');
  });

  test('a pull that keeps breaking fails cleanly; a later pull reuses the layers it verified', async () => {
    const s = newStore();
    await registry().seed(LAYERED, 'cut/layered:latest');
    // The busybox layer is cut after 200 kB and the registry then refuses every connection: the
    // small second layer (fetched in parallel) arrives, the busybox one never does.
    const proxy = await startCuttingProxy(registry().host, { cutAfter: 200_000, shouldCut: () => true, refuseAfterCut: true });
    try {
      const r = await skiff(['pull', `${proxy.host}/cut/layered:latest`], { store: s, timeoutMs: 55_000 });
      expect(r.code).toBe(1);
      expect(errorLines(r.stderr).length).toBe(1);
      expect(r.stderr).toMatch(/failed after \d+ attempt/);
      expect((await skiff(['images', '-q'], { store: s })).stdout).toBe('');
      expect(tmpLeftovers(s)).toEqual([]);
    } finally {
      await proxy.close();
    }
    const again = await skiff(['pull', registry().ref('cut/layered:latest')], { store: s });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Already exists');
    const run = await skiff(['run', '--rm', registry().ref('cut/layered:latest'), 'cat', '/etc/motd'], { store: s });
    expect(run.stdout).toBe('layer2\n');
  });
});

describe('concurrency', () => {
  test('two pulls of the same image at once both succeed and store it once', async () => {
    const s = newStore();
    const ref = await registry().seed(LAYERED, 'both/layered:latest');
    const [a, b] = await Promise.all([skiff(['pull', ref], { store: s }), skiff(['pull', ref], { store: s })]);
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, '', '']);
    const ids = lines((await skiff(['images', '-q', '--no-trunc'], { store: s })).stdout);
    expect(ids).toEqual([fixtureInfo()[LAYERED].id]);
    const run = await skiff(['run', '--rm', ref, 'cat', '/kept/added'], { store: s });
    expect(run.stdout).toBe('added by layer2\n');
  });
});

describe('run pulls what is missing', () => {
  test('run on an empty store pulls first, progress on stderr', async () => {
    const s = newStore();
    const ref = registry().ref('lib/busybox:latest');
    const r = await skiff(['run', '--rm', ref, 'echo', 'hi'], { store: s });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hi\n');
    expect(r.stderr).toContain(`Unable to find image '${ref}' locally`);
    expect(r.stderr).toContain('Pull complete');
  });

  test('build FROM an image that is not here pulls it (its progress in the step), then builds on it', async () => {
    const s = newStore();
    const ref = registry().ref('lib/busybox:latest');
    const dir = fs.mkdtempSync(path.join(s.dir, 'ctx-'));
    fs.writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${ref}\nRUN echo built > /b\n`);
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(path.join(dir, 'Dockerfile'), 0o644);
    const b = await skiff(['build', '--progress', 'plain', '-t', 'pulled-base', dir], { store: s, timeoutMs: 120_000 });
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toContain('Pull complete');
    expect((await skiff(['run', '--rm', 'pulled-base', 'cat', '/b'], { store: s })).stdout).toBe('built\n');
  });

  test('run -q pulls without a word: stderr empty, the image there afterwards', async () => {
    const s = newStore();
    const ref = registry().ref('lib/busybox:latest');
    const r = await skiff(['run', '--rm', '-q', ref, 'echo', 'hi'], { store: s });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, 'hi\n', '']);
    expect((await skiff(['image', 'inspect', '-f', '{{.Id}}', ref], { store: s })).code).toBe(0);
  });

  test('--pull never does not pull; --pull always does', async () => {
    const s = newStore();
    const ref = registry().ref('lib/busybox:latest');
    const never = await skiff(['run', '--rm', '--pull', 'never', ref, 'true'], { store: s });
    expect(never.code).toBe(125);
    expect(errorLines(never.stderr)).toHaveLength(1);
    expect(never.stderr).toContain('No such image');
    const always = await skiff(['run', '--rm', '--pull', 'always', ref, 'echo', 'fresh'], { store: s });
    expect(always.code).toBe(0);
    expect(always.stdout).toBe('fresh\n');
    expect(always.stderr).not.toContain('Unable to find image');
    const again = await skiff(['run', '--rm', '--pull', 'always', ref, 'true'], { store: s });
    expect(again.stderr).toContain('Image is up to date');
  });

  test('run of an image no registry has: exit 125, one line', async () => {
    const r = await skiff(['run', '--rm', registry().ref('nope/nothing:latest'), 'true'], { store: newStore() });
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr).filter((l) => !l.startsWith('Unable to find image'))).toHaveLength(1);
  });
});
