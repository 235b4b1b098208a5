// Chi-square test of homogeneity for one categorical feature: are the reference and current windows
// drawn from the same category distribution? Equivalent to scipy.stats.chi2_contingency(table,
// correction=False) on the 2 × k table after pooling.
//
// Pooling rule (the chi-square approximation needs every expected count >= 5):
// 1. categories with no observations in either window are dropped;
// 2. a category is sparse when its smaller expected count, total · min(N_ref, N_cur) / N, is below 5;
// 3. walking the categories from the rarest up (ties by index), sparse ones are merged into one "other"
//    group, and while that group is itself still sparse the next-rarest category is added to it;
// 4. with fewer than two groups left there is nothing to compare: statistic 0, p-value 1, 0 dof.
// Pooling rare categories together (rather than dropping them) keeps their mass in the test, so a new
// rare value in the current window still moves the statistic.

import { totalCount } from './descriptive.ts';
import { chiSquareSf } from './distributions.ts';

/** Smallest expected count per cell for which the chi-square approximation is trusted. */
export const CHI_SQUARE_MIN_EXPECTED = 5;

export interface ChiSquareResult {
  statistic: number;
  pValue: number;
  degreesOfFreedom: number;
  /** Effect size: Cramér's V = sqrt(χ² / N) for a 2-row table, in [0, 1]. */
  cramersV: number;
  /** Original category indices in each tested group, groups ordered by their first index. */
  groups: number[][];
  pooledReference: number[];
  pooledCurrent: number[];
}

export function chiSquareHomogeneity(
  referenceCounts: readonly number[],
  currentCounts: readonly number[],
): ChiSquareResult {
  if (referenceCounts.length !== currentCounts.length) {
    throw new RangeError('chiSquareHomogeneity: count arrays must have one entry per category');
  }
  const referenceTotal = totalCount(referenceCounts, 'chiSquareHomogeneity');
  const currentTotal = totalCount(currentCounts, 'chiSquareHomogeneity');
  const total = referenceTotal + currentTotal;
  const groups = poolSparseCategories(referenceCounts, currentCounts, total, referenceTotal, currentTotal);
  const pooledReference = groups.map((g) => g.reduce((s, i) => s + referenceCounts[i]!, 0));
  const pooledCurrent = groups.map((g) => g.reduce((s, i) => s + currentCounts[i]!, 0));
  if (groups.length < 2) {
    return {
      statistic: 0,
      pValue: 1,
      degreesOfFreedom: 0,
      cramersV: 0,
      groups,
      pooledReference,
      pooledCurrent,
    };
  }
  let statistic = 0;
  for (let j = 0; j < groups.length; j++) {
    const columnTotal = pooledReference[j]! + pooledCurrent[j]!;
    const expectedReference = (columnTotal * referenceTotal) / total;
    const expectedCurrent = (columnTotal * currentTotal) / total;
    statistic += (pooledReference[j]! - expectedReference) ** 2 / expectedReference;
    statistic += (pooledCurrent[j]! - expectedCurrent) ** 2 / expectedCurrent;
  }
  const degreesOfFreedom = groups.length - 1;
  return {
    statistic,
    pValue: chiSquareSf(statistic, degreesOfFreedom),
    degreesOfFreedom,
    cramersV: Math.sqrt(statistic / total),
    groups,
    pooledReference,
    pooledCurrent,
  };
}

function poolSparseCategories(
  referenceCounts: readonly number[],
  currentCounts: readonly number[],
  total: number,
  referenceTotal: number,
  currentTotal: number,
): number[][] {
  const categoryTotal = (i: number) => referenceCounts[i]! + currentCounts[i]!;
  const isSparse = (columnTotal: number) =>
    (columnTotal * Math.min(referenceTotal, currentTotal)) / total < CHI_SQUARE_MIN_EXPECTED;
  const byRarity = referenceCounts
    .map((_, i) => i)
    .filter((i) => categoryTotal(i) > 0)
    .sort((a, b) => categoryTotal(a) - categoryTotal(b) || a - b);
  const pooled: number[] = [];
  let pooledTotal = 0;
  let next = 0;
  while (next < byRarity.length) {
    const i = byRarity[next]!;
    if (!isSparse(categoryTotal(i)) && (pooled.length === 0 || !isSparse(pooledTotal))) break;
    pooled.push(i);
    pooledTotal += categoryTotal(i);
    next++;
  }
  const groups = byRarity.slice(next).map((i) => [i]);
  if (pooled.length > 0) groups.push(pooled.sort((a, b) => a - b));
  return groups.sort((a, b) => a[0]! - b[0]!);
}
