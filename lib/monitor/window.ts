// Everything the monitor measures over one window of a model's traffic, as a pure function of the
// window's predictions (with their labels so far), read in pages of any number, and the serving
// version's reference profile. The
// result is plain JSON, stored per window (MetricWindow.metrics); the agent workflow carries only its
// summary (summary.ts).
import type { FeatureRow, FeatureSchema, FeatureSpec, Task } from '../domain.ts';
import { benjaminiHochberg } from '../stats/index.ts';
import { QuantileSketch } from '../stats/quantile-sketch.ts';
import { FeatureColumnsReader } from './columns.ts';
import { CONFIDENCE_DEFAULTS, ConfidenceAccumulator, type ConfidenceMetrics } from './confidence.ts';
import { categoricalDrift, DRIFT_DEFAULTS, type DriftResult, numericDrift } from './distributions.ts';
import {
  CALIBRATION_DEFAULTS,
  type CalibrationSettings,
  EstimateAccumulator,
  type PerformanceEstimate,
} from './estimate.ts';
import {
  addOutputCounts,
  emptyOutputCounts,
  type InvalidOutputReason,
  OUTPUT_DEFAULTS,
  type OutputCounts,
  type OutputRange,
  type RawOutput,
  resolveClasses,
  tallyOutputs,
  type ValidOutputs,
} from './outputs.ts';
import {
  ClassificationAccumulator,
  type LabelFeedback,
  labelFeedback,
  type Performance,
  RegressionAccumulator,
} from './performance.ts';
import { type FeatureQuality, featureQuality } from './quality.ts';
import { REFERENCE_PROFILE_FORMAT, type ReferenceProfile } from './reference.ts';
import { type ArrivalMetrics, ArrivalTracker, type LatencyMetrics, latencyMetrics } from './system.ts';
import { misreadColumns, VALIDITY_DEFAULTS, withLearnedRanges } from './validity.ts';

/** Bumped whenever the shape of WindowMetrics changes. */
export const WINDOW_METRICS_FORMAT = 1;

/** The window's settings, each documented with the metric it belongs to. */
export const WINDOW_DEFAULTS = {
  /** For the drift tests, the null-rate test and the constant-column check. */
  minSampleSize: DRIFT_DEFAULTS.minSampleSize,
  lowConfidenceThreshold: CONFIDENCE_DEFAULTS.lowConfidenceThreshold,
  calibration: CALIBRATION_DEFAULTS,
  probabilitySumTolerance: OUTPUT_DEFAULTS.probabilitySumTolerance,
  /** Valid regression predictions; unknown unless the caller knows them. */
  outputRange: null as OutputRange | null,
  /**
   * Values kept verbatim per numeric stream (each numeric feature, latency, label delay, confidence, a
   * regressor's predictions, a classifier's scores per class) before a quantile sketch summarises them:
   * windows up to this size are measured exactly, larger ones in flat memory within the sketch's error
   * (lib/stats/quantile-sketch.ts; docs/agent-logic.md "Windows of any size"). 16,384 doubles are 128 kB
   * per stream.
   */
  exactValues: 16_384,
};
export type WindowSettings = typeof WINDOW_DEFAULTS;
export type WindowOptions = Partial<Omit<WindowSettings, 'calibration'>> & {
  calibration?: Partial<CalibrationSettings>;
};

/** A stored prediction with its label, as the monitor activity reads them (prisma Prediction + Label). */
export interface WindowPrediction {
  id: string;
  features: FeatureRow;
  output: RawOutput | null;
  confidence: number | null;
  latencyMs: number | null;
  error: string | null;
  predictedAt: Date;
  receivedAt: Date;
  label: { value: string | number; observedAt: Date } | null;
}

export interface WindowInput {
  schema: FeatureSchema;
  task: Task;
  /** The model's class labels (Model.labels); else the reference's, else those observed. */
  labels?: readonly string[] | null;
  /** The serving version's profile; without it drift is not judged and quality has no baseline. */
  reference: ReferenceProfile | null;
  predictions: readonly WindowPrediction[];
  /** Last arrival before this window, for the gap into it. */
  previousArrival?: Date | null;
  /** Start of the window, for throughput; the first arrival when absent. */
  windowStart?: Date | null;
  now: Date;
  options?: WindowOptions;
}

export type FeatureDrift = DriftResult & {
  name: string;
  type: FeatureSpec['type'];
  /** Benjamini–Hochberg adjusted across the window's judged features; null when not judged. */
  adjustedPValue: number | null;
};

export interface OutputMetrics {
  /** Rows whose inference failed (`error` set). */
  errors: number;
  errorRate: number | null;
  /** Rows without an error whose output is unusable; they are not scored. */
  invalid: number;
  invalidRate: number | null;
  byReason: Record<InvalidOutputReason, number>;
  /** Valid outputs whose class probabilities or confidence were ignored as invalid. */
  invalidProbabilities: number;
  invalidConfidence: number;
}

export interface WindowMetrics {
  format: typeof WINDOW_METRICS_FORMAT;
  task: Task;
  classes: string[] | null;
  /** ISO 8601. */
  windowStart: string | null;
  computedAt: string;
  /** Predictions in the window. */
  rows: number;
  /**
   * 'incompatible': a profile of another format or task was given and ignored, so drift is not judged
   * and quality has no baseline, as with 'none'.
   */
  reference: 'used' | 'none' | 'incompatible';
  /** The settings the window was measured with, defaults filled in. */
  settings: WindowSettings;
  /** On labelled rows with a valid output; null when there are none. */
  performance: Performance | null;
  labels: LabelFeedback;
  /** Classifiers with confidences only. */
  estimate: PerformanceEstimate | null;
  confidence: ConfidenceMetrics | null;
  outputs: OutputMetrics;
  system: {
    latencyMs: LatencyMetrics | null;
    /** Share of rows that gave the caller no usable answer: errors plus invalid outputs. */
    failureRate: number | null;
    arrivals: ArrivalMetrics;
  };
  /**
   * Per feature, in schema order. Fields outside the schema are ingestion's to flag (unknown_feature in
   * Prediction.quality); a renamed column shows here as the old name missing.
   */
  quality: FeatureQuality[];
  drift: {
    /** In schema order. */
    features: FeatureDrift[];
    prediction: DriftResult;
    /** Null for regressors. */
    confidence: DriftResult | null;
  };
}

/** Measures a window held in memory: one page of a WindowAccumulator. */
export function computeWindowMetrics(input: WindowInput): WindowMetrics {
  const classes = windowClasses(input.task, input.labels ?? null, input.reference, () =>
    observedClasses([input.predictions]),
  );
  return new WindowAccumulator({ ...input, classes }).add(input.predictions).result();
}

/**
 * A window's class labels (null for a regressor): the model's declared labels, else the reference's,
 * else those observed (resolveClasses). `observed` is only called when needed: for a window in pages it
 * is a first pass over them.
 */
export function windowClasses(
  task: Task,
  labels: readonly string[] | null,
  reference: ReferenceProfile | null,
  observed: () => Iterable<unknown>,
): string[] | null {
  return resolveClasses(task, labels ?? usableReference(reference, task)?.classes, observed);
}

/** The predicted values and labels of the rows: the classes a classifier has been seen to use. */
export function* observedClasses(pages: Iterable<readonly WindowPrediction[]>): Iterable<unknown> {
  for (const page of pages) {
    for (const p of page) {
      yield p.output?.prediction;
      yield p.label?.value;
    }
  }
}

function referenceStatusOf(reference: ReferenceProfile | null, task: Task): WindowMetrics['reference'] {
  if (reference === null) return 'none';
  return reference.format === REFERENCE_PROFILE_FORMAT && reference.task === task ? 'used' : 'incompatible';
}

function usableReference(reference: ReferenceProfile | null, task: Task): ReferenceProfile | null {
  return referenceStatusOf(reference, task) === 'used' ? reference : null;
}

/**
 * A window's metrics folded page by page, so that a window of any size is measured in the memory of a
 * page plus fixed-size state: counts and sums, category counts, and a quantile sketch per numeric stream
 * (each feature, latency, label delay, confidence, a regressor's predictions, a classifier's scores by
 * class) that keeps `settings.exactValues` values verbatim. Up to that many the metrics are exactly those
 * of the window in one array; beyond, the order statistics (KS, PSI and Wasserstein of numeric features,
 * percentiles, ROC AUC, the misread check) come from the sketches, within the error docs/agent-logic.md
 * ("Windows of any size") bounds. Pages must come in arrival order for the longest gap (ArrivalTracker).
 * The classes must be known before the first page (a classifier's observed classes take a first pass).
 */
export class WindowAccumulator {
  private readonly settings: WindowSettings;
  private readonly reference: ReferenceProfile | null;
  private readonly classes: string[] | null;
  private readonly columns: FeatureColumnsReader;
  private readonly latencies: QuantileSketch;
  private readonly labelDelays: QuantileSketch;
  private readonly arrivals: ArrivalTracker;
  private readonly tally: OutputCounts = emptyOutputCounts();
  private readonly predictedClasses: number[];
  /** A regressor's valid predictions, for prediction drift. */
  private readonly predictedValues: QuantileSketch;
  private readonly performance: ClassificationAccumulator | RegressionAccumulator;
  private readonly estimate: EstimateAccumulator | null;
  private readonly confidence: ConfidenceAccumulator;
  private rows = 0;

  constructor(
    private readonly input: Omit<WindowInput, 'predictions' | 'labels'> & { classes: string[] | null },
  ) {
    const { task, options } = input;
    this.settings = {
      ...WINDOW_DEFAULTS,
      ...options,
      calibration: { ...CALIBRATION_DEFAULTS, ...options?.calibration },
    };
    const { exactValues } = this.settings;
    this.reference = usableReference(input.reference, task);
    this.classes = input.classes;
    if (task !== 'regression' && this.classes === null) {
      throw new RangeError('WindowAccumulator: a classifier needs its class labels');
    }
    // Values are judged against the schema, and where it gives no range, against the range learnt from
    // the reference (lib/monitor/validity.ts).
    this.columns = new FeatureColumnsReader(
      this.reference ? withLearnedRanges(input.schema, this.reference) : input.schema,
      exactValues,
    );
    this.latencies = new QuantileSketch(exactValues);
    this.labelDelays = new QuantileSketch(exactValues);
    this.arrivals = new ArrivalTracker(input.previousArrival ?? null);
    this.predictedClasses = new Array<number>(this.classes?.length ?? 0).fill(0);
    this.predictedValues = new QuantileSketch(exactValues);
    this.performance =
      task === 'regression'
        ? new RegressionAccumulator()
        : new ClassificationAccumulator(task, this.classes ?? [], exactValues);
    this.estimate =
      task === 'regression'
        ? null
        : new EstimateAccumulator(
            task,
            this.classes?.length ?? 0,
            this.reference?.calibration ?? null,
            this.settings.calibration,
          );
    this.confidence = new ConfidenceAccumulator(exactValues, this.settings.lowConfidenceThreshold);
  }

  /** `readValid`: sees the page's valid outputs (row-indexed), for what a caller measures beside. */
  add(page: readonly WindowPrediction[], readValid?: (valid: ValidOutputs) => void): this {
    const { settings } = this;
    this.rows += page.length;
    // One pass for what is read per row rather than per feature.
    const arrivals = new Float64Array(page.length);
    page.forEach((p, i) => {
      arrivals[i] = p.receivedAt.getTime();
      if (p.latencyMs !== null && Number.isFinite(p.latencyMs) && p.latencyMs >= 0)
        this.latencies.add(p.latencyMs);
      if (p.label !== null)
        this.labelDelays.add((p.label.observedAt.getTime() - p.predictedAt.getTime()) / 1000);
    });
    this.arrivals.add(arrivals);
    const tally = tallyOutputs(
      this.input.task,
      this.classes,
      page,
      settings.outputRange,
      settings.probabilitySumTolerance,
    );
    addOutputCounts(this.tally, tally);
    const { valid } = tally;
    for (let i = 0; i < valid.count; i++) {
      if (this.input.task === 'regression') this.predictedValues.add(valid.predicted[i]!);
      else this.predictedClasses[valid.predicted[i]!]!++;
    }
    this.performance.add(valid);
    this.estimate?.add(valid);
    this.confidence.add(valid);
    this.columns.read(page.map((p) => p.features));
    readValid?.(valid);
    return this;
  }

  result(): WindowMetrics {
    const { settings, reference, classes, tally, rows: n } = this;
    const { task, schema, now } = this.input;
    const rate = (count: number) => (n > 0 ? count / n : null);
    const invalid = Object.values(tally.invalid).reduce((sum, c) => sum + c, 0);

    const columns = this.columns.columns();
    const quality: FeatureQuality[] = [];
    const featureDrift: FeatureDrift[] = [];
    schema.forEach((spec, i) => {
      const column = columns[i]!;
      const profile = reference?.features.find((f) => f.name === spec.name && f.type === spec.type) ?? null;
      quality.push(featureQuality(spec, column, profile, settings.minSampleSize));
      const distribution = profile?.distribution ?? null;
      const drift =
        column.type === 'numeric'
          ? numericDrift(
              distribution?.type === 'numeric' ? distribution : null,
              column.values,
              settings.minSampleSize,
              column.count,
            )
          : categoricalDrift(
              distribution?.type === 'categorical' ? distribution : null,
              column,
              settings.minSampleSize,
            );
      featureDrift.push({ ...drift, name: spec.name, type: spec.type, adjustedPValue: null });
    });
    adjustForMultipleTesting(featureDrift);
    if (reference) {
      const drifted = new Set(
        featureDrift
          .filter((d) => d.adjustedPValue !== null && d.adjustedPValue < VALIDITY_DEFAULTS.alpha)
          .map((d) => d.name),
      );
      const misread = misreadColumns(schema, columns, reference, drifted, settings.minSampleSize);
      for (const q of quality) q.misread = misread.get(q.name) ?? null;
    }

    const referencePrediction = reference?.prediction ?? null;
    const predictionDrift =
      task === 'regression'
        ? numericDrift(
            referencePrediction?.type === 'numeric' ? referencePrediction : null,
            this.predictedValues.sample(),
            settings.minSampleSize,
            this.predictedValues.count,
          )
        : categoricalDrift(
            referencePrediction?.type === 'categorical' ? referencePrediction : null,
            { categories: classes ?? [], counts: this.predictedClasses, other: 0 },
            settings.minSampleSize,
          );
    const { confidences } = this.confidence;

    return {
      format: WINDOW_METRICS_FORMAT,
      task,
      classes,
      windowStart: this.input.windowStart?.toISOString() ?? null,
      computedAt: now.toISOString(),
      rows: n,
      reference: referenceStatusOf(this.input.reference, task),
      settings,
      performance: this.performance.result(),
      labels: labelFeedback(n, this.labelDelays, tally.invalidTruth),
      estimate: this.estimate?.result() ?? null,
      confidence: this.confidence.result(),
      outputs: {
        errors: tally.failed,
        errorRate: rate(tally.failed),
        invalid,
        invalidRate: rate(invalid),
        byReason: tally.invalid,
        invalidProbabilities: tally.invalidProbabilities,
        invalidConfidence: tally.invalidConfidence,
      },
      system: {
        latencyMs: latencyMetrics(this.latencies),
        failureRate: rate(tally.failed + invalid),
        arrivals: this.arrivals.metrics({
          windowStart: this.input.windowStart ?? null,
          now,
          referenceInterArrivalSeconds: reference?.arrivals?.meanInterArrivalSeconds ?? null,
        }),
      },
      quality,
      drift: {
        features: featureDrift,
        prediction: predictionDrift,
        confidence:
          task === 'regression'
            ? null
            : numericDrift(
                reference?.confidence?.distribution ?? null,
                confidences.sample(),
                settings.minSampleSize,
                confidences.count,
              ),
      },
    };
  }
}

/** Fills in Benjamini–Hochberg adjusted p-values over the judged features, in place. */
function adjustForMultipleTesting(drift: FeatureDrift[]): void {
  const judged = drift.filter((d): d is Extract<FeatureDrift, { judged: true }> => d.judged);
  const adjusted = benjaminiHochberg(judged.map((d) => d.pValue));
  judged.forEach((d, i) => {
    d.adjustedPValue = adjusted[i]!;
  });
}
