import type { SystemInfo } from '../../engine/info';

/** `skiff info` without --format: what a user needs to debug their set-up, one line each. */
export function infoText(i: SystemInfo): string {
  const s = i.Skiff;
  const lines: string[] = [];
  const add = (k: string, v: string | number | boolean) => lines.push(`${k}: ${v}`);
  add('Rootless', s.Rootless);
  add('User', s.User);
  if (!s.Rootless) add('UID map', 'none (rootful: host IDs)');
  else if (s.UserNamespaceError) add('UID map', `unavailable: ${s.UserNamespaceError}`);
  else {
    add('UID map', s.UIDMap);
    add('GID map', s.GIDMap);
    add('Subordinate IDs', s.SubordinateIDs ? 'yes' : 'no (single-ID mapping)');
  }
  add('Storage driver', i.Driver || 'not chosen yet (chosen at first use: overlay, fuse-overlayfs, vfs)');
  add('Containers', `${i.Containers} (running ${i.ContainersRunning}, stopped ${i.ContainersStopped})`);
  add('Images', i.Images);
  add('Data root', i.DockerRootDir);
  add('Run root', s.RunRoot);
  add('Config', s.Config);
  add('Kernel', `${i.KernelVersion} (${process.arch})`);
  add('Cgroups', i.CgroupVersion === '2' ? 'v2' : 'v1 (no rootless resource limits)');
  add('Gzip decoder', s.GzipDecoder);
  lines.push('Helpers:');
  for (const [h, where] of Object.entries(s.Helpers)) lines.push(`  ${h}: ${where || 'not found'}`);
  return lines.join('\n') + '\n';
}
