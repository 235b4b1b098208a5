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
  /**
   * Shares of a window's rows tried for a partial swap (a window that straddles the start or the end of
   * the fault holds swapped and clean rows): 0.1, 0.15, … 1. Below a tenth the columns hardly drift.
   */
  swapShares: Array.from({ length: 19 }, (_, i) => 0.1 + i * 0.05),
  /**
   * ...and the share of the KS gap a partial swap must close, in place of `explainedGap`: a part of the
   * rows moves the column less, so the sampling noise left after the right mixture is a larger part of
   * the gap (30 % of 1,000 rows swapped: the right share leaves 20-25 % of it). Chosen on the development
   * seeds' windows that straddle a swap's edges; the same share must fit both columns, and leave no
   * significant difference in either.
   */
  partialExplainedGap: 0.5,
};

/**
 * How a column is misread: its values in other units, or the values of another feature in a `share` of
 * the window's rows (1: all of them; less: the window straddles the start or the end of the swap).
 */
export type Misreading =
  | { kind: 'rescaled'; factor: number }
  | { kind: 'swapped'; with: string; share: number };

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
  const gaps = new Map([...numeric].map(([name, c]) => [name, ksStatistic(c.reference.sample, c.values)]));
  /** `reference` accounts for `values` where their own reference left `gap`: most of it closed, no significant difference left. */
  const explains = (
    referenceSample: readonly number[],
    values: readonly number[],
    gap: number,
    closed = VALIDITY_DEFAULTS.explainedGap,
  ) =>
    ksStatistic(referenceSample, values) <= (1 - closed) * gap &&
    ksTwoSample(referenceSample, values).pValue >= VALIDITY_DEFAULTS.alpha;
  const judged = [...numeric].filter(([name]) => drifted.has(name));
  for (const [name, { values, reference: own }] of judged) {
    const gap = gaps.get(name)!;
    const factor = bestRescaling(own.sample, values, gap);
    if (
      factor !== null &&
      explains(
        own.sample,
        values.map((v) => v / factor),
        gap,
      )
    )
      found.set(name, { kind: 'rescaled', factor });
  }
  /**
   * For each drifted column not rescaled, the other drifted columns whose swap with it explains both (a
   * rescaled column is still a partner of the others: it counts against their being swapped with one).
   */
  const partners = new Map<string, Map<string, number>>();
  const partner = (name: string, other: string, share: number) => {
    if (found.has(name)) return;
    partners.set(name, (partners.get(name) ?? new Map<string, number>()).set(other, share));
  };
  judged.forEach(([name, { values, reference: own }], i) => {
    // Each pair once: the fit is symmetric in the two columns.
    for (const [other, { values: otherValues, reference: theirs }] of judged.slice(i + 1)) {
      // The same share of rows swapped in both columns: this one holds the other's values in that share
      // of its rows, the other this one's. A window that holds the fault's first or last rows is such a
      // mixture; read as plain drift, it confirms a drift with the windows on either side of the fault
      // and its rows reach a retrain. The share that fits both columns best is judged.
      const fit = (p: number) => ({
        p,
        mine: mixtureSample(own.sample, theirs.sample, p),
        theirs: mixtureSample(theirs.sample, own.sample, p),
      });
      const best = VALIDITY_DEFAULTS.swapShares
        .map(fit)
        .map((f) => ({ ...f, d: Math.max(ksStatistic(f.mine, values), ksStatistic(f.theirs, otherValues)) }))
        .reduce((a, b) => (b.d < a.d ? b : a));
      const closed = best.p < 1 ? VALIDITY_DEFAULTS.partialExplainedGap : VALIDITY_DEFAULTS.explainedGap;
      if (
        explains(best.mine, values, gaps.get(name)!, closed) &&
        explains(best.theirs, otherValues, gaps.get(other)!, closed)
      ) {
        const share = Math.round(best.p * 100) / 100;
        partner(name, other, share);
        partner(other, name, share);
      }
    }
  });
  // Two columns are swapped when each explains the other and nothing else, and no other column moved: a
  // swap moves the two columns it exchanges. A column that several others would explain, or a pair among
  // other moved columns, is a set of alike columns drifting together (a moving concept's features), where
  // two of them resembling each other's reference is the likelier coincidence.
  const moved = [...numeric.keys()].filter((n) => drifted.has(n) && !found.has(n));
  for (const [name, mine] of partners) {
    if (found.has(name) || mine.size !== 1) continue;
    const [other, share] = [...mine][0]!;
    const theirs = partners.get(other);
    if (theirs?.size !== 1 || !theirs.has(name)) continue;
    if (moved.some((n) => n !== name && n !== other)) continue;
    found.set(name, { kind: 'swapped', with: other, share });
    found.set(other, { kind: 'swapped', with: name, share });
  }
  return found;
}

/**
 * A sample (ascending) of the mixture of `share` of `swapped`'s distribution into `own`'s: evenly spaced
 * order statistics of each, in proportion; the whole of `swapped` at share 1.
 */
export function mixtureSample(own: readonly number[], swapped: readonly number[], share: number): number[] {
  if (share >= 1) return [...swapped];
  const n = Math.max(own.length, swapped.length);
  const pick = (sorted: readonly number[], k: number) =>
    Array.from({ length: k }, (_, i) => sorted[Math.floor(((i + 0.5) * sorted.length) / k)]!);
  const fromSwapped = Math.round(share * n);
  return [...pick(own, n - fromSwapped), ...pick(swapped, fromSwapped)].sort((a, b) => a - b);
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
