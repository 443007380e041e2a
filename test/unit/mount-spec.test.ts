import { describe, expect, it } from 'vitest';
import { parseMountFlag, parseVolumeFlag, parseVolumesFrom, ramInBytes, sortByDepth, volumeNameError } from '../../src/runtime/mount-spec';

describe('-v/--volume (moby linux parser)', () => {
  it('reads a named volume, a bind and an anonymous volume', () => {
    expect(parseVolumeFlag('data:/var/lib/data')).toMatchObject({ type: 'volume', source: 'data', target: '/var/lib/data', readOnly: false, mode: '' });
    expect(parseVolumeFlag('/srv/x:/x:ro')).toMatchObject({ type: 'bind', source: '/srv/x', target: '/x', readOnly: true, mode: 'ro' });
    expect(parseVolumeFlag('/cache')).toMatchObject({ type: 'volume', source: '', target: '/cache' });
    // two fields whose second is a mode: an anonymous volume with that mode
    expect(parseVolumeFlag('/cache:ro')).toMatchObject({ type: 'volume', source: '', target: '/cache', readOnly: true });
  });
  it('takes relative host paths against the working directory, and cleans paths', () => {
    expect(parseVolumeFlag('./src:/app/', '/home/u')).toMatchObject({ type: 'bind', source: '/home/u/src', target: '/app' });
    expect(parseVolumeFlag('../x:/x', '/home/u')).toMatchObject({ source: '/home/x' });
    expect(parseVolumeFlag('/a/b/../c/:/d//e')).toMatchObject({ source: '/a/c', target: '/d/e' });
  });
  it('knows the modes: U, z/Z, propagation, nocopy; each kind once', () => {
    expect(parseVolumeFlag('/h:/c:ro,U')).toMatchObject({ readOnly: true, chown: true, mode: 'ro,U' });
    expect(parseVolumeFlag('v1:/c:nocopy')).toMatchObject({ noCopy: true });
    expect(parseVolumeFlag('/h:/c:rslave,Z')).toMatchObject({ propagation: 'rslave' });
    expect(() => parseVolumeFlag('/h:/c:ro,rw')).toThrow('invalid mode: ro,rw');
    expect(() => parseVolumeFlag('/h:/c:bogus')).toThrow('invalid mode: bogus');
  });
  it("refuses malformed specs with Docker's messages", () => {
    expect(() => parseVolumeFlag('a:b:c:d')).toThrow("invalid volume specification: 'a:b:c:d'");
    expect(() => parseVolumeFlag('')).toThrow("invalid volume specification: ''");
    expect(() => parseVolumeFlag(':/x')).toThrow("invalid volume specification: ':/x'");
    expect(() => parseVolumeFlag('data:rel')).toThrow(`invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute`);
    expect(() => parseVolumeFlag('/h:/')).toThrow("invalid specification: destination can't be '/'");
  });
});

describe('--mount (docker-cli MountOpt)', () => {
  it('reads the three types', () => {
    expect(parseMountFlag('type=bind,src=/h,dst=/c,readonly')).toMatchObject({ type: 'bind', source: '/h', target: '/c', readOnly: true, origin: 'mount-flag' });
    expect(parseMountFlag('source=v,target=/c')).toMatchObject({ type: 'volume', source: 'v', target: '/c', readOnly: false });
    expect(parseMountFlag('type=volume,dst=/c,volume-nocopy,volume-label=a=b,volume-opt=type=tmpfs')).toMatchObject({
      source: '', noCopy: true, volumeLabels: { a: 'b' }, volumeOptions: { type: 'tmpfs' } });
    expect(parseMountFlag('type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770')).toMatchObject({ type: 'tmpfs', tmpfsOptions: ['size=1048576', 'mode=1770'] });
    expect(parseMountFlag('type=bind,src=/h,dst=/c,ro=false,bind-propagation=rshared,U')).toMatchObject({ readOnly: false, propagation: 'rshared', chown: true });
  });
  it('refuses what Docker refuses', () => {
    expect(() => parseMountFlag('type=bind,src=/h')).toThrow('target is required');
    expect(() => parseMountFlag('type=bind,dst=/c')).toThrow('invalid mount config for type "bind": field Source must not be empty');
    expect(() => parseMountFlag('type=tmpfs,src=x,dst=/c')).toThrow('field Source must not be specified');
    expect(() => parseMountFlag('type=bind,src=/h,dst=/c,volume-nocopy')).toThrow('field VolumeOptions must not be specified');
    expect(() => parseMountFlag('type=nfs,dst=/c')).toThrow('invalid mount config for type "nfs": mount type unknown');
    expect(() => parseMountFlag('type=bind,src=/h,dst=/c,foo=bar')).toThrow("unexpected key 'foo' in 'foo=bar'");
    expect(() => parseMountFlag('type,dst=/c')).toThrow("invalid field 'type' must be a key=value pair");
    expect(() => parseMountFlag('type=bind,src=/h,dst=/c,readonly=maybe')).toThrow('invalid value for readonly: maybe');
    expect(() => parseMountFlag('type=bind,src=rel,dst=/c')).toThrow("invalid mount path: 'rel' mount path must be absolute");
  });
});

describe('--volumes-from, names, order', () => {
  it('reads CONTAINER[:ro|rw]', () => {
    expect(parseVolumesFrom('db')).toEqual({ container: 'db' });
    expect(parseVolumesFrom('db:ro')).toEqual({ container: 'db', readOnly: true });
    expect(parseVolumesFrom('db:rw')).toEqual({ container: 'db', readOnly: false });
    expect(() => parseVolumesFrom('db:z')).toThrow('invalid mode: z');
  });
  it("checks local volume names as Docker's local driver", () => {
    expect(volumeNameError('data_1.x-y')).toBeUndefined();
    expect(volumeNameError('a')).toMatch(/too short/);
    expect(volumeNameError('-a')).toMatch(/includes invalid characters/);
  });
  it('sorts mounts so that a parent is mounted before what lies inside it', () => {
    expect(sortByDepth([{ target: '/a/b/c' }, { target: '/a' }, { target: '/z/y' }]).map((m) => m.target)).toEqual(['/a', '/z/y', '/a/b/c']);
  });
  it('reads sizes as go-units RAMInBytes', () => {
    expect(ramInBytes('64m')).toBe(64 * 1024 * 1024);
    expect(ramInBytes('100')).toBe(100);
    expect(ramInBytes('1.5k')).toBe(1536);
    expect(ramInBytes('lots')).toBeUndefined();
  });
});
