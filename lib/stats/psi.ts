// Population Stability Index: Σ (cur_i - ref_i) · ln(cur_i / ref_i) over bin proportions.
// Symmetric in its arguments; the common reading is < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 major
// shift (Siddiqi, "Credit Risk Scorecards", 2006). SciPy has no PSI; the fixture computes it in NumPy.

import { DEFAULT_QUANTILE_BINS, histogram, quantileBinEdges, totalCount } from './descriptive.ts';

/**
 * Proportion substituted for an empty bin (in either window) before taking logs, as Evidently does.
 * Proportions are not renormalised afterwards. An empty bin facing a 1% bin then contributes
 * (0.01 - 0.0001) · ln(100) ≈ 0.046: visible, but not infinite.
 */
export const PSI_EMPTY_BIN_PROPORTION = 1e-4;

export interface PsiOptions {
  /** Number of reference-quantile bins; default 10. Ties in the reference can merge bins. */
  bins?: number;
  /** Proportion used for empty bins; default PSI_EMPTY_BIN_PROPORTION. */
  emptyBinProportion?: number;
}

export interface PsiResult {
  value: number;
  /** Boundaries between bins (reference quantiles); the first and last bins are open-ended. */
  edges: number[];
  referenceCounts: number[];
  currentCounts: number[];
}

/** PSI of a numeric feature, binned at the reference's quantiles. */
export function psi(
  reference: readonly number[],
  current: readonly number[],
  options: PsiOptions = {},
): PsiResult {
  if (reference.length === 0 || current.length === 0)
    throw new RangeError('psi: both samples must be non-empty');
  const edges = quantileBinEdges(reference, options.bins ?? DEFAULT_QUANTILE_BINS);
  const referenceCounts = histogram(reference, edges);
  const currentCounts = histogram(current, edges);
  return {
    value: psiFromCounts(referenceCounts, currentCounts, options.emptyBinProportion),
    edges,
    referenceCounts,
    currentCounts,
  };
}

/** PSI from counts that are already binned (or categorical), one entry per bin in both arrays. */
export function psiFromCounts(
  referenceCounts: readonly number[],
  currentCounts: readonly number[],
  emptyBinProportion = PSI_EMPTY_BIN_PROPORTION,
): number {
  if (referenceCounts.length !== currentCounts.length) {
    throw new RangeError('psiFromCounts: count arrays must have one entry per bin');
  }
  const referenceTotal = totalCount(referenceCounts, 'psiFromCounts');
  const currentTotal = totalCount(currentCounts, 'psiFromCounts');
  let value = 0;
  for (let i = 0; i < referenceCounts.length; i++) {
    const r = referenceCounts[i]! > 0 ? referenceCounts[i]! / referenceTotal : emptyBinProportion;
    const c = currentCounts[i]! > 0 ? currentCounts[i]! / currentTotal : emptyBinProportion;
    value += (c - r) * Math.log(c / r);
  }
  return value;
}
