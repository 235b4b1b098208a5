import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// One runner for the whole suite. Unit tests are fast and parallel; tests that start a Temporal
// server or a database set their own timeouts and live under test/workflow, test/integration, test/store.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Files run at least two at a time. Vitest's default (cores - 1) ran them one after another on a
    // 2-core machine, where a file often waits on PostgreSQL, a Temporal server or a child process
    // rather than using its core. Files are independent: each has its own databases, servers and ports.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    setupFiles: ['test/setup.ts'],
  },
});
