// `npm run test:mutation`: mutation testing of the pure core (issue 12, part 4). Stryker changes one
// operator, condition or constant at a time in the files below and reruns the unit tests that cover it;
// a mutant the tests do not notice ("survived") is behaviour no test pins down.
// bench/mutation-report.ts turns the JSON report into bench/results/mutation.json and docs/benchmarks.md.

/** The pure core, one glob per module group: detection, decision and the incident state machine
 *  (DESIGN.md, "One brain"), the finding rules, statistics, detectors and recovery judgement. */
export const core = [
  'lib/brain/detect.ts',
  'lib/brain/decide.ts',
  'lib/brain/decision-rules.ts',
  'lib/brain/lifecycle.ts',
  'lib/brain/remedy-plans.ts',
  'lib/brain/baseline.ts',
  'lib/brain/findings/**/*.ts',
  'lib/stats/**/*.ts',
  'lib/detectors/**/*.ts',
  'lib/recovery/**/*.ts',
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: [...core, '!**/index.ts'],
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  coverageAnalysis: 'perTest',
  // The TypeScript checker discards mutants that do not compile, but on this machine it was the
  // bottleneck (about 3 mutants a minute: each check type-checks the program again), so it is opt-in:
  // STRYKER_TYPECHECK=1 npm run test:mutation. Without it a mutant that would not compile runs anyway
  // and is killed or survives like any other.
  ...(process.env.STRYKER_TYPECHECK === '1'
    ? {
        checkers: ['typescript'],
        tsconfigFile: 'tsconfig.mutation.json',
        typescriptChecker: { prioritizePerformanceOverAccuracy: true },
      }
    : {}),
  // Two cores shared with other work: one test runner and one checker at a time.
  concurrency: 1,
  timeoutMS: 10_000,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  // The sandbox holds only what the unit tests read (node_modules is linked, not copied).
  ignorePatterns: [
    '/*',
    '!/lib',
    '!/workflows',
    '!/test',
    '!/docs',
    '!/package.json',
    '!/tsconfig*.json',
    '!/vitest.mutation.config.ts',
  ],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  reporters: ['json', 'clear-text', 'progress'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
};
