// Jensen–Shannon distance between two discrete distributions given as counts or histograms over the same
// bins (scipy.spatial.distance.jensenshannon(p, q, base=2)). With base-2 logarithms it lies in [0, 1]:
// 0 for identical distributions, 1 for disjoint supports. Unlike PSI or KL it stays finite when a bin is
// empty on one side, so it needs no smoothing. For numeric features, bin both windows with
// `histogram(values, quantileBinEdges(reference))` first.

import { totalCount } from './descriptive.ts';

export function jensenShannonDistance(
  referenceCounts: readonly number[],
  currentCounts: readonly number[],
): number {
  if (referenceCounts.length !== currentCounts.length) {
    throw new RangeError('jensenShannonDistance: count arrays must have one entry per bin');
  }
  const referenceTotal = totalCount(referenceCounts, 'jensenShannonDistance');
  const currentTotal = totalCount(currentCounts, 'jensenShannonDistance');
  let divergence = 0;
  for (let i = 0; i < referenceCounts.length; i++) {
    const p = referenceCounts[i]! / referenceTotal;
    const q = currentCounts[i]! / currentTotal;
    const m = (p + q) / 2;
    if (p > 0) divergence += p * Math.log(p / m);
    if (q > 0) divergence += q * Math.log(q / m);
  }
  // Rounding can leave a tiny negative divergence for identical inputs.
  return Math.sqrt(Math.max(0, divergence / 2 / Math.LN2));
}
