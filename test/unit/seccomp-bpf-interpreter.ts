/**
 * A classic-BPF interpreter for seccomp programs, for the tests: runs a compiled filter on a
 * synthetic struct seccomp_data, as the kernel would, so the aarch64 program can be checked on
 * an x86_64 machine. Only the instructions seccomp filters use; anything else fails the test.
 */

export interface SeccompData { arch: number; nr: number; args?: bigint[] }

export function runFilter(program: Buffer, d: SeccompData): number {
  const data = Buffer.alloc(64);
  data.writeInt32LE(d.nr | 0, 0);
  data.writeUInt32LE(d.arch >>> 0, 4);
  (d.args ?? []).forEach((a, i) => data.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i));
  const n = program.length / 8;
  let A = 0;
  for (let pc = 0, steps = 0; pc < n; pc++, steps++) {
    if (steps > n) throw new Error('BPF loop');
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    switch (code) {
      case 0x20: // ld [k]
        if (k % 4 || k + 4 > 64) throw new Error(`bad load offset ${k}`);
        A = data.readUInt32LE(k);
        break;
      case 0x54: A = (A & k) >>> 0; break; // and #k
      case 0x05: pc += k; break; // ja
      case 0x15: pc += A === k ? jt : jf; break; // jeq
      case 0x25: pc += A > k ? jt : jf; break; // jgt
      case 0x35: pc += A >= k ? jt : jf; break; // jge
      case 0x45: pc += (A & k) !== 0 ? jt : jf; break; // jset
      case 0x06: return k; // ret #k
      default: throw new Error(`unexpected BPF opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('fell off the end of the program');
}
