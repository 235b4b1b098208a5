// Fuzzing benchmark: `npm run bench:fuzz [-- --max-examples 100 --seed 1 --providers sqlite,postgresql]`.
//
// The run of test/integration/fuzz.test.ts, longer: Schemathesis with every check and all its phases
// (examples, coverage, fuzzing, stateful through the OpenAPI links) against the API running on each
// database in turn, with a Temporal dev server and a worker (test/helpers/fuzz.ts). PostgreSQL is the one
// at TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres). Results go to
// bench/results/fuzz.json (per database: operations, test cases, passes and failures per check; the
// Schemathesis version and command) and, rendered from that JSON, to the "## Fuzzing" section of
// docs/benchmarks.md. Exit code 1 when any check failed or Schemathesis reported an error.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type DatabaseProvider, REPO_ROOT } from '../lib/db/config.ts';
import { PROVIDERS } from '../scripts/db-schemas.ts';
import { CI_FUZZ, type FuzzResult, runSchemathesis, startFuzzTarget } from '../test/helpers/fuzz.ts';
import { writeBenchmarkSection } from './doc-section.ts';

const { values: args } = parseArgs({
  options: {
    'max-examples': { type: 'string', default: '100' },
    seed: { type: 'string', default: '1' },
    providers: { type: 'string', default: PROVIDERS.join(',') },
  },
});
const options = { ...CI_FUZZ, maxExamples: Number(args['max-examples']), seed: Number(args.seed) };
const providers = args.providers.split(',') as DatabaseProvider[];
for (const provider of providers) {
  if (!PROVIDERS.includes(provider)) {
    process.stderr.write(`--providers: unknown database "${provider}" (known: ${PROVIDERS.join(', ')})\n`);
    process.exit(2);
  }
}

type Measured = Omit<FuzzResult, 'output' | 'version' | 'command'>;
const runs: Partial<Record<DatabaseProvider, Measured>> = {};
const outputs: string[] = [];
let schemathesis = { version: '', command: '' };
for (const provider of providers) {
  process.stderr.write(`[fuzz] ${provider}: starting the API, a Temporal dev server and a worker\n`);
  const target = await startFuzzTarget(provider);
  let result: FuzzResult;
  try {
    process.stderr.write(`[fuzz] ${provider}: Schemathesis, --max-examples ${options.maxExamples}\n`);
    result = await runSchemathesis(target, options);
  } finally {
    await target.close();
  }
  const { output, version, command, ...measured } = result;
  schemathesis = { version, command };
  runs[provider] = { ...measured, seconds: Math.round(measured.seconds) };
  if (!passed(measured)) outputs.push(`---- ${provider}\n${output}`);
  process.stderr.write(
    `[fuzz] ${provider}: ${measured.cases} cases, ${failedChecks(measured)} failed checks, ${measured.errors.length} errors (${Math.round(measured.seconds)} s)\n`,
  );
}

const report = {
  generatedAt: new Date().toISOString(),
  command: `npm run bench:fuzz -- --max-examples ${options.maxExamples} --seed ${options.seed} --providers ${providers.join(',')}`,
  machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version },
  schemathesis,
  options,
  runs,
};
const out = path.join(REPO_ROOT, 'bench', 'results', 'fuzz.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
writeBenchmarkSection(renderSection(report));
process.stderr.write(`${renderSection(report)}\n`);
if (outputs.length > 0) {
  process.stderr.write(outputs.join('\n'));
  process.exitCode = 1;
}

function failedChecks(run: Measured): number {
  return Object.values(run.checks).reduce((sum, c) => sum + c.failed, 0);
}

function passed(run: Measured): boolean {
  return run.failures.length === 0 && run.errors.length === 0 && run.exitCode === 0;
}

/** The docs section, from the report exactly as written to the JSON. */
function renderSection(r: typeof report): string {
  const done = Object.entries(r.runs) as [DatabaseProvider, Measured][];
  const names = [...new Set(done.flatMap(([, run]) => Object.keys(run.checks)))].sort();
  const judged = (run: Measured, name: string) => {
    const c = run.checks[name];
    return c ? `${c.passed + c.failed} / ${c.failed}` : '–';
  };
  return `## Fuzzing (issue 15)

Command: \`${r.command}\` (${r.generatedAt.slice(0, 16).replace('T', ' ')} UTC; ${r.machine.cpus} × ${r.machine.cpu}, Node ${r.machine.node}). Schemathesis ${r.schemathesis.version}, run as \`${r.schemathesis.command}\` against the API on each database with a Temporal dev server and a worker, one model seeded with a trained, deployed version and a recovered incident (test/helpers/fuzz.ts); the exceptions to the checks' defaults are in \`test/fuzz/schemathesis.toml\`, each with its reason. Generated from \`bench/results/fuzz.json\` of the same run. The suite runs the same on both databases with \`--max-examples ${CI_FUZZ.maxExamples}\` in \`test/integration/fuzz.test.ts\`.

${done
  .map(
    ([provider, run]) =>
      `- **${provider}**: ${run.operations.tested} of ${run.operations.total} operations tested, ${run.cases} test cases, ${failedChecks(run)} failed checks, ${run.errors.length} errors (${run.seconds} s).`,
  )
  .join('\n')}

max_response_time has no limit set here: speed is what the other benchmarks measure.

| check | ${done.map(([p]) => `${p}: responses judged / failed`).join(' | ')} |
|---|${done.map(() => '---|').join('')}
${names.map((name) => `| ${name} | ${done.map(([, run]) => judged(run, name)).join(' | ')} |`).join('\n')}
`;
}
