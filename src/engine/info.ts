import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { helperPath, ISAL_ASSET } from '../native/assets';
import { recordedDriver } from '../storage/layout';
import { findOnPath } from '../util/which';
import type { Engine } from './context';
import { formatIdMap } from '../native/helper-namespace';

/** `skiff info`: what a user needs to debug their setup, without entering any namespace. */
export function info(engine: Engine): string {
  const p = engine.paths;
  const lines: string[] = [];
  const add = (k: string, v: string | number | boolean) => lines.push(`${k}: ${v}`);
  add('Rootless', p.rootless);
  add('User', `${os.userInfo().username} (uid ${process.getuid!()}, gid ${process.getgid!()})`);
  if (p.rootless) {
    try {
      const plan = engine.userns!;
      add('UID map', formatIdMap(plan.uidMap));
      add('GID map', formatIdMap(plan.gidMap));
      add('Subordinate IDs', plan.subordinate ? 'yes' : 'no (single-ID mapping)');
    } catch (e) {
      add('UID map', `unavailable: ${(e as Error).message}`);
    }
  } else {
    add('UID map', 'none (rootful: host IDs)');
  }
  const driver = recordedDriver(p.dataRoot);
  add('Storage driver', driver ?? 'not chosen yet (chosen at first use: overlay, fuse-overlayfs, vfs)');
  add('Data root', p.dataRoot);
  add('Run root', p.runRoot);
  add('Config', `${p.configRoot}/config.json`);
  add('Kernel', `${os.release()} (${os.arch()})`);
  add('Cgroups', fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'v2' : 'v1 (no rootless resource limits)');
  add('Gzip decoder', gzipDecoder());
  lines.push('Helpers:');
  for (const h of ['newuidmap', 'newgidmap', 'fuse-overlayfs', 'slirp4netns', 'pasta']) {
    lines.push(`  ${h}: ${findOnPath(h) ?? 'not found'}`);
  }
  return lines.join('\n') + '\n';
}

/** The helper inflates gzip layers with ISA-L when the library sits beside it, else with zlib. */
function gzipDecoder(): string {
  const isal = path.join(path.dirname(helperPath()), ISAL_ASSET);
  return fs.existsSync(isal) ? `isa-l (${isal})` : `zlib (no ${ISAL_ASSET} beside the helper: slower pulls)`;
}
