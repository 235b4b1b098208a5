// Writes the "## Autonomy" section of docs/benchmarks.md from bench/results/autonomy.json: every
// number in it comes from that file, none is typed by hand. bench/autonomy.ts calls it after a run;
// `node --import tsx bench/autonomy-report.ts` rewrites the section from the committed JSON.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FamilySummary } from '../lib/bench/autonomy/summary.ts';

const ROOT = path.join(import.meta.dirname, '..');
export const AUTONOMY_RESULTS = path.join(ROOT, 'bench', 'results', 'autonomy.json');
const DOC = path.join(ROOT, 'docs', 'benchmarks.md');
export const SECTION_BEGIN =
  '<!-- autonomy:begin (written by bench/autonomy-report.ts from bench/results/autonomy.json) -->';
export const SECTION_END = '<!-- autonomy:end -->';

interface AutonomyJson {
  command: string;
  machine: { cpus: number; node: string; loadAverage: number[] };
  wallSeconds: number;
  goals: { rightResponse: number; regretShareOfAdwin: number; falseIncidentsPerMillionRows: number };
  sets: Record<'held-out' | 'development', { families: FamilySummary[] }>;
  failures: { id: string; error: string }[];
}

const pct = (x: number) => `${Math.round(x * 100)} %`;
const r3 = (x: number) => (Math.abs(x) < 0.0005 ? '0' : x.toFixed(3));
const ratio = (x: number | null) => (x === null ? '–' : x.toFixed(2));
const perM = (x: number) => (x === 0 ? '0' : x.toFixed(0));

function table(families: FamilySummary[]): string {
  const head =
    '| family | cases | right response | regret: agent | no agent | ADWIN + refit | dataset drift + refit | random trigger | agent / ADWIN | retrains on corrupted input (agent / ADWIN / drift rule) | false incidents / actions per M rows | median detection delay (rows) |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|---|';
  const lines = families.map((f) => {
    const c = f.retrainsOnCorruptedInput;
    const name = f.family === 'all' ? '**all**' : f.family;
    return `| ${name} | ${f.cases} | ${pct(f.rightResponseRate)} | ${r3(f.regret.agent)} | ${r3(f.regret.noAgent)} | ${r3(f.regret.adwinRefit)} | ${r3(f.regret.datasetDriftRefit)} | ${r3(f.regret.randomRefit)} | ${ratio(f.agentRegretOverAdwin)} | ${c.agent} / ${c.adwinRefit} / ${c.datasetDriftRefit} | ${perM(f.falseIncidentsPerMillionRows)} / ${perM(f.falseActionsPerMillionRows)} | ${f.medianDetectionDelayRows ?? '–'} |`;
  });
  return [head, ...lines].join('\n');
}

function goals(json: AutonomyJson): string {
  const families = json.sets['held-out'].families.filter((f) => f.family !== 'all');
  const all = json.sets['held-out'].families.find((f) => f.family === 'all');
  if (!all) return '';
  const regretMet = families.filter(
    (f) =>
      f.regret.agent <= json.goals.regretShareOfAdwin * Math.max(0, f.regret.adwinRefit) &&
      f.regret.agent <= f.regret.noAgent,
  ).length;
  const corrupted = all.retrainsOnCorruptedInput.agent;
  return [
    `- Right response: ${pct(all.rightResponseRate)} of ${all.cases} held-out cases (goal ≥ ${pct(json.goals.rightResponse)}).`,
    `- Retrains on corrupted input: ${corrupted} (goal 0); ADWIN + refit: ${all.retrainsOnCorruptedInput.adwinRefit}, dataset drift + refit: ${all.retrainsOnCorruptedInput.datasetDriftRefit}.`,
    `- Regret at most a third of ADWIN + refit's and not above no agent's: ${regretMet} of ${families.length} families.`,
    `- False incidents per million rows (all held-out cases): ${perM(all.falseIncidentsPerMillionRows)} (goal ≤ ${json.goals.falseIncidentsPerMillionRows}); false actions: ${perM(all.falseActionsPerMillionRows)} (goal 0).`,
  ].join('\n');
}

export function renderAutonomySection(json: AutonomyJson): string {
  const failures =
    json.failures.length === 0
      ? ''
      : `\n\nCases that failed to run: ${json.failures.map((f) => `${f.id} (${f.error})`).join('; ')}.`;
  return `${SECTION_BEGIN}
Command: \`${json.command}\` — ${json.wallSeconds} s on ${json.machine.cpus} cores (load average ${json.machine.loadAverage.join(', ')} at the end; Node ${json.machine.node}).

Regret is the mean, over the cases, of Σ(loss − oracle's loss) / replayed rows (classification: 0/1 error; regression: absolute error in reference-label standard deviations); lower is better, negative beats the oracle.

### Held-out seeds (the report)

${goals(json)}

${table(json.sets['held-out'].families)}

### Development seeds (for tuning; not the report)

${table(json.sets.development.families)}${failures}
${SECTION_END}`;
}

export function writeAutonomySection(file = AUTONOMY_RESULTS, doc = DOC): void {
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as AutonomyJson;
  const text = fs.readFileSync(doc, 'utf8');
  const section = renderAutonomySection(json);
  const begin = text.indexOf(SECTION_BEGIN);
  const end = text.indexOf(SECTION_END);
  const next =
    begin === -1
      ? `${text.trimEnd()}\n\n## Autonomy (issue 14)\n\n${AUTONOMY_INTRO}\n\n${section}\n`
      : `${text.slice(0, begin)}${section}${text.slice(end + SECTION_END.length)}`;
  fs.writeFileSync(doc, next);
}

const AUTONOMY_INTRO = `\`npm run bench:autonomy\` (bench/autonomy.ts, lib/bench/autonomy/) replays every case through the
backtest with the default policy and no per-case setting (plus a fallback version), beside the
baselines on the same rows and model family. How cases, baselines and scores are made is said in the
comments of lib/bench/autonomy/ (cases.ts, baselines.ts, run-case.ts). The tables below are written from
bench/results/autonomy.json.`;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) writeAutonomySection();
