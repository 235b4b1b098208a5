// Two-proportion z-test: did a rate (error rate, positive-class rate, missing rate) change between the
// reference and the current window? Pooled-variance z statistic, two-sided normal p-value — the textbook
// test (statsmodels' proportions_ztest with its default pooled variance).

import { normalSf } from './distributions.ts';

export interface ProportionCounts {
  successes: number;
  trials: number;
}

export interface TwoProportionResult {
  /** z = (p_cur - p_ref) / SE_pooled; positive when the current rate is higher. */
  statistic: number;
  pValue: number;
  /** p_cur - p_ref. */
  difference: number;
  /** Effect size: Cohen's h = 2·asin(√p_cur) - 2·asin(√p_ref); 0.2 small, 0.5 medium, 0.8 large. */
  cohensH: number;
}

export function twoProportionZTest(
  reference: ProportionCounts,
  current: ProportionCounts,
): TwoProportionResult {
  for (const { successes, trials } of [reference, current]) {
    if (!(Number.isInteger(trials) && trials > 0 && Number.isInteger(successes))) {
      throw new RangeError('twoProportionZTest: trials must be a positive integer, successes an integer');
    }
    if (successes < 0 || successes > trials)
      throw new RangeError('twoProportionZTest: need 0 <= successes <= trials');
  }
  const pReference = reference.successes / reference.trials;
  const pCurrent = current.successes / current.trials;
  const pooled = (reference.successes + current.successes) / (reference.trials + current.trials);
  const standardError = Math.sqrt(pooled * (1 - pooled) * (1 / reference.trials + 1 / current.trials));
  const difference = pCurrent - pReference;
  // All-success or all-failure in both windows: no variation, so no evidence of a difference.
  const statistic = standardError > 0 ? difference / standardError : 0;
  return {
    statistic,
    pValue: Math.min(1, 2 * normalSf(Math.abs(statistic))),
    difference,
    cohensH: 2 * Math.asin(Math.sqrt(pCurrent)) - 2 * Math.asin(Math.sqrt(pReference)),
  };
}
