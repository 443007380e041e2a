/**
 * The e2e suite in two tiers (issue 9): run.sh runs the fast tier first, rootless and rootful,
 * so that a broken basic path fails within a minute or two, and then the rest.
 *
 * The fast tier is the files that cover the most of skiff for the least time (per-file times
 * from the timing reporter, test/e2e/timing-reporter.ts; all 17 files took 799 s rootless on the
 * loaded 2-core VM, 2026-12-06):
 * - cli.test.ts (44 s, 33 tests): start-up of the single executable, version, info (the store
 *   and runtime probes), help and Docker's usage errors for the verbs, the management nouns
 *   (container create / ls / rm, image ls) and the docker-named symlink: a broken bundle, a
 *   broken command registration or a broken store fails here.
 * - isolation.test.ts (23 s, 26 tests, the most tests per second of any file): load an image and
 *   `run --rm` a container some twenty-five times: namespaces, the user mapping, capabilities,
 *   seccomp, /proc, /sys, /dev and where writes land: the basic path of running a container.
 * Together 8% of the time for 17% of the tests. The rest covers registries (pull, push, login),
 * the image verbs, hostile input, the security flags, and long stress tests (state.test.ts's
 * 50 detached --rm runs alone takes 68 s).
 */
export const FAST_TIER = ['test/e2e/cli.test.ts', 'test/e2e/isolation.test.ts'];

export const ALL_E2E = 'test/e2e/**/*.test.ts';

export type Tier = 'fast' | 'rest';

/** SKIFF_E2E_TIER: unset or empty is the whole suite; anything else but fast/rest is a mistake. */
export function tierFromEnv(value: string | undefined): Tier | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'fast' || value === 'rest') return value;
  throw new Error(`SKIFF_E2E_TIER=${value}: expected fast, rest or nothing (the whole suite)`);
}

/** vitest's include and the extra excludes for a tier. */
export function tierFiles(tier: Tier | undefined): { include: string[]; exclude: string[] } {
  if (tier === 'fast') return { include: FAST_TIER, exclude: [] };
  if (tier === 'rest') return { include: [ALL_E2E], exclude: FAST_TIER };
  return { include: [ALL_E2E], exclude: [] };
}
