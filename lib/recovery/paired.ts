// Paired comparisons of two models scored on the same held-out rows: is the candidate better than
// production? Both tests are one-sided — a candidate only replaces production when it is better — and
// pair the rows, which removes the rows' own difficulty from the comparison (checked against SciPy:
// scripts/reference/scipy_reference.py, "paired").
import { mean, standardDeviation, studentTSf } from '../stats/index.ts';

export interface PairedResult {
  statistic: number;
  /** One-sided: the probability of a result at least this favourable to the candidate if it is no better. */
  pValue: number;
}

/**
 * McNemar's test on paired correctness, exact, with the mid-p correction. Only the discordant rows tell
 * the models apart: `candidateOnly` rows only the candidate got right, `productionOnly` rows only
 * production did. If the candidate is no better, each discordant row is the candidate's with probability
 * ½, so candidateOnly ~ Binomial(n, ½) with n the discordant rows, and
 *   p = P(X > b) + ½·P(X = b),   b = candidateOnly
 * (SciPy: binom.sf(b, n, 0.5) + 0.5·binom.pmf(b, n, 0.5)). The mid-p keeps the exact test's size close
 * to the nominal level instead of far below it, which the plain exact test has with few discordant rows.
 * The statistic is b − n/2, the candidate's excess of wins. Without discordant rows p = ½: no evidence.
 */
export function mcnemarMidP(candidateOnly: number, productionOnly: number): PairedResult {
  for (const count of [candidateOnly, productionOnly]) {
    if (!(Number.isInteger(count) && count >= 0)) {
      throw new RangeError('mcnemarMidP: counts must be non-negative integers');
    }
  }
  const n = candidateOnly + productionOnly;
  // The pmf of Binomial(n, ½) built up by the ratio C(n, k)/C(n, k−1) = (n − k + 1)/k in log space:
  // relative error grows by ~1e-16 per step, far below a factorial's log-gamma error at large n.
  let logPmf = -n * Math.LN2;
  let upper = 0;
  let atB = 0;
  for (let k = 0; k <= n; k++) {
    if (k > 0) logPmf += Math.log((n - k + 1) / k);
    if (k === candidateOnly) atB = Math.exp(logPmf);
    else if (k > candidateOnly) upper += Math.exp(logPmf);
  }
  return { statistic: candidateOnly - n / 2, pValue: Math.min(1, upper + atB / 2) };
}

/**
 * One-sided paired t-test that production's losses exceed the candidate's (SciPy:
 * ttest_rel(production, candidate, alternative='greater')): on d = production − candidate per row,
 * t = mean(d) / (sd(d)/√n) with n − 1 degrees of freedom, p = P(T > t). For squared errors, a small p
 * says the candidate's mean squared error is lower. Constant differences have no spread: p is 0 when
 * they favour the candidate, 1 otherwise.
 */
export function pairedTTestGreater(
  production: readonly number[],
  candidate: readonly number[],
): PairedResult {
  if (production.length !== candidate.length) {
    throw new RangeError('pairedTTestGreater: the two samples must be paired (same length)');
  }
  if (production.length < 2) throw new RangeError('pairedTTestGreater: needs at least two pairs');
  const differences = production.map((x, i) => x - candidate[i]!);
  const meanDifference = mean(differences);
  const sd = standardDeviation(differences);
  if (sd === 0) {
    const statistic = meanDifference === 0 ? 0 : Math.sign(meanDifference) * Number.POSITIVE_INFINITY;
    return { statistic, pValue: meanDifference > 0 ? 0 : 1 };
  }
  const statistic = meanDifference / (sd / Math.sqrt(differences.length));
  return { statistic, pValue: studentTSf(statistic, differences.length - 1) };
}
