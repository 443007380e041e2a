/**
 * A tiny classic-BPF assembler for seccomp filters: instructions whose jump targets are labels,
 * resolved into struct sock_filter bytes. Conditional jumps can only reach 255 instructions
 * ahead, so callers keep them local and use `ja` (32-bit offset) for far targets.
 */

export const BPF = {
  LD_W_ABS: 0x20, JEQ_K: 0x15, JGT_K: 0x25, JGE_K: 0x35, JSET_K: 0x45, JA: 0x05, RET_K: 0x06, AND_K: 0x54,
} as const;

/** Offsets into struct seccomp_data (linux/seccomp.h); arguments are 64-bit, little-endian. */
export const SECCOMP_DATA = { nr: 0, arch: 4, argLow: (i: number) => 16 + 8 * i, argHigh: (i: number) => 20 + 8 * i };

export const RET = {
  KILL_PROCESS: 0x80000000, KILL_THREAD: 0, TRAP: 0x00030000, ERRNO: 0x00050000, TRACE: 0x7ff00000,
  LOG: 0x7ffc0000, ALLOW: 0x7fff0000,
} as const;

/** A jump target: a label name, or a relative offset. */
type Target = string | number;

interface Insn { code: number; jt: Target; jf: Target; k: number | string }

export class Assembler {
  private readonly insns: Insn[] = [];
  private readonly labels = new Map<string, number>();
  private nextLabel = 0;

  label(): string { return `L${this.nextLabel++}`; }
  place(label: string): void { this.labels.set(label, this.insns.length); }

  load(offset: number): void { this.insns.push({ code: BPF.LD_W_ABS, jt: 0, jf: 0, k: offset }); }
  and(k: number): void { this.insns.push({ code: BPF.AND_K, jt: 0, jf: 0, k }); }
  ret(k: number): void { this.insns.push({ code: BPF.RET_K, jt: 0, jf: 0, k }); }
  ja(target: string): void { this.insns.push({ code: BPF.JA, jt: 0, jf: 0, k: target }); }
  /** Conditional jump on A (JEQ_K, JGT_K, JGE_K, JSET_K); 0 means the next instruction. */
  jump(code: number, k: number, jt: Target, jf: Target): void { this.insns.push({ code, jt, jf, k }); }

  get length(): number { return this.insns.length; }

  /** The program as struct sock_filter[] (u16 code, u8 jt, u8 jf, u32 k), little-endian. */
  assemble(): Buffer {
    if (this.insns.length > 4096) throw new Error(`seccomp program too long: ${this.insns.length} instructions (the kernel takes 4096)`);
    const buf = Buffer.alloc(this.insns.length * 8);
    const resolve = (t: Target, at: number): number => {
      if (typeof t === 'number') return t;
      const to = this.labels.get(t);
      if (to === undefined) throw new Error(`seccomp assembler: label ${t} never placed`);
      if (to <= at) throw new Error('seccomp assembler: backward jump');
      return to - at - 1;
    };
    this.insns.forEach((ins, i) => {
      const jt = resolve(ins.jt, i);
      const jf = resolve(ins.jf, i);
      if (jt > 255 || jf > 255) throw new Error('seccomp assembler: conditional jump too far');
      const k = typeof ins.k === 'string' ? resolve(ins.k, i) : ins.k;
      buf.writeUInt16LE(ins.code, i * 8);
      buf.writeUInt8(jt, i * 8 + 2);
      buf.writeUInt8(jf, i * 8 + 3);
      buf.writeUInt32LE(k >>> 0, i * 8 + 4);
    });
    return buf;
  }
}
