import fs from 'node:fs';
import { SkiffError } from '../util/errors';
import { resolveCapabilities } from './capabilities';
import type { SecurityInput } from './oci-spec';
import { parseSeccompProfile } from './seccomp/profile';
import type { SeccompChoice } from './seccomp/program';

/**
 * --security-opt, --cap-add, --cap-drop and --privileged, read as Docker reads them (the CLI
 * loads a seccomp profile file; the daemon parses the rest: moby daemon/daemon_unix.go).
 */

export interface SecurityFlags {
  securityOpt: string[];
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
}

/** Go's strconv.ParseBool, which Docker uses for no-new-privileges=VALUE. */
function parseGoBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

function readProfile(file: string): SeccompChoice {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const why = { ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a directory' }[code] ?? (e as Error).message;
    // Docker's CLI wording (it reads the file before sending it to the daemon).
    throw new SkiffError(`opening seccomp profile (${file}) failed: open ${file}: ${why}`);
  }
  try { parseSeccompProfile(text); } catch (e) {
    throw new SkiffError(`invalid seccomp profile (${file}): ${(e as Error).message}`);
  }
  return { kind: 'custom', json: text };
}

export function parseSecurityFlags(f: SecurityFlags): SecurityInput {
  let noNewPrivileges = false;
  let seccomp: SeccompChoice | undefined;
  let unmaskSystemPaths = false;
  for (const opt of f.securityOpt) {
    if (opt === 'no-new-privileges') { noNewPrivileges = true; continue; }
    // SELinux/AppArmor options: accepted and without effect, as on a host without those LSMs.
    if (opt === 'disable' || opt === 'writable-cgroups') continue;
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : undefined;
    if (!sep) throw new SkiffError(`invalid --security-opt 1: "${opt}"`);
    const key = opt.slice(0, opt.indexOf(sep));
    const value = opt.slice(opt.indexOf(sep) + 1);
    switch (key) {
      case 'label': case 'apparmor': break;
      case 'seccomp':
        seccomp = value === 'unconfined' ? { kind: 'unconfined' } : value === 'builtin' ? { kind: 'default' } : readProfile(value);
        break;
      case 'no-new-privileges': {
        const b = parseGoBool(value);
        if (b === undefined) throw new SkiffError(`invalid --security-opt 2: "${opt}"`);
        noNewPrivileges = b;
        break;
      }
      case 'systempaths':
        if (value !== 'unconfined') throw new SkiffError(`invalid --security-opt 2: "${opt}"`);
        unmaskSystemPaths = true;
        break;
      case 'writable-cgroups':
        if (parseGoBool(value) === undefined) throw new SkiffError(`invalid --security-opt 2: "${opt}"`);
        break;
      default:
        throw new SkiffError(`invalid --security-opt 2: "${opt}"`);
    }
  }
  let caps: string[];
  try { caps = resolveCapabilities(f.capAdd, f.capDrop, f.privileged); } catch (e) { throw new SkiffError((e as Error).message); }
  // Docker: a privileged container is unconfined unless a profile is named.
  return { caps, privileged: f.privileged, noNewPrivileges, seccomp: seccomp ?? (f.privileged ? { kind: 'unconfined' } : { kind: 'default' }), unmaskSystemPaths };
}
