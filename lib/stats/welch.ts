// Welch's t-test for a shift in the mean without assuming equal variances
// (scipy.stats.ttest_ind(current, reference, equal_var=False)), on the samples themselves or on their
// sums (n, Σx, Σx²): a monitor that keeps only sums per window can still test, and sums of windows add.

import { mean, variance } from './descriptive.ts';
import { studentTSf } from './distributions.ts';

export interface WelchResult {
  /** t = (mean_cur - mean_ref) / sqrt(s²_cur/n_cur + s²_ref/n_ref); positive when the current mean is higher. */
  statistic: number;
  /** Two-sided by default; 'greater': P(T ≥ t), the current mean is higher. */
  pValue: number;
  /** Welch–Satterthwaite degrees of freedom (fractional). */
  degreesOfFreedom: number;
  /** mean_cur - mean_ref. */
  meanDifference: number;
  /**
   * Effect size: Cohen's d with the root mean square of the two standard deviations as the scale (the
   * usual choice when variances are not assumed equal); 0.2 small, 0.5 medium, 0.8 large.
   */
  cohensD: number;
}

/** SciPy's `alternative`: the current mean differs from the reference's, or is greater. */
export type WelchAlternative = 'two-sided' | 'greater';

/**
 * A sample by its sums: n values, Σx and Σx². Two samples' sums add to their union's, so a window's
 * sums can be kept instead of its rows; n may be fractional for a down-weighted sample (every sum
 * scaled by the same factor keeps its mean and, to O(1/n), its variance).
 */
export interface SampleSums {
  n: number;
  sum: number;
  sumSquares: number;
}

export function welchTTest(
  reference: readonly number[],
  current: readonly number[],
  alternative: WelchAlternative = 'two-sided',
): WelchResult {
  if (reference.length < 2 || current.length < 2) {
    throw new RangeError('welchTTest: each sample needs at least two values');
  }
  return welch(
    { n: reference.length, mean: mean(reference), variance: variance(reference) },
    { n: current.length, mean: mean(current), variance: variance(current) },
    alternative,
  );
}

/** Welch's t-test from the samples' sums (scipy.stats.ttest_ind_from_stats, equal_var=False). */
export function welchTTestFromSums(
  reference: SampleSums,
  current: SampleSums,
  alternative: WelchAlternative = 'two-sided',
): WelchResult {
  if (!(reference.n > 1 && current.n > 1)) {
    throw new RangeError('welchTTestFromSums: each sample needs more than one value');
  }
  return welch(momentsOf(reference), momentsOf(current), alternative);
}

/** Mean and sample variance (ddof 1) from sums; the variance's rounding below zero is clamped. */
function momentsOf(s: SampleSums): Moments {
  const m = s.sum / s.n;
  return { n: s.n, mean: m, variance: Math.max(0, (s.sumSquares - s.sum * m) / (s.n - 1)) };
}

interface Moments {
  n: number;
  mean: number;
  variance: number;
}

function welch(reference: Moments, current: Moments, alternative: WelchAlternative): WelchResult {
  const meanDifference = current.mean - reference.mean;
  const termReference = reference.variance / reference.n;
  const termCurrent = current.variance / current.n;
  const standardError = Math.sqrt(termReference + termCurrent);
  const degreesOfFreedom =
    (termReference + termCurrent) ** 2 /
    (termReference ** 2 / (reference.n - 1) + termCurrent ** 2 / (current.n - 1));
  const scale = Math.sqrt((reference.variance + current.variance) / 2);
  if (standardError === 0) {
    // Both samples constant. SciPy returns NaN for equal constants; "no difference" (t 0, p 1) is the
    // answer a monitor can act on. Different constants are an infinitely significant shift, as in SciPy.
    const statistic = meanDifference === 0 ? 0 : Math.sign(meanDifference) * Number.POSITIVE_INFINITY;
    const shifted = alternative === 'greater' ? meanDifference > 0 : meanDifference !== 0;
    return {
      statistic,
      pValue: shifted ? 0 : 1,
      degreesOfFreedom: Number.NaN,
      meanDifference,
      cohensD: statistic,
    };
  }
  const statistic = meanDifference / standardError;
  return {
    statistic,
    pValue:
      alternative === 'greater'
        ? studentTSf(statistic, degreesOfFreedom)
        : Math.min(1, 2 * studentTSf(Math.abs(statistic), degreesOfFreedom)),
    degreesOfFreedom,
    meanDifference,
    cohensD: meanDifference / scale,
  };
}
