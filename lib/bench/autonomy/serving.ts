// What every approach is scored on: the answer each replayed row was served, and its loss against the
// truth. Classification: 0/1 error. Regression: absolute error in units of the reference labels'
// standard deviation, capped at MAX_REGRESSION_LOSS: an answer that far off is useless however far it
// is, and one corrupted row must not outweigh thousands (a ×100 unit change gives errors of 100 sd).
// A row nobody answered (predictions disabled) is scored as a wrong class, or as the reference mean
// for a regressor: a refused answer is worth no more than knowing nothing.

import type { StreamFile } from '../../backtest/stream-file.ts';
import type { Task } from '../../domain.ts';
import type { ModelAdapter } from '../../models/index.ts';

export type Answer = string | number | null;

export const MAX_REGRESSION_LOSS = 3;

export interface LossScale {
  task: Task;
  /** Reference labels' mean and standard deviation (regression). */
  mean: number;
  sd: number;
}

export function lossScale(stream: StreamFile, referenceRows: number): LossScale {
  if (stream.task !== 'regression') return { task: stream.task, mean: 0, sd: 1 };
  const ys = stream.rows.slice(0, referenceRows).map((r) => Number(r.label));
  const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
  const sd = Math.sqrt(ys.reduce((a, y) => a + (y - mean) ** 2, 0) / (ys.length - 1)) || 1;
  return { task: stream.task, mean, sd };
}

export function rowLoss(scale: LossScale, answer: Answer, label: string | number | null): number {
  if (label === null) return 0;
  if (scale.task !== 'regression') return answer !== null && String(answer) === String(label) ? 0 : 1;
  const predicted = answer === null ? scale.mean : Number(answer);
  return Math.min(MAX_REGRESSION_LOSS, Math.abs(predicted - Number(label)) / scale.sd);
}

/** Predicts `indices` of the stream with one model, in one batch. */
export async function answer(model: ModelAdapter, stream: StreamFile, indices: number[]): Promise<Answer[]> {
  const outputs = await model.predict(indices.map((i) => stream.rows[i]!.features));
  return outputs.map((o) => o.prediction);
}

/**
 * The answers of a model that can be replaced while the stream runs: a replacement serves from the row
 * it is made at. Answers are computed in batches, lazily: the rows served since the last replacement
 * are predicted when one of them is asked for or when the model changes.
 */
export class ServingLoop {
  readonly answers: Answer[];
  private predictedUpTo: number;

  constructor(
    private readonly stream: StreamFile,
    first: number,
    private model: ModelAdapter,
  ) {
    this.answers = new Array(stream.rows.length).fill(null);
    this.predictedUpTo = first;
  }

  /** The answer row i got; i must have arrived (i < arrived). */
  async answerOf(i: number, arrived: number): Promise<Answer> {
    if (i >= this.predictedUpTo) await this.flush(arrived);
    return this.answers[i]!;
  }

  /** From row `at` on, `model` serves. */
  async replace(model: ModelAdapter, at: number): Promise<void> {
    await this.flush(at);
    this.model = model;
  }

  /** Predicts the rows up to `to` (exclusive) with the model serving now. */
  async flush(to: number): Promise<void> {
    if (to <= this.predictedUpTo) return;
    const indices = Array.from({ length: to - this.predictedUpTo }, (_, k) => this.predictedUpTo + k);
    const out = await answer(this.model, this.stream, indices);
    indices.forEach((i, k) => {
      this.answers[i] = out[k]!;
    });
    this.predictedUpTo = to;
  }
}
