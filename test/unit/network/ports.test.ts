import { describe, expect, it } from 'vitest';
import { displayPorts, networkPortsMap, parseExpose, parsePublish, portBindingsMap, portLines } from '../../../src/network/ports';

describe('parsePublish (docker-cli go-connections rules)', () => {
  it.each([
    ['80', [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }]],
    ['8080:80', [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]],
    ['127.0.0.1:8080:80/udp', [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'udp' }]],
    ['127.0.0.1::80', [{ hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'tcp' }]],
    ['[::1]:8080:80', [{ hostIp: '::1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]],
    ['8000-8001:80-81', [
      { hostIp: '', hostPort: 8000, containerPort: 80, protocol: 'tcp' },
      { hostIp: '', hostPort: 8001, containerPort: 81, protocol: 'tcp' }]],
    ['8000-8010:80', [{ hostIp: '', hostPort: 8000, hostPortEnd: 8010, containerPort: 80, protocol: 'tcp' }]],
    ['80/TCP', [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }]],
  ])('%s', (spec, want) => {
    expect(parsePublish(spec)).toEqual(want);
  });

  it.each([
    ['abc', /invalid containerPort: abc/],
    ['0', /invalid containerPort: 0/],
    ['8080:80/xyz', /invalid proto: xyz/],
    ['70000:80', /invalid hostPort: 70000/],
    ['1.2.3:80:80', /invalid IP address: 1\.2\.3/],
    ['8000-8002:80-81', /invalid ranges specified for container and host Ports: 80-81 and 8000-8002/],
    [':80:', /no port specified/],
  ])('refuses %s', (spec, message) => {
    expect(() => parsePublish(spec)).toThrow(message);
  });
});

describe('how ports are shown', () => {
  const bound = [
    { hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' as const },
    { hostIp: '127.0.0.1', hostPort: 9000, containerPort: 90, protocol: 'udp' as const },
    { hostIp: '127.0.0.1', hostPort: 9001, containerPort: 91, protocol: 'udp' as const },
  ];

  it('parseExpose gives PORT/PROTO, ranges expanded', () => {
    expect(parseExpose('80')).toEqual(['80/tcp']);
    expect(parseExpose('90-91/udp')).toEqual(['90/udp', '91/udp']);
    expect(() => parseExpose('x')).toThrow(/invalid range format for --expose: x/);
  });

  it('HostConfig.PortBindings keeps what was asked ("" for a port to be chosen)', () => {
    expect(portBindingsMap(parsePublish('127.0.0.1::80').concat(parsePublish('8000-8010:81')))).toEqual({
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }], '81/tcp': [{ HostIp: '', HostPort: '8000-8010' }],
    });
  });

  it('NetworkSettings.Ports lists both families for an unspecified address, null for exposed only', () => {
    expect(networkPortsMap(['80/tcp', '443/tcp'], bound.slice(0, 1))).toEqual({
      '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '::', HostPort: '8080' }], '443/tcp': null,
    });
  });

  it('port lines as docker port prints them', () => {
    expect(portLines(bound)).toEqual(['80/tcp -> 0.0.0.0:8080', '80/tcp -> [::]:8080', '90/udp -> 127.0.0.1:9000', '91/udp -> 127.0.0.1:9001']);
    expect(portLines(bound, { containerPort: 80 })).toEqual(['0.0.0.0:8080', '[::]:8080']);
    expect(portLines(bound, { containerPort: 90, protocol: 'tcp' })).toEqual([]);
  });

  it('the PORTS column folds consecutive ports into ranges', () => {
    expect(displayPorts(['80/tcp', '90/udp', '91/udp', '443/tcp'], bound)).toBe('0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, 127.0.0.1:9000-9001->90-91/udp, 443/tcp');
  });
});
