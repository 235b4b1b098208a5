// Reads a batch of model outputs and their labels: which outputs are usable, what they predict, how
// confident the model is and what its class probabilities are, and the truth to score them against. An
// unusable output is an invalid output, counted, never scored. The reference profile and the windows
// read outputs through this one function.
import type { Task } from '../domain.ts';

export const OUTPUT_DEFAULTS = {
  /**
   * Class probabilities whose sum is further than this from 1 are invalid. Model servers that round
   * probabilities to two or three decimals stay well within it.
   */
  probabilitySumTolerance: 0.01,
};

export const INVALID_OUTPUT_REASONS = [
  /** No output although the row has no error. */
  'missing_output',
  /** A regression prediction that is not a finite number (NaN, a string). */
  'not_a_number',
  /** A classifier's prediction that is not one of the class labels. */
  'unknown_class',
  /** A regression prediction outside the known output range. */
  'out_of_range',
] as const;
export type InvalidOutputReason = (typeof INVALID_OUTPUT_REASONS)[number];

/** The output as stored with a prediction (Prediction.output). */
export interface RawOutput {
  prediction: string | number;
  probabilities?: Record<string, number>;
}

/** Valid regression predictions; either bound may be absent. */
export interface OutputRange {
  min?: number;
  max?: number;
}

/** What is read of a row; a WindowPrediction is one. */
export interface OutputRow {
  /** Set when the inference failed: there is no output to read. */
  error: string | null;
  output: RawOutput | null;
  confidence: number | null;
  /** Ground truth, once it has arrived. */
  label: { value: string | number } | null;
}

/**
 * The valid outputs of a batch, in row order, as columns: a typed array per field rather than an object
 * per row, because a window of 100,000 rows would otherwise keep hundreds of thousands of small objects
 * alive through several garbage collections. Entries from `count` on are unused.
 */
export interface ValidOutputs {
  count: number;
  /** Number of class labels; 0 for a regressor. */
  classCount: number;
  /** Class index for a classifier, the predicted value for a regressor. */
  predicted: Float64Array;
  /** Probability of the predicted class; NaN where the model gave none (always for a regressor). */
  confidence: Float64Array;
  /**
   * classCount probabilities per row, row after row, in class order; NaN throughout a row without them.
   * From the output's probabilities when they form a distribution; for a binary classifier with only a
   * confidence, rebuilt as (confidence, 1 - confidence) — exact, since the two classes share 1.
   */
  probabilities: Float64Array;
  /** Class index or true value; NaN where no valid label has arrived. */
  truth: Float64Array;
  /** Index of the row each valid output was read from. */
  row: Uint32Array;
}

export interface OutputTally {
  rows: number;
  /** Rows with an error. */
  failed: number;
  /** Rows without an error whose output is unusable, per reason. */
  invalid: Record<InvalidOutputReason, number>;
  /** Valid outputs whose probabilities are not a distribution over the classes; they are ignored. */
  invalidProbabilities: number;
  /** Valid outputs whose confidence is outside [0, 1]; it is ignored. */
  invalidConfidence: number;
  /** Labels that are not a class label (classifiers) or not a finite number (regression). */
  invalidTruth: number;
  valid: ValidOutputs;
}

/**
 * The class labels of a classifier, null for a regressor: the declared labels (Model.labels) in their
 * order, else the distinct values observed, as strings, sorted. For a binary task the second label is
 * the positive class, so declare labels as [negative, positive]; sorted observed labels make '1' (or
 * 'yes', 'true') positive.
 */
export function resolveClasses(
  task: Task,
  declared: readonly string[] | null | undefined,
  observed: () => Iterable<unknown>,
): string[] | null {
  if (task === 'regression') return null;
  if (declared && declared.length > 0) return [...declared];
  const seen = new Set<string>();
  for (const value of observed()) if (value !== null && value !== undefined) seen.add(String(value));
  return [...seen].sort();
}

export function tallyOutputs(
  task: Task,
  classes: readonly string[] | null,
  rows: readonly OutputRow[],
  range: OutputRange | null = null,
  probabilitySumTolerance = OUTPUT_DEFAULTS.probabilitySumTolerance,
): OutputTally {
  const regression = task === 'regression';
  if (!regression && classes === null) {
    throw new RangeError('tallyOutputs: a classifier needs its class labels');
  }
  const classIndex = new Map((classes ?? []).map((c, i) => [c, i]));
  const k = classIndex.size;
  const min = range?.min ?? Number.NEGATIVE_INFINITY;
  const max = range?.max ?? Number.POSITIVE_INFINITY;
  const n = rows.length;
  const valid: ValidOutputs = {
    count: 0,
    classCount: k,
    predicted: new Float64Array(n),
    confidence: new Float64Array(n).fill(Number.NaN),
    probabilities: new Float64Array(n * k).fill(Number.NaN),
    truth: new Float64Array(n).fill(Number.NaN),
    row: new Uint32Array(n),
  };
  const tally: OutputTally = { ...emptyOutputCounts(), rows: n, valid };
  for (let rowIndex = 0; rowIndex < n; rowIndex++) {
    const row = rows[rowIndex]!;
    let truth = Number.NaN;
    if (row.label !== null) {
      const value = row.label.value;
      if (regression) truth = typeof value === 'number' && Number.isFinite(value) ? value : Number.NaN;
      else truth = classIndex.get(String(value)) ?? Number.NaN;
      if (Number.isNaN(truth)) tally.invalidTruth++;
    }
    if (row.error !== null) {
      tally.failed++;
      continue;
    }
    const { output } = row;
    if (output === null) {
      tally.invalid.missing_output++;
      continue;
    }
    const i = valid.count;
    if (regression) {
      const value = output.prediction;
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        tally.invalid.not_a_number++;
        continue;
      }
      if (value < min || value > max) {
        tally.invalid.out_of_range++;
        continue;
      }
      valid.predicted[i] = value;
    } else {
      // Logged predictions may carry a numeric class (1 for '1'); the class is its string form.
      const predicted = classIndex.get(String(output.prediction));
      if (predicted === undefined) {
        tally.invalid.unknown_class++;
        continue;
      }
      valid.predicted[i] = predicted;
      const hasProbabilities =
        output.probabilities !== undefined &&
        writeProbabilities(
          output.probabilities,
          classIndex,
          valid.probabilities,
          i * k,
          probabilitySumTolerance,
        );
      if (output.probabilities !== undefined && !hasProbabilities) tally.invalidProbabilities++;
      let confidence = row.confidence;
      if (confidence !== null && !isProbability(confidence)) {
        tally.invalidConfidence++;
        confidence = null;
      }
      if (confidence === null && hasProbabilities) confidence = valid.probabilities[i * k + predicted]!;
      if (confidence !== null) {
        valid.confidence[i] = confidence;
        // Two classes share 1, so a confidence alone gives both probabilities.
        if (!hasProbabilities && k === 2) {
          valid.probabilities[i * k + predicted] = confidence;
          valid.probabilities[i * k + 1 - predicted] = 1 - confidence;
        }
      }
    }
    valid.truth[i] = truth;
    valid.row[i] = rowIndex;
    valid.count++;
  }
  return tally;
}

/** A tally without its valid outputs: what a window read in pages adds up (addOutputCounts). */
export type OutputCounts = Omit<OutputTally, 'valid'>;

export function emptyOutputCounts(): OutputCounts {
  return {
    rows: 0,
    failed: 0,
    invalid: { missing_output: 0, not_a_number: 0, unknown_class: 0, out_of_range: 0 },
    invalidProbabilities: 0,
    invalidConfidence: 0,
    invalidTruth: 0,
  };
}

export function addOutputCounts(total: OutputCounts, page: OutputCounts): void {
  total.rows += page.rows;
  total.failed += page.failed;
  for (const reason of INVALID_OUTPUT_REASONS) total.invalid[reason] += page.invalid[reason];
  total.invalidProbabilities += page.invalidProbabilities;
  total.invalidConfidence += page.invalidConfidence;
  total.invalidTruth += page.invalidTruth;
}

/** Rows predicted per class, in class order. */
export function classCounts(valid: ValidOutputs): number[] {
  const counts = new Array<number>(valid.classCount).fill(0);
  for (let i = 0; i < valid.count; i++) counts[valid.predicted[i]!]!++;
  return counts;
}

/** The confidences that are present, in row order. */
export function presentConfidences(valid: ValidOutputs): number[] {
  const confidences: number[] = [];
  for (let i = 0; i < valid.count; i++) {
    const c = valid.confidence[i]!;
    if (!Number.isNaN(c)) confidences.push(c);
  }
  return confidences;
}

/**
 * Writes the probabilities in class order at `offset` and says whether they form a distribution over the
 * classes; when they do not, the row is left NaN.
 */
function writeProbabilities(
  probabilities: Record<string, number>,
  classIndex: ReadonlyMap<string, number>,
  target: Float64Array,
  offset: number,
  tolerance: number,
): boolean {
  const k = classIndex.size;
  target.fill(0, offset, offset + k);
  let sum = 0;
  for (const label in probabilities) {
    const i = classIndex.get(label);
    const p = probabilities[label];
    if (i === undefined || !isProbability(p)) {
      target.fill(Number.NaN, offset, offset + k);
      return false;
    }
    target[offset + i] = p;
    sum += p;
  }
  if (Math.abs(sum - 1) <= tolerance) return true;
  target.fill(Number.NaN, offset, offset + k);
  return false;
}

function isProbability(p: unknown): p is number {
  return typeof p === 'number' && p >= 0 && p <= 1;
}
