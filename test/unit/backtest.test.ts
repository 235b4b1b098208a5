// The backtest replays simulated streams through the agent's own monitor, detect and decide code: a
// concept drift opens a concept_drift incident that a retrain recovers (the retrained model really
// scores the later rows better), a steady stream raises nothing, and bad input is refused precisely.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../lib/backtest/replay.ts';
import type { BacktestReport } from '../../lib/backtest/report.ts';
import { BacktestInputError, parseStream, readStreamFile } from '../../lib/backtest/stream-file.ts';
import { loadModel } from '../../lib/models/index.ts';
import { type Policy, parsePolicy } from '../../lib/policy/policy.ts';
import { rowScorer } from '../../lib/recovery/outcomes.ts';
import { creditDefault, creditDefaultLogit, sigmoid } from '../../lib/sim/demo-models.ts';
import { findScenario, type Scenario } from '../../lib/sim/scenarios.ts';
import { generateStream } from '../../lib/sim/stream.ts';
import { writeStreamFile } from '../../lib/sim/writers.ts';

/** Version 1 is trained on the first rows; the drift stream's onset (event 2500) must come after them. */
const TRAIN_ROWS = 2000;
/**
 * The steady stream trains on more: detect holds a classifier to its own probabilities (calibration in
 * the large), and a scorecard fitted on ~1,600 rows is miscalibrated enough to be flagged on some seeds.
 */
const STEADY_TRAIN_ROWS = 4000;
const STEADY_COUNT = 10_000;
/**
 * The concept-drift scenario with a harder rate shock: at the library's shock a retrained scorecard
 * wins too little accuracy to be told from production on a few hundred held-out rows, and a backtest
 * that shows a rejected candidate does not exercise the retrain's recovery.
 */
const RATE_SHOCK = 25;

function policy(input: unknown): Policy {
  const parsed = parsePolicy(input);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.policy;
}

/** What a user tunes before trusting the agent: act on moderate evidence, promote directly, 5 % tolerance. */
const TUNED = policy({
  confidence: { alertAbove: 0.3, actAbove: 0.5 },
  retrain: { promotion: 'direct', minRows: 1500 },
  verification: { tolerance: 0.05 },
});

let dir: string;
const file = (name: string) => path.join(dir, name);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homeostat-backtest-'));
  const drift = findScenario('concept-drift')!;
  const harder: Scenario = {
    ...drift,
    transform: {
      label: (row, rng) => {
        const z = creditDefaultLogit(row) + RATE_SHOCK * Math.max(0, (row.debt_to_income as number) - 0.3);
        return rng.bernoulli(sigmoid(z)) ? 1 : 0;
      },
    },
  };
  const driftEvents = generateStream({ model: creditDefault, scenario: harder, seed: 2, count: 10_000 });
  const steadyEvents = generateStream({
    model: creditDefault,
    scenario: findScenario('steady')!,
    seed: 2,
    count: STEADY_COUNT,
  });
  await writeStreamFile(file('drift.jsonl'), driftEvents, 'jsonl', creditDefault.schema);
  await writeStreamFile(file('drift.csv'), driftEvents, 'csv', creditDefault.schema);
  await writeStreamFile(file('steady.csv'), steadyEvents, 'csv', creditDefault.schema);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('stream files', () => {
  it('reads the same rows from the CSV and the JSONL form of a stream', () => {
    const jsonl = readStreamFile(file('drift.jsonl'));
    const csv = readStreamFile(file('drift.csv'));
    expect(jsonl.rows).toHaveLength(10_000);
    expect(csv.rows.map(({ line: _, ...row }) => row)).toEqual(jsonl.rows.map(({ line: _, ...row }) => row));
    expect(jsonl.task).toBe('binary');
    expect(jsonl.classes).toEqual(['0', '1']);
    // The inferred schema types every column as the demo model's schema does.
    expect(jsonl.schema.map((s) => [s.name, s.type])).toEqual(
      creditDefault.schema.map((s) => [s.name, s.type]),
    );
  });

  it('refuses a stream without ts, and names the line of an unparsable record', () => {
    expect(() => parseStream('a,label\n1,0\n', 'csv')).toThrow(/no "ts" column/);
    const bad = () => parseStream('{"ts":"2025-01-01T00:00:00Z","a":1,"label":0}\n{"ts":\n', 'jsonl');
    expect(bad).toThrow(BacktestInputError);
    expect(bad).toThrow(/^line 2: not valid JSON/);
    expect(() => parseStream('ts,a,label\nyesterday,1,0\n', 'csv')).toThrow(/line 2: ts "yesterday"/);
  });
});

describe('backtest', () => {
  let report: BacktestReport;
  beforeAll(async () => {
    report = await runBacktest({
      stream: readStreamFile(file('drift.jsonl')),
      policy: TUNED,
      trainRows: TRAIN_ROWS,
    });
  }, 60_000);

  it('opens a concept_drift incident on the drift and recovers it with a retrain', () => {
    const [incident] = report.incidents;
    expect(incident?.kind).toBe('concept_drift');
    expect(incident?.attempts[0]).toMatchObject({ action: 'retrain', outcome: 'recovered' });
    expect(incident?.timeline.map((t) => t.status)).toEqual(['open', 'mitigating', 'verifying', 'recovered']);
    expect(incident?.outcome).toBe('recovered');
    // The drift starts at event 2500, 500 rows into the replay: the incident cannot open before it.
    const onset = readStreamFile(file('drift.jsonl')).rows[2500]!.ts;
    expect(Date.parse(incident!.openedAt)).toBeGreaterThan(onset);

    const retrain = report.actions.find((a) => a.action === 'retrain' && a.outcome === 'applied');
    expect(retrain?.candidate?.pValue).toBeLessThan(TUNED.retrain.alpha);
    expect(retrain?.candidate?.candidate).toBeGreaterThan(retrain!.candidate!.production);
    expect(report.versions.map((v) => v.origin)).toEqual(['trained', 'retrain']);
  });

  it('serves the later rows with a retrained model that really scores them better', async () => {
    const promoted = report.actions.find((a) => a.action === 'retrain' && a.outcome === 'applied')!;
    const stream = readStreamFile(file('drift.jsonl'));
    const later = stream.rows.filter((r) => r.ts > Date.parse(promoted.at) && r.label !== null);
    expect(later.length).toBeGreaterThan(1000);
    const score = rowScorer('binary', stream.classes);
    const accuracy = async (version: number) => {
      const model = loadModel(report.versions.find((v) => v.version === version)!.artifact);
      const outputs = await model.predict(later.map((r) => r.features));
      const correct = outputs.filter(
        (o, i) =>
          score({ error: null, output: o, confidence: o.confidence, label: { value: later[i]!.label! } })
            ?.correct,
      ).length;
      return correct / later.length;
    };
    const [original, retrained] = [await accuracy(1), await accuracy(2)];
    expect(retrained).toBeGreaterThan(original + 0.03);
    // The windows after the promotion were served by the retrained version.
    const after = report.windows.filter((w) => Date.parse(w.startAt) >= Date.parse(promoted.at));
    expect(after[0]?.serving.production).toBe(2);
  });

  it('finds nothing and does nothing on a steady stream', async () => {
    const steady = await runBacktest({
      stream: readStreamFile(file('steady.csv')),
      policy: TUNED,
      trainRows: STEADY_TRAIN_ROWS,
    });
    expect(steady.totals.windows).toBeGreaterThan(15);
    expect(steady.totals.confirmedFindings).toEqual({});
    expect(steady.incidents).toEqual([]);
    expect(steady.actions).toEqual([]);
    expect(steady.decisions.filter((d) => d.action !== 'none')).toEqual([]);
  }, 60_000);
});

describe('the backtest command', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'scripts/backtest.ts', ...args], {
      encoding: 'utf8',
      cwd: path.resolve(import.meta.dirname, '../..'),
    });

  it('replays a file, prints the summary and writes the report', () => {
    const out = file('steady-report.json');
    const run = cli(
      file('steady.csv'),
      '--train-rows',
      String(STEADY_TRAIN_ROWS),
      '--out',
      out,
      '--progress-every',
      '5',
    );
    expect(run.stderr).toMatch(/backtest: window 5\/\d+/);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Findings confirmed: none/);
    expect(run.stdout).toMatch(/Incidents: none/);
    const written = JSON.parse(fs.readFileSync(out, 'utf8')) as BacktestReport;
    expect(written.input.replayedRows).toBe(STEADY_COUNT - STEADY_TRAIN_ROWS);
  }, 60_000);

  it('exits with code 2 and the line number on a bad file, and on an unknown option', () => {
    const bad = file('bad.csv');
    const lines = fs.readFileSync(file('steady.csv'), 'utf8').split('\n').slice(0, 50);
    lines[41] = `${lines[41]},extra`;
    fs.writeFileSync(bad, lines.join('\n'));
    const run = cli(bad, '--train-rows', '10');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/line 42: \d+ fields where the header has \d+/);

    const unknown = cli(bad, '--train-rows', '10', '--colour');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/--colour/);
  }, 30_000);
});
