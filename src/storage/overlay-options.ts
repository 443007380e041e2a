import fs from 'node:fs';

/** Kernel overlay features that skiff's layers must not meet, rootful (see overlayMountOptions). */
const ROOTFUL_OFF = ['index', 'redirect_dir', 'metacopy'] as const;

let rootfulOptions: string[] | undefined;

/**
 * The options every kernel overlay mount of skiff's passes besides its directories.
 *  - Rootless: `userxattr`, the kernel's unprivileged overlay (it keeps redirect_dir and metacopy
 *    off by itself).
 *  - Rootful: `index=off`, `redirect_dir=off` and `metacopy=off` wherever the kernel knows them
 *    (its overlay module lists them in /sys/module/overlay/parameters), as Docker's overlay2 and
 *    containers/storage do. A kernel built or booted with those features on by default would
 *    otherwise refuse a lower layer that many mounts share (index), or write directory renames
 *    as redirect xattrs and chowns as metadata-only copies into an upper dir that commit, diff,
 *    export and build read as plain files. Before the module is loaded (the first overlay mount
 *    loads it; the storage driver's probe mounts one) nothing is known, and nothing is passed.
 */
export function overlayMountOptions(rootless: boolean): string[] {
  if (rootless) return ['userxattr'];
  if (rootfulOptions) return rootfulOptions;
  const known = ROOTFUL_OFF.filter((k) => fs.existsSync(`/sys/module/overlay/parameters/${k}`)).map((k) => `${k}=off`);
  if (fs.existsSync('/sys/module/overlay')) rootfulOptions = known;
  return known;
}

/** The same as text to append to a mount's data (`,a,b`, or nothing). */
export function overlayOptionsSuffix(rootless: boolean): string {
  return overlayMountOptions(rootless).map((o) => `,${o}`).join('');
}
