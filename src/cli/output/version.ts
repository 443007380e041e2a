import type { VersionInfo } from '../../engine/version';

/** `skiff version` without --format, in Docker's layout. */
export function versionText({ Client: c }: VersionInfo): string {
  return [
    'Client:',
    ` Version:           ${c.Version}`,
    ` API version:       ${c.ApiVersion}`,
    ` Node version:      ${c.NodeVersion}`,
    ` OS/Arch:           ${c.Os}/${c.Arch}`,
    ` Rootless:          ${c.Rootless}`,
  ].join('\n') + '\n';
}
