// The mount options that keep a container away from devices and from writing where it
// must not (the monitor applies them: native/helper/monitor.c).
import { describe, expect, it } from 'vitest';
import { mountFlags } from '../../src/runtime/monitor-spec';
import { DEFAULT_DEVICES, buildOciSpec, type SpecInput } from '../../src/runtime/oci-spec';

const MS_RDONLY = 1, MS_NODEV = 4, MS_BIND = 4096, MS_REC = 16384;

function input(over: Partial<SpecInput> = {}): SpecInput {
  return {
    rootfs: '/r', hostname: 'h', args: ['true'], env: [], cwd: '/',
    user: { uid: 0, gid: 0, additionalGids: [] }, tty: false, network: 'private', rootless: false,
    ttyGroupMapped: true, etcFiles: { hostname: '/c/hostname', hosts: '/c/hosts', resolvConf: '/c/resolv.conf' },
    ...over,
  };
}

const variants: [string, Partial<SpecInput>][] = [
  ['rootful', {}],
  ['rootless', { rootless: true }],
  ['rootless, host network', { rootless: true, network: 'host' }],
];

describe.each(variants)('buildOciSpec (%s)', (_name, over) => {
  const mounts = buildOciSpec(input(over)).mounts;

  it('every writable mount is nodev, except devpts and the host device binds', () => {
    const writable = mounts.filter((m) => !(mountFlags(m.options).flags & MS_RDONLY));
    const exempt = (m: { type: string; destination: string }) =>
      m.type === 'devpts' || (m.type === 'bind' && DEFAULT_DEVICES.includes(m.destination));
    expect(writable.filter((m) => !exempt(m) && !(mountFlags(m.options).flags & MS_NODEV)).map((m) => m.destination)).toEqual([]);
    expect(mountFlags(mounts.find((m) => m.type === 'devpts')!.options).flags & MS_NODEV).toBe(0);
  });

  it('/sys is read-only (recursively, when it is a bind of the host\'s)', () => {
    const sys = mounts.find((m) => m.destination === '/sys')!;
    const { flags } = mountFlags(sys.options);
    expect(flags & MS_RDONLY).toBe(MS_RDONLY);
    if (sys.type === 'bind') expect(flags & (MS_BIND | MS_REC)).toBe(MS_BIND | MS_REC);
  });
});
