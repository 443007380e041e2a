import { describe, expect, it } from 'vitest';
import { canPublishPorts, checkNetworkFlags, networkModeText, networkName, ownsNetworkNamespace, parseNetworkMode } from '../../../src/network/network-mode';

describe('parseNetworkMode', () => {
  it.each([
    [undefined, { kind: 'usermode', options: [] }],
    ['', { kind: 'usermode', options: [] }],
    ['bridge', { kind: 'usermode', options: [] }],
    ['default', { kind: 'usermode', options: [] }],
    ['none', { kind: 'none' }],
    ['host', { kind: 'host' }],
    ['container:web', { kind: 'container', container: 'web' }],
    ['pasta', { kind: 'usermode', helper: 'pasta', options: [] }],
    ['pasta:--mtu,1500,-T,none', { kind: 'usermode', helper: 'pasta', options: ['--mtu', '1500', '-T', 'none'] }],
    ['slirp4netns', { kind: 'usermode', helper: 'slirp4netns', options: [] }],
    ['slirp4netns:allow_host_loopback=true,mtu=1500', { kind: 'usermode', helper: 'slirp4netns', options: ['allow_host_loopback=true', 'mtu=1500'] }],
    ['app-net', { kind: 'user', name: 'app-net' }],
  ])('%j', (text, mode) => {
    expect(parseNetworkMode(text)).toEqual(mode);
  });

  it('refuses container: without a name, with Docker\'s message', () => {
    expect(() => parseNetworkMode('container:')).toThrow('Invalid network mode: invalid container format container:<name|id>');
  });

  it('refuses an unknown slirp4netns option and says which are known', () => {
    expect(() => parseNetworkMode('slirp4netns:bogus=1')).toThrow(/unknown option for slirp4netns: "bogus=1": use allow_host_loopback=VALUE/);
    expect(() => parseNetworkMode('slirp4netns:mtu')).toThrow(/unknown option for slirp4netns/);
  });

  it('refuses an unknown MODE:OPTIONS rather than take it for a network name', () => {
    expect(() => parseNetworkMode('ns:/run/netns/x')).toThrow(/invalid network mode "ns:\/run\/netns\/x"/);
  });

  it('the record text reads back as the same mode', () => {
    for (const t of ['bridge', 'none', 'host', 'container:abc', 'pasta', 'pasta:-T,none', 'slirp4netns:mtu=9000', 'mynet']) {
      expect(networkModeText(parseNetworkMode(t))).toBe(t);
    }
    expect(networkModeText(parseNetworkMode('default'))).toBe('bridge');
  });
});

describe('what a mode means', () => {
  it('names the network as Docker lists it', () => {
    expect(networkName(parseNetworkMode(undefined))).toBe('bridge');
    expect(networkName(parseNetworkMode('pasta:-T,none'))).toBe('pasta');
    expect(networkName(parseNetworkMode('host'))).toBe('host');
    expect(networkName(parseNetworkMode('app'))).toBe('app');
  });

  it('knows which modes have a namespace of their own and which publish ports', () => {
    expect(['none', 'host', 'container:x', 'bridge', 'app'].map((t) => ownsNetworkNamespace(parseNetworkMode(t)))).toEqual([true, false, false, true, true]);
    expect(['none', 'host', 'container:x', 'bridge', 'app'].map((t) => canPublishPorts(parseNetworkMode(t)))).toEqual([false, false, false, true, true]);
  });
});

describe('checkNetworkFlags (moby validateNetContainerMode)', () => {
  const joined = parseNetworkMode('container:x');
  it.each([
    [{ hostname: true }, 'conflicting options: hostname and the network mode'],
    [{ dns: true }, 'conflicting options: dns and the network mode'],
    [{ addHost: true }, 'conflicting options: custom host-to-IP mapping and the network mode'],
    [{ publish: true }, 'conflicting options: port publishing and the container type network mode'],
    [{ expose: true }, 'conflicting options: port exposing and the container type network mode'],
  ])('container mode refuses %j', (flags, message) => {
    expect(() => checkNetworkFlags(joined, flags)).toThrow(message);
  });

  it('host mode drops published ports with Docker\'s warning', () => {
    expect(checkNetworkFlags(parseNetworkMode('host'), { publish: true })).toEqual(['WARNING: Published ports are discarded when using host network mode']);
    expect(checkNetworkFlags(parseNetworkMode('bridge'), { publish: true, hostname: true, dns: true })).toEqual([]);
  });
});
