// Container state without a daemon: detached --rm cleanup racing skiff's own record writes,
// and a monitor that dies without leaving an exit code.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { BUSYBOX, psAll, skiff, store, useStore, waitFor } from './harness';

useStore();

const containersDir = () => path.join(store().root, 'containers');
const containerIds = () => (fs.existsSync(containersDir()) ? fs.readdirSync(containersDir()) : []);

describe('detached --rm', () => {
  // The monitor removes the container dir as soon as `true` exits, which is often before
  // `run -d` has written the "running" record: the two must take turns on containers.lock, and
  // the late write must not bring a removed container back.
  test('50 x run -d --rm true: every run succeeds and nothing is left', { timeout: 240_000 }, async () => {
    const failures: string[] = [];
    for (let i = 0; i < 50; i++) {
      const r = await skiff(['run', '-d', '--rm', BUSYBOX, 'true']);
      if (r.code !== 0 || !/^[0-9a-f]{64}\n$/.test(r.stdout)) failures.push(`run ${i}: exit ${r.code}: ${r.stderr.trim()}`);
    }
    expect(failures).toEqual([]);
    // the last monitors may still be removing their containers
    await waitFor(() => containerIds().length === 0, 20_000, 'the containers dir to empty').catch(() => undefined);
    expect(containerIds()).toEqual([]);
    expect(await psAll()).toEqual([]);
  });
});
