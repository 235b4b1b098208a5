// What a feature's valid values are when the schema does not say, learnt from the serving version's
// reference: a numeric range with a margin, and the column that arrives in other units or under another
// feature's name. An upstream fault (a unit change, two swapped columns) otherwise reads as input drift,
// and drift may lead to a retrain on the corrupted rows; read as a data-quality problem it leads to
// protection instead. An explicit schema range always wins over the learnt one.
import type { FeatureSchema, FeatureSpec } from '../domain.ts';
import { ksStatistic, ksTwoSample } from '../stats/index.ts';
import type { FeatureColumn } from './columns.ts';
import type { NumericDistribution } from './distributions.ts';
import type { ReferenceProfile } from './reference.ts';

export const VALIDITY_DEFAULTS = {
  /**
   * A numeric feature without a schema range is valid up to this share of the reference's own range
   * beyond either end. Wide on purpose: a real covariate shift moves values past the reference's extremes
   * (a normal feature's 2σ shift puts a few per cent of them past the largest of 2,000 reference values),
   * while a unit change or a garbage default lands orders of magnitude away.
   */
  rangeMargin: 0.5,
  /**
   * A column whose values moved is misread when a rescaling by a power of ten, or another feature's
   * reference, closes at least this share of its KS gap to its own reference and leaves no significant
   * difference: it is that feature, or this one in other units.
   */
  explainedGap: 0.75,
  /** Significance of "no difference left" after the rescaling or swap. */
  alpha: 0.01,
  /** Powers of ten tried as a unit change: 10^-6 … 10^6. */
  maxPowerOfTen: 6,
  /**
   * Only features whose reference holds at least this many distinct values are compared: matching a
   * whole distribution identifies a column, matching a rate or two does not (binary features at similar
   * rates match each other by coincidence, and a concept that exchanges them is not a broken pipeline
   * to the eye of the inputs).
   */
  minDistinctValues: 10,
};

/** How a column is misread: its values in other units, or the values of another feature. */
export type Misreading = { kind: 'rescaled'; factor: number } | { kind: 'swapped'; with: string };

/** The schema with each numeric feature's missing bound learnt from the reference. */
export function withLearnedRanges(schema: FeatureSchema, reference: ReferenceProfile): FeatureSchema {
  return schema.map((spec) => {
    if (spec.type !== 'numeric' || (spec.min !== undefined && spec.max !== undefined)) return spec;
    const distribution = reference.features.find((f) => f.name === spec.name)?.distribution;
    if (distribution?.type !== 'numeric') return spec;
    const { min, max } = distribution;
    const margin = VALIDITY_DEFAULTS.rangeMargin * (max > min ? max - min : Math.max(Math.abs(max), 1));
    return { ...spec, min: spec.min ?? min - margin, max: spec.max ?? max + margin };
  });
}

/**
 * The numeric columns among `drifted` (names of features whose drift is significant) that are misread:
 * rescaled by a power of ten, or swapped with another drifted feature (each matches the other's
 * reference). Columns with fewer than `minSampleSize` values are not judged.
 */
export function misreadColumns(
  schema: FeatureSchema,
  columns: readonly FeatureColumn[],
  reference: ReferenceProfile,
  drifted: ReadonlySet<string>,
  minSampleSize: number,
): Map<string, Misreading> {
  const numeric = new Map<string, { values: number[]; reference: NumericDistribution }>();
  schema.forEach((spec: FeatureSpec, i) => {
    const column = columns[i]!;
    const distribution = reference.features.find((f) => f.name === spec.name)?.distribution;
    if (column.type !== 'numeric' || distribution?.type !== 'numeric') return;
    if (column.count < minSampleSize || distribution.sample.length < minSampleSize) return;
    if (distinctValues(distribution.sample) < VALIDITY_DEFAULTS.minDistinctValues) return;
    numeric.set(spec.name, { values: column.values, reference: distribution });
  });

  const found = new Map<string, Misreading>();
  for (const [name, { values, reference: own }] of numeric) {
    if (!drifted.has(name)) continue;
    const gap = ksStatistic(own.sample, values);
    const explains = (referenceSample: readonly number[], candidate: readonly number[]) =>
      ksStatistic(referenceSample, candidate) <= (1 - VALIDITY_DEFAULTS.explainedGap) * gap &&
      ksTwoSample(referenceSample, candidate).pValue >= VALIDITY_DEFAULTS.alpha;

    const factor = bestRescaling(own.sample, values, gap);
    if (
      factor !== null &&
      explains(
        own.sample,
        values.map((v) => v / factor),
      )
    ) {
      found.set(name, { kind: 'rescaled', factor });
      continue;
    }
    for (const [other, { values: otherValues, reference: theirs }] of numeric) {
      if (other === name || !drifted.has(other)) continue;
      if (explains(theirs.sample, values) && explains(own.sample, otherValues)) {
        found.set(name, { kind: 'swapped', with: other });
        break;
      }
    }
  }
  return found;
}

/** The power of ten (≠ 1) whose division brings `values` closest to the reference; null if none is closer. */
function bestRescaling(
  referenceSample: readonly number[],
  values: readonly number[],
  gap: number,
): number | null {
  let best: { factor: number; gap: number } | null = null;
  for (let power = -VALIDITY_DEFAULTS.maxPowerOfTen; power <= VALIDITY_DEFAULTS.maxPowerOfTen; power++) {
    if (power === 0) continue;
    const factor = 10 ** power;
    // Division by a positive factor keeps the values sorted, as ksStatistic needs.
    const rescaled = ksStatistic(
      referenceSample,
      values.map((v) => v / factor),
    );
    if (rescaled < (best?.gap ?? gap)) best = { factor, gap: rescaled };
  }
  return best?.factor ?? null;
}

function distinctValues(sorted: readonly number[]): number {
  let distinct = sorted.length > 0 ? 1 : 0;
  for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  return distinct;
}
