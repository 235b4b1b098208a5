// Mann–Whitney U test for a shift in location that is robust to outliers and skew
// (scipy.stats.mannwhitneyu(current, reference, alternative='two-sided', method='asymptotic',
// use_continuity=True)): normal approximation with tie correction and continuity correction.
// The asymptotic form is used at every sample size because windows are large; for fewer than ~20 values
// per sample without ties SciPy's default would switch to the exact distribution.

import { sortedCopy } from './descriptive.ts';
import { normalSf } from './distributions.ts';

export interface MannWhitneyResult {
  /** U of the current sample: the number of (current, reference) pairs with current > reference, ties ½. */
  statistic: number;
  pValue: number;
  /**
   * Effect size: probability of superiority U / (n_cur · n_ref) = P(cur > ref) + ½ P(cur = ref);
   * 0.5 means no shift. (Rank-biserial correlation is 2·this - 1.)
   */
  probabilityOfSuperiority: number;
}

export function mannWhitneyU(reference: readonly number[], current: readonly number[]): MannWhitneyResult {
  const n1 = current.length;
  const n2 = reference.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('mannWhitneyU: both samples must be non-empty');
  const n = n1 + n2;
  const a = sortedCopy(current);
  const b = sortedCopy(reference);
  // Merge walk over the two sorted samples: each run of equal values gets the average of its ranks.
  let rankSumCurrent = 0;
  let tieTerm = 0;
  let i = 0;
  let j = 0;
  while (i < n1 || j < n2) {
    const x = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    const startI = i;
    const startJ = j;
    while (i < n1 && a[i] === x) i++;
    while (j < n2 && b[j] === x) j++;
    const ties = i - startI + (j - startJ);
    const averageRank = startI + startJ + (ties + 1) / 2;
    rankSumCurrent += (i - startI) * averageRank;
    tieTerm += ties ** 3 - ties;
  }
  const u = rankSumCurrent - (n1 * (n1 + 1)) / 2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  // The two-sided p-value uses the larger of U and n1·n2 - U, minus ½ for continuity.
  const numerator = Math.max(u, n1 * n2 - u) - (n1 * n2) / 2 - 0.5;
  // sigma is 0 only when every value is tied; then there is no evidence of a shift.
  const pValue = sigma > 0 ? Math.min(1, 2 * normalSf(numerator / sigma)) : 1;
  return { statistic: u, pValue, probabilityOfSuperiority: u / (n1 * n2) };
}
