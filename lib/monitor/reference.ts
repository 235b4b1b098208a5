// The monitor's reference profile of a model version: what its reference (training or validation) data
// and its outputs on them looked like, in the form the window metrics compare against — bounded samples
// and bins for the drift tests, null rates for data quality, the prediction and confidence distributions,
// the baseline performance and calibration, and the usual arrival rate. Built once per version and
// stored with it as JSON; its size depends on the number of features, not on the number of rows
// (~100 kB per numeric feature at the default sample size).
import type { FeatureRow, FeatureSchema, FeatureSpec, Task } from '../domain.ts';
import type { ModelOutput } from '../models/types.ts';
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
