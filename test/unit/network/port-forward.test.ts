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

describe("the monitor's report of a host port it could not bind", () => {
  it('reads as the probe\'s refusal, the address (last, maybe empty) included', async () => {
    const { bindRefusal } = await import('../../../src/network/port-allocation');
    expect(bindRefusal('publish tcp 8080 80 98', 'web', true)?.message)
      .toBe('cannot publish 0.0.0.0:8080 for port 80/tcp of container web: address already in use: stop what uses it or choose another host port');
    expect(bindRefusal('publish udp 5353 53 98 127.0.0.1', 'dns', false)?.message)
      .toBe('cannot publish 127.0.0.1:5353 for port 53/udp of container dns: address already in use: stop what uses it or choose another host port');
    expect(bindRefusal('publish tcp 80 80 13', 'web', true)?.message).toMatch(/^cannot publish 0\.0\.0\.0:80 for container web: rootless, ports below/);
  });
  it('is no refusal for any other start failure', async () => {
    const { bindRefusal } = await import('../../../src/network/port-allocation');
    expect(bindRefusal('cannot prepare the network helper: x', 'web', true)).toBeUndefined();
  });
});

describe('which slirp4netns port handler serves published ports', () => {
  const plan = async (options: string[]) => {
    const { planUserMode } = await import('../../../src/network/usermode');
    return planUserMode({
      helper: 'slirp4netns', options, rootless: true, apiSocket: '/run/x.sock', needsDnsForwarder: false,
      ports: [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    });
  };
  it('unset: the forwarder, which hands TCP ports to the server\'s own socket (port_handoff.c)', async () => {
    const p = await plan([]);
    expect(p.forwardPorts).toHaveLength(1);
    expect(p.portHandoff).toBe(true);
  });
  it('rootlessport named, or no host loopback: the forwarder relays every connection', async () => {
    for (const o of [['port_handler=rootlessport'], ['allow_host_loopback=false']]) {
      const p = await plan(o);
      expect(p.forwardPorts, o[0]).toHaveLength(1);
      expect(p.portHandoff, o[0]).toBe(false);
    }
  });
  it('slirp4netns: its own API, not the forwarder', async () => {
    const p = await plan(['port_handler=slirp4netns']);
    expect(p.forwardPorts).toEqual([]);
    expect(p.portHandoff).toBe(false);
    expect(p.apiRequests).toHaveLength(1);
  });
  it('anything else is refused, naming the two handlers', async () => {
    await expect(plan(['port_handler=rootlesskit'])).rejects.toThrow(/port_handler=rootlesskit is not supported: leave it unset .* port_handler=rootlessport .* port_handler=slirp4netns/);
  });
});

describe('which of pasta\'s ports the forwarder serves', () => {
  const plan = async (options: string[]) => {
    const { planUserMode } = await import('../../../src/network/usermode');
    return planUserMode({
      helper: 'pasta', options, rootless: true, apiSocket: '/run/x.sock', needsDnsForwarder: false,
      ports: [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostIp: '', hostPort: 5353, containerPort: 53, protocol: 'udp' }],
    });
  };
  it('TCP: the forwarder, handed to the server; UDP: pasta\'s own -u', async () => {
    const p = await plan([]);
    expect(p.forwardPorts.map((x) => x.protocol)).toEqual(['tcp']);
    expect(p.portHandoff).toBe(true);
    expect(p.argv.join(' ')).toContain('-u 5353:53');
    expect(p.argv.join(' ')).toContain('-t none');
  });
  it('--no-map-gw (no way to the host\'s loopback): pasta forwards TCP too, no handoff', async () => {
    const p = await plan(['--no-map-gw']);
    expect(p.forwardPorts).toEqual([]);
    expect(p.portHandoff).toBe(false);
    expect(p.argv.join(' ')).toContain('-t 8080:80');
    expect(p.argv.join(' ')).not.toContain('-t none');
  });
});
