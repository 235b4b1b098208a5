// The baselines every case is also run with, on the same stream and the same model family as the
// agent (notes: evaluating-autonomy.md). Each is a loop over the replayed rows in time order: before a
// row is served, the labels that have arrived by its time are read (in the order they arrive); a refit
// trains on the most recent labelled rows known by then and serves from that row on.
// - no agent: version 1 throughout;
// - ADWIN + refit: ADWIN (delta 0.002, lib/detectors/adwin.ts) on the 0/1 error stream — for a
//   regressor, 1 when the absolute error exceeds version 1's mean absolute error on the reference rows —
//   and on an alarm a refit on the last N labelled rows, deployed at once (the textbook loop);
// - dataset drift + refit: Evidently's rule (dataset-drift.ts) on each batch of arrivals against a
//   reference of the last ≤ 1,000 training rows; on drift a refit, and its rows become the reference;
// - random trigger: as many refits as the agent promoted, at uniformly random rows;
// - oracle: a refit on the first K labelled rows after each change, deployed K rows after it (every K
//   rows for a change that keeps moving); for an upstream fault, noise or no change, version 1.
import type { StreamFile } from '../../backtest/stream-file.ts';
import { Adwin } from '../../detectors/adwin.ts';
import type { ModelAdapter } from '../../models/index.ts';
import { Random } from '../../sim/random.ts';
import type { CaseChange } from './case.ts';
import { DATASET_DRIFT_DEFAULTS, datasetDrift } from './dataset-drift.ts';
import { type Answer, type LossScale, ServingLoop } from './serving.ts';

export const BASELINE_DEFAULTS = {
  /** Labelled rows a refit trains on (the reference size, as version 1 had). */
  refitRows: 2000,
  adwinDelta: 0.002,
  /** Arrivals per dataset-drift check. */
  driftBatchRows: 1000,
  /** Oracle: labelled rows after a change it refits on, and rows after the change it deploys at. */
  oracleRows: 1000,
};

export const BASELINES = ['noAgent', 'adwinRefit', 'datasetDriftRefit', 'randomRefit', 'oracle'] as const;
export type Baseline = (typeof BASELINES)[number];

export interface BaselineContext {
  stream: StreamFile;
  /** Rows before this are the reference: known and labelled before the replay starts. */
  first: number;
  initial: ModelAdapter;
  /** Trains the model family on these rows (indices into stream.rows); null when it cannot (one class only). */
  refit: (rows: number[]) => Promise<ModelAdapter | null>;
  scale: LossScale;
  /** Version 1's mean absolute error on the reference rows (regression), for ADWIN's error stream. */
  referenceMae: number;
}

export interface BaselineRun {
  answers: Answer[];
  /** Each refit: the row it serves from and the rows it was trained on. */
  refits: { at: number; trainedOn: number[] }[];
}

/** What a loop may do before row `i` is served, having just read the label of `labelled` (or nothing). */
interface LoopHooks {
  /** After a label arrives: true to refit now. */
  onLabel?: (row: number, answer: Answer) => boolean;
  /** Before row i is served: true to refit now. */
  onArrival?: (i: number) => boolean;
  /** After a refit (its training rows). */
  afterRefit?: (trainedOn: number[]) => void;
}

async function runLoop(ctx: BaselineContext, hooks: LoopHooks): Promise<BaselineRun> {
  const { stream, first } = ctx;
  const rows = stream.rows;
  const loop = new ServingLoop(stream, first, ctx.initial);
  const refits: BaselineRun['refits'] = [];
  const byLabel: number[] = [];
  for (let i = first; i < rows.length; i++) if (rows[i]!.label !== null) byLabel.push(i);
  byLabel.sort((a, b) => rows[a]!.labelTs! - rows[b]!.labelTs! || a - b);
  const known: number[] = [];
  for (let i = 0; i < first; i++) if (rows[i]!.label !== null) known.push(i);
  let next = 0;
  const refitAt = async (i: number) => {
    const trainedOn = [...known]
      .sort((a, b) => b - a)
      .slice(0, BASELINE_DEFAULTS.refitRows)
      .reverse();
    const model = await ctx.refit(trainedOn);
    if (!model) return;
    await loop.replace(model, i);
    refits.push({ at: i, trainedOn });
    hooks.afterRefit?.(trainedOn);
  };
  for (let i = first; i < rows.length; i++) {
    let refit = false;
    while (next < byLabel.length && rows[byLabel[next]!]!.labelTs! <= rows[i]!.ts) {
      const j = byLabel[next++]!;
      known.push(j);
      if (hooks.onLabel?.(j, await loop.answerOf(j, i))) refit = true;
    }
    if (hooks.onArrival?.(i)) refit = true;
    if (refit) await refitAt(i);
  }
  await loop.flush(rows.length);
  return { answers: loop.answers, refits };
}

export function noAgent(ctx: BaselineContext): Promise<BaselineRun> {
  return runLoop(ctx, {});
}

/** 1 when the answer is wrong; for a regressor, when its absolute error exceeds version 1's reference MAE. */
export function errorBit(ctx: BaselineContext, answer: Answer, label: string | number | null): number {
  if (ctx.scale.task !== 'regression') return answer !== null && String(answer) === String(label) ? 0 : 1;
  return answer === null || Math.abs(Number(answer) - Number(label)) > ctx.referenceMae ? 1 : 0;
}

export function adwinRefit(ctx: BaselineContext): Promise<BaselineRun> {
  let adwin = new Adwin({ delta: BASELINE_DEFAULTS.adwinDelta });
  return runLoop(ctx, {
    onLabel: (j, answer) => {
      adwin.update(errorBit(ctx, answer, ctx.stream.rows[j]!.label));
      return adwin.driftDetected;
    },
    // The new model's errors start a new stream.
    afterRefit: () => {
      adwin = new Adwin({ delta: BASELINE_DEFAULTS.adwinDelta });
    },
  });
}

export function datasetDriftRefit(ctx: BaselineContext): Promise<BaselineRun> {
  const { stream, first } = ctx;
  const features = (indices: number[]) => indices.map((i) => stream.rows[i]!.features);
  const lastRows = (indices: number[]) => indices.slice(-DATASET_DRIFT_DEFAULTS.maxReferenceRows);
  let reference = features(lastRows(Array.from({ length: first }, (_, i) => i)));
  let batchStart = first;
  return runLoop(ctx, {
    onArrival: (i) => {
      if (i - batchStart < BASELINE_DEFAULTS.driftBatchRows) return false;
      const batch = Array.from({ length: i - batchStart }, (_, k) => batchStart + k);
      batchStart = i;
      return datasetDrift(stream.schema, reference, features(batch)).drifted;
    },
    afterRefit: (trainedOn) => {
      reference = features(lastRows(trainedOn));
    },
  });
}

export function randomRefit(ctx: BaselineContext, count: number, seed: number): Promise<BaselineRun> {
  const rng = new Random(seed);
  const at = new Set(Array.from({ length: count }, () => rng.int(ctx.first, ctx.stream.rows.length - 1)));
  return runLoop(ctx, { onArrival: (i) => at.has(i) });
}

/** Rows [from, from + K) of the stream with a label: what the oracle learns from (labels known at once). */
function firstLabelled(ctx: BaselineContext, from: number): number[] {
  const out: number[] = [];
  for (let i = from; i < ctx.stream.rows.length && out.length < BASELINE_DEFAULTS.oracleRows; i++)
    if (ctx.stream.rows[i]!.label !== null) out.push(i);
  return out;
}

export async function oracle(ctx: BaselineContext, change: CaseChange): Promise<BaselineRun> {
  const K = BASELINE_DEFAULTS.oracleRows;
  const n = ctx.stream.rows.length;
  const starts: number[] = [];
  if (change.kind === 'concept' || change.kind === 'covariate') {
    const at = ctx.first + change.at;
    if (change.kind === 'concept' && change.incremental) for (let s = at; s + K < n; s += K) starts.push(s);
    else starts.push(at);
    if (change.kind === 'concept' && change.until !== undefined) starts.push(ctx.first + change.until);
  }
  const loop = new ServingLoop(ctx.stream, ctx.first, ctx.initial);
  const refits: BaselineRun['refits'] = [];
  for (const s of starts) {
    if (s + K >= n) continue;
    const trainedOn = firstLabelled(ctx, s);
    const model = await ctx.refit(trainedOn);
    if (!model) continue;
    const deployAt = s + K;
    await loop.replace(model, deployAt);
    refits.push({ at: deployAt, trainedOn });
  }
  await loop.flush(n);
  return { answers: loop.answers, refits };
}
