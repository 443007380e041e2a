import { configDefaults, defineConfig } from 'vitest/config';
import { tierFiles, tierFromEnv } from './test/e2e/tiers';

// End-to-end tests: the real dist/skiff against real containers. Files run one after another
// (containers are heavy and CI has two cores); tests inside a file run in order too.
// SKIFF_E2E_TIER=fast|rest picks a tier (test/e2e/tiers.ts); run.sh runs fast, then rest.
// The timing reporter prints each file's wall time and the slowest tests at the end of the run.
const { include, exclude } = tierFiles(tierFromEnv(process.env.SKIFF_E2E_TIER));

export default defineConfig({
  test: {
    include,
    exclude: [...configDefaults.exclude, ...exclude],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    reporters: ['verbose', './test/e2e/timing-reporter.ts'],
    pool: 'forks',
  },
});
