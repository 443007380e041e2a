import { describe, expect, it } from 'vitest';
import { portForwardRecords } from '../../../src/network/port-forward';
import { slirpGuest } from '../../../src/network/usermode';

describe('port-forward records for the monitor', () => {
  it('one record per published port: protocol, host address and port, container address and port', () => {
    expect(portForwardRecords([
      { hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp' },
    ], '10.0.2.100')).toEqual([
      ['tcp', '', '8080', '10.0.2.100', '80'],
      ['udp', '127.0.0.1', '5353', '10.0.2.100', '53'],
    ]);
    expect(portForwardRecords([], '10.0.2.100')).toEqual([]);
  });
});

describe("slirp4netns's guest address", () => {
  it('is the 100th address of its --cidr', () => {
    expect(slirpGuest('10.0.2.0/24')).toBe('10.0.2.100');
    expect(slirpGuest('10.41.0.0/16')).toBe('10.41.0.100');
  });
  it('is unknown for a malformed cidr (slirp4netns refuses it itself)', () => {
    expect(slirpGuest('nonsense')).toBeUndefined();
    expect(slirpGuest('10.0.2.1/24')).toBeUndefined();
  });
});
