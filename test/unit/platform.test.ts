import { describe, expect, it } from 'vitest';
import { choosePlatform, noMatchingPlatform, parsePlatform, platformMatches, platformString } from '../../src/image/platform';

const entries = [
  { name: 'amd64', platform: { os: 'linux', architecture: 'amd64' } },
  { name: 'armv6', platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
  { name: 'armv7', platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
  { name: 'arm64', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
  { name: 'win', platform: { os: 'windows', architecture: 'amd64' } },
];

describe('platforms', () => {
  it('parses os/arch[/variant] and normalises architecture aliases', () => {
    expect(parsePlatform('linux/amd64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(parsePlatform('linux/aarch64')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(parsePlatform('Linux/ARM/v7')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
  });

  it('rejects a platform that is not os/arch[/variant]', () => {
    for (const bad of ['linux', 'amd64', 'linux/amd64/v1/x', 'linux//amd64', 'linux/am d64']) {
      expect(() => parsePlatform(bad), bad).toThrow(/invalid platform/);
    }
  });

  it('chooses by OS, architecture and (default) variant', () => {
    expect(choosePlatform(entries, { os: 'linux', architecture: 'amd64' })?.name).toBe('amd64');
    expect(choosePlatform(entries, { os: 'linux', architecture: 'arm' })?.name).toBe('armv7');
    expect(choosePlatform(entries, { os: 'linux', architecture: 'arm', variant: 'v6' })?.name).toBe('armv6');
    expect(choosePlatform(entries, { os: 'linux', architecture: 'arm64' })?.name).toBe('arm64');
    expect(choosePlatform(entries, { os: 'windows', architecture: 'amd64' })?.name).toBe('win');
    expect(choosePlatform(entries, { os: 'linux', architecture: 's390x' })).toBeUndefined();
  });

  it('an arm64 entry without a variant is v8', () => {
    expect(platformMatches({ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' })).toBe(true);
    expect(platformMatches({ os: 'linux', architecture: 'arm' }, { os: 'linux', architecture: 'arm', variant: 'v6' })).toBe(false);
  });

  it('says which platforms there are when none matches', () => {
    const e = noMatchingPlatform({ os: 'linux', architecture: 's390x' }, entries, 'x:latest');
    expect(e.message).toContain('no matching manifest for linux/s390x');
    expect(e.message).toContain('linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8, windows/amd64');
    expect(e.exitCode).toBe(1);
    expect(platformString({ os: 'linux', architecture: 'arm', variant: 'v7' })).toBe('linux/arm/v7');
  });
});
