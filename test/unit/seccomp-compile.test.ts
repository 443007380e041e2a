import { describe, expect, it } from 'vitest';
import { DEFAULT_CAPABILITIES } from '../../src/runtime/capabilities';
import { compileProfile, type SeccompArch } from '../../src/runtime/seccomp/compile';
import { DEFAULT_PROFILE } from '../../src/runtime/seccomp/default-profile';
import { DEFAULT_PROGRAMS, DEFAULT_PROGRAMS_MIN_KERNEL } from '../../src/runtime/seccomp/default-programs';
import { defaultProgramsHex, defaultProgramsMinKernel } from '../../src/runtime/seccomp/default-program-source';
import { precompiledProgram, seccompProgramHex } from '../../src/runtime/seccomp/program';
import type { SeccompOp, SeccompProfile } from '../../src/runtime/seccomp/profile';
import { AARCH64_SYSCALLS, X86_64_SYSCALLS } from '../../src/runtime/seccomp/syscall-tables';
import { runFilter } from './seccomp-bpf-interpreter';

const ALLOW = 0x7fff0000;
const KILL_PROCESS = 0x80000000;
const errno = (e: number) => 0x00050000 | e;
const EPERM = errno(1);
const ENOSYS = errno(38);

const ARCH = {
  x86_64: { audit: 0xc000003e, table: X86_64_SYSCALLS, foreign: 0x40000003 /* i386 */ },
  aarch64: { audit: 0xc00000b7, table: AARCH64_SYSCALLS, foreign: 0x40000028 /* arm */ },
};

const NEW_KERNEL = '6.8.0';

function filterFor(arch: SeccompArch, caps: readonly string[] = DEFAULT_CAPABILITIES, profile: SeccompProfile = DEFAULT_PROFILE, kernel = NEW_KERNEL) {
  const prog = compileProfile(profile, { arch, caps, kernel });
  const { audit, table } = ARCH[arch];
  return (name: string | number, ...args: (number | bigint)[]) => {
    const nr = typeof name === 'number' ? name : table[name];
    if (nr === undefined) throw new Error(`${name} is not in the ${arch} table`);
    return runFilter(prog, { arch: audit, nr, args: args.map(BigInt) });
  };
}

const CLONE_NEWUSER = 0x10000000;
const SIGCHLD = 17;

describe.each(['x86_64', 'aarch64'] as const)("Docker's default profile on %s", (arch) => {
  const call = filterFor(arch);

  it('allows the everyday syscalls', () => {
    for (const name of ['read', 'write', 'openat', 'close', 'execve', 'mmap', 'futex', 'exit_group', 'clone', 'newfstatat', 'getrandom']) {
      expect(call(name, SIGCHLD), name).toBe(ALLOW);
    }
  });

  it('denies what Docker 25+ denies, with EPERM', () => {
    for (const name of ['mount', 'umount2', 'unshare', 'setns', 'io_uring_setup', 'io_uring_enter', 'io_uring_register',
      'mount_setattr', 'move_mount', 'open_tree', 'fsopen', 'bpf', 'kexec_load', 'init_module', 'open_by_handle_at',
      'pivot_root', 'reboot', 'swapon', 'keyctl', 'add_key', 'userfaultfd', 'kcmp', 'pidfd_getfd', 'perf_event_open', 'quotactl', 'chroot']) {
      if (name === 'chroot') continue; // CAP_SYS_CHROOT is a default capability: allowed
      expect(call(name), name).toBe(EPERM);
    }
    expect(call('chroot')).toBe(ALLOW);
  });

  it('every plain allowlist entry the table knows is allowed, every syscall it does not name is denied', () => {
    const { table } = ARCH[arch];
    const named = new Set((DEFAULT_PROFILE.syscalls ?? []).flatMap((r) => r.names));
    const plain = new Set(DEFAULT_PROFILE.syscalls![0].names);
    for (const [name] of Object.entries(table)) {
      if (plain.has(name)) expect(call(name), name).toBe(ALLOW);
      else if (!named.has(name)) expect(call(name), name).toBe(EPERM);
    }
  });

  it('clone only without namespace flags; clone3 ENOSYS so libc falls back to clone', () => {
    expect(call('clone', SIGCHLD)).toBe(ALLOW);
    expect(call('clone', SIGCHLD | CLONE_NEWUSER)).toBe(EPERM);
    expect(call('clone', 0x20000 /* CLONE_NEWNS */)).toBe(EPERM);
    expect(call('clone3')).toBe(ENOSYS);
  });

  it('personality only with the values Docker lists', () => {
    for (const v of [0, 8, 0x20000, 0x20008, 0xffffffff]) expect(call('personality', v), `0x${v.toString(16)}`).toBe(ALLOW);
    for (const v of [0x40000 /* ADDR_NO_RANDOMIZE */, 0x400000 /* READ_IMPLIES_EXEC */, 1, 0x1_0000_0000, 0x1_0000_0008]) {
      expect(call('personality', v), `0x${v.toString(16)}`).toBe(EPERM);
    }
  });

  it('socket for every family but AF_ALG and AF_VSOCK', () => {
    for (const f of [1, 2, 10, 16, 37, 39, 41, 44]) expect(call('socket', f), String(f)).toBe(ALLOW);
    for (const f of [38, 40]) expect(call('socket', f), String(f)).toBe(EPERM);
  });

  it('kills another architecture, and answers syscalls past the table with ENOSYS', () => {
    const prog = compileProfile(DEFAULT_PROFILE, { arch, caps: DEFAULT_CAPABILITIES, kernel: NEW_KERNEL });
    expect(runFilter(prog, { arch: ARCH[arch].foreign, nr: 20 })).toBe(KILL_PROCESS);
    expect(call(1000)).toBe(ENOSYS);
    expect(call(0x3fffffff)).toBe(ENOSYS);
  });

  it('CAP_SYS_ADMIN unlocks mount, unshare, setns and namespace clones, as in Docker', () => {
    const admin = filterFor(arch, [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']);
    for (const name of ['mount', 'umount2', 'unshare', 'setns', 'mount_setattr', 'sethostname']) expect(admin(name), name).toBe(ALLOW);
    expect(admin('clone', SIGCHLD | CLONE_NEWUSER)).toBe(ALLOW);
    expect(admin('clone3')).toBe(ALLOW);
    expect(admin('io_uring_setup')).toBe(EPERM);
  });

  it('CAP_SYS_PTRACE unlocks kcmp and pidfd_getfd; ptrace itself needs kernel 4.8', () => {
    expect(call('ptrace')).toBe(ALLOW);
    expect(filterFor(arch, DEFAULT_CAPABILITIES, DEFAULT_PROFILE, '4.4.0-210-generic')('ptrace')).toBe(EPERM);
    const tracer = filterFor(arch, [...DEFAULT_CAPABILITIES, 'CAP_SYS_PTRACE'], DEFAULT_PROFILE, '4.4.0');
    for (const name of ['ptrace', 'kcmp', 'pidfd_getfd', 'process_vm_readv']) expect(tracer(name), name).toBe(ALLOW);
  });

  it('without CAP_SYS_CHROOT, chroot is denied', () => {
    expect(filterFor(arch, DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_SYS_CHROOT'))('chroot')).toBe(EPERM);
  });
});

describe('x86_64 specifics', () => {
  const call = filterFor('x86_64');
  it('x32 syscalls fail with EPERM, whatever the number', () => {
    const X32 = 0x40000000;
    expect(call(X32 | 272 /* unshare */, CLONE_NEWUSER)).toBe(EPERM);
    expect(call(X32 | 0 /* read */)).toBe(EPERM);
    expect(call(X32 | 512 /* x32 rt_sigaction */)).toBe(EPERM);
  });
  it('arch_prctl and modify_ldt are x86 only', () => {
    expect(call('arch_prctl')).toBe(ALLOW);
    expect(call('modify_ldt')).toBe(ALLOW);
    expect(AARCH64_SYSCALLS.arch_prctl).toBeUndefined();
  });
  it('uses the x86_64 numbers', () => {
    expect(X86_64_SYSCALLS.unshare).toBe(272);
    expect(X86_64_SYSCALLS.io_uring_setup).toBe(425);
    expect(X86_64_SYSCALLS.mount).toBe(165);
  });
});

describe('aarch64 specifics', () => {
  it('uses the generic numbers', () => {
    expect(AARCH64_SYSCALLS.unshare).toBe(97);
    expect(AARCH64_SYSCALLS.mount).toBe(40);
    expect(AARCH64_SYSCALLS.clone).toBe(220);
    expect(AARCH64_SYSCALLS.clone3).toBe(435);
    expect(AARCH64_SYSCALLS.open).toBeUndefined();
  });
  it('an x86_64 program does not accept aarch64 calls, nor the reverse', () => {
    const x86 = compileProfile(DEFAULT_PROFILE, { arch: 'x86_64', caps: DEFAULT_CAPABILITIES, kernel: NEW_KERNEL });
    const arm = compileProfile(DEFAULT_PROFILE, { arch: 'aarch64', caps: DEFAULT_CAPABILITIES, kernel: NEW_KERNEL });
    expect(runFilter(x86, { arch: ARCH.aarch64.audit, nr: 63 })).toBe(KILL_PROCESS);
    expect(runFilter(arm, { arch: ARCH.x86_64.audit, nr: 0 })).toBe(KILL_PROCESS);
  });
  it('the aarch64 program has no x32 check: bit 30 is just a number past the table', () => {
    const call = filterFor('aarch64');
    expect(call(0x40000000 | 63)).toBe(ENOSYS);
  });
});

describe('argument comparisons are 64-bit and unsigned, as libseccomp', () => {
  const values = [0n, 1n, 7n, 8n, 9n, 0xffffffffn, 0x100000000n, 0x100000007n, 0x100000008n, 0x100000009n, 0x200000000n, 0xffffffffffffffffn];
  const cases: [SeccompOp, bigint, bigint | undefined, (a: bigint) => boolean][] = [
    ['SCMP_CMP_EQ', 0x100000008n, undefined, (a) => a === 0x100000008n],
    ['SCMP_CMP_NE', 0x100000008n, undefined, (a) => a !== 0x100000008n],
    ['SCMP_CMP_LT', 0x100000008n, undefined, (a) => a < 0x100000008n],
    ['SCMP_CMP_LE', 0x100000008n, undefined, (a) => a <= 0x100000008n],
    ['SCMP_CMP_GT', 0x100000008n, undefined, (a) => a > 0x100000008n],
    ['SCMP_CMP_GE', 0x100000008n, undefined, (a) => a >= 0x100000008n],
    ['SCMP_CMP_EQ', 8n, undefined, (a) => a === 8n],
    ['SCMP_CMP_LT', 8n, undefined, (a) => a < 8n],
    ['SCMP_CMP_GT', 8n, undefined, (a) => a > 8n],
    ['SCMP_CMP_MASKED_EQ', 0x10000000fn, 0x100000008n, (a) => (a & 0x10000000fn) === 0x100000008n],
  ];
  it.each(cases)('%s %s', (op, value, valueTwo, holds) => {
    const profile: SeccompProfile = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['lseek'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: Number(value), ...(valueTwo !== undefined ? { valueTwo: Number(valueTwo) } : {}), op }] }],
    };
    const call = filterFor('x86_64', [], profile);
    for (const v of values) expect(call('lseek', 3, v), `0x${v.toString(16)}`).toBe(holds(v) ? ALLOW : EPERM);
  });

  it('all of a rule\'s arguments must hold; the first matching rule wins, then the plain one', () => {
    const profile: SeccompProfile = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 0, value: 5, op: 'SCMP_CMP_EQ' }, { index: 2, value: 0o700, op: 'SCMP_CMP_EQ' }] },
        { names: ['mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 28 },
      ],
    };
    const call = filterFor('x86_64', [], profile);
    expect(call('mkdirat', 5, 0, 0o700)).toBe(errno(13));
    expect(call('mkdirat', 5, 0, 0o755)).toBe(errno(28));
    expect(call('mkdirat', 4, 0, 0o700)).toBe(errno(28));
  });
});

describe('custom profiles', () => {
  it('a permissive profile denies only what it names, lets newer syscalls through, still blocks x32', () => {
    const profile: SeccompProfile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
    const call = filterFor('x86_64', [], profile);
    expect(call('mkdir')).toBe(EPERM);
    expect(call('mkdirat')).toBe(EPERM);
    expect(call('unshare')).toBe(ALLOW);
    expect(call(1000)).toBe(ALLOW);
    expect(call(0x40000000 | 83)).toBe(EPERM);
  });

  it('actions and errno values', () => {
    const profile: SeccompProfile = {
      defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38,
      syscalls: [
        { names: ['getpid'], action: 'SCMP_ACT_KILL_PROCESS' },
        { names: ['getppid'], action: 'SCMP_ACT_KILL' },
        { names: ['gettid'], action: 'SCMP_ACT_TRAP' },
        { names: ['getuid'], action: 'SCMP_ACT_LOG' },
        { names: ['getgid'], action: 'SCMP_ACT_ERRNO', errnoRet: 99 },
        { names: ['no_such_syscall', 'read'], action: 'SCMP_ACT_ALLOW' },
      ],
    };
    const call = filterFor('aarch64', [], profile);
    expect(call('getpid')).toBe(KILL_PROCESS);
    expect(call('getppid')).toBe(0);
    expect(call('gettid')).toBe(0x00030000);
    expect(call('getuid')).toBe(0x7ffc0000);
    expect(call('getgid')).toBe(errno(99));
    expect(call('read')).toBe(ALLOW);
    expect(call('write')).toBe(ENOSYS);
  });
});

describe('the precompiled default programs', () => {
  it('are what the compiler makes now (else run npm run gen-seccomp)', () => {
    expect(DEFAULT_PROGRAMS).toEqual(defaultProgramsHex());
  });
  it('assume the newest minKernel of the profile', () => {
    expect(DEFAULT_PROGRAMS_MIN_KERNEL).toBe(defaultProgramsMinKernel());
    expect(DEFAULT_PROGRAMS_MIN_KERNEL).toBe('4.8');
  });
  it('are used for the default profile and capabilities only', async () => {
    const arch = process.arch === 'x64' ? 'x86_64' : 'aarch64';
    expect(await seccompProgramHex({ kind: 'default' }, [...DEFAULT_CAPABILITIES].reverse())).toBe(DEFAULT_PROGRAMS[arch]);
    expect(precompiledProgram({ kind: 'default' }, DEFAULT_CAPABILITIES)).toBe(DEFAULT_PROGRAMS[arch]);
    expect(precompiledProgram({ kind: 'default' }, [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'])).toBeUndefined();
    expect(precompiledProgram({ kind: 'custom', json: '{}' }, DEFAULT_CAPABILITIES)).toBeUndefined();
    const admin = (await seccompProgramHex({ kind: 'default' }, [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']))!;
    expect(admin).not.toBe(DEFAULT_PROGRAMS[arch]);
    expect(runFilter(Buffer.from(admin, 'hex'), { arch: ARCH[arch].audit, nr: ARCH[arch].table.mount })).toBe(ALLOW);
    expect(await seccompProgramHex({ kind: 'unconfined' }, DEFAULT_CAPABILITIES)).toBeUndefined();
  });
  it('are small enough for the kernel and the binary search keeps them short', () => {
    for (const hex of Object.values(DEFAULT_PROGRAMS)) expect(hex.length / 16).toBeLessThan(400);
  });
});

describe('compile errors', () => {
  it('a profile too long for the kernel is one clear error', async () => {
    const names = Object.keys(X86_64_SYSCALLS);
    const profile = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: names.map((n) => ({ names: [n], action: 'SCMP_ACT_ALLOW', args: [0, 1, 2, 3, 4, 5].map((index) => ({ index, value: 1, op: 'SCMP_CMP_EQ' })) })) };
    await expect(seccompProgramHex({ kind: 'custom', json: JSON.stringify(profile) }, [])).rejects.toThrow(/^seccomp profile: seccomp program too long: \d+ instructions \(the kernel takes 4096\)$/);
  });
});
