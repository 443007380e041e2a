import { describe, expect, it } from 'vitest';
import { VERSION } from '../../../../src/util/version';
import { clientVersion, versionInfo } from '../../../../src/engine/version';
import { renderObject } from '../../../../src/cli/output/render';
import { versionText } from '../../../../src/cli/output/version';

describe('skiff version', () => {
  const info = versionInfo(clientVersion('v26.12.1', 'x64', 1000));
  const format = (f: string) => renderObject(info, f, () => versionText(info));

  it('names the Node runtime under Client, as Docker names its Go', () => {
    expect(format('')).toBe(
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
    expect(versionText(versionInfo(clientVersion('v26.12.1', 'arm64', 0)))).toContain(' OS/Arch:           linux/arm64\n Rootless:          false\n');
  });

  it('--format runs a Go template over {Client} (and the old top-level .Version)', () => {
    expect(format('{{.Client.NodeVersion}}')).toBe('v26.12.1\n');
    expect(format('{{.Client.Version}} {{.Version}}')).toBe(`${VERSION} ${VERSION}\n`);
    const client = `{"Version":"${VERSION}","ApiVersion":"none (daemonless)","NodeVersion":"v26.12.1","Os":"linux","Arch":"amd64","Rootless":true}`;
    expect(format('{{json .Client}}')).toBe(`${client}\n`);
    expect(format('{{json .}}')).toBe(`{"Client":${client}}\n`);
    expect(format('json')).toBe(`{"Client":${client}}\n`);
  });

  it('an unknown field fails with exit 1 and Go\'s words; a template that does not parse exits 64, as Docker', () => {
    expect(() => format('{{.Client.GoVersion}}')).toThrow(/can't evaluate field GoVersion in type ClientVersion/);
    expect(() => format('{{.Nope}}')).toThrow(expect.objectContaining({ exitCode: 1 }));
    expect(() => format('{{.Client')).toThrow(/^template parsing error: /);
    expect(() => format('{{.Client')).toThrow(expect.objectContaining({ exitCode: 64 }));
  });
});
