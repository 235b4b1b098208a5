import { defineConfig } from 'vitest/config';

// The unit tests that exercise the pure core Stryker mutates (see stryker.config.mjs). Kept apart from
// vitest.config.ts so a mutation run never starts a Temporal server or a database, and without
// test/setup.ts, which only quietens Temporal's worker logs and costs seconds per test-runner process.
export default defineConfig({
  test: {
    include: [
      'test/unit/decide*.test.ts',
      'test/unit/detect*.test.ts',
      'test/unit/judge*.test.ts',
      'test/unit/stats*.test.ts',
      'test/unit/baseline*.test.ts',
      'test/unit/recovery*.test.ts',
      'test/unit/mutation-*.test.ts',
    ],
    // Stryker's instrumented code counts coverage in every hot loop: the SciPy sweeps of lib/stats run
    // tens of times slower than in the ordinary suite.
    testTimeout: 120_000,
    pool: 'forks',
  },
});
