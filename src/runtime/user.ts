import { SkiffError } from '../util/errors';

export interface ResolvedUser { uid: number; gid: number; additionalGids: number[]; home: string }

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

export function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) return [];
    const uid = Number(f[2]), gid = Number(f[3]);
    return Number.isInteger(uid) && Number.isInteger(gid) ? [{ name: f[0], uid, gid, home: f[5] || '/' }] : [];
  });
}

export function parseGroup(text: string): GroupEntry[] {
  return text.split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 3 || line.startsWith('#')) return [];
    const gid = Number(f[2]);
    return Number.isInteger(gid) ? [{ name: f[0], gid, members: (f[3] ?? '').split(',').filter(Boolean) }] : [];
  });
}

const isNumeric = (s: string) => /^[0-9]+$/.test(s);

/**
 * Resolve Docker's `--user` / image `User` (`name|uid[:group|gid]`) against the image's
 * /etc/passwd and /etc/group, as runc's GetExecUser does: a name must exist; a bare UID that
 * is not in passwd runs with GID 0; supplementary groups are those that list the user.
 */
export function resolveUser(spec: string, passwdText: string | undefined, groupText: string | undefined): ResolvedUser {
  const [userPart, groupPart] = spec === '' ? ['0', undefined] : spec.split(':', 2);
  const passwd = parsePasswd(passwdText ?? '');
  const groups = parseGroup(groupText ?? '');
  let uid: number, gid: number, name: string | undefined, home = '/';
  const entry = isNumeric(userPart) ? passwd.find((p) => p.uid === Number(userPart)) : passwd.find((p) => p.name === userPart);
  if (entry) {
    ({ uid, gid, name, home } = entry);
  } else if (isNumeric(userPart)) {
    uid = Number(userPart);
    gid = 0;
  } else {
    throw new SkiffError(`unable to find user ${userPart}: no matching entries in passwd file`);
  }
  if (groupPart !== undefined && groupPart !== '') {
    const g = isNumeric(groupPart) ? groups.find((e) => e.gid === Number(groupPart)) : groups.find((e) => e.name === groupPart);
    if (g) gid = g.gid;
    else if (isNumeric(groupPart)) gid = Number(groupPart);
    else throw new SkiffError(`unable to find group ${groupPart}: no matching entries in group file`);
  }
  // runc adds /etc/group memberships only in the implicit form (no explicit group).
  const additionalGids = name === undefined || groupPart ? [] :
    [...new Set(groups.filter((g) => g.members.includes(name!) && g.gid !== gid).map((g) => g.gid))];
  return { uid, gid, additionalGids, home };
}
