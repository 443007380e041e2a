// The container's network (issue 11): the --network modes other than user-defined networks,
// the default user-mode network, published ports, /etc/hosts and /etc/resolv.conf.
import { afterEach, describe, expect, test } from 'vitest';
import { BUSYBOX, errorLines, hostProcessesMatching, lines, skiff, uniqueName, useStore } from './harness';

useStore();

/** No user-mode network helper may outlive the test that started it. */
afterEach(() => {
  expect(hostProcessesMatching('pasta').concat(hostProcessesMatching('slirp4netns')).filter((p) => p !== process.pid)).toEqual([]);
});

async function started(flags: string[] = [], script = 'sleep 1000'): Promise<{ name: string; id: string }> {
  const name = uniqueName('net');
  const r = await skiff(['run', '-d', '--name', name, ...flags, BUSYBOX, 'sh', '-c', script]);
  expect(r.code, r.stderr).toBe(0);
  return { name, id: r.stdout.trim() };
}

const removed = (name: string) => skiff(['rm', '-f', name]);

describe('--network container:NAME', () => {
  test('shares the running container\'s network namespace, hostname and hosts file', async () => {
    const donor = await started(['--hostname', 'donorhost']);
    try {
      const ns = await skiff(['exec', donor.name, 'readlink', '/proc/self/ns/net']);
      expect(ns.code, ns.stderr).toBe(0);
      const r = await skiff(['run', '--rm', '--network', `container:${donor.name}`, BUSYBOX, 'sh', '-c', 'readlink /proc/self/ns/net; hostname; grep -c donorhost /etc/hosts']);
      expect(r.code, r.stderr).toBe(0);
      expect(lines(r.stdout)).toEqual([ns.stdout.trim(), 'donorhost', '1']);
    } finally {
      await removed(donor.name);
    }
  });

  test('an unknown container, a malformed mode and --hostname with it: one line, exit 125', async () => {
    const missing = await skiff(['run', '--rm', '--network', 'container:no-such-ctr', BUSYBOX, 'true']);
    expect(missing.code).toBe(125);
    expect(errorLines(missing.stderr)).toEqual([expect.stringMatching(/No such container: no-such-ctr/)]);
    const empty = await skiff(['run', '--rm', '--network', 'container:', BUSYBOX, 'true']);
    expect(empty.code).toBe(125);
    expect(errorLines(empty.stderr)).toEqual([expect.stringMatching(/invalid container format container:<name\|id>/)]);
    const donor = await started();
    try {
      const h = await skiff(['run', '--rm', '--network', `container:${donor.name}`, '--hostname', 'x', BUSYBOX, 'true']);
      expect(h.code).toBe(125);
      expect(errorLines(h.stderr)).toEqual([expect.stringMatching(/conflicting options: hostname and the network mode/)]);
    } finally {
      await removed(donor.name);
    }
  });

  test('a donor that is not running cannot be joined', async () => {
    const name = uniqueName('stopped');
    expect((await skiff(['create', '--name', name, BUSYBOX, 'true'])).code).toBe(0);
    try {
      const r = await skiff(['run', '--rm', '--network', `container:${name}`, BUSYBOX, 'true']);
      expect(r.code).toBe(125);
      expect(errorLines(r.stderr)).toEqual([expect.stringMatching(/cannot join network of a non running container/)]);
    } finally {
      await removed(name);
    }
  });
});

describe('inspect and ps name the network', () => {
  test('NetworkMode and the Networks key', async () => {
    const name = uniqueName('netmode');
    expect((await skiff(['create', '--name', name, '--network', 'none', BUSYBOX, 'true'])).code).toBe(0);
    try {
      const r = await skiff(['inspect', '--format', '{{.HostConfig.NetworkMode}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}', name]);
      expect(r.stdout.trim()).toBe('none none');
      const ps = await skiff(['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Networks}}']);
      expect(ps.stdout.trim()).toBe('none');
    } finally {
      await removed(name);
    }
  });
});
