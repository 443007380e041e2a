import { versionAtLeast, type SeccompArch } from './arch';
import { Assembler, BPF, RET, SECCOMP_DATA } from './bpf';
import type { SeccompArg, SeccompFilter, SeccompProfile, SeccompRule } from './profile';
import { AARCH64_SYSCALLS, X86_64_SYSCALLS } from './syscall-tables';

/**
 * Compile a Docker-format seccomp profile into a classic-BPF program for one architecture,
 * as Docker + runc + libseccomp would filter that container:
 *  - rules are picked by their includes/excludes (capabilities in the bounding set, Docker's
 *    arch names, the running kernel), as moby's profiles/seccomp does;
 *  - a syscall's argument-filtered rules are tried in order, then its plain rule, then the
 *    profile's default action;
 *  - only the native ABI passes: another architecture's calls (i386, arm32) kill the process,
 *    and x86_64's x32 calls (nr | 0x40000000) fail with EPERM whatever the profile, since they
 *    reach the same kernel code under numbers no rule looks at. EPERM (not ENOSYS) also tells
 *    the filter's answer apart from a kernel built without x32;
 *  - syscalls newer than the table fail with ENOSYS (as runc does), so libc falls back.
 * The syscall number is found with a binary search over ranges of equal outcome.
 */

interface ArchInfo { auditArch: number; dockerName: string; table: Readonly<Record<string, number>>; x32: boolean }

const ARCHES: Record<SeccompArch, ArchInfo> = {
  x86_64: { auditArch: 0xc000003e, dockerName: 'amd64', table: X86_64_SYSCALLS, x32: true },
  aarch64: { auditArch: 0xc00000b7, dockerName: 'arm64', table: AARCH64_SYSCALLS, x32: false },
};

const X32_SYSCALL_BIT = 0x40000000;
const EPERM = 1;
const ENOSYS = 38;

export interface CompileTarget {
  arch: SeccompArch;
  /** the container's bounding capabilities (CAP_ names) */
  caps: readonly string[];
  /** the running kernel's release, e.g. "6.1.0-18-amd64" */
  kernel: string;
}

function filterMatches(f: SeccompFilter | undefined, t: CompileTarget, arch: ArchInfo, wantMatch: boolean): boolean {
  if (!f) return wantMatch;
  if (wantMatch) {
    if (f.arches?.length && !f.arches.includes(arch.dockerName)) return false;
    if (f.caps?.length && !f.caps.every((c) => t.caps.includes(c))) return false;
    if (f.minKernel && !versionAtLeast(t.kernel, f.minKernel)) return false;
    return true;
  }
  // excludes: the rule goes if any one condition holds
  if (f.arches?.length && f.arches.includes(arch.dockerName)) return true;
  if (f.caps?.length && f.caps.some((c) => t.caps.includes(c))) return true;
  if (f.minKernel && versionAtLeast(t.kernel, f.minKernel)) return true;
  return false;
}

/** The rules Docker keeps for this container (moby profiles/seccomp setupSeccomp). */
export function applicableRules(p: SeccompProfile, t: CompileTarget): SeccompRule[] {
  const arch = ARCHES[t.arch];
  return (p.syscalls ?? []).filter((r) => !filterMatches(r.excludes, t, arch, false) && filterMatches(r.includes, t, arch, true));
}

export function actionValue(action: string, errnoRet: number | null | undefined): number {
  const data = (errnoRet ?? EPERM) & 0xffff;
  switch (action) {
    case 'SCMP_ACT_ALLOW': return RET.ALLOW;
    case 'SCMP_ACT_ERRNO': return RET.ERRNO | data;
    case 'SCMP_ACT_KILL': case 'SCMP_ACT_KILL_THREAD': return RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS': return RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP': return RET.TRAP;
    case 'SCMP_ACT_TRACE': return (RET.TRACE | data) >>> 0;
    case 'SCMP_ACT_LOG': return RET.LOG;
    default: throw new Error(`unsupported seccomp action ${action}`);
  }
}

interface Conditional { args: SeccompArg[]; ret: number }
interface SyscallOutcome { conditional: Conditional[]; plain?: number }

const split64 = (v: number): [hi: number, lo: number] => [Math.floor(v / 0x100000000) >>> 0, v >>> 0];

/** Emit a test of one argument: falls through when it holds, jumps to `fail` when not. */
function emitArgTest(a: Assembler, arg: SeccompArg, fail: string): void {
  const [hi, lo] = split64(arg.value);
  const ok = a.label();
  const loadHi = () => a.load(SECCOMP_DATA.argHigh(arg.index));
  const loadLo = () => a.load(SECCOMP_DATA.argLow(arg.index));
  switch (arg.op) {
    case 'SCMP_CMP_EQ':
      loadHi(); a.jump(BPF.JEQ_K, hi, 0, fail);
      loadLo(); a.jump(BPF.JEQ_K, lo, ok, fail);
      break;
    case 'SCMP_CMP_NE':
      loadHi(); a.jump(BPF.JEQ_K, hi, 0, ok);
      loadLo(); a.jump(BPF.JEQ_K, lo, fail, ok);
      break;
    case 'SCMP_CMP_GT': case 'SCMP_CMP_GE':
      loadHi(); a.jump(BPF.JGT_K, hi, ok, 0); a.jump(BPF.JEQ_K, hi, 0, fail);
      loadLo(); a.jump(arg.op === 'SCMP_CMP_GT' ? BPF.JGT_K : BPF.JGE_K, lo, ok, fail);
      break;
    case 'SCMP_CMP_LT': case 'SCMP_CMP_LE':
      loadHi(); a.jump(BPF.JGT_K, hi, fail, 0); a.jump(BPF.JEQ_K, hi, 0, ok);
      loadLo(); a.jump(arg.op === 'SCMP_CMP_LT' ? BPF.JGE_K : BPF.JGT_K, lo, fail, ok);
      break;
    case 'SCMP_CMP_MASKED_EQ': {
      // libseccomp's masked equality: (arg & value) == valueTwo
      const [mhi, mlo] = [hi, lo];
      const [vhi, vlo] = split64(arg.valueTwo ?? 0);
      loadHi(); a.and(mhi); a.jump(BPF.JEQ_K, vhi, 0, fail);
      loadLo(); a.and(mlo); a.jump(BPF.JEQ_K, vlo, ok, fail);
      break;
    }
  }
  a.place(ok);
}

function emitOutcome(a: Assembler, o: SyscallOutcome, fallback: number): void {
  for (const c of o.conditional) {
    const next = a.label();
    for (const arg of c.args) emitArgTest(a, arg, next);
    a.ret(c.ret);
    a.place(next);
  }
  a.ret(o.plain ?? fallback);
}

export type { SeccompArch };

export function compileProfile(p: SeccompProfile, t: CompileTarget): Buffer {
  const arch = ARCHES[t.arch];
  const defaultRet = actionValue(p.defaultAction, p.defaultErrnoRet);
  const permissive = defaultRet === RET.ALLOW || defaultRet === RET.LOG;
  // A syscall the table does not know cannot be on an allowlist: ENOSYS, unless nothing is denied by default.
  const beyondRet = permissive ? defaultRet : RET.ERRNO | ENOSYS;

  const outcomes = new Map<number, SyscallOutcome>();
  for (const rule of applicableRules(p, t)) {
    const ret = actionValue(rule.action, rule.errnoRet);
    for (const name of rule.names) {
      const nr = arch.table[name];
      if (nr === undefined) continue; // another architecture's syscall
      const o = outcomes.get(nr) ?? { conditional: [] };
      if (rule.args?.length) o.conditional.push({ args: rule.args, ret });
      else o.plain ??= ret;
      outcomes.set(nr, o);
    }
  }

  // Ranges [first, next first) of syscall numbers sharing one outcome, covering 0..maxNr.
  const maxNr = Math.max(...Object.values(arch.table));
  type Range = { first: number; ret?: number; outcome?: SyscallOutcome };
  const ranges: Range[] = [];
  for (let nr = 0; nr <= maxNr; nr++) {
    const o = outcomes.get(nr);
    const last = ranges.at(-1);
    if (o?.conditional.length) ranges.push({ first: nr, outcome: o });
    else {
      const ret = o?.plain ?? defaultRet;
      if (!last || last.outcome || last.ret !== ret) ranges.push({ first: nr, ret });
    }
  }

  const a = new Assembler();
  a.load(SECCOMP_DATA.arch);
  a.jump(BPF.JEQ_K, arch.auditArch, 1, 0);
  a.ret(RET.KILL_PROCESS);
  a.load(SECCOMP_DATA.nr);
  if (arch.x32) {
    a.jump(BPF.JSET_K, X32_SYSCALL_BIT, 0, 1);
    a.ret(RET.ERRNO | EPERM);
  }
  a.jump(BPF.JGT_K, maxNr, 0, 1);
  a.ret(beyondRet);
  const emitTree = (lo: number, hi: number): void => {
    if (lo === hi) {
      const r = ranges[lo];
      if (r.outcome) emitOutcome(a, r.outcome, defaultRet);
      else a.ret(r.ret!);
      return;
    }
    const mid = (lo + hi + 1) >> 1;
    const right = a.label();
    a.jump(BPF.JGE_K, ranges[mid].first, 0, 1);
    a.ja(right);
    emitTree(lo, mid - 1);
    a.place(right);
    emitTree(mid, hi);
  };
  emitTree(0, ranges.length - 1);
  return a.assemble();
}

/** Kernel versions the profile's rules depend on (a precompiled program assumes all are met). */
export function minKernels(p: SeccompProfile): string[] {
  return (p.syscalls ?? []).flatMap((r) => [r.includes?.minKernel, r.excludes?.minKernel]).filter((v): v is string => !!v);
}

