// A window's measurement from rows in memory: the monitor activity's work without the store, and the
// digest the agent carries. Pure, so the monitor activity, the backtest and the benches measure alike.
import type { WindowSummary } from '../brain/types.ts';
import type { FeatureSchema, Task } from '../domain.ts';
import {
  computeWindowMetrics,
  errorRuns,
  type ReferenceProfile,
  summarizeForAgent,
  tallyOutputs,
  type WindowMetrics,
  type WindowPrediction,
} from './index.ts';

/**
 * Runs of the per-row error stream a window summary carries at most (≈ 6 bytes each in the workflow
 * history): 10,000 covers 50,000 labelled rows at a 10 % error rate. Beyond, detect reads the counts.
 */
const MAX_ERROR_RUNS = 10_000;

/** What MetricWindow.metrics holds: the full metrics of the window's arrivals, the realised performance, the digest. */
export type StoredWindowMetrics = WindowMetrics & {
  realised: {
    basis: 'labels_received_in_window';
    /** Labelled predictions whose label arrived in the window. */
    rows: number;
    performance: WindowMetrics['performance'];
    labels: WindowMetrics['labels'];
    estimate: WindowMetrics['estimate'];
  };
  summary: WindowSummary;
  /** Ids of the rows counted here that were received within `lagMs` of the close, for the next window. */
  tail: { predictions: string[]; labels: string[] };
  /**
   * The realised accuracy and correct rows (summary.accuracy, summary.correct) at the top level, where
   * the history API (api/routes/history.ts) has read them since windows held only the summary.
   */
  accuracy: number | null;
  correct: number;
};

/**
 * The workflow's digest of a window (pure; the bench and tests use it without a store): the arrivals'
 * metrics for everything but performance, which comes from the rows labelled in the window.
 */
export function summarizeWindow(input: {
  seq: number;
  startAt: Date;
  endAt: Date;
  arrivals: WindowMetrics;
  realised: WindowMetrics;
  reference: ReferenceProfile | null;
  minRows: number;
}): WindowSummary {
  const a = summarizeForAgent(input.arrivals);
  const r = summarizeForAgent(input.realised);
  const referenceUsed = input.arrivals.reference === 'used' ? input.reference : null;
  const basePerformance = referenceUsed?.performance ?? null;
  return {
    seq: input.seq,
    startAt: input.startAt.toISOString(),
    endAt: input.endAt.toISOString(),
    count: a.count,
    labelled: r.labelled,
    correct: r.correct ?? 0,
    accuracy: r.accuracy,
    reference: input.arrivals.reference,
    task: input.arrivals.task,
    minRows: input.minRows,
    f1: r.f1,
    logLoss: r.logLoss,
    rmse: r.rmse,
    mae: r.mae,
    referenceAccuracy:
      basePerformance && basePerformance.task !== 'regression' ? basePerformance.accuracy : null,
    referenceRmse: basePerformance?.task === 'regression' ? basePerformance.rmse : null,
    referenceLogLoss:
      basePerformance && basePerformance.task !== 'regression' ? basePerformance.logLoss : null,
    labelCoverage: a.labelCoverage,
    labelDelayP95Seconds: r.labelDelayP95Seconds,
    estimatedAccuracy: a.estimatedAccuracy,
    estimateTrustworthy: a.estimateTrustworthy,
    referenceMeanConfidence: referenceUsed?.confidence?.metrics.mean ?? null,
    meanConfidence: a.meanConfidence,
    errorRate: a.errorRate,
    invalidOutputRate: a.invalidOutputRate,
    failureRate: a.failureRate,
    latencyP50Ms: a.latencyP50Ms,
    latencyP95Ms: a.latencyP95Ms,
    throughputPerMinute: a.throughputPerMinute,
    secondsSinceLastArrival: a.secondsSinceLastArrival,
    gapRatio: a.gapRatio,
    usualArrivalSource: input.arrivals.system.arrivals.usualSource,
    longestGapRatio: a.longestGapRatio,
    featuresJudged: a.featuresJudged,
    drift: a.drift,
    predictionPsi: a.predictionPsi,
    predictionDriftPValue: a.predictionDriftPValue,
    quality: a.quality,
  };
}

/** Measures one window from rows in memory (the activity's work without the store). */
export function measureWindow(input: {
  seq: number;
  schema: FeatureSchema;
  task: Task;
  labels: readonly string[] | null;
  reference: ReferenceProfile | null;
  arrivals: readonly WindowPrediction[];
  /** Predictions whose label arrived in the window and that production answered: performance. */
  labelledInWindow: readonly WindowPrediction[];
  /** Labels that arrived in the window for answers other versions gave (see servedByProduction). */
  labelledElsewhere?: number;
  previousArrival: Date | null;
  startAt: Date;
  endAt: Date;
  minRows: number;
}): { metrics: Omit<StoredWindowMetrics, 'tail'>; summary: WindowSummary } {
  const common = { schema: input.schema, task: input.task, labels: input.labels, reference: input.reference };
  // Label-arrival order (then id, for a deterministic order among equal times): the error stream's order.
  const labelledInWindow = [...input.labelledInWindow].sort(
    (a, b) =>
      (a.label?.observedAt.getTime() ?? 0) - (b.label?.observedAt.getTime() ?? 0) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const arrivals = computeWindowMetrics({
    ...common,
    predictions: input.arrivals,
    previousArrival: input.previousArrival,
    windowStart: input.startAt,
    now: input.endAt,
  });
  const realised = computeWindowMetrics({
    ...common,
    predictions: labelledInWindow,
    windowStart: input.startAt,
    now: input.endAt,
  });
  const summary = storable({
    ...summarizeWindow({ ...input, arrivals, realised }),
    ...(input.labelledElsewhere ? { labelledElsewhere: input.labelledElsewhere } : {}),
    ...positiveRate(realised.classes, labelledInWindow),
    ...errorStream(input.task, realised.classes, labelledInWindow),
  });
  return {
    metrics: {
      ...arrivals,
      realised: {
        basis: 'labels_received_in_window',
        rows: input.labelledInWindow.length,
        performance: realised.performance,
        labels: realised.labels,
        estimate: realised.estimate,
      },
      summary,
      accuracy: summary.accuracy,
      correct: summary.correct,
    },
    summary,
  };
}

/**
 * Calibration in the large on the rows labelled in the window (binary classifiers with probabilities):
 * how many were positive against how many the model expected (Σ p). A concept drift that changes who
 * defaults shows here long before accuracy moves, because a rare positive class barely moves accuracy.
 */
function positiveRate(
  classes: string[] | null,
  rows: readonly WindowPrediction[],
): Pick<WindowSummary, 'positives' | 'expectedPositives' | 'positivesVariance' | 'positivesRows'> {
  const positive = classes?.length === 2 ? classes[1]! : null;
  if (positive === null) return {};
  let n = 0;
  let observed = 0;
  let expected = 0;
  let variance = 0;
  for (const row of rows) {
    const p = row.output?.probabilities?.[positive];
    if (row.label === null || typeof p !== 'number' || !(p >= 0 && p <= 1)) continue;
    n++;
    if (String(row.label.value) === positive) observed++;
    expected += p;
    variance += p * (1 - p);
  }
  return n > 0
    ? { positives: observed, expectedPositives: expected, positivesVariance: variance, positivesRows: n }
    : {};
}

/** The labelled rows' 0/1 error stream, run-length encoded, for detect's sequential test (classifiers). */
function errorStream(
  task: Task,
  classes: string[] | null,
  rows: readonly WindowPrediction[],
): Pick<WindowSummary, 'errorRuns'> {
  if (task === 'regression' || classes === null || rows.length === 0) return {};
  const runs = errorRuns(tallyOutputs(task, classes, rows).valid, MAX_ERROR_RUNS);
  return runs ? { errorRuns: runs } : {};
}

/**
 * Numbers at 15 significant digits, as SQLite's JSON keeps them: a retried activity returns the stored
 * summary, and it must equal the one the first attempt returned.
 */
function storable<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (_key, v) =>
    typeof v === 'number' ? Number(v.toPrecision(15)) : v,
  );
}
