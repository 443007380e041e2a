import { describe, expect, it } from 'vitest';
import { hostsFileText, isIpAddress, parseAddHost, parseResolvConf, resolvConfText } from '../../../src/network/hosts-files';

describe('/etc/hosts', () => {
  it('Docker\'s defaults, then the entries in order', () => {
    const text = hostsFileText([{ address: '10.0.0.5', names: ['db'] }, { address: '192.0.2.2', names: ['abc123', 'web'] }]);
    expect(text.split('\n').slice(0, 2)).toEqual(['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback']);
    expect(text.endsWith('10.0.0.5\tdb\n192.0.2.2\tabc123 web\n')).toBe(true);
  });

  it('--add-host NAME:IP, NAME=IP, [IPv6] and host-gateway', () => {
    expect(parseAddHost('db:10.1.2.3', undefined)).toEqual({ address: '10.1.2.3', names: ['db'] });
    expect(parseAddHost('db=10.1.2.3', undefined)).toEqual({ address: '10.1.2.3', names: ['db'] });
    expect(parseAddHost('v6:[::1]', undefined)).toEqual({ address: '::1', names: ['v6'] });
    expect(parseAddHost('gw:host-gateway', '192.0.2.1')).toEqual({ address: '192.0.2.1', names: ['gw'] });
    expect(() => parseAddHost('gw:host-gateway', undefined)).toThrow(/host-gateway has no address/);
    expect(() => parseAddHost('nohost', undefined)).toThrow(/bad format for add-host: "nohost"/);
    expect(() => parseAddHost('x:999.1.1.1', undefined)).toThrow(/invalid IP address in add-host/);
  });

  it('isIpAddress', () => {
    for (const ok of ['1.2.3.4', '::1', 'fe80::1', '2001:db8::ff00:42:8329', '::ffff:1.2.3.4', '1:2:3:4:5:6:7:8']) expect(isIpAddress(ok), ok).toBe(true);
    for (const bad of ['1.2.3', '256.1.1.1', 'a.b.c.d', '1::2::3', ':::', '1:2:3:4:5:6:7:8:9', 'host']) expect(isIpAddress(bad), bad).toBe(false);
  });
});

describe('/etc/resolv.conf', () => {
  const host = parseResolvConf('# comment\nnameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch a.test b.test\noptions edns0\n');

  it('reads the host\'s', () => {
    expect(host).toEqual({ nameservers: ['127.0.0.53', '10.0.0.1'], search: ['a.test', 'b.test'], options: ['edns0'] });
  });

  it('replaces loopback resolvers by the forwarder, or drops them; Google\'s when none is left', () => {
    expect(resolvConfText(host, {}, '192.0.2.1')).toBe('search a.test b.test\nnameserver 192.0.2.1\nnameserver 10.0.0.1\noptions edns0\n');
    expect(resolvConfText(host, {})).toBe('search a.test b.test\nnameserver 10.0.0.1\noptions edns0\n');
    expect(resolvConfText(parseResolvConf('nameserver 127.0.0.53\n'), {})).toBe('nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  });

  it('--dns, --dns-search (. clears it) and --dns-option replace the host\'s parts', () => {
    expect(resolvConfText(host, { nameservers: ['9.9.9.9'], search: ['.'], options: ['ndots:2'] })).toBe('nameserver 9.9.9.9\noptions ndots:2\n');
  });
});
