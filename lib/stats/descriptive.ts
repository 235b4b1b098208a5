// Descriptive statistics and binning shared by the drift metrics and the monitor.

/** Scale that makes the MAD a consistent estimator of the standard deviation for normal data: 1/Φ⁻¹(3/4). */
export const MAD_NORMAL_SCALE = 1.482602218505602;

/** Default number of reference-quantile bins for binned metrics (PSI, Jensen–Shannon on numeric features). */
export const DEFAULT_QUANTILE_BINS = 10;

export function mean(values: readonly number[]): number {
  requireNonEmpty(values, 'mean');
  let sum = 0;
  for (const x of values) sum += x;
  return sum / values.length;
}

/** Variance with `ddof` delta degrees of freedom; the default 1 is the unbiased sample variance. */
export function variance(values: readonly number[], ddof = 1): number {
  if (values.length <= ddof) throw new RangeError(`variance: needs more than ${ddof} values`);
  const m = mean(values);
  let sum = 0;
  for (const x of values) sum += (x - m) ** 2;
  return sum / (values.length - ddof);
}

/** Standard deviation, sample (ddof = 1) by default. */
export function standardDeviation(values: readonly number[], ddof = 1): number {
  return Math.sqrt(variance(values, ddof));
}

/** Ascending numeric copy; Float64Array sorts by value and is much faster than Array#sort on numbers. */
export function sortedCopy(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

/**
 * Quantile of already sorted values by linear interpolation between order statistics (Hyndman & Fan
 * type 7, numpy.quantile's default), with numpy's interpolation formula so results match bit for bit.
 */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  requireNonEmpty(sorted, 'quantile');
  if (!(p >= 0 && p <= 1)) throw new RangeError(`quantile: p must be in [0, 1], got ${p}`);
  const position = (sorted.length - 1) * p;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const a = sorted[below]!;
  const b = sorted[above]!;
  const t = position - below;
  const diff = b - a;
  // numpy interpolates from the nearer end, which keeps the result monotone in p.
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

export function quantile(values: readonly number[], p: number): number {
  return quantileSorted(sortedCopy(values), p);
}

/** Several quantiles with a single sort. */
export function quantiles(values: readonly number[], ps: readonly number[]): number[] {
  const sorted = sortedCopy(values);
  return ps.map((p) => quantileSorted(sorted, p));
}

export function median(values: readonly number[]): number {
  requireNonEmpty(values, 'median');
  return medianSorted(sortedCopy(values));
}

/** Median absolute deviation from the median; pass MAD_NORMAL_SCALE to estimate a standard deviation. */
export function medianAbsoluteDeviation(values: readonly number[], scale = 1): number {
  const center = median(values);
  return scale * median(values.map((x) => Math.abs(x - center)));
}

/**
 * Bin edges at the reference's quantiles 1/bins, 2/bins, …, (bins-1)/bins, duplicates removed (heavily
 * tied data yields fewer bins). They are the boundaries *between* bins: the outer bins are open-ended,
 * see `histogram`.
 */
export function quantileBinEdges(reference: readonly number[], bins = DEFAULT_QUANTILE_BINS): number[] {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`quantileBinEdges: bins must be >= 1`);
  const sorted = sortedCopy(reference);
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const edge = quantileSorted(sorted, i / bins);
    if (edges.length === 0 || edge > edges[edges.length - 1]!) edges.push(edge);
  }
  return edges;
}

/**
 * Counts of `values` in the edges.length + 1 bins (-∞, e₀), [e₀, e₁), …, [e_last, +∞). The outer bins are
 * open so that no value is dropped: a current value outside the reference range is drift evidence.
 */
export function histogram(values: readonly number[], edges: readonly number[]): number[] {
  for (let i = 1; i < edges.length; i++) {
    if (!(edges[i]! > edges[i - 1]!)) throw new RangeError('histogram: edges must be strictly increasing');
  }
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const x of values) {
    // Number of edges <= x, by binary search.
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (edges[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    counts[lo]!++;
  }
  return counts;
}

/** Sum of a count vector, rejecting negative or non-finite counts and an empty (all-zero) vector. */
export function totalCount(counts: readonly number[], name: string): number {
  let sum = 0;
  for (const c of counts) {
    if (!(Number.isFinite(c) && c >= 0)) throw new RangeError(`${name}: counts must be finite and >= 0`);
    sum += c;
  }
  if (sum === 0) throw new RangeError(`${name}: each count vector needs a positive total`);
  return sum;
}

function medianSorted(sorted: Float64Array): number {
  const middle = sorted.length >>> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function requireNonEmpty(values: ArrayLike<number>, name: string): void {
  if (values.length === 0) throw new RangeError(`${name}: needs at least one value`);
}
