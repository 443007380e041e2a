import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { allCapabilities, DEFAULT_CAPABILITIES, resolveCapabilities } from '../../src/runtime/capabilities';
import { buildOciSpec, DEFAULT_MASKED_PATHS, type SpecInput } from '../../src/runtime/oci-spec';
import { parseSeccompProfile } from '../../src/runtime/seccomp/profile';
import { parseSecurityFlags, type SecurityFlags } from '../../src/runtime/security-options';

const flags = (f: Partial<SecurityFlags>): SecurityFlags => ({ securityOpt: [], capAdd: [], capDrop: [], privileged: false, ...f });

describe('--cap-add / --cap-drop, as Docker applies them', () => {
  it('names with or without CAP_, any case', () => {
    expect(resolveCapabilities(['net_admin', 'CAP_SYS_ptrace'], ['chown'], false)).toEqual([
      ...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_CHOWN'), 'CAP_NET_ADMIN', 'CAP_SYS_PTRACE']);
  });
  it('drop ALL keeps only the added ones', () => {
    expect(resolveCapabilities(['NET_ADMIN'], ['ALL'], false)).toEqual(['CAP_NET_ADMIN']);
    expect(resolveCapabilities([], ['all'], false)).toEqual([]);
  });
  it('add ALL gives everything available but the dropped', () => {
    const caps = resolveCapabilities(['ALL'], ['NET_RAW'], false);
    expect(caps).toEqual(allCapabilities().filter((c) => c !== 'CAP_NET_RAW'));
  });
  it('privileged gets everything available', () => {
    expect(resolveCapabilities(['NET_ADMIN'], ['ALL'], true)).toEqual(allCapabilities());
  });
  it('an unknown capability is an error naming it', () => {
    expect(() => resolveCapabilities(['FOO'], [], false)).toThrow('unknown capability: "CAP_FOO"');
    expect(() => resolveCapabilities([], ['cap_nope'], false)).toThrow('unknown capability: "CAP_NOPE"');
  });
});

describe('--security-opt', () => {
  it('no-new-privileges in its three spellings', () => {
    expect(parseSecurityFlags(flags({ securityOpt: ['no-new-privileges'] })).noNewPrivileges).toBe(true);
    expect(parseSecurityFlags(flags({ securityOpt: ['no-new-privileges=true'] })).noNewPrivileges).toBe(true);
    expect(parseSecurityFlags(flags({ securityOpt: ['no-new-privileges:true'] })).noNewPrivileges).toBe(true);
    expect(parseSecurityFlags(flags({ securityOpt: ['no-new-privileges', 'no-new-privileges=false'] })).noNewPrivileges).toBe(false);
  });
  it("Docker's errors for bad options", () => {
    expect(() => parseSecurityFlags(flags({ securityOpt: ['bogus'] }))).toThrow('invalid --security-opt 1: "bogus"');
    expect(() => parseSecurityFlags(flags({ securityOpt: ['foo=bar'] }))).toThrow('invalid --security-opt 2: "foo=bar"');
    expect(() => parseSecurityFlags(flags({ securityOpt: ['no-new-privileges=maybe'] }))).toThrow('invalid --security-opt 2: "no-new-privileges=maybe"');
  });
  it('seccomp: default, unconfined, builtin, a file; privileged is unconfined unless a profile is named', () => {
    expect(parseSecurityFlags(flags({})).seccomp).toEqual({ kind: 'default' });
    expect(parseSecurityFlags(flags({ securityOpt: ['seccomp=unconfined'] })).seccomp).toEqual({ kind: 'unconfined' });
    expect(parseSecurityFlags(flags({ securityOpt: ['seccomp=builtin'] })).seccomp).toEqual({ kind: 'default' });
    expect(parseSecurityFlags(flags({ privileged: true })).seccomp).toEqual({ kind: 'unconfined' });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-secopt-'));
    try {
      const file = path.join(dir, 'p.json');
      const json = '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}';
      fs.writeFileSync(file, json);
      expect(parseSecurityFlags(flags({ privileged: true, securityOpt: [`seccomp=${file}`] })).seccomp).toEqual({ kind: 'custom', json });
      fs.writeFileSync(file, '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [');
      expect(() => parseSecurityFlags(flags({ securityOpt: [`seccomp=${file}`] }))).toThrow(`invalid seccomp profile (${file}): not valid JSON`);
      expect(() => parseSecurityFlags(flags({ securityOpt: [`seccomp=${dir}/missing.json`] })))
        .toThrow(`opening seccomp profile (${dir}/missing.json) failed: open ${dir}/missing.json: no such file or directory`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('seccomp profile validation', () => {
  it('names the wrong field', () => {
    expect(() => parseSeccompProfile('[]')).toThrow('a profile is a JSON object');
    expect(() => parseSeccompProfile('{"defaultAction":"SCMP_ACT_NOTIFY"}')).toThrow('defaultAction "SCMP_ACT_NOTIFY" is not one of');
    expect(() => parseSeccompProfile('{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"value":0,"op":"SCMP_CMP_EQ"}]}]}'))
      .toThrow('syscalls[0].args[0].index must be 0 to 5');
    expect(() => parseSeccompProfile('{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"x","names":["y"],"action":"SCMP_ACT_ALLOW"}]}'))
      .toThrow("both 'name' and 'names'");
    expect(() => parseSeccompProfile('{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":0,"op":"EQ"}]}]}'))
      .toThrow('syscalls[0].args[0].op "EQ" is not one of');
  });
  it("accepts Docker's single `name` form", () => {
    expect(parseSeccompProfile('{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"read","action":"SCMP_ACT_ALLOW"}]}').syscalls![0].names).toEqual(['read']);
  });
});

describe('the OCI spec for the security flags', () => {
  const input = (security?: SpecInput['security']): SpecInput => ({
    rootfs: '/r', hostname: 'h', args: ['sh'], env: [], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [] }, tty: false,
    network: 'private', rootless: true, ttyGroupMapped: true, etcFiles: { hostname: '/h', hosts: '/hs', resolvConf: '/r' }, security,
  });
  it('privileged: all capabilities, no seccomp, no masked paths, writable /sys, host devices', () => {
    const spec = buildOciSpec(input(parseSecurityFlags(flags({ privileged: true }))));
    expect(spec.process.capabilities.bounding).toEqual(allCapabilities());
    expect(spec.linux.seccomp).toBeUndefined();
    expect(spec.linux.maskedPaths).toEqual([]);
    expect(spec.linux.readonlyPaths).toEqual([]);
    expect(spec.mounts.find((m) => m.destination === '/sys')!.options).not.toContain('ro');
    const devices = fs.readdirSync('/dev', { withFileTypes: true }).filter((d) => d.isCharacterDevice() && !/^(tty|console|ptmx)/.test(d.name));
    for (const d of devices) expect(spec.mounts.filter((m) => m.destination === `/dev/${d.name}`), d.name).toHaveLength(1);
    expect(spec.mounts.some((m) => m.destination === '/dev/console' || /^\/dev\/tty\d/.test(m.destination))).toBe(false);
  });
  it('the defaults when no flag is given', () => {
    const spec = buildOciSpec(input());
    expect(spec.process.capabilities.bounding).toEqual(DEFAULT_CAPABILITIES);
    expect(spec.process.noNewPrivileges).toBeUndefined();
    expect(spec.linux.seccomp).toEqual({ kind: 'default' });
    expect(spec.linux.maskedPaths).toEqual(DEFAULT_MASKED_PATHS);
  });
  it('systempaths=unconfined unmasks, keeps seccomp', () => {
    const spec = buildOciSpec(input(parseSecurityFlags(flags({ securityOpt: ['systempaths=unconfined', 'no-new-privileges'] }))));
    expect(spec.linux.maskedPaths).toEqual([]);
    expect(spec.linux.seccomp).toEqual({ kind: 'default' });
    expect(spec.process.noNewPrivileges).toBe(true);
  });
});
