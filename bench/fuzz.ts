// Fuzzing benchmark: `npm run bench:fuzz [-- --max-examples 100 --seed 1]`.
//
// The run of test/integration/fuzz.test.ts, longer: Schemathesis with every check and all its phases
// (examples, coverage, fuzzing, stateful through the OpenAPI links) against the API running on SQLite
// with a Temporal dev server and a worker (test/helpers/fuzz.ts). Results go to bench/results/fuzz.json
// (operations, test cases, passes and failures per check, Schemathesis's version, the command) and,
// rendered from that JSON, to the "## Fuzzing" section of docs/benchmarks.md. Exit code 1 when any check
// failed or Schemathesis reported an error.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../lib/db/config.ts';
import { CI_FUZZ, runSchemathesis, startFuzzTarget } from '../test/helpers/fuzz.ts';
import { writeBenchmarkSection } from './doc-section.ts';

const { values: args } = parseArgs({
  options: {
    'max-examples': { type: 'string', default: '100' },
    seed: { type: 'string', default: '1' },
  },
});
const options = { ...CI_FUZZ, maxExamples: Number(args['max-examples']), seed: Number(args.seed) };

const target = await startFuzzTarget();
let result: Awaited<ReturnType<typeof runSchemathesis>>;
try {
  result = await runSchemathesis(target, options);
} finally {
  await target.close();
}

const { output, ...measured } = result;
const report = {
  generatedAt: new Date().toISOString(),
  command: `npm run bench:fuzz -- --max-examples ${options.maxExamples} --seed ${options.seed}`,
  machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version },
  schemathesis: { version: measured.version, command: measured.command },
  options,
  operations: measured.operations,
  cases: measured.cases,
  seconds: Math.round(measured.seconds),
  exitCode: measured.exitCode,
  checks: measured.checks,
  failures: measured.failures,
  errors: measured.errors,
};
const out = path.join(REPO_ROOT, 'bench', 'results', 'fuzz.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
writeBenchmarkSection(renderSection(report));
process.stderr.write(`${renderSection(report)}\n`);
if (report.failures.length > 0 || report.errors.length > 0 || report.exitCode !== 0) {
  process.stderr.write(output);
  process.exitCode = 1;
}

/** The docs section, from the report exactly as written to the JSON. */
function renderSection(r: typeof report): string {
  const failed = Object.values(r.checks).reduce((sum, c) => sum + c.failed, 0);
  return `## Fuzzing (issue 15)

Command: \`${r.command}\` (${r.generatedAt.slice(0, 16).replace('T', ' ')} UTC; ${r.machine.cpus} × ${r.machine.cpu}, Node ${r.machine.node}; ${r.seconds} s). Schemathesis ${r.schemathesis.version}, run as \`${r.schemathesis.command}\` against the API on SQLite with a Temporal dev server and a worker, one model seeded with a trained, deployed version (test/helpers/fuzz.ts); the exceptions to the checks' defaults are in \`test/fuzz/schemathesis.toml\`, each with its reason. Generated from \`bench/results/fuzz.json\` of the same run. The suite runs the same with \`--max-examples ${CI_FUZZ.maxExamples}\` in \`test/integration/fuzz.test.ts\`.

**${r.operations.tested} of ${r.operations.total} operations tested, ${r.cases} test cases, ${failed} failed checks, ${r.errors.length} errors.** (max_response_time has no limit set here: speed is what the other benchmarks measure.)

| check | responses judged | failed |
|---|---|---|
${Object.entries(r.checks)
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([name, c]) => `| ${name} | ${c.passed + c.failed} | ${c.failed} |`)
  .join('\n')}
`;
}
