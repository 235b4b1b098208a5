// Welch's t-test for a shift in the mean without assuming equal variances
// (scipy.stats.ttest_ind(current, reference, equal_var=False), two-sided).

import { mean, variance } from './descriptive.ts';
import { studentTSf } from './distributions.ts';

export interface WelchResult {
  /** t = (mean_cur - mean_ref) / sqrt(s²_cur/n_cur + s²_ref/n_ref); positive when the current mean is higher. */
  statistic: number;
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

export function welchTTest(reference: readonly number[], current: readonly number[]): WelchResult {
  if (reference.length < 2 || current.length < 2) {
    throw new RangeError('welchTTest: each sample needs at least two values');
  }
  const meanDifference = mean(current) - mean(reference);
  const varianceReference = variance(reference);
  const varianceCurrent = variance(current);
  const termReference = varianceReference / reference.length;
  const termCurrent = varianceCurrent / current.length;
  const standardError = Math.sqrt(termReference + termCurrent);
  const degreesOfFreedom =
    (termReference + termCurrent) ** 2 /
    (termReference ** 2 / (reference.length - 1) + termCurrent ** 2 / (current.length - 1));
  const scale = Math.sqrt((varianceReference + varianceCurrent) / 2);
  if (standardError === 0) {
    // Both samples constant. SciPy returns NaN for equal constants; "no difference" (t 0, p 1) is the
    // answer a monitor can act on. Different constants are an infinitely significant shift, as in SciPy.
    const statistic = meanDifference === 0 ? 0 : Math.sign(meanDifference) * Number.POSITIVE_INFINITY;
    return {
      statistic,
      pValue: meanDifference === 0 ? 1 : 0,
      degreesOfFreedom: Number.NaN,
      meanDifference,
      cohensD: statistic,
    };
  }
  const statistic = meanDifference / standardError;
  return {
    statistic,
    pValue: Math.min(1, 2 * studentTSf(Math.abs(statistic), degreesOfFreedom)),
    degreesOfFreedom,
    meanDifference,
    cohensD: meanDifference / scale,
  };
}
