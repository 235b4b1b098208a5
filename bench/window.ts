// Window computation benchmark: computeWindowMetrics over 100,000 predictions × 20 features of mixed
// types (10 numeric, 6 categorical, 4 boolean; a binary classifier with probabilities, 60 % labelled),
// against a reference profile built once from 20,000 rows. Goal (issue 4): under one second on one core.
// The metrics are computed on the main thread only, so "one core" is the run itself; V8's garbage
// collector may use helper threads, as it does in the worker.
//
//   node --import tsx bench/window.ts
//
// Writes bench/results/window.json and prints a markdown table.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { FeatureRow, FeatureSchema } from '../lib/domain.ts';
import {
  buildReferenceProfile,
  computeWindowMetrics,
  summarizeForAgent,
  type WindowPrediction,
} from '../lib/monitor/index.ts';
import { Random } from '../lib/sim/random.ts';

const COMMAND = 'node --import tsx bench/window.ts';
const WINDOW_ROWS = 100_000;
const REFERENCE_ROWS = 20_000;
const RUNS = 7;
const GOAL_MS = 1000;
const SEED = 20_261_126;
const START_MS = Date.parse('2026-01-01T00:00:00.000Z');
/** Mean milliseconds between arrivals: 100,000 rows span about 17 minutes. */
const INTER_ARRIVAL_MS = 10;

// The command line has no --expose-gc; the flag can still be set at run time for a fresh context's gc(),
// so that heap measurements are taken after a full collection.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const CATEGORY_SIZES = [3, 4, 5, 7, 9, 12];
const SCHEMA: FeatureSchema = [
  ...Array.from({ length: 10 }, (_, i) => ({
    name: `x${i}`,
    type: 'numeric' as const,
    min: -1e6,
    max: 1e6,
    nullable: i % 3 === 0,
  })),
  ...CATEGORY_SIZES.map((size, i) => ({
    name: `c${i}`,
    type: 'categorical' as const,
    categories: Array.from({ length: size }, (_, k) => `v${k}`),
    nullable: false,
  })),
  ...Array.from({ length: 4 }, (_, i) => ({ name: `b${i}`, type: 'boolean' as const, nullable: false })),
];

/** Numeric features of several shapes: normal, skewed, integer counts with heavy ties, bounded. */
function numericValue(rng: Random, i: number, shift: number): number | null {
  if (i % 3 === 0 && rng.bernoulli(0.03)) return null;
  switch (i % 4) {
    case 0:
      return Math.round(rng.normal(50 + shift, 10) * 100) / 100;
    case 1:
      return Math.round(rng.lognormal(3, 0.6) * (1 + shift / 20) * 10) / 10;
    case 2:
      return Math.floor(rng.exponential(0.5));
    default:
      return rng.uniform(0, 1);
  }
}

function sampleRow(rng: Random, shift: number): FeatureRow {
  const row: FeatureRow = {};
  for (let i = 0; i < 10; i++) row[`x${i}`] = numericValue(rng, i, i < 2 ? shift : 0);
  CATEGORY_SIZES.forEach((size, i) => {
    row[`c${i}`] = `v${Math.min(size - 1, Math.floor(rng.exponential(1.5 / size + shift / 100)))}`;
  });
  for (let i = 0; i < 4; i++) row[`b${i}`] = rng.bernoulli(0.2 + 0.15 * i);
  return row;
}

function positiveProbability(row: FeatureRow): number {
  const z = 0.08 * ((row.x0 as number | null) ?? 50) - 4 + (row.b0 ? 0.7 : 0) - 0.02 * (row.x1 as number);
  return 1 / (1 + Math.exp(-z));
}

function windowRows(rng: Random, count: number, shift: number): WindowPrediction[] {
  let clock = START_MS;
  return Array.from({ length: count }, (_, i) => {
    clock += rng.exponential(1 / INTER_ARRIVAL_MS);
    const features = sampleRow(rng, shift);
    const p = positiveProbability(features);
    const failed = rng.bernoulli(0.002);
    const predictedAt = new Date(Math.round(clock));
    const labelled = rng.bernoulli(0.6);
    return {
      id: `p${i}`,
      features,
      output: failed ? null : { prediction: p >= 0.5 ? '1' : '0', probabilities: { '0': 1 - p, '1': p } },
      confidence: failed ? null : Math.max(p, 1 - p),
      latencyMs: Math.round(rng.lognormal(Math.log(35), 0.35) * 100) / 100,
      error: failed ? 'model server timed out' : null,
      predictedAt,
      receivedAt: predictedAt,
      label: labelled
        ? { value: rng.bernoulli(p) ? '1' : '0', observedAt: new Date(clock + rng.exponential(1 / 60_000)) }
        : null,
    };
  });
}

function heapMb(): number {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));

function main(): void {
  const rng = new Random(SEED);
  console.log(`building the reference profile from ${REFERENCE_ROWS.toLocaleString('en')} rows…`);
  const referenceRows = windowRows(rng, REFERENCE_ROWS, 0);
  const reference = buildReferenceProfile({
    schema: SCHEMA,
    task: 'binary',
    labels: ['0', '1'],
    rows: referenceRows.map((r) => r.features),
    outputs: referenceRows.map((r) => ({ ...r.output!, confidence: r.confidence })),
    truth: referenceRows.map((r) => r.label?.value ?? null),
    timestamps: referenceRows.map((r) => r.receivedAt),
  });

  console.log(`generating a window of ${WINDOW_ROWS.toLocaleString('en')} rows × ${SCHEMA.length} features…`);
  const heapBefore = heapMb();
  const predictions = windowRows(rng, WINDOW_ROWS, 1);
  const inputHeapMb = heapMb() - heapBefore;
  const last = predictions[predictions.length - 1]!.receivedAt;
  const input = {
    schema: SCHEMA,
    task: 'binary' as const,
    labels: ['0', '1'],
    reference,
    predictions,
    previousArrival: new Date(START_MS),
    windowStart: new Date(START_MS),
    now: new Date(last.getTime() + 1000),
  };

  console.log('warm-up run…');
  let metrics = computeWindowMetrics(input);
  const timings: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    gc();
    const started = performance.now();
    metrics = computeWindowMetrics(input);
    const ms = performance.now() - started;
    timings.push(ms);
    console.log(`run ${run}/${RUNS}: ${ms.toFixed(0)} ms`);
  }

  const medianMs = median(timings);
  const result = {
    command: COMMAND,
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    rows: WINDOW_ROWS,
    features: { numeric: 10, categorical: CATEGORY_SIZES.length, boolean: 4 },
    referenceRows: REFERENCE_ROWS,
    runs: timings.map((ms) => round(ms)),
    medianMs: round(medianMs),
    minMs: round(Math.min(...timings)),
    goalMs: GOAL_MS,
    withinGoal: medianMs < GOAL_MS,
    memory: {
      inputHeapMb: round(inputHeapMb),
      peakRssMb: round(process.resourceUsage().maxRSS / 1024),
      referenceProfileKb: round(JSON.stringify(reference).length / 1024),
      windowMetricsKb: round(JSON.stringify(metrics).length / 1024),
      agentSummaryKb: round(JSON.stringify(summarizeForAgent(metrics)).length / 1024),
    },
  };
  const file = path.join(import.meta.dirname, 'results', 'window.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

  console.log(`\nwrote ${path.relative(process.cwd(), file)}\n`);
  console.log(`\`${COMMAND}\` — ${result.cpu}, Node ${result.node}\n`);
  console.log('| window | median | min | goal | input heap | peak RSS | metrics | summary |');
  console.log('|---|---|---|---|---|---|---|---|');
  const { memory } = result;
  const cells = [
    `${WINDOW_ROWS.toLocaleString('en')} rows × ${SCHEMA.length} features`,
    `${result.medianMs} ms`,
    `${result.minMs} ms`,
    `< ${GOAL_MS} ms ${result.withinGoal ? '✓' : '✗'}`,
    `${memory.inputHeapMb} MB`,
    `${memory.peakRssMb} MB`,
    `${memory.windowMetricsKb} kB`,
    `${memory.agentSummaryKb} kB`,
  ];
  console.log(`| ${cells.join(' | ')} |`);
}

main();
