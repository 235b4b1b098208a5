// `npm run test:mutation [-- scope ...]`: Stryker on the pure core, one scope of stryker.config.mjs at a
// time (all of them by default, in the order given), at the lowest CPU priority. After each finished
// scope, bench/mutation-report.ts records its run time and redoes the score from every scope's report
// in bench/results/stryker/ (each scope's incremental file, committed so that a later run only redoes
// the mutants whose code or covering tests changed).
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(import.meta.dirname, '..');
// A computed specifier: the config is untyped JavaScript, read for its scope names only.
const configPath = path.join(ROOT, 'stryker.config.mjs');
const { scopes } = (await import(configPath)) as { scopes: Record<string, string[]> };

const requested = process.argv.slice(2);
const unknown = requested.filter((s) => !(s in scopes));
if (unknown.length > 0) {
  process.stderr.write(`unknown scope ${unknown.join(', ')}; scopes: ${Object.keys(scopes).join(', ')}\n`);
  process.exit(2);
}

for (const scope of requested.length > 0 ? requested : Object.keys(scopes)) {
  const start = Date.now();
  const run = spawnSync('nice', ['-n', '19', 'npx', 'stryker', 'run'], {
    cwd: ROOT,
    env: { ...process.env, STRYKER_SCOPE: scope },
    stdio: 'inherit',
  });
  if (run.status !== 0) {
    process.stderr.write(`stryker run for scope ${scope} failed (exit ${run.status ?? run.signal})\n`);
    process.exit(1);
  }
  const seconds = Math.round((Date.now() - start) / 1000);
  const report = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'bench/mutation-report.ts', '--scope', scope, '--seconds', String(seconds)],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (report.status !== 0) process.exit(1);
}
