import { describe, expect, it } from 'vitest';
import { groupWithUser, keepIdMap, parseUsernsMode, passwdWithUser } from '../../src/runtime/keep-id';

const u1 = [{ container: 0, host: 1001, size: 1 }, { container: 1, host: 100000, size: 65536 }];

describe('--userns=keep-id', () => {
  it('reads host, keep-id and keep-id:uid=,gid=', () => {
    expect(parseUsernsMode(undefined)).toBeUndefined();
    expect(parseUsernsMode('host')).toBeUndefined();
    expect(parseUsernsMode('keep-id')).toEqual({});
    expect(parseUsernsMode('keep-id:uid=500,gid=501')).toEqual({ uid: 500, gid: 501 });
    expect(() => parseUsernsMode('auto')).toThrow('invalid --userns "auto"');
    expect(() => parseUsernsMode('keep-id:size=3')).toThrow('invalid --userns keep-id option "size=3"');
  });
  it('swaps the user\'s ID with root and keeps every other ID where it is', () => {
    expect(keepIdMap(1001, u1, 'UID')).toBe('0:1001:1,1:1:1000,1001:0:1,1002:1002:64535');
    expect(keepIdMap(1, u1, 'UID')).toBe('0:1:1,1:0:1,2:2:65535');
    expect(keepIdMap(0, u1, 'UID')).toBe('0:0:65537');
    expect(keepIdMap(65536, u1, 'UID')).toBe('0:65536:1,1:1:65535,65536:0:1');
    expect(() => keepIdMap(70000, u1, 'UID')).toThrow(/UID 70000 is outside the 65537 IDs/);
  });
  it('adds the user to passwd and group unless the image has the IDs', () => {
    const k = { uid: 1001, gid: 1001, name: 'me', home: '/home/me' };
    expect(passwdWithUser('root:x:0:0:root:/root:/bin/sh\n', k)).toBe('root:x:0:0:root:/root:/bin/sh\nme:*:1001:1001:me:/home/me:/bin/sh\n');
    expect(passwdWithUser('u:x:1001:1001::/:/bin/sh\n', k)).toBeUndefined();
    expect(groupWithUser(undefined, k)).toBe('me:x:1001:\n');
  });
});
