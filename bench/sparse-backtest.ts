// Sparse traffic over years (issue 14, "adaptive windows and waits"): a 300,000-row stream spread over
// four years — a prediction every seven minutes on average, labels an hour later — with a concept change
// at row 200,000 (SEA's threshold 8 → 7, 10 % label noise), replayed as a user would:
// `npm run backtest -- stream.csv --train-rows 2000`, default policy. Measures the replay's wall time and
// memory beside a baseline of the same run (reading and parsing the same file), and reports what the
// agent saw: how many rows its windows held, and what it found.
//
//   npm run bench:sparse
//
// Writes bench/results/sparse-backtest.json and the "## Sparse traffic" section of docs/benchmarks.md
// from it. Progress on stderr.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BacktestReport } from '../lib/backtest/report.ts';
import { readStreamFile } from '../lib/backtest/stream-file.ts';
import { REPO_ROOT } from '../lib/db/config.ts';
import { Random } from '../lib/sim/random.ts';
import { createSeaStream } from '../lib/sim/synthetic/sea.ts';
import { median } from '../lib/stats/index.ts';
import { writeBenchmarkSection } from './doc-section.ts';

const ROWS = 300_000;
const CHANGE_ROW = 200_000;
const TRAIN_ROWS = 2000;
const SPAN_MS = 4 * 365.25 * 86_400_000;
const LABEL_DELAY_MS = 3_600_000;
const START = Date.parse('2021-01-01T00:00:00Z');
const RESULTS = path.join(REPO_ROOT, 'bench', 'results', 'sparse-backtest.json');

const log = (line: string) => process.stderr.write(`[bench:sparse] ${line}\n`);

/** Served accuracy over a stretch of the stream, and the labelled rows it rests on. */
type ServedAccuracy = { accuracy: number; labelled: number } | null;

interface ChangeResponse {
  incident: string;
  openedAfterRows: number;
  openedAfterHours: number;
  outcome: string;
  repairedAfterDays: number | null;
  servedAccuracy: Record<string, ServedAccuracy>;
}

/** The table rows that say how the agent met the concept change. */
function changeLines(change: ChangeResponse | null): string[] {
  if (!change) return ['| the concept change | not detected |'];
  const acc = (x: ServedAccuracy | undefined) =>
    x ? `${x.accuracy} (${x.labelled.toLocaleString('en')} labelled rows)` : '—';
  return [
    `| the concept change: incident | opened ${change.openedAfterRows} rows (${change.openedAfterHours} h) after it: "${change.incident}"; ${change.outcome} |`,
    `| the concept change: repaired | ${change.repairedAfterDays === null ? 'no' : `${change.repairedAfterDays} days after it`} |`,
    `| served accuracy before the change / until the repair / after it | ${acc(change.servedAccuracy.before)} / ${acc(change.servedAccuracy.changeToRepair)} / ${acc(change.servedAccuracy.afterRepair)} |`,
  ];
}

function countKinds(kinds: string[]): string {
  const counts = new Map<string, number>();
  for (const k of kinds) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts.size === 0 ? 'none' : [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
}

function writeStream(file: string): void {
  const arrivals = new Random(7);
  const before = createSeaStream({ seed: 1, variant: 0, noise: 0.1 });
  const after = createSeaStream({ seed: 2, variant: 2, noise: 0.1 });
  const lines = ['ts,x1,x2,x3,label,label_ts'];
  let t = START;
  for (let i = 0; i < ROWS; i++) {
    t += arrivals.exponential(ROWS / SPAN_MS);
    const { x, y } = (i < CHANGE_ROW ? before : after).next();
    lines.push(
      `${new Date(t).toISOString()},${x.x1},${x.x2},${x.x3},${y},${new Date(t + LABEL_DELAY_MS).toISOString()}`,
    );
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homeostat-sparse-'));
try {
  const file = path.join(dir, 'stream.csv');
  const reportFile = path.join(dir, 'report.json');
  log(`writing ${ROWS} rows over four years to ${file}`);
  writeStream(file);

  log('baseline: reading and parsing the file');
  const readStarted = performance.now();
  const parsed = readStreamFile(file);
  const readSeconds = (performance.now() - readStarted) / 1000;

  const command = ['--import', 'tsx', 'scripts/backtest.ts', file, '--train-rows', String(TRAIN_ROWS)];
  log(`replaying: node ${command.join(' ')} (progress below)`);
  // GNU time, where there is one, for the replay's peak memory.
  const timeFile = path.join(dir, 'time.txt');
  const gnuTime = fs.existsSync('/usr/bin/time');
  const started = performance.now();
  const run = gnuTime
    ? spawnSync(
        '/usr/bin/time',
        ['-o', timeFile, '-f', '%M', process.execPath, ...command, '--out', reportFile],
        {
          cwd: REPO_ROOT,
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      )
    : spawnSync(process.execPath, [...command, '--out', reportFile], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
  const replaySeconds = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`the backtest failed (exit code ${run.status})`);
  const maxRssKb = gnuTime ? Number(fs.readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)) : null;

  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as BacktestReport;
  const counts = report.windows.map((w) => w.summary.count);
  const minRows = report.policy.window.minRows;
  const changeAt = parsed.rows[CHANGE_ROW]!.ts;
  const rowsBetween = (from: number, to: number) =>
    parsed.rows.filter((r) => r.ts >= from && r.ts < to).length;
  const firstResponse = report.incidents.find(
    (i) => i.kind === 'concept_drift' && Date.parse(i.openedAt) >= changeAt,
  );
  const repaired = report.actions.find(
    (a) => a.action === 'retrain' && a.outcome === 'applied' && Date.parse(a.at) >= changeAt,
  );
  /** Served accuracy over the labelled rows of the windows closing in (from, to]. */
  const accuracyBetween = (from: number, to: number): ServedAccuracy => {
    const ws = report.windows.filter((w) => Date.parse(w.endAt) > from && Date.parse(w.endAt) <= to);
    const labelled = ws.reduce((n, w) => n + (w.summary.labelled ?? 0), 0);
    const correct = ws.reduce((n, w) => n + (w.summary.correct ?? 0), 0);
    return labelled === 0 ? null : { accuracy: Number((correct / labelled).toFixed(3)), labelled };
  };
  const end = parsed.rows.at(-1)!.ts + 1;
  const beforeChange = report.incidents.filter((i) => Date.parse(i.openedAt) < changeAt);
  const results = {
    format: 1,
    command: 'npm run bench:sparse',
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version, loadAverage: os.loadavg() },
    stream: {
      rows: ROWS,
      years: 4,
      meanMinutesBetweenRows: Number((SPAN_MS / ROWS / 60_000).toFixed(2)),
      labelDelayMinutes: LABEL_DELAY_MS / 60_000,
      change: {
        row: CHANGE_ROW,
        what: 'SEA threshold 8 → 7, 10 % label noise',
        at: new Date(changeAt).toISOString(),
      },
      trainRows: TRAIN_ROWS,
    },
    baseline: { readAndParseSeconds: Number(readSeconds.toFixed(2)) },
    replay: {
      wallSeconds: Number(replaySeconds.toFixed(2)),
      maxRssMb: maxRssKb === null ? null : Math.round(maxRssKb / 1024),
    },
    windows: {
      count: counts.length,
      medianRows: median(counts),
      withMinRows: counts.filter((n) => n >= minRows).length,
      minRows,
      policy: report.policy.window,
    },
    agent: {
      change: firstResponse
        ? {
            incident: firstResponse.summary,
            openedAfterRows: rowsBetween(changeAt, Date.parse(firstResponse.openedAt)),
            openedAfterHours: Number(
              ((Date.parse(firstResponse.openedAt) - changeAt) / 3_600_000).toFixed(1),
            ),
            outcome: firstResponse.outcome,
            repairedAfterDays: repaired
              ? Number(((Date.parse(repaired.at) - changeAt) / 86_400_000).toFixed(1))
              : null,
            servedAccuracy: {
              before: accuracyBetween(parsed.rows[0]!.ts, changeAt),
              changeToRepair: accuracyBetween(changeAt, repaired ? Date.parse(repaired.at) : end),
              afterRepair: repaired ? accuracyBetween(Date.parse(repaired.at), end) : null,
            },
          }
        : null,
      incidentsBeforeChange: {
        count: beforeChange.length,
        perMillionRows: Number(((beforeChange.length / CHANGE_ROW) * 1e6).toFixed(1)),
        kinds: beforeChange.map((i) => i.kind),
        remedies: report.actions.filter((a) => a.action !== 'alert' && Date.parse(a.at) < changeAt).length,
      },
      confirmedFindings: report.totals.confirmedFindings,
      incidents: report.incidents.map((i) => ({ kind: i.kind, outcome: i.outcome })),
      actions: report.actions.filter((a) => a.action !== 'alert').map((a) => `${a.action}: ${a.outcome}`),
    },
  };
  fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${path.relative(REPO_ROOT, RESULTS)}`);

  const w = results.windows;
  const found = Object.entries(results.agent.confirmedFindings);
  writeBenchmarkSection(
    [
      '## Sparse traffic (issue 14)',
      '',
      `Command: \`${results.command}\` (${results.at.slice(0, 16).replace('T', ' ')} UTC; ${results.machine.cpus} cores, Node ${results.machine.node}, load average ${results.machine.loadAverage.map((x) => x.toFixed(2)).join(', ')} at the end). Generated from \`bench/results/sparse-backtest.json\` of the same run.`,
      '',
      `A stream of ${ROWS.toLocaleString('en')} rows over four years (a row every ${results.stream.meanMinutesBetweenRows} minutes on average, labels ${results.stream.labelDelayMinutes} minutes later), with a concept change at row ${CHANGE_ROW.toLocaleString('en')} (${results.stream.change.what}), replayed as \`npm run backtest -- stream.csv --train-rows ${TRAIN_ROWS}\` with the default policy.`,
      '',
      '| measure | value |',
      '|---|---|',
      `| replay, wall (the command above, in a process of its own) | ${results.replay.wallSeconds} s |`,
      `| baseline in the same run: reading and parsing the file | ${results.baseline.readAndParseSeconds} s |`,
      `| replay, peak memory | ${results.replay.maxRssMb === null ? 'not measured (no GNU time)' : `${results.replay.maxRssMb} MB`} |`,
      `| windows | ${w.count.toLocaleString('en')} (median ${w.medianRows} rows) |`,
      `| windows holding \`window.minRows\` (${w.minRows}) rows or more | ${w.withMinRows.toLocaleString('en')} |`,
      `| findings confirmed | ${found.length === 0 ? 'none' : found.map(([k, n]) => `${k} in ${n} windows`).join(', ')} |`,
      `| incidents | ${results.agent.incidents.length === 0 ? 'none' : results.agent.incidents.map((i) => `${i.kind} (${i.outcome})`).join(', ')} |`,
      `| remedies | ${results.agent.actions.length === 0 ? 'none' : results.agent.actions.map((a) => a.replace(/\|/g, '/')).join('; ')} |`,
      ...changeLines(results.agent.change),
      `| incidents before the change | ${results.agent.incidentsBeforeChange.count} (${results.agent.incidentsBeforeChange.perMillionRows} per million rows: ${countKinds(results.agent.incidentsBeforeChange.kinds)}) |`,
      '',
      w.withMinRows === 0
        ? `The agent is blind on this stream: at a row every ${results.stream.meanMinutesBetweenRows} minutes an adaptive window closes at \`maxSpan\` (${w.policy.maxSpan}) with about ${w.medianRows} rows, never the ${w.minRows} a window needs to be judged, so the change goes unseen.`
        : `Windows that could not judge within \`maxSpan\` make the next one gather until it holds \`window.minRows\` rows (lib/brain/windows.ts), so ${w.withMinRows.toLocaleString('en')} of ${w.count.toLocaleString('en')} windows can judge. Remedies taken before the change: ${results.agent.incidentsBeforeChange.remedies === 0 ? 'none (the incidents before it were alerts)' : results.agent.incidentsBeforeChange.remedies}.`,
    ].join('\n'),
    { before: '## Mutation testing (issue 12)' },
  );
  log('wrote the "## Sparse traffic" section of docs/benchmarks.md');
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
