// Wasserstein-1 (earth mover's) distance between two samples: ∫ |F_ref(x) - F_cur(x)| dx over the
// empirical CDFs (scipy.stats.wasserstein_distance). It is in the feature's own units, so it is also
// reported normalised by the reference's spread, which makes one threshold usable across features.

import { sortedCopy, standardDeviation } from './descriptive.ts';

export interface WassersteinResult {
  /** In the feature's units. */
  distance: number;
  /** distance / scale: how many reference standard deviations the distribution moved. */
  normalized: number;
  scale: number;
  /**
   * 'reference_sd': the reference's sample standard deviation. 'pooled_sd': the reference is constant
   * (sd 0, and so is its IQR), so the standard deviation of both windows pooled is used instead; it is
   * positive whenever the distance is. When both windows are the same constant, distance and normalized
   * are 0 and scale is 0.
   */
  scaleSource: 'reference_sd' | 'pooled_sd';
}

export function wasserstein(reference: readonly number[], current: readonly number[]): WassersteinResult {
  if (reference.length === 0 || current.length === 0) {
    throw new RangeError('wasserstein: both samples must be non-empty');
  }
  const distance = wassersteinDistance(reference, current);
  const referenceSd = reference.length > 1 ? standardDeviation(reference) : 0;
  if (referenceSd > 0) {
    return { distance, normalized: distance / referenceSd, scale: referenceSd, scaleSource: 'reference_sd' };
  }
  const pooledSd = standardDeviation([...reference, ...current]);
  return {
    distance,
    normalized: pooledSd > 0 ? distance / pooledSd : 0,
    scale: pooledSd,
    scaleSource: 'pooled_sd',
  };
}

/** The raw distance, O(n log n): one merge walk over the sorted samples. */
export function wassersteinDistance(reference: readonly number[], current: readonly number[]): number {
  const a = sortedCopy(reference);
  const b = sortedCopy(current);
  let i = 0;
  let j = 0;
  let previous = Math.min(a[0]!, b[0]!);
  let distance = 0;
  // Between consecutive pooled values both ECDFs are constant, so the integral is a sum of rectangles.
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    distance += Math.abs(i / a.length - j / b.length) * (x - previous);
    previous = x;
    while (i < a.length && a[i]! <= x) i++;
    while (j < b.length && b[j]! <= x) j++;
  }
  return distance;
}
