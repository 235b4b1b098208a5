// Synthetic window traffic for the window benchmark (bench/window.ts) and the sketch tests: 20 features
// of mixed types (10 numeric of several shapes, 6 categorical, 4 boolean) and a binary classifier with
// probabilities, 60 % labelled. Deterministic for a seed.

import type { WindowSummary } from '../brain/types.ts';
import type { FeatureRow, FeatureSchema } from '../domain.ts';
import { buildReferenceProfile, type ReferenceProfile, type WindowPrediction } from '../monitor/index.ts';
import { measureWindow } from '../monitor/measure.ts';
import type { Segment } from '../segments/segment.ts';
import type { Random } from '../sim/random.ts';

export const WINDOW_START_MS = Date.parse('2026-01-01T00:00:00.000Z');
/** Mean milliseconds between arrivals: 100,000 rows span about 17 minutes. */
const INTER_ARRIVAL_MS = 10;

export const CATEGORY_SIZES = [3, 4, 5, 7, 9, 12];
export const WINDOW_SCHEMA: FeatureSchema = [
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

/**
 * `count` predictions in arrival order from WINDOW_START_MS (or `fromMs`), features shifted by `shift`
 * (0 is the reference's distribution). Yields rows one at a time, so that a store can be seeded with
 * millions of them without holding them.
 */
export function* windowRows(
  rng: Random,
  count: number,
  shift: number,
  fromMs = WINDOW_START_MS,
): Generator<WindowPrediction> {
  let clock = fromMs;
  for (let i = 0; i < count; i++) {
    clock += rng.exponential(1 / INTER_ARRIVAL_MS);
    const features = sampleRow(rng, shift);
    const p = positiveProbability(features);
    const failed = rng.bernoulli(0.002);
    const predictedAt = new Date(Math.round(clock));
    const labelled = rng.bernoulli(0.6);
    yield {
      id: `p${String(i).padStart(9, '0')}`,
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
  }
}

/** The reference profile of rows drawn at shift 0, as the registry would store it for these segments. */
export function windowReference(
  rows: readonly WindowPrediction[],
  segments: readonly Segment[] = [],
): ReferenceProfile {
  return buildReferenceProfile({
    segments,
    schema: WINDOW_SCHEMA,
    task: 'binary',
    labels: ['0', '1'],
    rows: rows.map((r) => r.features),
    outputs: rows.map((r) => ({ ...r.output!, confidence: r.confidence })),
    truth: rows.map((r) => r.label?.value ?? null),
    timestamps: rows.map((r) => r.receivedAt),
  });
}

/** The summary of one window of these rows (their labels all arrived in it), measured for `segments`. */
export function measureWindowRows(
  reference: ReferenceProfile,
  rows: readonly WindowPrediction[],
  seq: number,
  segments: readonly Segment[],
): WindowSummary {
  return measureWindow({
    task: 'binary',
    labels: ['0', '1'],
    reference,
    seq,
    schema: WINDOW_SCHEMA,
    previousArrival: null,
    startAt: rows[0]!.receivedAt,
    endAt: new Date(rows.at(-1)!.receivedAt.getTime() + 1),
    minRows: 30,
    arrivals: rows,
    labelledInWindow: rows.filter((r) => r.label !== null),
    segments,
  }).summary;
}
