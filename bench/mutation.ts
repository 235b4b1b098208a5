// `npm run test:mutation [-- scope-or-file ...]`: Stryker on the pure core, one Stryker run a file (the
// files of the scopes of stryker.config.mjs, all of them by default, in the order given), at the lowest
// CPU priority. After each finished file, bench/mutation-report.ts records its run time and redoes the
// score from every report in bench/results/stryker/ (each file's incremental file, committed so that a
// later run only redoes the mutants whose code or covering tests changed).
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(import.meta.dirname, '..');
// A computed specifier: the config is untyped JavaScript.
const configPath = path.join(ROOT, 'stryker.config.mjs');
const { scopes, filesOf } = (await import(configPath)) as {
  scopes: Record<string, string[]>;
  filesOf: (glob: string) => string[];
};
const allFiles = Object.values(scopes).flat().flatMap(filesOf);

const requested = process.argv.slice(2);
const unknown = requested.filter((s) => !(s in scopes) && !allFiles.includes(s));
if (unknown.length > 0) {
  process.stderr.write(
    `not a scope or a file of one: ${unknown.join(', ')}; scopes: ${Object.keys(scopes).join(', ')}\n`,
  );
  process.exit(2);
}
const files = (requested.length > 0 ? requested : Object.keys(scopes)).flatMap((s) =>
  s in scopes ? scopes[s]!.flatMap(filesOf) : [s],
);

for (const file of files) {
  const start = Date.now();
  const run = spawnSync('nice', ['-n', '19', 'npx', 'stryker', 'run'], {
    cwd: ROOT,
    env: { ...process.env, STRYKER_FILE: file },
    stdio: 'inherit',
  });
  if (run.status !== 0) {
    process.stderr.write(`stryker run for ${file} failed (exit ${run.status ?? run.signal})\n`);
    process.exit(1);
  }
  const seconds = Math.round((Date.now() - start) / 1000);
  const report = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'bench/mutation-report.ts', '--file', file, '--seconds', String(seconds)],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (report.status !== 0) process.exit(1);
}
