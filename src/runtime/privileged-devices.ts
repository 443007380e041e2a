import fs from 'node:fs';
import type { OciMount } from './oci-spec';

/**
 * The host devices a --privileged container gets. A rootless engine cannot mknod, so, like
 * Podman, each device is bind-mounted: the container reaches exactly the devices the user can
 * open on the host. Terminals and the console stay out (a container has its own), as in Podman.
 */
export function privilegedDeviceMounts(taken: ReadonlySet<string>): OciMount[] {
  let names: fs.Dirent[];
  try { names = fs.readdirSync('/dev', { withFileTypes: true }); } catch { return []; }
  return names
    .filter((d) => (d.isCharacterDevice() || d.isBlockDevice()) && !/^(tty.*|console|ptmx)$/.test(d.name))
    .map((d) => `/dev/${d.name}`)
    .filter((p) => !taken.has(p))
    .sort()
    .map((p) => ({ destination: p, type: 'bind', source: p, options: ['bind', 'nosuid'] }));
}
