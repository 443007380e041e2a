import { describe, expect, it } from 'vitest';
import { cgroupWrites, ramInBytes } from '../../src/runtime/resource-limits';

describe('update cgroup flags', () => {
  it('reads sizes as go-units RAMInBytes (binary)', () => {
    expect(ramInBytes('512m', '-m')).toBe(512 * 1024 * 1024);
    expect(ramInBytes('1.5g', '-m')).toBe(1.5 * 1024 ** 3);
    expect(ramInBytes('100', '-m')).toBe(100);
    expect(ramInBytes('64KiB', '-m')).toBe(64 * 1024);
    expect(() => ramInBytes('lots', '-m, --memory')).toThrow(`invalid argument "lots" for "-m, --memory" flag: invalid size: 'lots'`);
  });

  it('writes cgroup v2 files as runc does', () => {
    expect(cgroupWrites({ memory: '512m', memorySwap: '1g', cpus: '1.5', pidsLimit: 100, cpuShares: 1024 })).toEqual([
      { file: 'memory.max', value: String(512 * 1024 * 1024) },
      { file: 'memory.swap.max', value: String(512 * 1024 * 1024) },
      { file: 'cpu.max', value: '150000 100000' },
      { file: 'cpu.weight', value: '39' },
      { file: 'pids.max', value: '100' },
    ]);
    expect(cgroupWrites({ memorySwap: '-1', pidsLimit: -1, cpuQuota: 50000 })).toEqual([
      { file: 'memory.swap.max', value: 'max' }, { file: 'cpu.max', value: '50000 100000' }, { file: 'pids.max', value: 'max' },
    ]);
  });

  it("refuses what Docker refuses, in its words", () => {
    expect(() => cgroupWrites({ memory: '1m' })).toThrow('Minimum memory limit allowed is 6MB');
    expect(() => cgroupWrites({ cpus: '1', cpuPeriod: 1000 })).toThrow('Conflicting options: Nano CPUs and CPU Period cannot both be set');
    expect(() => cgroupWrites({ cpus: 'two' })).toThrow('failed to parse two as a rational number');
    expect(() => cgroupWrites({ blkioWeight: 5 })).toThrow('Range of blkio weight is from 10 to 1000');
    expect(() => cgroupWrites({ memory: '64m', memorySwap: '32m' })).toThrow('Minimum memoryswap limit should be larger than memory limit');
  });
});
