import fs from 'node:fs';
import path from 'node:path';

// `npm run test:mutation`: mutation testing of the pure core (issue 12, part 4). Stryker changes one
// operator, condition or constant at a time in the files below and reruns the unit tests that cover it;
// a mutant the tests do not notice ("survived") is behaviour no test pins down.
// bench/mutation-report.ts turns the JSON report into bench/results/mutation.json and docs/benchmarks.md.

/** The pure core, as the scopes it is run in: detection, decision and the incident state machine
 *  (DESIGN.md, "One brain"), the finding rules, statistics, detectors and recovery judgement.
 *  `npm run test:mutation -- <scope> ...` runs the files of those scopes, one Stryker run a file. */
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

// The files of a glob: every `<dir>/**/*.ts` but the barrels (index.ts), or the file itself.
export function filesOf(glob) {
  if (!glob.endsWith('/**/*.ts')) return [glob];
  const dir = glob.slice(0, -'/**/*.ts'.length);
  return fs
    .readdirSync(dir, { recursive: true })
    .filter((f) => f.endsWith('.ts') && path.basename(f) !== 'index.ts')
    .map((f) => `${dir}/${f}`)
    .sort();
}

// One run mutates one file (STRYKER_FILE, set by bench/mutation.ts): Stryker writes its reports only when a
// run finishes, so on this shared machine a file is the unit of work that can be finished and kept.
const file = process.env.STRYKER_FILE;
const inCore = Object.values(scopes).flat().flatMap(filesOf);
if (file !== undefined && !inCore.includes(file)) {
  throw new Error(`STRYKER_FILE=${file}: not a file of the core (stryker.config.mjs scopes)`);
}
const name = file === undefined ? 'core' : file.replace(/\.ts$/, '');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: file === undefined ? [...core, '!**/index.ts'] : [file],
  testRunner: 'vitest',
  // Vitest runs only the tests that import the mutated file. A file of type declarations only
  // (lib/brain/findings/rule.ts) is imported by none at run time, so Stryker finds no test, and with
  // allowEmpty (below) ends without a report: STRYKER_ALL_TESTS=1 runs every test of
  // vitest.mutation.config.ts instead, and the report it writes records the file as run, with no mutants.
  vitest: { configFile: 'vitest.mutation.config.ts', related: process.env.STRYKER_ALL_TESTS !== '1' },
  coverageAnalysis: 'perTest',
  // A file of type declarations only (lib/brain/findings/rule.ts) has no mutants, and vitest finds no test
  // related to it: Stryker then ends without a report, and without this it ends with an error, which
  // stopped bench/mutation.ts's queue of files.
  allowEmpty: true,
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
  // Stryker writes its incremental file from the mutants of the run alone, so each file keeps its own:
  // committed under bench/results/stryker/ (lib/stats/ks.ts → bench/results/stryker/lib/stats/ks.json), a
  // run in a fresh clone redoes only what changed since, and bench/mutation-report.ts reads the same files
  // (each is a full mutation report) for the score.
  incremental: true,
  incrementalFile: `bench/results/stryker/${name}.json`,
  // The sandbox holds only what the unit tests read (node_modules is linked, not copied).
  ignorePatterns: [
    '/*',
    '!/lib',
    '!/workflows',
    '!/test',
    '!/examples',
    '!/docs',
    '!/package.json',
    '!/tsconfig*.json',
    '!/vitest.mutation.config.ts',
  ],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  reporters: ['json', 'clear-text', 'progress'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
};
