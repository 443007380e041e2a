import { UsageError } from '../errors';
import { SkiffError } from '../util/errors';
import type { CgroupWrite } from './cgroup-v2';

/**
 * The cgroup flags of `update` (Docker's resource flags), parsed and checked with Docker's
 * messages, and turned into cgroup v2 files as runc writes them.
 */

export interface LimitFlags {
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  cpus?: string;
  cpuShares?: number;
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuRtPeriod?: number;
  cpuRtRuntime?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;
  blkioWeight?: number;
}

/** go-units RAMInBytes: "512m", "1g", "1.5GiB", plain bytes; binary multiples. */
export function ramInBytes(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kmgtp])?i?b?$/i.exec(value);
  if (!m || Number.isNaN(Number(m[1]))) throw new UsageError(`invalid argument "${value}" for "${flag}" flag: invalid size: '${value}'`);
  const unit = m[2] ? 'kmgtp'.indexOf(m[2].toLowerCase()) + 1 : 0;
  return Math.floor(Number(m[1]) * 1024 ** unit);
}

/** The bytes of a --memory-swap value, where -1 means unlimited. */
function swapBytes(value: string): number {
  return value === '-1' ? -1 : ramInBytes(value, '--memory-swap');
}

const CPU_PERIOD = 100_000;
/** Docker's smallest memory limit (moby: linuxMinMemory). */
const MIN_MEMORY = 6 * 1024 * 1024;

/** Whether any cgroup flag was given. */
export function anyLimit(f: LimitFlags): boolean {
  return Object.values(f).some((v) => v !== undefined);
}

/**
 * The cgroup v2 writes for the flags, after Docker's checks (daemon/update + verify): memory at
 * least 6 MB, swap not below memory, --cpus not together with --cpu-period/--cpu-quota,
 * --blkio-weight 10..1000; the real-time flags have no cgroup v2 file.
 */
export function cgroupWrites(f: LimitFlags): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  const memory = f.memory !== undefined ? ramInBytes(f.memory, '-m, --memory') : undefined;
  if (memory !== undefined) {
    if (memory > 0 && memory < MIN_MEMORY) throw new SkiffError('Minimum memory limit allowed is 6MB', 1);
    out.push({ file: 'memory.max', value: memory > 0 ? String(memory) : 'max' });
  }
  if (f.memoryReservation !== undefined) {
    out.push({ file: 'memory.low', value: String(ramInBytes(f.memoryReservation, '--memory-reservation')) });
  }
  if (f.memorySwap !== undefined) {
    const swap = swapBytes(f.memorySwap);
    if (swap > 0 && memory !== undefined && memory > 0 && swap < memory) {
      throw new SkiffError('Minimum memoryswap limit should be larger than memory limit, see usage', 1);
    }
    // v2 counts swap apart from memory: Docker's memory+swap total minus the memory
    out.push({ file: 'memory.swap.max', value: swap < 0 ? 'max' : String(Math.max(0, swap - (memory ?? 0))) });
  }
  if (f.cpus !== undefined) {
    const cpus = Number(f.cpus);
    if (!/^\d*\.?\d+$/.test(f.cpus) || !Number.isFinite(cpus)) {
      throw new UsageError(`invalid argument "${f.cpus}" for "--cpus" flag: failed to parse ${f.cpus} as a rational number`);
    }
    if (f.cpuPeriod !== undefined || f.cpuQuota !== undefined) {
      throw new SkiffError('Conflicting options: Nano CPUs and CPU Period cannot both be set', 1);
    }
    out.push({ file: 'cpu.max', value: cpus > 0 ? `${Math.round(cpus * CPU_PERIOD)} ${CPU_PERIOD}` : `max ${CPU_PERIOD}` });
  } else if (f.cpuPeriod !== undefined || f.cpuQuota !== undefined) {
    const quota = f.cpuQuota !== undefined && f.cpuQuota > 0 ? String(f.cpuQuota) : 'max';
    out.push({ file: 'cpu.max', value: `${quota} ${f.cpuPeriod && f.cpuPeriod > 0 ? f.cpuPeriod : CPU_PERIOD}` });
  }
  if (f.cpuShares !== undefined && f.cpuShares > 0) {
    // runc's conversion of shares (2..262144) to a weight (1..10000)
    const shares = Math.min(Math.max(f.cpuShares, 2), 262144);
    out.push({ file: 'cpu.weight', value: String(1 + Math.floor(((shares - 2) * 9999) / 262142)) });
  }
  if (f.cpuRtPeriod !== undefined || f.cpuRtRuntime !== undefined) {
    throw new SkiffError('--cpu-rt-period and --cpu-rt-runtime need the cgroup v1 cpu controller, which skiff does not drive', 1);
  }
  if (f.cpusetCpus !== undefined) out.push({ file: 'cpuset.cpus', value: f.cpusetCpus });
  if (f.cpusetMems !== undefined) out.push({ file: 'cpuset.mems', value: f.cpusetMems });
  if (f.pidsLimit !== undefined) out.push({ file: 'pids.max', value: f.pidsLimit > 0 ? String(f.pidsLimit) : 'max' });
  if (f.blkioWeight !== undefined && f.blkioWeight !== 0) {
    if (f.blkioWeight < 10 || f.blkioWeight > 1000) throw new SkiffError('Range of blkio weight is from 10 to 1000', 1);
    out.push({ file: 'io.weight', value: `default ${1 + Math.floor(((f.blkioWeight - 10) * 9999) / 990)}` });
  }
  return out;
}
