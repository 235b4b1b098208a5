import { defineConfig } from 'vitest/config';

// The unit tests that exercise the pure core Stryker mutates (see stryker.config.mjs). Kept apart from
// vitest.config.ts so a mutation run never starts a Temporal server or a database, and without
// test/setup.ts, which only quietens logs these tests do not write.
export default defineConfig({
  test: {
    include: [
      'test/unit/decide*.test.ts',
      'test/unit/detect*.test.ts',
      'test/unit/finding-rules*.test.ts',
      'test/unit/custom-finding-rules.test.ts',
      'test/unit/judge*.test.ts',
      'test/unit/stats*.test.ts',
      'test/unit/baseline*.test.ts',
      'test/unit/lifecycle*.test.ts',
      'test/unit/recovery*.test.ts',
      'test/unit/refit-evidence*.test.ts',
      'test/unit/segments*.test.ts',
    ],
    // Stryker's instrumented code counts coverage in every hot loop: the SciPy sweeps of lib/stats run
    // tens of times slower than in the ordinary suite.
    testTimeout: 120_000,
    pool: 'forks',
    // Tells test/unit/stats.test.ts to skip its calibration-under-the-null simulations (500 exact KS tests
    // each) and the Kolmogorov sweep's cases with n > 5000, and custom-finding-rules.test.ts its whole
    // backtest: under Stryker's instrumentation each takes minutes, and every mutant they cover would run
    // them. The SciPy fixture tests of the same functions stay in.
    env: { HOMEOSTAT_MUTATION_RUN: '1' },
  },
});
