// `npm run test:mutation`: mutation testing of the pure core (issue 12, part 4). Stryker changes one
// operator, condition or constant at a time in the files below and reruns the unit tests that cover it;
// a mutant the tests do not notice ("survived") is behaviour no test pins down.
// bench/mutation-report.ts turns the JSON report into bench/results/mutation.json and docs/benchmarks.md.

/** The pure core, as the scopes it is run in: detection, decision and the incident state machine
 *  (DESIGN.md, "One brain"), the finding rules, statistics, detectors and recovery judgement. One scope
 *  is one Stryker run (STRYKER_SCOPE=<name>), with its own incremental file. */
export const scopes = {
  detectors: ['lib/detectors/**/*.ts'],
  rules: [
    'lib/brain/findings/**/*.ts',
    'lib/brain/decision-rules.ts',
    'lib/brain/lifecycle.ts',
    'lib/brain/remedy-plans.ts',
  ],
  detect: ['lib/brain/detect.ts'],
  decide: ['lib/brain/decide.ts', 'lib/brain/baseline.ts'],
  recovery: ['lib/recovery/**/*.ts'],
  stats: ['lib/stats/**/*.ts'],
};
export const core = Object.values(scopes).flat();

const scope = process.env.STRYKER_SCOPE;
if (scope !== undefined && !(scope in scopes)) {
  throw new Error(`STRYKER_SCOPE=${scope}: not one of ${Object.keys(scopes).join(', ')}`);
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: [...(scope === undefined ? core : scopes[scope]), '!**/index.ts'],
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
  // Stryker writes its incremental file from the mutants of the run alone, so each scope keeps its own:
  // committed under bench/results/stryker/, a run in a fresh clone redoes only what changed since, and
  // bench/mutation-report.ts reads the same files (each is a full mutation report) for the score.
  incremental: true,
  incrementalFile: `bench/results/stryker/${scope ?? 'core'}.json`,
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
  jsonReporter: { fileName: `reports/mutation/${scope ?? 'core'}.json` },
};
