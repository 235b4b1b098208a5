// Monitor: measures one window of a model's traffic from the store.
//
// Window n holds the predictions received since window n−1 closed, up to now. A row's receivedAt is set
// before its transaction commits, so a row stamped just before a window closed may become visible only
// after: to lose none, each window also re-reads the last `lagMs` of its predecessor and skips the rows
// its predecessor already counted (their ids are stored with it, `tail`). Rows that take longer than
// `lagMs` to commit would still be missed; the writers commit in tens of milliseconds.
// Performance is measured on the *labels received in the window* — whichever window their predictions
// arrived in — not on the window's own predictions, most of which have no label yet when it closes. So a
// concept drift shows as soon as the labels of the affected predictions come back, label delay shifts it
// by that delay and no more, and every label is counted exactly once. The window's own predictions give
// everything else: drift, data quality, system metrics, confidence and the label-free estimate (which
// stands in for performance while labels lag).
import type { Store } from '../lib/db/client.ts';
import type { FeatureSchema, Task } from '../lib/domain.ts';
import { logger } from '../lib/log.ts';
import {
  computeWindowMetrics,
  errorRuns,
  type RawOutput,
  type ReferenceProfile,
  summarizeForAgent,
  tallyOutputs,
  type WindowMetrics,
  type WindowPrediction,
} from '../lib/monitor/index.ts';
import { DEFAULT_POLICY, type Policy, parsePolicy } from '../lib/policy/policy.ts';
import type { WindowSummary } from '../workflows/types.ts';
import { modelNotFound } from './errors.ts';

export interface MonitorRequest {
  modelName: string;
  /** Window number; one per agent cycle, so a retried activity measures the same window again. */
  seq: number;
}

export const MONITOR_DEFAULTS = {
  /** Rows stamped this long before a window closed may commit after it: the next window re-reads them. */
  lagMs: 250,
  /**
   * Runs of the per-row error stream a window summary carries at most (≈ 6 bytes each in the workflow
   * history): 10,000 covers 50,000 labelled rows at a 10 % error rate. Beyond, detect reads the counts.
   */
  maxErrorRuns: 10_000,
};

export interface MonitorOptions {
  lagMs?: number;
  /** The clock; tests and backtests drive it. */
  now?: () => Date;
}

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
 * The policy the monitor and detect use: the model's stored policy (Model.policy), validated. The API
 * refuses an invalid policy, so one here was written around it (or by an older version): the model is
 * still monitored, with the defaults, and the problem is logged rather than thrown every cycle.
 */
export function policyFor(model: { name?: string; policy: unknown }): Policy {
  if (model.policy === null || model.policy === undefined) return DEFAULT_POLICY;
  const parsed = parsePolicy(model.policy);
  if (parsed.ok) return parsed.policy;
  logger.warn(
    { model: model.name, issues: parsed.issues },
    'stored policy is invalid; monitoring with the default policy',
  );
  return DEFAULT_POLICY;
}

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
  const runs = errorRuns(tallyOutputs(task, classes, rows).valid, MONITOR_DEFAULTS.maxErrorRuns);
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

const PREDICTION_FIELDS = {
  id: true,
  features: true,
  output: true,
  confidence: true,
  latencyMs: true,
  error: true,
  predictedAt: true,
  receivedAt: true,
} as const;

/**
 * Performance is the production version's: a label counts when production answered its prediction (or
 * the version is not recorded, as for logged predictions of an external model). Labels of answers the
 * fallback gave while production was shielded, of a canary's share, or of the version a retrain or
 * rollback replaced keep arriving for minutes after the deployment changed; judged as production's
 * performance they would look like a concept drift of a model that never saw those rows.
 */
function servedByProduction(versionId: string | null, productionVersionId: string | null): boolean {
  return versionId === null || productionVersionId === null || versionId === productionVersionId;
}

interface PredictionRow {
  id: string;
  features: unknown;
  output: unknown;
  confidence: number | null;
  latencyMs: number | null;
  error: string | null;
  predictedAt: Date;
  receivedAt: Date;
}

function toWindowPrediction(
  p: PredictionRow,
  label: { value: unknown; observedAt: Date } | null,
): WindowPrediction {
  return {
    id: p.id,
    features: (p.features ?? {}) as WindowPrediction['features'],
    output: (p.output ?? null) as RawOutput | null,
    confidence: p.confidence,
    latencyMs: p.latencyMs,
    error: p.error,
    predictedAt: p.predictedAt,
    receivedAt: p.receivedAt,
    label: label ? { value: label.value as string | number, observedAt: label.observedAt } : null,
  };
}

export function createMonitorActivities(store: Store, options: MonitorOptions = {}) {
  const lagMs = options.lagMs ?? MONITOR_DEFAULTS.lagMs;
  const clock = options.now ?? (() => new Date());
  return {
    /**
     * Closes window `seq` and stores its metrics (MetricWindow.metrics: StoredWindowMetrics).
     * Idempotent: a window that was already stored is returned as it was.
     */
    async monitorWindow({ modelName, seq }: MonitorRequest): Promise<WindowSummary> {
      const model = await store.model.findUnique({ where: { name: modelName } });
      if (!model) throw modelNotFound(modelName);
      const existing = await store.metricWindow.findUnique({
        where: { modelId_seq: { modelId: model.id, seq } },
      });
      if (existing) {
        // Windows stored before the full monitor hold the summary itself.
        const stored = existing.metrics as unknown as Partial<StoredWindowMetrics> & WindowSummary;
        return stored.summary ?? stored;
      }

      const previous = await store.metricWindow.findFirst({
        where: { modelId: model.id, seq: { lt: seq } },
        orderBy: { seq: 'desc' },
      });
      const startAt = previous?.endAt ?? model.createdAt;
      const now = clock();
      const endAt = new Date(Math.max(now.getTime(), startAt.getTime()));
      const scanFrom = new Date(startAt.getTime() - (previous ? lagMs : 0));
      const counted = (previous?.metrics as { tail?: StoredWindowMetrics['tail'] } | null)?.tail;
      const countedPredictions = new Set(counted?.predictions ?? []);
      const countedLabels = new Set(counted?.labels ?? []);
      const policy = policyFor(model);

      // Shadow copies are another version's answers to the same requests: not this model's traffic.
      const served = { not: 'shadow' };
      const [revision, predictionRows, allLabelRows, before] = await Promise.all([
        store.deploymentRevision.findFirst({
          where: { modelId: model.id },
          orderBy: { revision: 'desc' },
        }),
        store.prediction.findMany({
          where: { modelId: model.id, source: served, receivedAt: { gt: scanFrom, lte: endAt } },
          select: {
            ...PREDICTION_FIELDS,
            label: { select: { value: true, observedAt: true, receivedAt: true } },
          },
        }),
        store.label.findMany({
          where: {
            modelId: model.id,
            receivedAt: { gt: scanFrom, lte: endAt },
            prediction: { source: served },
          },
          select: {
            id: true,
            value: true,
            observedAt: true,
            receivedAt: true,
            prediction: { select: { ...PREDICTION_FIELDS, versionId: true } },
          },
        }),
        store.prediction.findFirst({
          where: { modelId: model.id, source: served, receivedAt: { lte: startAt } },
          orderBy: { receivedAt: 'desc' },
          select: { receivedAt: true },
        }),
      ]);
      const arrivalRows = predictionRows.filter((p) => !countedPredictions.has(p.id));
      const labelRows = allLabelRows.filter((l) => !countedLabels.has(l.id));
      const tailFrom = endAt.getTime() - lagMs;
      // Every row of the last `lagMs` has been counted by now, by this window or an earlier one (windows
      // can be shorter than the lag): the next window skips them all.
      const tail = {
        predictions: predictionRows.filter((p) => p.receivedAt.getTime() > tailFrom).map((p) => p.id),
        labels: allLabelRows.filter((l) => l.receivedAt.getTime() > tailFrom).map((l) => l.id),
      };
      // The serving production version's profile; none (no revision, no production version, no
      // profile) leaves drift unjudged and the metrics say `reference: 'none'`.
      const version = revision?.productionVersionId
        ? await store.modelVersion.findUnique({
            where: { id: revision.productionVersionId },
            select: { referenceStats: true },
          })
        : null;
      const reference = (version?.referenceStats ?? null) as ReferenceProfile | null;

      const productionLabels = labelRows.filter((l) =>
        servedByProduction(l.prediction.versionId, revision?.productionVersionId ?? null),
      );
      // For the arrivals, the labels received by the window's close (their coverage so far).
      const arrivals = arrivalRows.map((p) =>
        toWindowPrediction(p, p.label && p.label.receivedAt <= endAt ? p.label : null),
      );
      const { metrics, summary } = measureWindow({
        seq,
        schema: model.featureSchema as unknown as FeatureSchema,
        task: model.task as Task,
        labels: (model.labels ?? null) as string[] | null,
        reference,
        arrivals,
        labelledInWindow: productionLabels.map((l) => toWindowPrediction(l.prediction, l)),
        labelledElsewhere: labelRows.length - productionLabels.length,
        previousArrival: before?.receivedAt ?? null,
        startAt,
        endAt,
        minRows: policy.window.minRows,
      });
      await store.metricWindow.upsert({
        where: { modelId_seq: { modelId: model.id, seq } },
        create: {
          modelId: model.id,
          seq,
          startAt,
          endAt,
          count: summary.count,
          labelled: summary.labelled,
          metrics: { ...metrics, tail } as object,
        },
        update: {},
      });
      return summary;
    },
  };
}
