// A window's measurement, from rows in pages (the monitor activity reads the store page by page) or in
// memory (one page: the backtest and the benches), and the digest the agent carries. Pure, so the
// monitor activity, the backtest and the benches measure alike.
import type { CustomFindingRule } from '../brain/findings/custom.ts';
import type { SegmentWindow, WindowSummary } from '../brain/types.ts';
import type { WindowCarry } from '../brain/windows.ts';
import type { FeatureSchema, Task } from '../domain.ts';
import { judgeByFindingRules } from '../extensions/finding-rules.ts';
import { inSegment, type Segment } from '../segments/segment.ts';
import {
  errorRuns,
  type ReferenceProfile,
  segmentReference,
  summarizeForAgent,
  type WindowMetrics,
  type WindowOptions,
  type WindowPrediction,
} from './index.ts';
import type { ValidOutputs } from './outputs.ts';
import { observedClasses, WindowAccumulator, windowClasses } from './window.ts';

/**
 * Runs of the per-row error stream a window summary carries at most (≈ 6 bytes each in the workflow
 * history): 10,000 covers 50,000 labelled rows at a 10 % error rate. Beyond, detect reads the counts.
 */
const MAX_ERROR_RUNS = 10_000;

/**
 * Labelled rows whose error stream a window orders (about 60 bytes each): beyond 100,000 labelled rows a
 * window carries no error runs and detect reads the counts, as it does beyond MAX_ERROR_RUNS.
 */
const MAX_ERROR_STREAM_ROWS = 100_000;

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
  /** What this window hands the next one's close (lib/brain/windows.ts); absent in windows stored before. */
  next?: WindowCarry;
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

/** What a window's measurement needs besides its rows. */
export interface MeasureContext {
  seq: number;
  schema: FeatureSchema;
  task: Task;
  reference: ReferenceProfile | null;
  previousArrival: Date | null;
  startAt: Date;
  endAt: Date;
  minRows: number;
  options?: WindowOptions;
  /** The user's own finding rules (lib/extensions/finding-rules.ts), judged on the window measured. */
  findingRules?: { modelName: string; rules: readonly CustomFindingRule[] };
  /** The model's segments (lib/segments): each is measured on its own rows as the window is on all. */
  segments?: readonly Segment[];
}

/**
 * A window measured page by page (the monitor activity reads the store in keyset pages): the arrivals'
 * metrics and the realised performance are WindowAccumulators; calibration in the large is a sum; the
 * error stream keeps (label time, id, wrong) of at most MAX_ERROR_STREAM_ROWS labelled rows, because its
 * order is the labels' and the pages come in arrival order. measureWindow is the one-page case.
 */
export class WindowMeasurer {
  private readonly arrivals: WindowAccumulator;
  private readonly realised: WindowAccumulator;
  private readonly positiveClass: string | null;
  private readonly positives = { rows: 0, observed: 0, expected: 0, variance: 0 };
  private errorStream: { observedAt: number[]; ids: string[]; wrong: number[] } | null;
  private labelledRows = 0;
  private labelledElsewhere = 0;
  /**
   * One measurer per segment, fed the page's rows that belong to it, against the segment's own reference
   * where the version has one (`own`), else the whole population's.
   */
  private readonly segments: { segment: Segment; own: boolean; measurer: WindowMeasurer }[];

  constructor(
    private readonly context: MeasureContext,
    classes: string[] | null,
  ) {
    const { segments = [], findingRules: _own, ...whole } = context;
    this.segments = segments.map((segment) => {
      const own = segmentReference(context.reference, segment);
      const measurer = new WindowMeasurer({ ...whole, reference: own ?? whole.reference }, classes);
      return { segment, own: own !== null, measurer };
    });
    const common = {
      schema: context.schema,
      task: context.task,
      classes,
      reference: context.reference,
      windowStart: context.startAt,
      now: context.endAt,
      ...(context.options ? { options: context.options } : {}),
    };
    this.arrivals = new WindowAccumulator({ ...common, previousArrival: context.previousArrival });
    // Of the rows labelled in the window only performance, label feedback and the estimate are kept
    // (StoredWindowMetrics.realised): without a schema their features are neither read nor measured, so
    // the monitor's label pages need not load them.
    this.realised = new WindowAccumulator({ ...common, schema: [] });
    this.positiveClass = classes?.length === 2 ? classes[1]! : null;
    this.errorStream =
      context.task === 'regression' || classes === null ? null : { observedAt: [], ids: [], wrong: [] };
  }

  /** Predictions received in the window, with their labels received by its close. */
  addArrivals(page: readonly WindowPrediction[]): this {
    this.arrivals.add(page);
    for (const { segment, measurer } of this.segments) measurer.addArrivals(rowsOf(page, segment));
    return this;
  }

  /** Predictions whose label arrived in the window and that production answered: performance. */
  addLabelled(page: readonly WindowPrediction[]): this {
    this.labelledRows += page.length;
    this.addPositives(page);
    this.realised.add(page, (valid) => this.addErrors(page, valid));
    for (const { segment, measurer } of this.segments) measurer.addLabelled(rowsOf(page, segment));
    return this;
  }

  /** Labels that arrived in the window for answers other versions gave (see servedByProduction). */
  addLabelledElsewhere(count: number): this {
    this.labelledElsewhere += count;
    return this;
  }

  result(): { metrics: Omit<StoredWindowMetrics, 'tail'>; summary: WindowSummary } {
    const arrivals = this.arrivals.result();
    const realised = this.realised.result();
    const summary = storable({
      ...summarizeWindow({ ...this.context, arrivals, realised }),
      ...(this.labelledElsewhere ? { labelledElsewhere: this.labelledElsewhere } : {}),
      ...this.positiveRate(),
      ...this.errorRuns(),
    });
    if (this.segments.length > 0) {
      summary.segments = this.segments.map(({ segment, own, measurer }) => {
        const { summary: part, metrics } = measurer.result();
        return segmentDigest(segment, own, part, metrics.realised.performance);
      });
    }
    const own = this.context.findingRules;
    if (own && own.rules.length > 0) {
      const input = { modelName: own.modelName, window: summary, metrics: arrivals };
      summary.custom = storable(judgeByFindingRules(own.rules, input));
    }
    return {
      metrics: {
        ...arrivals,
        realised: {
          basis: 'labels_received_in_window',
          rows: this.labelledRows,
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
  private addPositives(rows: readonly WindowPrediction[]): void {
    const positive = this.positiveClass;
    if (positive === null) return;
    for (const row of rows) {
      const p = row.output?.probabilities?.[positive];
      if (row.label === null || typeof p !== 'number' || !(p >= 0 && p <= 1)) continue;
      this.positives.rows++;
      if (String(row.label.value) === positive) this.positives.observed++;
      this.positives.expected += p;
      this.positives.variance += p * (1 - p);
    }
  }

  private positiveRate(): Pick<
    WindowSummary,
    'positives' | 'expectedPositives' | 'positivesVariance' | 'positivesRows'
  > {
    const { rows, observed, expected, variance } = this.positives;
    return rows > 0
      ? { positives: observed, expectedPositives: expected, positivesVariance: variance, positivesRows: rows }
      : {};
  }

  private addErrors(page: readonly WindowPrediction[], valid: ValidOutputs): void {
    const stream = this.errorStream;
    if (stream === null) return;
    for (let i = 0; i < valid.count; i++) {
      const truth = valid.truth[i]!;
      if (Number.isNaN(truth)) continue;
      if (stream.ids.length === MAX_ERROR_STREAM_ROWS) {
        this.errorStream = null;
        return;
      }
      const row = page[valid.row[i]!]!;
      stream.observedAt.push(row.label?.observedAt.getTime() ?? 0);
      stream.ids.push(row.id);
      stream.wrong.push(truth === valid.predicted[i] ? 0 : 1);
    }
  }

  /** The labelled rows' 0/1 error stream in label-time order (then id), run-length encoded. */
  private errorRuns(): Pick<WindowSummary, 'errorRuns'> {
    const stream = this.errorStream;
    if (stream === null || stream.ids.length === 0) return {};
    const { observedAt, ids, wrong } = stream;
    const order = Array.from(ids.keys()).sort(
      (a, b) => observedAt[a]! - observedAt[b]! || (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0),
    );
    const runs = errorRuns(
      order.map((i) => wrong[i]!),
      MAX_ERROR_RUNS,
    );
    return runs ? { errorRuns: runs } : {};
  }
}

/** The rows of a page that belong to a segment. */
function rowsOf(page: readonly WindowPrediction[], segment: Segment): WindowPrediction[] {
  return page.filter((row) => inSegment(row.features, segment));
}

/**
 * What the agent carries of a segment's window: its rows, performance (a regressor's as the sums of its
 * squared errors, which the segment rule tests) and its most shifted feature. Against the segment's own
 * reference (`own`) every feature is compared like for like, and the data_drift rule judges the digest.
 * Against the whole population's, the feature that defines the segment always looks shifted (one value
 * of it, or one side of a threshold): it is left out, and the digest is shown, not judged.
 */
function segmentDigest(
  segment: Segment,
  own: boolean,
  s: WindowSummary,
  performance: WindowMetrics['performance'],
): SegmentWindow {
  return {
    name: segment.name,
    count: s.count,
    labelled: s.labelled,
    correct: s.correct,
    accuracy: s.accuracy,
    rmse: s.rmse ?? null,
    featuresJudged: s.featuresJudged ?? 0,
    drift: (own ? s.drift?.[0] : s.drift?.find((d) => d.name !== segment.feature)) ?? null,
    ...(own ? { driftReference: 'segment' as const } : {}),
    predictionPsi: s.predictionPsi ?? null,
    ...(performance?.task === 'regression' ? { squaredErrors: storable(performance.squaredErrors) } : {}),
  };
}

/** Measures one window from rows in memory (the activity's work without the store): one page of each. */
export function measureWindow(
  input: MeasureContext & {
    labels: readonly string[] | null;
    arrivals: readonly WindowPrediction[];
    /** Predictions whose label arrived in the window and that production answered: performance. */
    labelledInWindow: readonly WindowPrediction[];
    /** Labels that arrived in the window for answers other versions gave (see servedByProduction). */
    labelledElsewhere?: number;
  },
): { metrics: Omit<StoredWindowMetrics, 'tail'>; summary: WindowSummary } {
  // Label-arrival order (then id, for a deterministic order among equal times): the error stream's order.
  const labelledInWindow = [...input.labelledInWindow].sort(
    (a, b) =>
      (a.label?.observedAt.getTime() ?? 0) - (b.label?.observedAt.getTime() ?? 0) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const classes = windowClasses(input.task, input.labels, input.reference, () =>
    observedClasses([input.arrivals, labelledInWindow]),
  );
  return new WindowMeasurer(input, classes)
    .addArrivals(input.arrivals)
    .addLabelled(labelledInWindow)
    .addLabelledElsewhere(input.labelledElsewhere ?? 0)
    .result();
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
