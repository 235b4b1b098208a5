// Reads the Stryker reports of bench/results/stryker/ (one per file of the core: each file's incremental
// report is a full mutation report of that file's last run) and writes the mutation score per file, per
// scope and in total to bench/results/mutation.json, the "## Mutation testing" table of docs/benchmarks.md,
// and every surviving mutant to docs/mutation-survivors.md. bench/mutation.ts (`npm run test:mutation`)
// runs it after each file with `--file <path> --seconds <wall time>`; run it alone to redo the tables from
// the reports:
//
//   node --import tsx bench/mutation-report.ts
//
// Files of the core with no report keep the counts (and survivors) an earlier run recorded in
// bench/results/mutation.json, marked with the time of that run.
//
// Score as Stryker counts it: detected (killed + timeout) over valid mutants (detected + survived + no
// coverage); mutants the TypeScript checker rejected (compile errors) are not valid mutants.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = path.join(import.meta.dirname, '..');
const REPORTS = path.join(ROOT, 'bench', 'results', 'stryker');
const RESULTS = path.join(ROOT, 'bench', 'results', 'mutation.json');
const DOC = path.join(ROOT, 'docs', 'benchmarks.md');
const SURVIVORS_DOC = path.join(ROOT, 'docs', 'mutation-survivors.md');
const EQUIVALENTS = path.join(ROOT, 'bench', 'mutation-equivalent.json');
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

interface FileRow extends Counts {
  file: string;
  scope: string;
  /** When the counts come from an earlier run whose report was not kept: that run's time. */
  earlierRun?: string;
  /** The last Stryker run of this file alone (bench/mutation.ts), full or incremental. */
  lastRun?: Run;
}

interface Run {
  seconds: number;
  finishedAt: string;
  loadAverage: number[];
}

interface Results {
  generatedAt: string;
  files: FileRow[];
}

const { values } = parseArgs({
  options: { file: { type: 'string' }, seconds: { type: 'string' } },
});
const previous: Results | null = fs.existsSync(RESULTS)
  ? (JSON.parse(fs.readFileSync(RESULTS, 'utf8')) as Results)
  : null;
const loadAverage = os.loadavg().map((x) => Math.round(x * 100) / 100);

// A computed specifier: the config is untyped JavaScript.
const configPath = path.join(ROOT, 'stryker.config.mjs');
const { scopes: scopeGlobs, filesOf } = (await import(configPath)) as {
  scopes: Record<string, string[]>;
  filesOf: (glob: string) => string[];
};
// The scopes' globs are files or `<dir>/**/*.ts`.
const matches = (file: string, glob: string) =>
  glob.endsWith('/**/*.ts')
    ? file.startsWith(glob.slice(0, -'**/*.ts'.length)) && file.endsWith('.ts')
    : file === glob;
const scopeOf = (file: string) =>
  Object.keys(scopeGlobs).find((name) => scopeGlobs[name]!.some((glob) => matches(file, glob))) ?? 'none';
const reportFiles = (fs.readdirSync(REPORTS, { recursive: true }) as string[])
  .filter((name) => name.endsWith('.json'))
  .sort();
const relative = (file: string) => path.relative(ROOT, path.resolve(ROOT, file));
const reported = reportFiles.flatMap((name) => {
  const report = JSON.parse(fs.readFileSync(path.join(REPORTS, name), 'utf8')) as Report;
  const files = Object.entries(report.files).map(([file, f]) => ({
    file: relative(file),
    source: f.source,
    mutants: f.mutants,
  }));
  // A file Stryker finds nothing to mutate in (type declarations, a constant table) is absent from its
  // own report: it ran, with no mutants.
  return files.length > 0 ? files : [{ file: name.replace(/\.json$/, '.ts'), source: '', mutants: [] }];
});
const reportedFiles = new Set(reported.map((f) => f.file));
const carried = (previous?.files ?? [])
  .filter((f) => !reportedFiles.has(f.file))
  .map((f) => ({ ...f, scope: scopeOf(f.file), earlierRun: f.earlierRun ?? previous!.generatedAt }));
const files: FileRow[] = [
  ...reported.map(({ file, mutants }) => {
    const lastRun =
      values.file === file && values.seconds !== undefined
        ? { seconds: Number(values.seconds), finishedAt: new Date().toISOString(), loadAverage }
        : previous?.files.find((f) => f.file === file)?.lastRun;
    return { file, scope: scopeOf(file), ...count(mutants), ...(lastRun ? { lastRun } : {}) };
  }),
  ...carried,
].sort((a, b) => a.scope.localeCompare(b.scope) || a.file.localeCompare(b.file));

function sum(rows: Counts[]): Counts {
  const add = (k: keyof Omit<Counts, 'score'>) => rows.reduce((s, r) => s + r[k], 0);
  const killed = add('killed');
  const timeout = add('timeout');
  const valid = killed + timeout + add('survived') + add('noCoverage');
  return {
    mutants: add('mutants'),
    killed,
    survived: add('survived'),
    timeout,
    noCoverage: add('noCoverage'),
    compileErrors: add('compileErrors'),
    runtimeErrors: add('runtimeErrors'),
    ignored: add('ignored'),
    score: valid === 0 ? null : Math.round(((killed + timeout) / valid) * 10_000) / 100,
  };
}

const scopes = Object.fromEntries(
  Object.entries(scopeGlobs).map(([scope, globs]) => {
    const all = globs.flatMap(filesOf);
    const rows = files.filter((f) => f.scope === scope);
    const timed = rows.filter((f) => f.lastRun !== undefined);
    return [
      scope,
      {
        ...sum(rows),
        files: all.length,
        filesRun: rows.length,
        notRun: all.filter((f) => !rows.some((r) => r.file === f)),
        /** Sum of the last runs' wall times of the files that have one. */
        seconds: timed.reduce((s, f) => s + f.lastRun!.seconds, 0),
        filesTimed: timed.length,
      },
    ];
  }),
);
const total = sum(files);
const results = {
  command: 'npm run test:mutation',
  generatedAt: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  goal: GOAL,
  total,
  scopes,
  files,
};
fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);

const pct = (x: number | null) => (x === null ? '–' : `${x.toFixed(2)} %`);
const row = (name: string, c: Counts) =>
  `| ${name} | ${c.killed} | ${c.survived} | ${c.timeout} | ${c.noCoverage} | ${c.compileErrors} | ${pct(c.score)} |`;
const minutes = (c: { seconds: number; filesTimed: number; filesRun: number }) =>
  c.filesTimed === 0
    ? 'not recorded'
    : `${Math.max(1, Math.round(c.seconds / 60))} min${c.filesTimed < c.filesRun ? ` (${c.filesTimed} of its files)` : ''}`;
const earlier = [...new Set(carried.map((f) => f.earlierRun))];
const section = `${HEADING}

Command: \`npm run test:mutation\` (bench/mutation.ts: Stryker, vitest runner, per-test coverage, concurrency 1,
\`nice -n 19\`, TypeScript checker opt-in with STRYKER_TYPECHECK=1), one Stryker run a file, over the files of
\`scopes\` in stryker.config.mjs (\`npm run test:mutation -- detectors lib/stats/ks.ts\` runs a scope and a file). The scopes together are the pure core: the
detectors, the finding rules and the incident state machine (\`lib/brain/findings\`, \`decision-rules.ts\`,
\`lifecycle.ts\`, \`remedy-plans.ts\`), \`detect.ts\`, \`decide.ts\` with \`baseline.ts\`, \`lib/recovery\`
and \`lib/stats\`; Stryker runs the unit tests of vitest.mutation.config.ts against each mutant. Not part of
CI's default run (too slow). Each file's incremental file is committed (lib/stats/ks.ts → bench/results/stryker/lib/stats/ks.json),
so a run in a fresh clone redoes only the mutants whose code or covering tests changed.
Score = (killed + timeout) / (killed + timeout + survived + no coverage); compile errors are mutants the
TypeScript checker rejected, not counted. Goal ≥ ${GOAL} %.

| scope | files run | mutants | killed | survived | timeout | no coverage | score | Stryker time (last runs) |
|---|---|---|---|---|---|---|---|---|
${Object.entries(scopes)
  .map(([name, c]) =>
    c.filesRun === 0
      ? `| ${name} | 0 of ${c.files} | | | | | | not run | |`
      : `| ${name} | ${c.filesRun} of ${c.files} | ${c.mutants} | ${c.killed} | ${c.survived} | ${c.timeout} | ${c.noCoverage} | ${pct(c.score)} | ${minutes(c)} |`,
  )
  .join('\n')}
| **total of the files that ran** | ${files.length} of ${Object.values(scopes).reduce((s, c) => s + c.files, 0)} | ${total.mutants} | ${total.killed} | ${total.survived} | ${total.timeout} | ${total.noCoverage} | ${pct(total.score)} | |

Not run yet: ${
  Object.values(scopes)
    .flatMap((c) => c.notRun)
    .map((f) => `\`${f}\``)
    .join(', ') || 'none'
}.
${
  earlier.length === 0
    ? ''
    : `\nCounts of ${carried.map((f) => `\`${f.file}\``).join(', ')} are from the run of ${earlier.join(', ')}, whose report was not kept (no incremental file in bench/results/stryker/ yet).\n`
}
| file | scope | killed | survived | timeout | no coverage | compile errors | score |
|---|---|---|---|---|---|---|---|
${files.map((f) => row(`\`${f.file}\` | ${f.scope}`, f)).join('\n')}
${row('**total** |', total)}

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

interface Survivor {
  file: string;
  line: number;
  mutator: string;
  status: string;
  code: string;
  replacement: string;
  /** Why the mutant changes nothing observable, when bench/mutation-equivalent.json says so. */
  equivalent: string;
}
/** A surviving mutant judged equivalent, found again by its file, mutator, the source text it replaces and
 *  its replacement (lines move as code changes around it; `line` only tells apart equal texts). */
interface Equivalent {
  file: string;
  mutator: string;
  code: string;
  replacement: string;
  line?: number;
  reason: string;
}
const equivalents = JSON.parse(fs.readFileSync(EQUIVALENTS, 'utf8')) as Equivalent[];
const cell = (s: string) =>
  `\`${s.replace(/\s+/g, ' ').slice(0, 100).replaceAll('|', '\\|').replaceAll('`', "'")}\``;
const survivorRow = (s: Survivor) =>
  `| ${s.file} | ${s.line} | ${s.mutator} | ${s.status} | ${cell(s.code)} | ${cell(s.replacement)} |${s.equivalent === '' ? '' : ` ${s.equivalent.replaceAll('|', '\\|')}`} |`;
// The source text a mutant replaces: from its start to its end, over as many lines as it spans.
const mutatedText = (lines: string[], m: Mutant) =>
  m.location.start.line === m.location.end.line
    ? (lines[m.location.start.line - 1] ?? '').slice(m.location.start.column - 1, m.location.end.column - 1)
    : (lines[m.location.start.line - 1] ?? '').slice(m.location.start.column - 1);
const fresh: Survivor[] = reported.flatMap(({ file, source, mutants }) => {
  const lines = source.split('\n');
  return mutants
    .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
    .map((m) => {
      const text = mutatedText(lines, m);
      const equivalent = equivalents.find(
        (e) =>
          e.file === file &&
          e.mutator === m.mutatorName &&
          e.code === text &&
          e.replacement === (m.replacement ?? '') &&
          (e.line === undefined || e.line === m.location.start.line),
      );
      return {
        file,
        line: m.location.start.line,
        mutator: m.mutatorName,
        status: m.status,
        code: (lines[m.location.start.line - 1] ?? '').trim(),
        replacement: m.replacement ?? '',
        equivalent: equivalent?.reason ?? '',
      };
    });
});
// Survivors of files carried from an earlier run: their rows of the survivors document as it stands
// (rows written before the "equivalent" column get an empty one).
const carriedFiles = new Set(carried.map((f) => f.file));
const carriedRows = fs.existsSync(SURVIVORS_DOC)
  ? fs
      .readFileSync(SURVIVORS_DOC, 'utf8')
      .split('\n')
      .filter((line) => carriedFiles.has(line.split(' | ')[0]?.slice(2) ?? ''))
      .map((line) => (line.split(' | ').length === 6 ? `${line} |` : line))
  : [];
const survivorLines = [
  ...fresh.map((s) => ({ file: s.file, line: s.line, text: survivorRow(s) })),
  ...carriedRows.map((text) => ({
    file: text.split(' | ')[0]!.slice(2),
    line: Number(text.split(' | ')[1]),
    text,
  })),
].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
const marked = fresh.filter((s) => s.equivalent !== '').length;
fs.writeFileSync(
  SURVIVORS_DOC,
  `# Surviving mutants

Generated by \`npm run test:mutation\` (bench/mutation-report.ts) from the last Stryker run of each scope: every mutant no
unit test noticed (survived) or no unit test ran (no coverage). Why the main groups survive: docs/benchmarks.md,
"Mutation testing". The last column gives the reason for the ${marked} judged equivalent (no observable change
for any valid input), from bench/mutation-equivalent.json; they still count against the score, as Stryker
counts them.

| file | line | mutator | status | original line | replacement | equivalent because |
|---|---|---|---|---|---|---|
${survivorLines.map((s) => s.text).join('\n')}
`,
);
process.stderr.write(
  `mutation score ${pct(total.score)} (${total.killed + total.timeout} detected, ${total.survived} survived, ${total.noCoverage} no coverage)\n`,
);
