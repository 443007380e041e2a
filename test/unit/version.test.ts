import { describe, expect, it } from 'vitest';
import { VERSION } from '../../src/util/version';
import { clientVersion, formatVersion, versionText } from '../../src/engine/version';

describe('skiff version', () => {
  const client = clientVersion('v26.12.1', 'x64', 1000);

  it('names the Node runtime under Client, as Docker names its Go', () => {
    expect(versionText(client)).toBe(
      [
        'Client:',
        ` Version:           ${VERSION}`,
        ' API version:       none (daemonless)',
        ' Node version:      v26.12.1',
        ' OS/Arch:           linux/amd64',
        ' Rootless:          true',
        '',
      ].join('\n'),
    );
    expect(versionText(clientVersion('v26.12.1', 'arm64', 0))).toContain(' OS/Arch:           linux/arm64\n Rootless:          false\n');
  });

  it('--format runs a Go template over {Client, Version}', () => {
    expect(formatVersion('{{.Client.NodeVersion}}', client)).toBe('v26.12.1\n');
    expect(formatVersion('{{.Client.Version}} {{.Version}}', client)).toBe(`${VERSION} ${VERSION}\n`);
    expect(formatVersion('{{json .Client}}', client)).toBe(
      `{"Version":"${VERSION}","ApiVersion":"none (daemonless)","NodeVersion":"v26.12.1","Os":"linux","Arch":"amd64","Rootless":true}\n`,
    );
  });

  it('--format with an unknown field or a broken template fails with exit 1 and Go\'s words', () => {
    expect(() => formatVersion('{{.Client.GoVersion}}', client)).toThrow(/can't evaluate field GoVersion in type ClientVersion/);
    expect(() => formatVersion('{{.Client', client)).toThrow(/^template parsing error: /);
    let err: unknown;
    try {
      formatVersion('{{.Nope}}', client);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ exitCode: 1 });
  });
});
