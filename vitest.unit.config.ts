import { defineConfig } from 'vitest/config';

// Unit tests: pure logic, no containers, no dist/skiff.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 10_000,
  },
});
