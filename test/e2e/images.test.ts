// Loading archives (docker save + OCI layout, file and stdin), listing and removing images,
// and how layers (whiteouts, opaque dirs, hard links) come out in a container.
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
  uniqueName,
  useStore,
  type Store,
} from './harness';

useStore({ load: [] });

const info = fixtureInfo();
const extraStores: Store[] = [];
afterAll(async () => {
  for (const s of extraStores) await destroyStore(s);
});
function freshStore(): Store {
  const s = newStore();
  extraStores.push(s);
  return s;
}

async function images(args: string[] = [], store?: Store) {
  const r = await skiff(['images', ...args], { store });
  expect(r.code, r.stderr).toBe(0);
  return r;
}

function rowFor(stdout: string, repo: string, tag = 'latest') {
  return parseTable(stdout).rows.find((r) => r.REPOSITORY === repo && r.TAG === tag);
}

describe('load', () => {
  test('an empty store lists only the header', async () => {
    const r = await images();
    expect(parseTable(r.stdout).header).toEqual(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']);
    expect(parseTable(r.stdout).rows).toEqual([]);
  });

  test('load -i a docker archive', async () => {
    const r = await skiff(['load', '-i', fixture('busybox.docker.tar')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Loaded image: skiff-test\/busybox:latest$/m);
    expect(looksLikeStackTrace(r.stderr)).toBe(false);
  });

  test('images shows REPOSITORY TAG IMAGE ID CREATED SIZE', async () => {
    const r = await images();
    const t = parseTable(r.stdout);
    expect(t.header).toEqual(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']);
    const row = rowFor(r.stdout, 'skiff-test/busybox');
    expect(row, r.stdout).toBeDefined();
    const id = info[BUSYBOX].id.replace(/^sha256:/, '');
    expect(row!['IMAGE ID']).toBe(id.slice(0, 12));
    expect(row!.CREATED).toMatch(/ago$/);
    expect(row!.SIZE).toMatch(/^\d+(\.\d+)?\s?(B|kB|KB|MB|GB)$/);
  });

  test('images -q prints the short ID only', async () => {
    const r = await images(['-q']);
    expect(r.stdout).toBe(`${info[BUSYBOX].id.slice('sha256:'.length, 'sha256:'.length + 12)}\n`);
  });

  test('images --no-trunc prints the full sha256: ID', async () => {
    const r = await images(['--no-trunc']);
    expect(rowFor(r.stdout, 'skiff-test/busybox')!['IMAGE ID']).toBe(info[BUSYBOX].id);
  });

  test('images REPOSITORY[:TAG] filters', async () => {
    const r = await images(['skiff-test/busybox']);
    expect(parseTable(r.stdout).rows).toHaveLength(1);
    const none = await images(['skiff-test/nothing-here']);
    expect(parseTable(none.stdout).rows).toHaveLength(0);
  });

  test('loading the same archive again is idempotent', async () => {
    const r = await skiff(['load', '-i', fixture('busybox.docker.tar')]);
    expect(r.code, r.stderr).toBe(0);
    const rows = parseTable((await images()).stdout).rows;
    expect(rows.filter((x) => x.REPOSITORY === 'skiff-test/busybox')).toHaveLength(1);
  });

  test('load -i an OCI archive gives the same image ID as the docker archive', async () => {
    const s = freshStore();
    const r = await skiff(['load', '-i', fixture('busybox.oci.tar')], { store: s });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/skiff-test\/busybox:latest/);
    const row = rowFor((await images(['--no-trunc'], s)).stdout, 'skiff-test/busybox');
    expect(row?.['IMAGE ID']).toBe(info[BUSYBOX].id);
  });

  test('load < file reads the archive from stdin', async () => {
    const s = freshStore();
    const r = await sh(`"$SKIFF" load < ${shq(fixture('busybox.docker.tar'))}`, { store: s });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Loaded image: skiff-test\/busybox:latest$/m);
    expect(rowFor((await images([], s)).stdout, 'skiff-test/busybox')).toBeDefined();
  });

  test('cat file | load reads a non-seekable stdin (OCI archive)', async () => {
    const s = freshStore();
    const r = await sh(`cat ${shq(fixture('busybox.oci.tar'))} | "$SKIFF" load`, { store: s });
    expect(r.code, r.stderr).toBe(0);
    expect(rowFor((await images(['--no-trunc'], s)).stdout, 'skiff-test/busybox')?.['IMAGE ID']).toBe(info[BUSYBOX].id);
  });

  // Docker's CLI fails this before talking to the daemon: exit 1, as for any CLI error.
  test('load of a missing file fails with one line, exit 1 (as docker load)', async () => {
    const r = await skiff(['load', '-i', '/nonexistent/archive.tar']);
    expect(r.code, r.stderr).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('/nonexistent/archive.tar');
  });

  test('load the layered and config images', async () => {
    for (const f of ['layered.docker.tar', 'config.docker.tar']) {
      const r = await skiff(['load', '-i', fixture(f)]);
      expect(r.code, `${f}: ${r.stderr}`).toBe(0);
    }
    const out = (await images(['--no-trunc'])).stdout;
    expect(rowFor(out, 'skiff-test/layered')?.['IMAGE ID']).toBe(info[LAYERED].id);
    expect(rowFor(out, 'skiff-test/config')?.['IMAGE ID']).toBe(info[CONFIG].id);
  });
});

describe('layers', () => {
  const inLayered = (script: string) => skiff(['run', '--rm', LAYERED, 'sh', '-c', script]);

  test('a file from a lower layer is overridden by the upper one', async () => {
    const r = await inLayered('cat /etc/motd');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('layer2\n');
  });

  test('whiteouts hide a file and a directory of the lower layer', async () => {
    const r = await inLayered(
      'for p in /etc/removed-by-layer2 /removed-dir /removed-dir/file; do [ -e $p ] && echo present $p; done; echo done',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('done\n');
  });

  test('an opaque directory hides everything below it in lower layers', async () => {
    const r = await inLayered('ls -A /opaque');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('new\n');
  });

  test('a directory present in both layers is merged', async () => {
    const r = await inLayered('ls -A /kept');
    expect(r.stdout).toBe('added\nfile\n');
  });

  test('whiteout markers themselves are never visible', async () => {
    const r = await inLayered("find / -xdev -name '.wh.*' 2>/dev/null; echo done");
    expect(r.stdout).toBe('done\n');
  });

  test('a hard link in a layer is one inode with two names', async () => {
    const r = await inLayered('stat -c %h /data/original; [ /data/original -ef /data/hardlink ] && echo same; cat /data/hardlink; stat -c %a /data/hardlink');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('2\nsame\nlinked content\n640\n');
  });

  test('ownership and modes from the tar headers are kept', async () => {
    const r = await skiff(['run', '--rm', BUSYBOX, 'stat', '-c', '%n %u %g %a', '/home/app', '/tmp', '/root', '/etc/shadow', '/bin/busybox']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('/home/app 1000 1000 755\n/tmp 0 0 1777\n/root 0 0 700\n/etc/shadow 0 0 640\n/bin/busybox 0 0 755\n');
  });

  test('applet symlinks resolve inside the image', async () => {
    const r = await skiff(['run', '--rm', BUSYBOX, 'readlink', '/bin/sh']);
    expect(r.stdout).toBe('/bin/busybox\n');
  });
});

describe('rmi', () => {
  test('rmi refuses an image a container uses (exit 1), the image stays', async () => {
    const name = uniqueName('uses-config');
    const c = await skiff(['create', '--name', name, CONFIG]);
    expect(c.code, c.stderr).toBe(0);
    const r = await skiff(['rmi', CONFIG]);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(rowFor((await images()).stdout, 'skiff-test/config')).toBeDefined();
    expect((await skiff(['rm', name])).code).toBe(0);
  });

  test('rmi untags and deletes, printing Untagged:/Deleted: like docker', async () => {
    const r = await skiff(['rmi', CONFIG]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Untagged: skiff-test\/config:latest$/m);
    expect(r.stdout).toMatch(/^Deleted: sha256:[0-9a-f]{64}$/m);
    const out = (await images()).stdout;
    expect(rowFor(out, 'skiff-test/config')).toBeUndefined();
    expect(rowFor(out, 'skiff-test/busybox')).toBeDefined();
  });

  test('the image can be loaded again after rmi', async () => {
    const r = await skiff(['load', '-i', fixture('config.docker.tar')]);
    expect(r.code, r.stderr).toBe(0);
    expect(rowFor((await images()).stdout, 'skiff-test/config')).toBeDefined();
  });

  test('rmi by short ID', async () => {
    const id = info[CONFIG].id.slice('sha256:'.length, 'sha256:'.length + 12);
    const r = await skiff(['rmi', id]);
    expect(r.code, r.stderr).toBe(0);
    expect(rowFor((await images()).stdout, 'skiff-test/config')).toBeUndefined();
  });

  test('rmi of an unknown image exits 1 with one line naming it', async () => {
    const r = await skiff(['rmi', 'skiff-test/no-such-image:latest']);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('skiff-test/no-such-image');
    expect(looksLikeStackTrace(r.stderr)).toBe(false);
  });

  test('layers shared with another image survive its removal', async () => {
    const r = await skiff(['run', '--rm', BUSYBOX, 'true']);
    expect(r.code, r.stderr).toBe(0);
  });
});
