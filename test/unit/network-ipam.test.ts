import { describe, expect, it } from 'vitest';
import {
  allocateAddress, checkNoOverlap, chooseGateway, formatSubnet, ipToNumber, macForAddress, numberToIp, overlaps,
  parseMac, parseSubnet, pickDefaultSubnet,
} from '../../src/network/user-networks/ipam';
import { bridgeName, gatewayNetworkName, nextInterfaceName } from '../../src/network/user-networks/endpoint';

const ip = ipToNumber;

describe('subnets', () => {
  it('parses a CIDR and refuses host bits, bad text, IPv6 and subnets with no room', () => {
    expect(formatSubnet(parseSubnet('10.90.0.0/16'))).toBe('10.90.0.0/16');
    expect(() => parseSubnet('10.90.0.1/16')).toThrow('it has host bits set; use 10.90.0.0/16');
    expect(() => parseSubnet('foo')).toThrow('invalid CIDR address: foo');
    expect(() => parseSubnet('10.0.0.0/33')).toThrow('invalid CIDR address');
    expect(() => parseSubnet('300.0.0.0/8')).toThrow('invalid CIDR address');
    expect(() => parseSubnet('fd00::/64')).toThrow('IPv6');
    expect(() => parseSubnet('10.0.0.0/31')).toThrow('too small');
  });

  it('tells overlapping subnets apart, either way round', () => {
    expect(overlaps(parseSubnet('10.0.0.0/8'), parseSubnet('10.1.2.0/24'))).toBe(true);
    expect(overlaps(parseSubnet('10.1.2.0/24'), parseSubnet('10.0.0.0/8'))).toBe(true);
    expect(overlaps(parseSubnet('10.1.2.0/24'), parseSubnet('10.1.3.0/24'))).toBe(false);
    expect(() => checkNoOverlap(parseSubnet('10.89.1.0/25'), [parseSubnet('10.89.1.0/24')])).toThrow('Pool overlaps with other one on this address space');
  });

  it('picks the first free /24 of the default pool', () => {
    expect(formatSubnet(pickDefaultSubnet([]))).toBe('10.89.1.0/24');
    expect(formatSubnet(pickDefaultSubnet([parseSubnet('10.89.1.0/24'), parseSubnet('10.89.2.0/23')]))).toBe('10.89.4.0/24');
  });
});

describe('gateway and addresses', () => {
  const s = parseSubnet('10.89.1.0/24');

  it('defaults the gateway to the first host and checks a given one', () => {
    expect(numberToIp(chooseGateway(s, undefined))).toBe('10.89.1.1');
    expect(numberToIp(chooseGateway(s, '10.89.1.254'))).toBe('10.89.1.254');
    expect(() => chooseGateway(s, '10.89.2.1')).toThrow('not in subnet 10.89.1.0/24');
    expect(() => chooseGateway(s, '10.89.1.255')).toThrow('broadcast');
    expect(() => chooseGateway(s, 'x')).toThrow('not an IPv4 address');
  });

  it('allocates the lowest free address, never the gateway', () => {
    const gw = ip('10.89.1.1');
    expect(numberToIp(allocateAddress(s, gw, new Set()))).toBe('10.89.1.2');
    expect(numberToIp(allocateAddress(s, gw, new Set([ip('10.89.1.2'), ip('10.89.1.3')])))).toBe('10.89.1.4');
    expect(numberToIp(allocateAddress(parseSubnet('10.0.0.0/30'), ip('10.0.0.2'), new Set()))).toBe('10.0.0.1');
    expect(() => allocateAddress(parseSubnet('10.0.0.0/30'), ip('10.0.0.1'), new Set([ip('10.0.0.2')]))).toThrow('no available IPv4 address');
  });

  it('takes a requested address only inside the subnet and when free', () => {
    const gw = ip('10.89.1.1');
    expect(numberToIp(allocateAddress(s, gw, new Set(), '10.89.1.77'))).toBe('10.89.1.77');
    expect(() => allocateAddress(s, gw, new Set(), '10.89.2.7')).toThrow('does not belong to the network');
    expect(() => allocateAddress(s, gw, new Set(), '10.89.1.255')).toThrow('does not belong to the network');
    expect(() => allocateAddress(s, gw, new Set(), '10.89.1.1')).toThrow('already in use');
    expect(() => allocateAddress(s, gw, new Set([ip('10.89.1.9')]), '10.89.1.9')).toThrow('already in use');
  });

  it('derives MAC addresses from the address as Docker does, and checks given ones', () => {
    expect(macForAddress(ip('10.89.1.2'))).toBe('02:42:0a:59:01:02');
    expect(parseMac('02:42:AC:11:00:02')).toBe('02:42:ac:11:00:02');
    expect(() => parseMac('02:42:ac:11:00')).toThrow('not a valid mac address');
    expect(() => parseMac('01:00:5e:00:00:01')).toThrow('multicast');
  });
});

describe('names in the holder namespace', () => {
  it('names bridges by kind and ID, interfaces eth0 upwards', () => {
    expect(bridgeName({ id: 'abcdef0123456789', internal: false })).toBe('sknabcdef012345');
    expect(bridgeName({ id: 'abcdef0123456789', internal: true })).toBe('skiabcdef012345');
    expect(nextInterfaceName(undefined)).toBe('eth0');
    const e = { networkId: '', ipAddress: '', prefixLen: 24, gateway: '', macAddress: '', aliases: [] };
    expect(nextInterfaceName({ a: { ...e, ifname: 'eth0' }, b: { ...e, ifname: 'eth2' } })).toBe('eth1');
  });
});

describe('the holder records', () => {
  it('give the monitor bridge, addresses and a default route only where the network has a way out', async () => {
    const { attachFields } = await import('../../src/network/user-networks/holder');
    const n = { id: 'ab'.repeat(32), name: 'app', created: '', driver: 'bridge' as const, internal: false, labels: {}, options: {}, subnet: '10.89.1.0/24', gateway: '10.89.1.1' };
    const e = { networkId: n.id, ipAddress: '10.89.1.2', prefixLen: 24, gateway: '10.89.1.1', macAddress: '02:42:0a:59:01:02', aliases: [], ifname: 'eth0' };
    const holder = { pid: 42, start: '1234' };
    expect(attachFields(holder, n, e, true)).toEqual(['42', '1234', 'sknabababababab', '10.89.1.1/24', 'eth0', '10.89.1.2/24', '02:42:0a:59:01:02', '10.89.1.1']);
    expect(attachFields(holder, n, e, false).at(-1)).toBe('');
    expect(attachFields(holder, { ...n, internal: true }, e, true)).toEqual(['42', '1234', 'skiabababababab', '10.89.1.1/24', 'eth0', '10.89.1.2/24', '02:42:0a:59:01:02', '']);
  });
});

describe('the default route (Docker\'s gateway endpoint)', () => {
  const e = { ipAddress: '10.0.0.2', prefixLen: 24, gateway: '10.0.0.1', macAddress: '02:42:0a:00:00:02', aliases: [] };
  const wayOut = (id: string) => id !== 'internal';
  it('goes through the first network by name (byte order, not by interface) that has a way out', () => {
    const endpoints = {
      zeta: { ...e, networkId: 'z', ifname: 'eth0' }, Beta: { ...e, networkId: 'b', ifname: 'eth2' },
      alpha: { ...e, networkId: 'a', ifname: 'eth1' }, aaa: { ...e, networkId: 'internal', ifname: 'eth3' },
    };
    expect(gatewayNetworkName(endpoints, wayOut)).toBe('Beta');
  });
  it('goes through the highest --gw-priority first (negative ones after the unset 0), by name among equals', () => {
    const endpoints = {
      alpha: { ...e, networkId: 'a', ifname: 'eth0', gwPriority: -1 }, beta: { ...e, networkId: 'b', ifname: 'eth1' },
      gamma: { ...e, networkId: 'c', ifname: 'eth2' }, zeta: { ...e, networkId: 'z', ifname: 'eth3', gwPriority: 5 },
      aaa: { ...e, networkId: 'internal', ifname: 'eth4', gwPriority: 100 },
    };
    expect(gatewayNetworkName(endpoints, wayOut)).toBe('zeta');
    const { zeta: _, ...rest } = endpoints;
    expect(gatewayNetworkName(rest, wayOut)).toBe('beta');
    expect(gatewayNetworkName({ alpha: endpoints.alpha }, wayOut)).toBe('alpha');
  });
  it('is none with only internal networks, or none at all', () => {
    expect(gatewayNetworkName({ aaa: { ...e, networkId: 'internal', ifname: 'eth0' } }, wayOut)).toBeUndefined();
    expect(gatewayNetworkName(undefined, wayOut)).toBeUndefined();
  });
});
