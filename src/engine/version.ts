import { VERSION } from '../util/version';
import { SkiffError } from '../util/errors';
import { goStruct, parseTemplate } from '../util/go-template';

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

export function versionText(c: ClientVersion): string {
  return [
    'Client:',
    ` Version:           ${c.Version}`,
    ` API version:       ${c.ApiVersion}`,
    ` Node version:      ${c.NodeVersion}`,
    ` OS/Arch:           ${c.Os}/${c.Arch}`,
    ` Rootless:          ${c.Rootless}`,
  ].join('\n') + '\n';
}

/**
 * `skiff version --format`: a Go template over {Client, Version} as Docker's `{{.Client.Version}}`;
 * the top-level `{{.Version}}` that skiff has always accepted stays.
 */
export function formatVersion(format: string, c: ClientVersion): string {
  let tmpl;
  try {
    tmpl = parseTemplate(format);
  } catch (e) {
    throw new SkiffError(`template parsing error: ${(e as Error).message}`, 1);
  }
  try {
    return `${tmpl.execute(goStruct({ Client: c, Version: c.Version }, 'VersionInfo'))}\n`;
  } catch (e) {
    throw new SkiffError((e as Error).message, 1); // Go's own words: template: ... executing ...
  }
}
