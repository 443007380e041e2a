import { defineConfig } from 'vitest/config';

// End-to-end tests: the real dist/skiff against real containers. Files run one after another
// (containers are heavy and CI has two cores); tests inside a file run in order too.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    reporters: ['verbose'],
    pool: 'forks',
  },
});
