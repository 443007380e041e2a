import { describe, expect, it } from 'vitest';
import { parseGroup, parsePasswd, resolveUser } from '../../src/runtime/user';
import { buildOciSpec } from '../../src/runtime/oci-spec';
import { SkiffError } from '../../src/util/errors';

const PASSWD = [
  '# comment:x:1:1::/c:/bin/sh',
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/bin/false',
  'app:x:1000:1000:App User:/home/app:/bin/sh',
  'nohome:x:1001:1001:No Home::/bin/sh',
  'bad:x:notanumber:1:::',
  'dup:x:1000:9999::/dup:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  '',
].join('\n');

const GROUP = [
  'root:x:0:root',
  'daemon:x:1:root,daemon',
  'app:x:1000:',
  'extra:x:2000:app',
  'wheel:x:10:root,app',
  'other:x:3000:someoneelse',
  'broken:x:nope:app',
  '# commented:x:4000:app',
  '',
].join('\n');

function resolveError(spec: string, passwd: string | undefined, group: string | undefined): SkiffError {
  try {
    resolveUser(spec, passwd, group);
  } catch (e) {
    expect(e).toBeInstanceOf(SkiffError);
    return e as SkiffError;
  }
  throw new Error(`expected ${JSON.stringify(spec)} to be rejected`);
}

describe('parsePasswd / parseGroup', () => {
  it('parses entries, skipping comments, short and non-numeric lines; empty home is "/"', () => {
    expect(parsePasswd(PASSWD)).toEqual([
      { name: 'root', uid: 0, gid: 0, home: '/root' },
      { name: 'daemon', uid: 1, gid: 1, home: '/usr/sbin' },
      { name: 'app', uid: 1000, gid: 1000, home: '/home/app' },
      { name: 'nohome', uid: 1001, gid: 1001, home: '/' },
      { name: 'dup', uid: 1000, gid: 9999, home: '/dup' },
      { name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent' },
    ]);
  });

  it('parses groups with member lists', () => {
    expect(parseGroup(GROUP)).toEqual([
      { name: 'root', gid: 0, members: ['root'] },
      { name: 'daemon', gid: 1, members: ['root', 'daemon'] },
      { name: 'app', gid: 1000, members: [] },
      { name: 'extra', gid: 2000, members: ['app'] },
      { name: 'wheel', gid: 10, members: ['root', 'app'] },
      { name: 'other', gid: 3000, members: ['someoneelse'] },
    ]);
  });

  it('accepts a group line without the member field', () => {
    expect(parseGroup('g:x:7')).toEqual([{ name: 'g', gid: 7, members: [] }]);
  });
});

describe('resolveUser (runc GetExecUser semantics)', () => {
  it('"" is root, with root\'s home and the groups that list root', () => {
    expect(resolveUser('', PASSWD, GROUP)).toEqual({ uid: 0, gid: 0, additionalGids: [1, 10], home: '/root' });
  });

  it('"" without passwd or group files is 0:0 with home "/"', () => {
    expect(resolveUser('', undefined, undefined)).toEqual({ uid: 0, gid: 0, additionalGids: [], home: '/' });
  });

  it('a name resolves uid, primary gid and home from passwd; supplementary groups from /etc/group', () => {
    expect(resolveUser('app', PASSWD, GROUP)).toEqual({ uid: 1000, gid: 1000, additionalGids: [2000, 10], home: '/home/app' });
  });

  it('a numeric UID present in passwd takes that entry (the first one that matches)', () => {
    expect(resolveUser('1000', PASSWD, GROUP)).toEqual({ uid: 1000, gid: 1000, additionalGids: [2000, 10], home: '/home/app' });
  });

  it('a numeric UID absent from passwd runs with GID 0, home "/", no supplementary groups', () => {
    expect(resolveUser('4242', PASSWD, GROUP)).toEqual({ uid: 4242, gid: 0, additionalGids: [], home: '/' });
    expect(resolveUser('4242', undefined, undefined)).toEqual({ uid: 4242, gid: 0, additionalGids: [], home: '/' });
  });

  it('a numeric spec is always a UID, never a user name', () => {
    const passwd = '1000:x:5:5::/named:/bin/sh\nreal:x:1000:7::/real:/bin/sh\n';
    expect(resolveUser('1000', passwd, '')).toEqual({ uid: 1000, gid: 7, additionalGids: [], home: '/real' });
  });

  it('an entry with an empty home gets "/"', () => {
    expect(resolveUser('nohome', PASSWD, GROUP).home).toBe('/');
  });

  it('name:group sets the primary group by name', () => {
    const u = resolveUser('app:extra', PASSWD, GROUP);
    expect(u.uid).toBe(1000);
    expect(u.gid).toBe(2000);
    expect(u.home).toBe('/home/app');
  });

  it('name:GID uses the GID from /etc/group, or the number when it is not there', () => {
    expect(resolveUser('app:2000', PASSWD, GROUP).gid).toBe(2000);
    expect(resolveUser('app:7777', PASSWD, GROUP).gid).toBe(7777);
  });

  it('UID:GID numeric', () => {
    const u = resolveUser('1000:1000', PASSWD, GROUP);
    expect([u.uid, u.gid, u.home]).toEqual([1000, 1000, '/home/app']);
    expect(resolveUser('4242:4343', PASSWD, GROUP)).toEqual({ uid: 4242, gid: 4343, additionalGids: [], home: '/' });
  });

  it('an empty group part (“app:”) keeps the passwd group', () => {
    expect(resolveUser('app:', PASSWD, GROUP)).toEqual({ uid: 1000, gid: 1000, additionalGids: [2000, 10], home: '/home/app' });
  });

  it('an unknown user name fails with runc\'s message', () => {
    const e = resolveError('ghost', PASSWD, GROUP);
    expect(e.message).toBe('unable to find user ghost: no matching entries in passwd file');
    expect(e.exitCode).toBe(125);
  });

  it('a user name fails when the image has no /etc/passwd', () => {
    expect(resolveError('app', undefined, undefined).message).toBe('unable to find user app: no matching entries in passwd file');
  });

  it('an unknown group name fails with runc\'s message', () => {
    expect(resolveError('app:ghosts', PASSWD, GROUP).message).toBe('unable to find group ghosts: no matching entries in group file');
    expect(resolveError('1000:ghosts', PASSWD, undefined).message).toBe('unable to find group ghosts: no matching entries in group file');
  });

  it('supplementary groups are deduplicated and exclude the primary GID', () => {
    const group = 'a:x:10:app\nb:x:10:app\nc:x:1000:app\nd:x:11:app\n';
    expect(resolveUser('app', PASSWD, group).additionalGids).toEqual([10, 11]);
  });

  it('supplementary group membership is by exact name', () => {
    const group = 'a:x:10:application,ap\nb:x:11:x,app,y\n';
    expect(resolveUser('app', PASSWD, group).additionalGids).toEqual([11]);
  });

  // BUG: runc's GetExecUser only adds the /etc/group memberships in the implicit form
  // ("Supplementary group ids only make sense if in the implicit form"): with an explicit
  // group (`-u app:extra`, `-u 1000:1000`) Docker's process gets no membership groups. skiff
  // adds app's memberships (here wheel, 10) regardless of the explicit group.
  it('an explicit group drops the /etc/group memberships (runc: implicit form only)', () => {
    for (const spec of ['app:extra', '1000:1000', 'app:2000']) {
      const u = resolveUser(spec, PASSWD, GROUP);
      expect(u.additionalGids.filter((g) => g !== u.gid)).toEqual([]);
    }
  });

  // BUG: Docker (moby daemon getUser, since the fix for CVE-2022-36109) puts the primary GID
  // first in the process's supplementary groups: AdditionalGids = [gid, ...memberships], so
  // `id` in busybox shows groups=1000(app),2000(extra),10(wheel). skiff filters the primary GID
  // out (resolveUser) and nothing downstream adds it, so setgroups(2) gets [2000, 10] only.
  it('the OCI spec\'s additionalGids starts with the primary GID, as Docker', () => {
    const user = resolveUser('app', PASSWD, GROUP);
    const spec = buildOciSpec({
      rootfs: '/r', hostname: 'h', args: ['id'], env: [], cwd: '/', user, tty: false, network: 'private',
      rootless: false, ttyGroupMapped: true, etcFiles: { hostname: '/h', hosts: '/hs', resolvConf: '/rc' },
    });
    expect(spec.process.user.additionalGids).toEqual([1000, 2000, 10]);
  });
});
