// The distribution of one variable (a feature, the prediction, the confidence) as a reference profile
// keeps it, and the drift tests that compare a window's values against it. Numeric variables: two-sample
// Kolmogorov–Smirnov with PSI and normalised Wasserstein-1 as effect sizes. Categorical variables
// (booleans and predicted classes too): chi-square with sparse categories pooled, with PSI over the
// categories, Jensen–Shannon distance and Cramér's V as effect sizes. The statistics are lib/stats'.
import {
  chiSquareHomogeneity,
  DEFAULT_QUANTILE_BINS,
  histogram,
  jensenShannonDistance,
  ksTwoSample,
  mean,
  psiFromCounts,
  quantileBinEdges,
  standardDeviation,
  wasserstein,
} from '../stats/index.ts';

export const DISTRIBUTION_DEFAULTS = {
  /**
   * Reference values kept per numeric variable for the two-sample tests. With 5,000 the sample's own
   * CDF error (≤ 1/5,000, see numericDistribution) is far below any gap worth flagging, a feature takes
   * 30–100 kB of JSON (values of a few digits to full doubles), and KS and Wasserstein cost O(n log n)
   * in the window's size alone.
   */
  sampleSize: 5000,
  /** Reference-quantile bins for PSI. */
  bins: DEFAULT_QUANTILE_BINS,
};

export const DRIFT_DEFAULTS = {
  /**
   * Fewer values than this on either side and a variable is "too small to judge": KS at n = 30 only
   * sees a CDF gap above ~0.25, and PSI over 10 bins is ~0.3 from sampling noise alone.
   */
  minSampleSize: 30,
};

export interface NumericDistribution {
  type: 'numeric';
  /** Values the distribution was built from. */
  count: number;
  mean: number;
  /** Sample standard deviation; 0 for a single value. */
  sd: number;
  min: number;
  max: number;
  /** At most `sampleSize` values, ascending: the sample the two-sample tests compare windows with. */
  sample: number[];
  /** Boundaries between PSI bins (reference quantiles); the outer bins are open-ended. */
  edges: number[];
  /** All reference values per bin, edges.length + 1 entries. */
  counts: number[];
}

export interface CategoricalDistribution {
  type: 'categorical';
  /** Values the distribution was built from, `other` included. */
  count: number;
  categories: string[];
  counts: number[];
  /** Values outside `categories`. */
  other: number;
}

export type Distribution = NumericDistribution | CategoricalDistribution;

/**
 * A numeric distribution of the values (in any order); null without values. When there are more values
 * than `sampleSize`, the sample is the evenly spaced order statistics at ranks ⌊(i + ½)·n/m⌋: it depends
 * only on the values (not on row order or a seed), keeps ties and never invents values, and its CDF is
 * within 1/m of the reference's everywhere — closer than a random draw of m values. KS reads it as a
 * random sample of size m, which makes the test slightly conservative.
 */
export function numericDistribution(
  values: readonly number[],
  settings: { sampleSize: number; bins: number } = DISTRIBUTION_DEFAULTS,
): NumericDistribution | null {
  // The plain array lib/stats takes, sorted as a Float64Array: several times faster than Array#sort.
  const sorted = Array.from(Float64Array.from(values).sort());
  const n = sorted.length;
  if (n === 0) return null;
  const m = settings.sampleSize;
  const sample =
    n <= m ? [...sorted] : Array.from({ length: m }, (_, i) => sorted[Math.floor(((i + 0.5) * n) / m)]!);
  const edges = quantileBinEdges(sorted, settings.bins);
  return {
    type: 'numeric',
    count: n,
    mean: mean(sorted),
    sd: n > 1 ? standardDeviation(sorted) : 0,
    min: sorted[0]!,
    max: sorted[n - 1]!,
    sample,
    edges,
    counts: histogram(sorted, edges),
  };
}

/** Counts over named categories plus the values outside them. */
export interface CategoryCounts {
  categories: readonly string[];
  counts: readonly number[];
  other: number;
}

/** Null without values, as numericDistribution. */
export function categoricalDistribution({
  categories,
  counts,
  other,
}: CategoryCounts): CategoricalDistribution | null {
  const count = counts.reduce((sum, c) => sum + c, other);
  return count > 0
    ? { type: 'categorical', count, categories: [...categories], counts: [...counts], other }
    : null;
}

interface SampleSizes {
  /** Values on the reference side of the test (for numeric variables: the reference sample). */
  referenceN: number;
  currentN: number;
}

export interface NotJudged extends SampleSizes {
  judged: false;
  reason: 'no_reference' | 'too_small';
  message: string;
}

export interface NumericDrift extends SampleSizes {
  judged: true;
  test: 'kolmogorov_smirnov';
  /** KS D: the largest gap between the two empirical CDFs, in [0, 1]; an effect size too. */
  statistic: number;
  pValue: number;
  pValueMethod: 'exact' | 'asymptotic';
  /** PSI over the reference-quantile bins, with every reference value counted (not only the sample). */
  psi: number;
  /** Wasserstein-1 distance in reference standard deviations. */
  wasserstein: number;
}

export interface CategoricalDrift extends SampleSizes {
  judged: true;
  test: 'chi_square';
  /** χ² of the 2 × k table after pooling sparse categories (lib/stats/chi-square.ts). */
  statistic: number;
  pValue: number;
  degreesOfFreedom: number;
  cramersV: number;
  /** PSI over the categories, "other" included. */
  psi: number;
  /** Jensen–Shannon distance (base 2, in [0, 1]) over the categories, "other" included. */
  jensenShannon: number;
}

export type DriftResult = NumericDrift | CategoricalDrift | NotJudged;

function noReference(currentN: number): NotJudged {
  return {
    judged: false,
    reason: 'no_reference',
    message: 'no reference distribution',
    referenceN: 0,
    currentN,
  };
}

function tooSmall(referenceN: number, currentN: number, minSampleSize: number): NotJudged | null {
  if (referenceN >= minSampleSize && currentN >= minSampleSize) return null;
  const side = currentN < minSampleSize ? `the window has ${currentN}` : `the reference has ${referenceN}`;
  return {
    judged: false,
    reason: 'too_small',
    message: `too small to judge: ${side} values, at least ${minSampleSize} are needed`,
    referenceN,
    currentN,
  };
}

/**
 * Drift of a numeric variable; `current` holds the window's values (any order; sorted is fastest), or a
 * representative sample of its `currentN` values (a window read in pages, QuantileSketch.sample): KS D,
 * PSI and Wasserstein are then read from the sample, within the sketch's rank error (docs/agent-logic.md
 * "Windows of any size"), and the p-value from the true sizes.
 */
export function numericDrift(
  reference: NumericDistribution | null,
  current: readonly number[],
  minSampleSize = DRIFT_DEFAULTS.minSampleSize,
  currentN = current.length,
): NumericDrift | NotJudged {
  if (reference === null) return noReference(currentN);
  const small = tooSmall(reference.sample.length, currentN, minSampleSize);
  if (small) return small;
  const ks = ksTwoSample(reference.sample, current, currentN);
  return {
    judged: true,
    test: 'kolmogorov_smirnov',
    statistic: ks.statistic,
    pValue: ks.pValue,
    pValueMethod: ks.method,
    psi: psiFromCounts(reference.counts, histogram(current, reference.edges)),
    wasserstein: wasserstein(reference.sample, current).normalized,
    referenceN: reference.sample.length,
    currentN,
  };
}

/** Drift of a categorical variable. Current categories the reference does not name count as "other". */
export function categoricalDrift(
  reference: CategoricalDistribution | null,
  current: CategoryCounts,
  minSampleSize = DRIFT_DEFAULTS.minSampleSize,
): CategoricalDrift | NotJudged {
  const currentN = current.counts.reduce((sum, c) => sum + c, current.other);
  if (reference === null) return noReference(currentN);
  const small = tooSmall(reference.count, currentN, minSampleSize);
  if (small) return small;
  const referenceCounts = [...reference.counts, reference.other];
  const currentCounts = alignCounts(reference.categories, current);
  const chiSquare = chiSquareHomogeneity(referenceCounts, currentCounts);
  return {
    judged: true,
    test: 'chi_square',
    statistic: chiSquare.statistic,
    pValue: chiSquare.pValue,
    degreesOfFreedom: chiSquare.degreesOfFreedom,
    cramersV: chiSquare.cramersV,
    psi: psiFromCounts(referenceCounts, currentCounts),
    jensenShannon: jensenShannonDistance(referenceCounts, currentCounts),
    referenceN: reference.count,
    currentN,
  };
}

/** The current counts in the reference's category order, with "other" last. */
function alignCounts(referenceCategories: readonly string[], current: CategoryCounts): number[] {
  const position = new Map(referenceCategories.map((c, i) => [c, i]));
  const aligned = new Array<number>(referenceCategories.length + 1).fill(0);
  aligned[referenceCategories.length] = current.other;
  current.categories.forEach((category, i) => {
    aligned[position.get(category) ?? referenceCategories.length]! += current.counts[i]!;
  });
  return aligned;
}
