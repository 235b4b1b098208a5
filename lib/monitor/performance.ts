// Task metrics on labelled rows — the realised performance the label-free estimate is checked against —
// and how complete and timely the labels are.
import type { Task } from '../domain.ts';
import { mannWhitneyU, quantiles } from '../stats/index.ts';
import type { ValidOutputs } from './outputs.ts';

export const PERFORMANCE_DEFAULTS = {
  /**
   * Probabilities are clipped to [ε, 1 - ε] before the log, so one confident mistake costs ln(1/ε) ≈ 34.5
   * instead of an infinite log-loss (scikit-learn's long-standing ε).
   */
  logLossEpsilon: 1e-15,
};

export interface ClassMetrics {
  label: string;
  /** Rows whose true class this is. */
  support: number;
  /** Rows predicted as this class. */
  predicted: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface ClassificationPerformance {
  task: 'binary' | 'multiclass';
  /** Labelled rows with a valid output. */
  count: number;
  correct: number;
  accuracy: number;
  /**
   * 'binary': precision, recall and F1 of the positive class (the second class label, null when there
   * is none). 'macro': their unweighted mean over the classes that occur among the true or the
   * predicted labels (scikit-learn's average='macro'). An undefined ratio (a class never predicted has
   * no precision) counts as 0, as in scikit-learn.
   */
  averaging: 'binary' | 'macro';
  positiveClass: string | null;
  precision: number;
  recall: number;
  f1: number;
  /** The classes that occur among the true or the predicted labels, in class order. */
  perClass: ClassMetrics[];
  /** Rows with class probabilities: log-loss and ROC AUC are computed on these. */
  withProbabilities: number;
  logLoss: number | null;
  /**
   * Binary only: probability that a positive row scores above a negative one (ties count ½), from the
   * Mann–Whitney U of the positive-class probabilities; null unless both classes occur.
   */
  rocAuc: number | null;
}

export interface RegressionPerformance {
  task: 'regression';
  count: number;
  rmse: number;
  mae: number;
  /** 1 - SS_res / SS_tot; null with fewer than two rows or constant truth. */
  r2: number | null;
  /** Mean of prediction - truth: positive when the model over-predicts. */
  meanError: number;
}

export type Performance = ClassificationPerformance | RegressionPerformance;

/** On the labelled valid outputs; null without any. */
export function classificationPerformance(
  task: Exclude<Task, 'regression'>,
  classes: readonly string[],
  valid: ValidOutputs,
  logLossEpsilon = PERFORMANCE_DEFAULTS.logLossEpsilon,
): ClassificationPerformance | null {
  const k = classes.length;
  const truePositives = new Float64Array(k);
  const support = new Float64Array(k);
  const predicted = new Float64Array(k);
  let count = 0;
  let correct = 0;
  let withProbabilities = 0;
  let logLossSum = 0;
  for (let i = 0; i < valid.count; i++) {
    const truth = valid.truth[i]!;
    if (Number.isNaN(truth)) continue;
    const prediction = valid.predicted[i]!;
    count++;
    support[truth]!++;
    predicted[prediction]!++;
    if (truth === prediction) {
      truePositives[truth]!++;
      correct++;
    }
    const p = valid.probabilities[i * valid.classCount + truth]!;
    if (!Number.isNaN(p)) {
      withProbabilities++;
      logLossSum -= Math.log(Math.min(1 - logLossEpsilon, Math.max(logLossEpsilon, p)));
    }
  }
  if (count === 0) return null;
  const metricsOf = (i: number): ClassMetrics => {
    const tp = truePositives[i]!;
    const s = support[i]!;
    const p = predicted[i]!;
    // F1 from counts, 2·TP / (2·TP + FP + FN): the harmonic mean where it is defined, 0 where it is not.
    return {
      label: classes[i]!,
      support: s,
      predicted: p,
      precision: p > 0 ? tp / p : 0,
      recall: s > 0 ? tp / s : 0,
      f1: s + p > 0 ? (2 * tp) / (s + p) : 0,
    };
  };
  const perClass = classes
    .map((_, i) => i)
    .filter((i) => support[i]! + predicted[i]! > 0)
    .map(metricsOf);
  const positive = task === 'binary' && k >= 2 ? 1 : null;
  const averaged =
    task === 'binary'
      ? positive === null
        ? { precision: 0, recall: 0, f1: 0 }
        : metricsOf(positive)
      : {
          precision: average(perClass.map((m) => m.precision)),
          recall: average(perClass.map((m) => m.recall)),
          f1: average(perClass.map((m) => m.f1)),
        };
  return {
    task,
    count,
    correct,
    accuracy: correct / count,
    averaging: task === 'binary' ? 'binary' : 'macro',
    positiveClass: positive === null ? null : classes[positive]!,
    precision: averaged.precision,
    recall: averaged.recall,
    f1: averaged.f1,
    perClass,
    withProbabilities,
    logLoss: withProbabilities > 0 ? logLossSum / withProbabilities : null,
    rocAuc: positive === null ? null : rocAuc(valid, positive),
  };
}

function rocAuc(valid: ValidOutputs, positive: number): number | null {
  const positives: number[] = [];
  const negatives: number[] = [];
  for (let i = 0; i < valid.count; i++) {
    const truth = valid.truth[i]!;
    const score = valid.probabilities[i * valid.classCount + positive]!;
    if (Number.isNaN(truth) || Number.isNaN(score)) continue;
    (truth === positive ? positives : negatives).push(score);
  }
  if (positives.length === 0 || negatives.length === 0) return null;
  return mannWhitneyU(negatives, positives).probabilityOfSuperiority;
}

/** On the labelled valid outputs; null without any. */
export function regressionPerformance(valid: ValidOutputs): RegressionPerformance | null {
  let n = 0;
  let truthSum = 0;
  let errorSum = 0;
  let absoluteSum = 0;
  let squaredSum = 0;
  for (let i = 0; i < valid.count; i++) {
    const truth = valid.truth[i]!;
    if (Number.isNaN(truth)) continue;
    const error = valid.predicted[i]! - truth;
    n++;
    truthSum += truth;
    errorSum += error;
    absoluteSum += Math.abs(error);
    squaredSum += error * error;
  }
  if (n === 0) return null;
  const truthMean = truthSum / n;
  let totalSum = 0;
  for (let i = 0; i < valid.count; i++) {
    const truth = valid.truth[i]!;
    if (!Number.isNaN(truth)) totalSum += (truth - truthMean) ** 2;
  }
  return {
    task: 'regression',
    count: n,
    rmse: Math.sqrt(squaredSum / n),
    mae: absoluteSum / n,
    r2: n > 1 && totalSum > 0 ? 1 - squaredSum / totalSum : null,
    meanError: errorSum / n,
  };
}

export interface LabelFeedback {
  /** Rows with a label. */
  labelled: number;
  /** labelled / rows of the window; null for an empty window. */
  coverage: number | null;
  /** Labels that are not one of the class labels (classifiers) or not a finite number (regression). */
  invalid: number;
  /** Seconds from prediction to the label's observation; null without labels. */
  delaySeconds: { p50: number; p95: number } | null;
}

export function labelFeedback(
  rows: number,
  delaysSeconds: readonly number[],
  invalid: number,
): LabelFeedback {
  const labelled = delaysSeconds.length;
  const [p50, p95] = labelled > 0 ? quantiles(delaysSeconds, [0.5, 0.95]) : [];
  return {
    labelled,
    coverage: rows > 0 ? labelled / rows : null,
    invalid,
    delaySeconds: p50 === undefined || p95 === undefined ? null : { p50, p95 },
  };
}

function average(values: readonly number[]): number {
  return values.length > 0 ? values.reduce((sum, x) => sum + x, 0) / values.length : 0;
}

/**
 * The 0/1 error stream of the labelled valid outputs, in row order, run-length encoded: lengths of
 * alternating runs of correct and wrong predictions, starting with a (possibly empty) run of correct
 * ones. Sequential detectors in detect read it; runs keep it compact (at a 10 % error rate, about one
 * number per five rows). Null for a regressor, or when the stream needs more than `maxRuns` runs.
 */
export function errorRuns(valid: ValidOutputs, maxRuns: number): number[] | null {
  if (valid.classCount === 0) return null;
  const runs = [0];
  let wrong = 0;
  for (let i = 0; i < valid.count; i++) {
    const truth = valid.truth[i]!;
    if (Number.isNaN(truth)) continue;
    const x = truth === valid.predicted[i] ? 0 : 1;
    if (x !== wrong) {
      if (runs.length === maxRuns) return null;
      runs.push(0);
      wrong = x;
    }
    runs[runs.length - 1]!++;
  }
  return runs;
}
