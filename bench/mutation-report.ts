// Reads Stryker's JSON report (reports/mutation/mutation.json, written by `stryker run`) and writes the
// mutation score per file and in total to bench/results/mutation.json, the "## Mutation testing" table
// of docs/benchmarks.md, and every surviving mutant to docs/mutation-survivors.md. `npm run
// test:mutation` runs it after Stryker; run it alone to redo the tables from the last report:
//
//   node --import tsx bench/mutation-report.ts
//
// Given report paths instead (one per partial run, e.g. `--mutate lib/brain/decide.ts` runs), it merges
// them (files from each).
//
// Score as Stryker counts it: detected (killed + timeout) over valid mutants (detected + survived + no
// coverage); mutants the TypeScript checker rejected (compile errors) are not valid mutants.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = path.join(import.meta.dirname, '..');
const REPORT = path.join(ROOT, 'reports', 'mutation', 'mutation.json');
const RESULTS = path.join(ROOT, 'bench', 'results', 'mutation.json');
const DOC = path.join(ROOT, 'docs', 'benchmarks.md');
const SURVIVORS_DOC = path.join(ROOT, 'docs', 'mutation-survivors.md');
const HEADING = '## Mutation testing (issue 12)';
const GOAL = 85;

type Status =
  | 'Killed'
  | 'Survived'
  | 'NoCoverage'
  | 'Timeout'
  | 'CompileError'
  | 'RuntimeError'
  | 'Ignored'
  | 'Pending';

interface Mutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: Status;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}

interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
}

interface Counts {
  mutants: number;
  killed: number;
  survived: number;
  timeout: number;
  noCoverage: number;
  compileErrors: number;
  runtimeErrors: number;
  ignored: number;
  /** Detected over valid mutants, in %; null when no mutant is valid. */
  score: number | null;
}

function count(mutants: Mutant[]): Counts {
  const n = (s: Status) => mutants.filter((m) => m.status === s).length;
  const killed = n('Killed');
  const timeout = n('Timeout');
  const survived = n('Survived');
  const noCoverage = n('NoCoverage');
  const valid = killed + timeout + survived + noCoverage;
  return {
    mutants: mutants.length,
    killed,
    survived,
    timeout,
    noCoverage,
    compileErrors: n('CompileError'),
    runtimeErrors: n('RuntimeError'),
    ignored: n('Ignored'),
    score: valid === 0 ? null : Math.round(((killed + timeout) / valid) * 10_000) / 100,
  };
}

// --seconds: the Stryker run's wall time, which its JSON report does not carry (the npm script measures it).
const { values, positionals } = parseArgs({
  options: { seconds: { type: 'string' } },
  allowPositionals: true,
});
const reports = (positionals.length > 0 ? positionals : [REPORT]).map(
  (file) => JSON.parse(fs.readFileSync(file, 'utf8')) as Report,
);
const report: Report = { files: Object.assign({}, ...reports.map((r) => r.files)) };
const files = Object.entries(report.files)
  .map(([file, f]) => ({ file: path.relative(ROOT, path.resolve(ROOT, file)), ...count(f.mutants) }))
  .sort((a, b) => a.file.localeCompare(b.file));
const total = count(Object.values(report.files).flatMap((f) => f.mutants));
const seconds = values.seconds === undefined ? null : Number(values.seconds);
const results = {
  command: 'npm run test:mutation',
  generatedAt: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  seconds,
  goal: GOAL,
  total,
  files,
};
fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);

const pct = (x: number | null) => (x === null ? '–' : `${x.toFixed(2)} %`);
const row = (name: string, c: Counts) =>
  `| ${name} | ${c.killed} | ${c.survived} | ${c.timeout} | ${c.noCoverage} | ${c.compileErrors} | ${pct(c.score)} |`;
const duration = seconds === null ? 'duration not recorded' : `${Math.round(seconds / 60)} min`;
const section = `${HEADING}

Command: \`npm run test:mutation\` (Stryker, vitest runner, per-test coverage, concurrency 1, TypeScript checker
opt-in with STRYKER_TYPECHECK=1; ${duration} on ${results.cpus} cores, load average ${results.loadAverage.join(' ')} at the end).
It mutates the pure core — \`lib/brain/detect.ts\`, \`lib/brain/findings\`, \`lib/brain/decide.ts\`, \`lib/brain/remedy-plans.ts\`, \`lib/brain/baseline.ts\`,
\`lib/stats\`, \`lib/detectors\`, \`lib/recovery\` (the list is \`core\` in stryker.config.mjs) — and runs the
unit tests of vitest.mutation.config.ts against each mutant. Not part of CI's default run (too slow);
re-runs are incremental (reports/stryker-incremental.json: only changed code and tests are redone).
Score = (killed + timeout) / (killed + timeout + survived + no coverage); compile errors are mutants the
TypeScript checker rejected, not counted. Goal ≥ ${GOAL} %.

| file | killed | survived | timeout | no coverage | compile errors | score |
|---|---|---|---|---|---|---|
${files.map((f) => row(`\`${f.file}\``, f)).join('\n')}
${row('**total**', total)}

Every survivor, with its line and replacement: docs/mutation-survivors.md (generated); why the main
groups survive: "Surviving mutants" below. Full counts: bench/results/mutation.json.
`;

const doc = fs.readFileSync(DOC, 'utf8');
const start = doc.indexOf(`${HEADING}\n`);
// The generated part ends at the first hand-written subsection (### ...) or the next section.
const ends = [doc.indexOf('\n### ', start), doc.indexOf('\n## ', start + 1)].filter(
  (i) => start !== -1 && i !== -1,
);
const end = ends.length > 0 ? Math.min(...ends) : -1;
const updated =
  start === -1
    ? `${doc.trimEnd()}\n\n${section}`
    : `${doc.slice(0, start)}${section}${end === -1 ? '' : doc.slice(end)}`;
fs.writeFileSync(DOC, updated);

const survivors = Object.entries(report.files)
  .flatMap(([file, f]) => {
    const lines = f.source.split('\n');
    return f.mutants
      .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
      .map((m) => ({
        file: path.relative(ROOT, path.resolve(ROOT, file)),
        line: m.location.start.line,
        mutator: m.mutatorName,
        status: m.status,
        code: (lines[m.location.start.line - 1] ?? '').trim(),
        replacement: m.replacement ?? '',
      }));
  })
  .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
const cell = (s: string) =>
  `\`${s.replace(/\s+/g, ' ').slice(0, 100).replaceAll('|', '\\|').replaceAll('`', "'")}\``;
fs.writeFileSync(
  SURVIVORS_DOC,
  `# Surviving mutants

Generated by \`npm run test:mutation\` (bench/mutation-report.ts) from the last Stryker run: every mutant no
unit test noticed (survived) or no unit test ran (no coverage). Why the main groups survive, and which are
equivalent: docs/benchmarks.md, "Mutation testing".

| file | line | mutator | status | original line | replacement |
|---|---|---|---|---|---|
${survivors.map((s) => `| ${s.file} | ${s.line} | ${s.mutator} | ${s.status} | ${cell(s.code)} | ${cell(s.replacement)} |`).join('\n')}
`,
);
process.stderr.write(
  `mutation score ${pct(total.score)} (${total.killed + total.timeout} detected, ${total.survived} survived, ${total.noCoverage} no coverage)${seconds === null ? '' : ` in ${seconds} s`}\n`,
);
