// Task metrics on labelled rows — the realised performance the label-free estimate is checked against —
// and how complete and timely the labels are.
import type { Task } from '../domain.ts';
import { mannWhitneyU, type SampleSums } from '../stats/index.ts';
import { QuantileSketch } from '../stats/quantile-sketch.ts';
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
  /**
   * The rows' squared errors as sums (n = count, Σe², Σe⁴): enough for a test of the mean squared error
   * without the rows (the segment rule, lib/brain/findings/segment.ts), and sums of windows add up.
   */
  squaredErrors: SampleSums;
}

export type Performance = ClassificationPerformance | RegressionPerformance;

/**
 * Classification performance folded page by page (add), so that a window of any size is measured in
 * the memory of one page; classificationPerformance is the one-page case. Everything is a count or a
 * sum except ROC AUC, read from quantile sketches of the two classes' scores (lib/stats/quantile-sketch:
 * exact up to `exactValues` scores per class, within the sketches' rank error beyond).
 */
export class ClassificationAccumulator {
  private readonly truePositives: Float64Array;
  private readonly support: Float64Array;
  private readonly predicted: Float64Array;
  private count = 0;
  private correct = 0;
  private withProbabilities = 0;
  private logLossSum = 0;
  private readonly positive: number | null;
  private readonly positiveScores: QuantileSketch;
  private readonly negativeScores: QuantileSketch;

  constructor(
    private readonly task: Exclude<Task, 'regression'>,
    private readonly classes: readonly string[],
    exactValues: number,
    private readonly logLossEpsilon = PERFORMANCE_DEFAULTS.logLossEpsilon,
  ) {
    const k = classes.length;
    this.truePositives = new Float64Array(k);
    this.support = new Float64Array(k);
    this.predicted = new Float64Array(k);
    this.positive = task === 'binary' && k >= 2 ? 1 : null;
    this.positiveScores = new QuantileSketch(exactValues);
    this.negativeScores = new QuantileSketch(exactValues);
  }

  add(valid: ValidOutputs): this {
    const { logLossEpsilon, positive } = this;
    for (let i = 0; i < valid.count; i++) {
      const truth = valid.truth[i]!;
      if (Number.isNaN(truth)) continue;
      const prediction = valid.predicted[i]!;
      this.count++;
      this.support[truth]!++;
      this.predicted[prediction]!++;
      if (truth === prediction) {
        this.truePositives[truth]!++;
        this.correct++;
      }
      const p = valid.probabilities[i * valid.classCount + truth]!;
      if (!Number.isNaN(p)) {
        this.withProbabilities++;
        this.logLossSum -= Math.log(Math.min(1 - logLossEpsilon, Math.max(logLossEpsilon, p)));
      }
      if (positive !== null) {
        const score = valid.probabilities[i * valid.classCount + positive]!;
        if (!Number.isNaN(score)) (truth === positive ? this.positiveScores : this.negativeScores).add(score);
      }
    }
    return this;
  }

  /** Null without labelled valid outputs. */
  result(): ClassificationPerformance | null {
    const { task, classes, count, correct, withProbabilities, positive } = this;
    if (count === 0) return null;
    const metricsOf = (i: number): ClassMetrics => {
      const tp = this.truePositives[i]!;
      const s = this.support[i]!;
      const p = this.predicted[i]!;
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
      .filter((i) => this.support[i]! + this.predicted[i]! > 0)
      .map(metricsOf);
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
      logLoss: withProbabilities > 0 ? this.logLossSum / withProbabilities : null,
      rocAuc: positive === null ? null : this.rocAuc(),
    };
  }

  private rocAuc(): number | null {
    if (this.positiveScores.count === 0 || this.negativeScores.count === 0) return null;
    return mannWhitneyU(this.negativeScores.sample(), this.positiveScores.sample()).probabilityOfSuperiority;
  }
}

/** On the labelled valid outputs; null without any. */
export function classificationPerformance(
  task: Exclude<Task, 'regression'>,
  classes: readonly string[],
  valid: ValidOutputs,
  logLossEpsilon = PERFORMANCE_DEFAULTS.logLossEpsilon,
): ClassificationPerformance | null {
  return new ClassificationAccumulator(task, classes, Number.POSITIVE_INFINITY, logLossEpsilon)
    .add(valid)
    .result();
}

/**
 * Regression performance folded page by page; regressionPerformance is the one-page case. The truth's
 * spread for R² is Welford's running sum of squares, which needs no second pass.
 */
export class RegressionAccumulator {
  private n = 0;
  private truthMean = 0;
  private truthSquares = 0;
  private errorSum = 0;
  private absoluteSum = 0;
  private squaredSum = 0;
  private fourthPowerSum = 0;

  add(valid: ValidOutputs): this {
    for (let i = 0; i < valid.count; i++) {
      const truth = valid.truth[i]!;
      if (Number.isNaN(truth)) continue;
      const error = valid.predicted[i]! - truth;
      this.n++;
      const delta = truth - this.truthMean;
      this.truthMean += delta / this.n;
      this.truthSquares += delta * (truth - this.truthMean);
      this.errorSum += error;
      this.absoluteSum += Math.abs(error);
      this.squaredSum += error * error;
      this.fourthPowerSum += error ** 4;
    }
    return this;
  }

  /** Null without labelled valid outputs. */
  result(): RegressionPerformance | null {
    const { n, squaredSum, truthSquares } = this;
    if (n === 0) return null;
    return {
      task: 'regression',
      count: n,
      rmse: Math.sqrt(squaredSum / n),
      mae: this.absoluteSum / n,
      r2: n > 1 && truthSquares > 0 ? 1 - squaredSum / truthSquares : null,
      meanError: this.errorSum / n,
      squaredErrors: { n, sum: squaredSum, sumSquares: this.fourthPowerSum },
    };
  }
}

/** On the labelled valid outputs; null without any. */
export function regressionPerformance(valid: ValidOutputs): RegressionPerformance | null {
  return new RegressionAccumulator().add(valid).result();
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

/** `delaysSeconds`: the labelled rows' delays, as a sketch (a window in pages) or all of them. */
export function labelFeedback(
  rows: number,
  delaysSeconds: QuantileSketch | readonly number[],
  invalid: number,
): LabelFeedback {
  const delays = delaysSeconds instanceof QuantileSketch ? delaysSeconds : QuantileSketch.of(delaysSeconds);
  const labelled = delays.count;
  const [p50, p95] = labelled > 0 ? delays.quantiles([0.5, 0.95]) : [];
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
 * A 0/1 error stream (1 = wrong), run-length encoded: lengths of alternating runs of correct and wrong
 * predictions, starting with a (possibly empty) run of correct ones. Sequential detectors in detect read
 * it; runs keep it compact (at a 10 % error rate, about one number per five rows). Null when the stream
 * needs more than `maxRuns` runs.
 */
export function errorRuns(errors: Iterable<number>, maxRuns: number): number[] | null {
  const runs = [0];
  let wrong = 0;
  for (const x of errors) {
    if (x !== wrong) {
      if (runs.length === maxRuns) return null;
      runs.push(0);
      wrong = x;
    }
    runs[runs.length - 1]!++;
  }
  return runs;
}
