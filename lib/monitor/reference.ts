// The monitor's reference profile of a model version: what its reference (training or validation) data
// and its outputs on them looked like, in the form the window metrics compare against — bounded samples
// and bins for the drift tests, null rates for data quality, the prediction and confidence distributions,
// the baseline performance and calibration, and the usual arrival rate. Built once per version and
// stored with it as JSON; its size depends on the number of features, not on the number of rows
// (~100 kB per numeric feature at the default sample size).
import type { FeatureRow, FeatureSchema, FeatureSpec, Task } from '../domain.ts';
import type { ModelOutput } from '../models/types.ts';
import { inSegment, type Segment } from '../segments/segment.ts';
import { readFeatureColumns } from './columns.ts';
import { type ConfidenceMetrics, confidenceMetrics } from './confidence.ts';
import {
  categoricalDistribution,
  DISTRIBUTION_DEFAULTS,
  type Distribution,
  type NumericDistribution,
  numericDistribution,
} from './distributions.ts';
import { type CalibrationCheck, checkCalibration } from './estimate.ts';
import {
  classCounts,
  type OutputRow,
  presentConfidences,
  resolveClasses,
  tallyOutputs,
  type ValidOutputs,
} from './outputs.ts';
import { classificationPerformance, type Performance, regressionPerformance } from './performance.ts';
import { meanInterArrivalSeconds } from './system.ts';

/** Bumped whenever the shape changes, so that a stored profile of another shape is recognised. */
export const REFERENCE_PROFILE_FORMAT = 1;

/** Sample size and PSI bins per numeric distribution; documented with DISTRIBUTION_DEFAULTS. */
export type ReferenceSettings = typeof DISTRIBUTION_DEFAULTS;

export const SEGMENT_REFERENCE_DEFAULTS = {
  /**
   * Reference rows a segment needs for a reference of its own; a segment with fewer keeps being compared
   * with the whole population's (shown, not judged). The drift gate (lib/brain/findings/data-drift.ts
   * featureDrifted) reads PSI over 10 reference-quantile bins: from n reference rows the bins' own
   * sampling noise adds about (bins − 1)/n to every window's PSI, 0.045 at 200 rows, under a quarter of
   * the default minEffect.psi (0.2), where 50 rows would add 0.18 and let noise pass the effect gate.
   * 200 is also the labelled rows a segment's performance baseline needs (SEGMENT_DEFAULTS).
   */
  minRows: 200,
  /**
   * Values kept per numeric variable of a segment's reference (the whole population keeps
   * DISTRIBUTION_DEFAULTS.sampleSize): up to MAX_SEGMENTS references are stored with the version, and
   * a sample of 1,000 order statistics is within 1/1,000 of the segment's CDF, far below any KS gap a
   * segment's window (tens to hundreds of rows) can show.
   */
  sampleSize: 1000,
} as const;

/**
 * A segment's own reference: the profile of the reference rows that belong to it, and the definition it
 * was built for (a segment redefined under the same name no longer matches it: segmentReference).
 */
export interface SegmentReference {
  segment: Segment;
  profile: ReferenceProfile;
}

export interface FeatureProfile {
  name: string;
  type: FeatureSpec['type'];
  rows: number;
  /** Rows where the value is null or absent. */
  nullOrAbsent: number;
  /** Of the valid values (booleans as the categories 'false' and 'true'); null when there are none. */
  distribution: Distribution | null;
}

export interface ReferenceProfile {
  format: typeof REFERENCE_PROFILE_FORMAT;
  task: Task;
  /** Class labels of a classifier, in order (the second is the positive class of a binary one). */
  classes: string[] | null;
  rows: number;
  settings: ReferenceSettings;
  /** In schema order. */
  features: FeatureProfile[];
  /** Of the valid predictions: class frequencies, or a regressor's predicted values; null without outputs. */
  prediction: Distribution | null;
  /** Null without confidences (always for a regressor). */
  confidence: { metrics: ConfidenceMetrics; distribution: NumericDistribution } | null;
  /**
   * Baseline task metrics (evaluateOutputs): of the reference rows given their truth, or of the held-out
   * rows the registry evaluated the version on; null without truth.
   */
  performance: Performance | null;
  /** Calibration of the confidences on the same rows; null without truth or confidences. */
  calibration: CalibrationCheck | null;
  /** Null without timestamps. */
  arrivals: { count: number; meanInterArrivalSeconds: number | null } | null;
  /**
   * The model's segments at the version's registration with at least SEGMENT_REFERENCE_DEFAULTS.minRows
   * reference rows, each profiled on its own rows (no performance, calibration or arrivals). Absent in
   * profiles built before segments had references, and for a model without segments: a segment without
   * one is compared with the whole population, and its drift is shown, not judged.
   */
  segments?: SegmentReference[];
}

export interface ReferenceInput {
  schema: FeatureSchema;
  task: Task;
  /** The model's class labels (Model.labels); derived from outputs and truth when absent. */
  labels?: readonly string[] | null;
  rows: readonly FeatureRow[];
  /** The version's outputs on `rows`, index-aligned. */
  outputs?: readonly ModelOutput[];
  /** Ground truth of `rows`, index-aligned; null where unknown. */
  truth?: readonly (string | number | null)[];
  /** When each row arrived, index-aligned: gives the usual arrival rate. */
  timestamps?: readonly Date[];
  settings?: Partial<ReferenceSettings>;
  /** The model's segments: each with enough rows gets a reference of its own (ReferenceProfile.segments). */
  segments?: readonly Segment[];
}

export function buildReferenceProfile(input: ReferenceInput): ReferenceProfile {
  const { schema, task, rows, outputs, truth, timestamps } = input;
  const settings = { ...DISTRIBUTION_DEFAULTS, ...input.settings };
  for (const [name, list] of [
    ['outputs', outputs],
    ['truth', truth],
    ['timestamps', timestamps],
  ] as const) {
    if (list !== undefined && list.length !== rows.length) {
      throw new RangeError(
        `buildReferenceProfile: ${name} has ${list.length} entries for ${rows.length} rows`,
      );
    }
  }
  const classes = resolveClasses(task, input.labels, function* () {
    for (const output of outputs ?? []) yield output.prediction;
    yield* truth ?? [];
  });

  const columns = readFeatureColumns(schema, rows);
  const features = schema.map((spec, i): FeatureProfile => {
    const column = columns[i]!;
    return {
      name: spec.name,
      type: spec.type,
      rows: column.rows,
      nullOrAbsent: column.nullOrAbsent,
      distribution:
        column.type === 'numeric'
          ? numericDistribution(column.values, settings)
          : categoricalDistribution(column),
    };
  });

  const profile: ReferenceProfile = {
    format: REFERENCE_PROFILE_FORMAT,
    task,
    classes,
    rows: rows.length,
    settings,
    features,
    prediction: null,
    confidence: null,
    performance: null,
    calibration: null,
    arrivals: timestamps ? arrivalsOf(timestamps) : null,
    ...segmentReferences(input, settings),
  };
  if (!outputs) return profile;

  const valid = readOutputs(task, classes, outputs, null);
  const confidence = confidenceMetrics(valid);
  const confidenceDistribution = numericDistribution(presentConfidences(valid), settings);
  return {
    ...profile,
    prediction:
      task === 'regression'
        ? numericDistribution(Array.from(valid.predicted.subarray(0, valid.count)), settings)
        : categoricalDistribution({ categories: classes ?? [], counts: classCounts(valid), other: 0 }),
    confidence:
      confidence && confidenceDistribution
        ? { metrics: confidence, distribution: confidenceDistribution }
        : null,
    ...(truth ? evaluateOutputs({ task, labels: classes, outputs, truth }) : {}),
  };
}

/** The references of the input's segments with enough rows; {} when none has. */
function segmentReferences(
  input: ReferenceInput,
  settings: ReferenceSettings,
): Pick<ReferenceProfile, 'segments'> {
  const references = (input.segments ?? []).flatMap((segment): SegmentReference[] => {
    const rows = input.rows.flatMap((row, i) => (inSegment(row, segment) ? [i] : []));
    if (rows.length < SEGMENT_REFERENCE_DEFAULTS.minRows) return [];
    const { outputs } = input;
    const profile = buildReferenceProfile({
      schema: input.schema,
      task: input.task,
      labels: input.labels ?? null,
      rows: rows.map((i) => input.rows[i]!),
      ...(outputs ? { outputs: rows.map((i) => outputs[i]!) } : {}),
      settings: {
        ...settings,
        sampleSize: Math.min(settings.sampleSize, SEGMENT_REFERENCE_DEFAULTS.sampleSize),
      },
    });
    return [{ segment, profile }];
  });
  return references.length > 0 ? { segments: references } : {};
}

/**
 * The segment's own reference in a version's profile, built for exactly this definition; null when the
 * profile has none for it (built before the segment was defined, or before segments had references; too
 * few reference rows; redefined since).
 */
export function segmentReference(
  reference: ReferenceProfile | null,
  segment: Segment,
): ReferenceProfile | null {
  const own = reference?.segments?.find(
    (r) =>
      r.segment.name === segment.name &&
      r.segment.feature === segment.feature &&
      r.segment.op === segment.op &&
      r.segment.value === segment.value,
  );
  return own?.profile ?? null;
}

export interface EvaluationInput {
  task: Task;
  /** The model's class labels; derived from outputs and truth when absent. */
  labels?: readonly string[] | null;
  outputs: readonly ModelOutput[];
  /** Ground truth of the outputs, index-aligned; null where unknown. */
  truth: readonly (string | number | null)[];
}

export interface Evaluation {
  /** Null without labelled valid outputs. */
  performance: Performance | null;
  /** Calibration of the confidences; null without confidences (always for a regressor). */
  calibration: CalibrationCheck | null;
}

/**
 * A version's baseline: its performance and calibration on labelled rows. The registry evaluates a
 * version on held-out rows, which its training rows cannot stand in for; buildReferenceProfile, given
 * truth, on the reference rows.
 */
export function evaluateOutputs(input: EvaluationInput): Evaluation {
  const { task, outputs, truth } = input;
  if (truth.length !== outputs.length) {
    throw new RangeError(`evaluateOutputs: ${truth.length} truth values for ${outputs.length} outputs`);
  }
  const classes = resolveClasses(task, input.labels, function* () {
    for (const output of outputs) yield output.prediction;
    yield* truth;
  });
  const valid = readOutputs(task, classes, outputs, truth);
  return {
    performance:
      task === 'regression'
        ? regressionPerformance(valid)
        : classificationPerformance(task, classes ?? [], valid),
    calibration: valid.confidence.some((c) => !Number.isNaN(c)) ? checkCalibration(valid) : null,
  };
}

function readOutputs(
  task: Task,
  classes: readonly string[] | null,
  outputs: readonly ModelOutput[],
  truth: readonly (string | number | null)[] | null,
): ValidOutputs {
  const rows = outputs.map((output, i): OutputRow => {
    const value = truth?.[i] ?? null;
    return { error: null, output, confidence: output.confidence, label: value === null ? null : { value } };
  });
  return tallyOutputs(task, classes, rows).valid;
}

function arrivalsOf(timestamps: readonly Date[]): ReferenceProfile['arrivals'] {
  const sorted = Float64Array.from(timestamps, (t) => t.getTime()).sort();
  return { count: sorted.length, meanInterArrivalSeconds: meanInterArrivalSeconds(sorted) };
}
