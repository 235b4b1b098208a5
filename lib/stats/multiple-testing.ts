// Corrections for testing many features at once: with 50 features at alpha 0.05, about 2.5 would be
// flagged on every window by chance alone.

/**
 * Benjamini–Hochberg adjusted p-values (scipy.stats.false_discovery_control, method='bh'): rejecting
 * where adjusted <= q controls the false discovery rate at q for independent or positively dependent
 * tests. Returned in input order.
 */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  requireProbabilities(pValues, 'benjaminiHochberg');
  const m = pValues.length;
  const order = pValues.map((_, i) => i).sort((a, b) => pValues[a]! - pValues[b]! || a - b);
  const adjusted = new Array<number>(m);
  let runningMin = 1;
  for (let rank = m; rank >= 1; rank--) {
    const index = order[rank - 1]!;
    runningMin = Math.min(runningMin, pValues[index]! * (m / rank));
    adjusted[index] = runningMin;
  }
  return adjusted;
}

/** Bonferroni adjusted p-values min(1, m·p): controls the family-wise error rate, conservatively. */
export function bonferroni(pValues: readonly number[]): number[] {
  requireProbabilities(pValues, 'bonferroni');
  return pValues.map((p) => Math.min(1, p * pValues.length));
}

function requireProbabilities(pValues: readonly number[], name: string): void {
  for (const p of pValues) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`${name}: p-values must be in [0, 1], got ${p}`);
  }
}
