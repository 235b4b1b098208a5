import { defineConfig } from 'vitest/config';

// One runner for the whole suite. Unit tests are fast and parallel; tests that start a Temporal
// server or a database set their own timeouts and live under test/workflow, test/integration, test/store.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    setupFiles: ['test/setup.ts'],
  },
});
