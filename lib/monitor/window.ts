// Everything the monitor measures over one window of a model's traffic, as one pure function of the
// window's predictions (with their labels so far) and the serving version's reference profile. The
// result is plain JSON, stored per window (MetricWindow.metrics); the agent workflow carries only its
// summary (summary.ts).
import type { FeatureRow, FeatureSchema, FeatureSpec, Task } from '../domain.ts';
import { benjaminiHochberg } from '../stats/index.ts';
import { readFeatureColumns } from './columns.ts';
import { CONFIDENCE_DEFAULTS, type ConfidenceMetrics, confidenceMetrics } from './confidence.ts';
import { categoricalDrift, DRIFT_DEFAULTS, type DriftResult, numericDrift } from './distributions.ts';
import {
  CALIBRATION_DEFAULTS,
  type CalibrationSettings,
  estimatePerformance,
  type PerformanceEstimate,
} from './estimate.ts';
import {
  classCounts,
  type InvalidOutputReason,
  OUTPUT_DEFAULTS,
  type OutputRange,
  presentConfidences,
  type RawOutput,
  resolveClasses,
  tallyOutputs,
} from './outputs.ts';
import {
  classificationPerformance,
  type LabelFeedback,
  labelFeedback,
  type Performance,
  regressionPerformance,
} from './performance.ts';
import { type FeatureQuality, featureQuality } from './quality.ts';
import { REFERENCE_PROFILE_FORMAT, type ReferenceProfile } from './reference.ts';
import { type ArrivalMetrics, arrivalMetrics, type LatencyMetrics, latencyMetrics } from './system.ts';
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

export function computeWindowMetrics(input: WindowInput): WindowMetrics {
  const { schema, task, predictions, now } = input;
  const settings: WindowSettings = {
    ...WINDOW_DEFAULTS,
    ...input.options,
    calibration: { ...CALIBRATION_DEFAULTS, ...input.options?.calibration },
  };
  const referenceStatus =
    input.reference === null
      ? 'none'
      : input.reference.format === REFERENCE_PROFILE_FORMAT && input.reference.task === task
        ? 'used'
        : 'incompatible';
  const reference = referenceStatus === 'used' ? input.reference : null;
  const n = predictions.length;
  const rate = (count: number) => (n > 0 ? count / n : null);

  const classes = resolveClasses(task, input.labels ?? reference?.classes, function* () {
    for (const p of predictions) {
      yield p.output?.prediction;
      yield p.label?.value;
    }
  });

  // One pass for what is read per row rather than per feature.
  const latencies: number[] = [];
  const labelDelays: number[] = [];
  const arrivals = new Float64Array(n);
  predictions.forEach((p, i) => {
    arrivals[i] = p.receivedAt.getTime();
    if (p.latencyMs !== null && Number.isFinite(p.latencyMs) && p.latencyMs >= 0) latencies.push(p.latencyMs);
    if (p.label !== null) labelDelays.push((p.label.observedAt.getTime() - p.predictedAt.getTime()) / 1000);
  });
  arrivals.sort();

  const tally = tallyOutputs(
    task,
    classes,
    predictions,
    settings.outputRange,
    settings.probabilitySumTolerance,
  );
  const { valid } = tally;
  const invalid = Object.values(tally.invalid).reduce((sum, c) => sum + c, 0);

  // Values are judged against the schema, and where it gives no range, against the range learnt from
  // the reference (lib/monitor/validity.ts).
  const columns = readFeatureColumns(
    reference ? withLearnedRanges(schema, reference) : schema,
    predictions.map((p) => p.features),
  );
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
          Array.from(valid.predicted.subarray(0, valid.count)),
          settings.minSampleSize,
        )
      : categoricalDrift(
          referencePrediction?.type === 'categorical' ? referencePrediction : null,
          { categories: classes ?? [], counts: classCounts(valid), other: 0 },
          settings.minSampleSize,
        );

  return {
    format: WINDOW_METRICS_FORMAT,
    task,
    classes,
    windowStart: input.windowStart?.toISOString() ?? null,
    computedAt: now.toISOString(),
    rows: n,
    reference: referenceStatus,
    settings,
    performance:
      task === 'regression'
        ? regressionPerformance(valid)
        : classificationPerformance(task, classes ?? [], valid),
    labels: labelFeedback(n, labelDelays, tally.invalidTruth),
    estimate:
      task === 'regression'
        ? null
        : estimatePerformance(task, valid, reference?.calibration ?? null, settings.calibration),
    confidence: confidenceMetrics(valid, settings.lowConfidenceThreshold),
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
      latencyMs: latencyMetrics(latencies),
      failureRate: rate(tally.failed + invalid),
      arrivals: arrivalMetrics({
        sortedMs: arrivals,
        previousArrival: input.previousArrival ?? null,
        windowStart: input.windowStart ?? null,
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
              presentConfidences(valid),
              settings.minSampleSize,
            ),
    },
  };
}

/** Fills in Benjamini–Hochberg adjusted p-values over the judged features, in place. */
function adjustForMultipleTesting(drift: FeatureDrift[]): void {
  const judged = drift.filter((d): d is Extract<FeatureDrift, { judged: true }> => d.judged);
  const adjusted = benjaminiHochberg(judged.map((d) => d.pValue));
  judged.forEach((d, i) => {
    d.adjustedPValue = adjusted[i]!;
  });
}
