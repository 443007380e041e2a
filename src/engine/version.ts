import { VERSION } from '../util/version';
import { goStruct } from '../util/go-template';

/**
 * `skiff version`'s Client section. NodeVersion is the runtime skiff runs on: inside the single
 * executable, the Node that build/build.mjs embedded (pinned in package.json), as Docker's
 * client reports the Go it was built with.
 */
export interface ClientVersion {
  Version: string;
  ApiVersion: string;
  NodeVersion: string;
  Os: string;
  Arch: string;
  Rootless: boolean;
}

/** Docker's names for CPUs where Node's differ. */
const GO_ARCH: Record<string, string> = { x64: 'amd64', ia32: '386' };

export function clientVersion(node = process.version, arch = process.arch, uid = process.getuid!()): ClientVersion {
  return goStruct(
    { Version: VERSION, ApiVersion: 'none (daemonless)', NodeVersion: node, Os: 'linux', Arch: GO_ARCH[arch] ?? arch, Rootless: uid !== 0 },
    'ClientVersion',
  );
}

export interface VersionInfo { Client: ClientVersion }

/**
 * The object `version --format` sees, as Docker's {Client, Server}: skiff has no server, so
 * only Client. `{{.Version}}`, which skiff has always accepted, stays as a field that
 * `{{json .}}` does not print.
 */
export function versionInfo(c: ClientVersion): VersionInfo {
  const info = goStruct({ Client: c }, 'command.VersionInfo');
  Object.defineProperty(info, 'Version', { value: c.Version, enumerable: false });
  return info;
}
