// Task metrics of a model on labelled rows: what a version's validation metrics and its baseline metrics
// (the performance monitoring compares production against) are made of.
//
// Defaults: the positive class of a binary model is the second of its class labels (['0', '1'] → '1',
// ['no', 'yes'] → 'yes'), since models list their labels sorted; multiclass precision, recall and F1 are
// macro averages over the classes; log-loss clips probabilities to [1e-15, 1 - 1e-15] as scikit-learn does.
import type { Task } from '../domain.ts';
import type { Label, ModelOutput } from '../models/types.ts';

export interface ClassificationMetrics {
  rows: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** Null when the model gave no class probabilities. */
  logLoss: number | null;
}

export interface RegressionMetrics {
  rows: number;
  rmse: number;
  mae: number;
  /** Coefficient of determination; null when the labels are constant. */
  r2: number | null;
}

export type TaskMetrics = ClassificationMetrics | RegressionMetrics;

const LOG_LOSS_EPSILON = 1e-15;

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

function classScores(classes: readonly string[], predicted: string[], actual: string[]) {
  return classes.map((c) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < actual.length; i++) {
      if (predicted[i] === c && actual[i] === c) tp++;
      else if (predicted[i] === c) fp++;
      else if (actual[i] === c) fn++;
    }
    const precision = ratio(tp, tp + fp);
    const recall = ratio(tp, tp + fn);
    return { precision, recall, f1: ratio(2 * precision * recall, precision + recall) };
  });
}

export function classificationMetrics(
  task: 'binary' | 'multiclass',
  classes: readonly string[],
  outputs: readonly ModelOutput[],
  labels: readonly Label[],
): ClassificationMetrics {
  const predicted = outputs.map((o) => String(o.prediction));
  const actual = labels.map(String);
  const correct = predicted.filter((p, i) => p === actual[i]).length;
  const scores = classScores(task === 'binary' ? [classes[1]!] : classes, predicted, actual);
  const mean = (key: 'precision' | 'recall' | 'f1') => scores.reduce((s, c) => s + c[key], 0) / scores.length;
  const withProbabilities = outputs.every((o) => o.probabilities !== undefined);
  let logLoss: number | null = null;
  if (withProbabilities && outputs.length > 0) {
    let sum = 0;
    outputs.forEach((o, i) => {
      const p = o.probabilities![actual[i]!] ?? 0;
      sum -= Math.log(Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, p)));
    });
    logLoss = sum / outputs.length;
  }
  return {
    rows: outputs.length,
    accuracy: ratio(correct, outputs.length),
    precision: mean('precision'),
    recall: mean('recall'),
    f1: mean('f1'),
    logLoss,
  };
}

export function regressionMetrics(
  outputs: readonly ModelOutput[],
  labels: readonly number[],
): RegressionMetrics {
  const n = outputs.length;
  let squared = 0;
  let absolute = 0;
  const meanLabel = labels.reduce((s, y) => s + y, 0) / (n || 1);
  let total = 0;
  outputs.forEach((o, i) => {
    const error = Number(o.prediction) - labels[i]!;
    squared += error ** 2;
    absolute += Math.abs(error);
    total += (labels[i]! - meanLabel) ** 2;
  });
  return {
    rows: n,
    rmse: Math.sqrt(ratio(squared, n)),
    mae: ratio(absolute, n),
    r2: total > 0 ? 1 - squared / total : null,
  };
}

/** Metrics for the model's task; `classes` are the model's class labels (unused for regression). */
export function taskMetrics(
  task: Task,
  classes: readonly string[],
  outputs: readonly ModelOutput[],
  labels: readonly Label[],
): TaskMetrics {
  if (outputs.length !== labels.length) {
    throw new RangeError(`taskMetrics: ${outputs.length} outputs but ${labels.length} labels`);
  }
  return task === 'regression'
    ? regressionMetrics(outputs, labels as number[])
    : classificationMetrics(task, classes, outputs, labels);
}
