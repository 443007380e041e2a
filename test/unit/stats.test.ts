import { describe, expect, it } from 'vitest';
import type { ContainerRecord } from '../../src/engine/container-store';
import { statsRow } from '../../src/engine/stats';
import { binarySize } from '../../src/util/format';
import { goJson } from '../../src/util/go-template';

const rec = {
  id: 'a'.repeat(64), name: 'web', created: '2024-01-01T00:00:00.000Z', image: 'busybox', imageId: 'sha256:b',
  path: 'sh', args: [], config: { network: 'none' }, storage: { driver: 'vfs', layers: [] }, state: { status: 'running', pid: 1 },
} as unknown as ContainerRecord;

describe('binarySize (go-units BytesSize)', () => {
  it('prints four significant digits of 1024-based units', () => {
    expect(binarySize(0)).toBe('0B');
    expect(binarySize(1023)).toBe('1023B');
    expect(binarySize(1536)).toBe('1.5KiB');
    expect(binarySize(1536 * 1024 + 1)).toBe('1.5MiB');
    expect(binarySize(8_227_094_528)).toBe('7.662GiB');
  });
});

describe('statsRow', () => {
  it('CPU % is the CPU time between two samples over the wall time between them', () => {
    const prev = { at: 0, cpuNs: 0 };
    const cur = { at: 2e9, cpuNs: 1e9, memory: 1024 * 1024, memLimit: 4 * 1024 ** 3, net: { rx: 1200, tx: 0 }, block: { read: 0, write: 4096 }, pids: 3 };
    const row = statsRow(rec, 'web', prev, cur, false) as Record<string, string>;
    expect(goJson(row)).toBe('{"BlockIO":"0B / 4.1kB","CPUPerc":"50.00%","Container":"web","ID":"aaaaaaaaaaaa","MemPerc":"0.02%","MemUsage":"1MiB / 4GiB","Name":"web","NetIO":"1.2kB / 0B","PIDs":"3"}');
  });

  it('what could not be read is "--", as Docker shows an invalid reading', () => {
    const row = statsRow(rec, rec.id, undefined, { at: 1 }, true) as Record<string, string>;
    expect(row).toMatchObject({ CPUPerc: '--', MemUsage: '-- / --', MemPerc: '--', NetIO: '--', BlockIO: '--', PIDs: '--', ID: rec.id });
  });
});
