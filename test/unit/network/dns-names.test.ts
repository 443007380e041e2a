import { describe, expect, it } from 'vitest';
import { embeddedDns, parseResolvConf } from '../../../src/network/hosts-files';
import { dnsNamesText } from '../../../src/network/user-networks/dns-names';

describe('the embedded DNS server\'s resolv.conf and upstreams (Docker\'s TransformForIntNS)', () => {
  const host = parseResolvConf('nameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch example.com\noptions edns0 trust-ad\n');

  it('names 127.0.0.11 only, keeps the search list and options, adds ndots:0; the host\'s resolvers, loopback ones too, are asked from the host', () => {
    const dns = embeddedDns(host, {});
    expect(dns.resolvConf).toBe('nameserver 127.0.0.11\nsearch example.com\noptions edns0 trust-ad ndots:0\n');
    expect(dns.upstreams).toEqual([{ address: '127.0.0.53', hostNamespace: true }, { address: '10.0.0.1', hostNamespace: true }]);
    expect(dns.ndotsSet).toBe(false);
  });

  it('--dns servers are asked from the container\'s namespace, never 127.0.0.11 itself; --dns-option ndots is kept and noted', () => {
    const dns = embeddedDns(host, { nameservers: ['127.0.0.11', '192.0.2.53'], options: ['ndots:3'], search: ['.'] });
    expect(dns.resolvConf).toBe('nameserver 127.0.0.11\noptions ndots:3\n');
    expect(dns.upstreams).toEqual([{ address: '192.0.2.53', hostNamespace: false }]);
    expect(dns.ndotsSet).toBe(true);
  });

  it('an invalid ndots is replaced; no resolver at all means Google\'s; at most three upstreams', () => {
    const dns = embeddedDns(parseResolvConf('options ndots:x\n'), {});
    expect(dns.resolvConf).toBe('nameserver 127.0.0.11\noptions ndots:0\n');
    expect(dns.upstreams.map((u) => u.address)).toEqual(['8.8.8.8', '8.8.4.4']);
    const four = embeddedDns(parseResolvConf('nameserver 10.0.0.1\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nnameserver 10.0.0.4\n'), {});
    expect(four.upstreams).toHaveLength(3);
  });
});

describe('the names file', () => {
  it('one line per container per network, names lowercased and deduplicated, ourselves as 0 0', () => {
    expect(dnsNamesText(true, [
      { network: 'app', ip: '10.89.1.2', names: ['Web', 'web', 'www', '0123456789ab'] },
      { network: 'app', monitor: { pid: 42, start: '1234' }, ip: '10.89.1.3', names: ['db', 'bad name', ''] },
    ])).toBe('# skiff embedded DNS: NETWORK MONITOR_PID MONITOR_START IPV4 NAMES...\nexternal\napp 0 0 10.89.1.2 web www 0123456789ab\napp 42 1234 10.89.1.3 db\n');
    expect(dnsNamesText(false, [])).not.toContain('external');
  });
});
