// A stream of numbers summarised in bounded memory, for the statistics that need the values' order
// (quantiles, KS, Wasserstein, Mann–Whitney) over windows of any size.
//
// Up to `exactValues` values it keeps them all, so every statistic is what it would be on the array.
// Beyond, it compacts as Munro & Paterson (1980): a full buffer of 2k values of weight w is sorted and
// every other value is kept with weight 2w (the kept parity alternates per level so errors tend to
// cancel), carried up a hierarchy of levels like a binary counter; k = exactValues / 2. Memory is
// (2 + levels) · k doubles, levels = ⌊log2(n / 2k)⌋ + 1: about 0.8 MB at 10 million values with the
// window default (exactValues 16,384).
//
// Error: one compaction at weight w moves any value's rank by at most w, and a level of weight w
// compacts at most n / (2k·w) times, so each level adds at most n / 2k to any rank and the normalised
// rank error is at most levels / 2k (rankErrorBound, computed from the compactions actually made: at
// 10 million values and k = 8,192 it is ≤ 6.1e-4). A statistic read from the sample adds the sample's
// own discretisation, at most 1 / sampleSize in rank (docs/agent-logic.md, "Windows of any size").

import { quantileSorted } from './descriptive.ts';

export class QuantileSketch {
  /** Values added. */
  count = 0;
  /** Their exact sum, in the order they were added. */
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  private readonly k: number;
  private buffer: Float64Array;
  private buffered = 0;
  /** levels[h]: k sorted values of weight 2^(h+1), or null. */
  private readonly levels: (Float64Array | null)[] = [];
  /** Compactions made per level (level 0 is the buffer): the error bound, and each level's parity. */
  private readonly compactions: number[] = [];

  /** `exactValues`: values kept verbatim before compaction starts; Infinity never compacts. */
  constructor(readonly exactValues: number) {
    if (!(exactValues >= 2)) throw new RangeError('QuantileSketch: exactValues must be at least 2');
    this.k = Number.isFinite(exactValues) ? Math.floor(exactValues / 2) : Number.POSITIVE_INFINITY;
    this.buffer = new Float64Array(Number.isFinite(exactValues) ? 2 * this.k : 1024);
  }

  /** A sketch holding every value of `values` (never compacted). */
  static of(values: ArrayLike<number>): QuantileSketch {
    const sketch = new QuantileSketch(Number.POSITIVE_INFINITY);
    for (let i = 0; i < values.length; i++) sketch.add(values[i]!);
    return sketch;
  }

  add(x: number): void {
    this.count++;
    this.sum += x;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    if (this.buffered === this.buffer.length) {
      if (Number.isFinite(this.k)) this.compact();
      else {
        const grown = new Float64Array(this.buffer.length * 2);
        grown.set(this.buffer);
        this.buffer = grown;
      }
    }
    this.buffer[this.buffered++] = x;
  }

  /** True while every value is kept: the sample is then all of them. */
  get exact(): boolean {
    return this.levels.length === 0;
  }

  /** Largest error, as a share of count, of any rank read from the summary (0 while exact). */
  get rankErrorBound(): number {
    let error = 0;
    this.compactions.forEach((times, h) => {
      error += times * 2 ** h;
    });
    return this.count > 0 ? error / this.count : 0;
  }

  /**
   * Ascending: every value while exact; otherwise `size` evenly spaced order statistics of the summary
   * (ranks ⌊(i + ½)·n / size⌋, as the reference profile samples its values), each standing for n / size
   * values.
   */
  sample(size = 2 * this.k): number[] {
    const raw = this.buffer.slice(0, this.buffered).sort();
    if (this.exact) return Array.from(raw);
    // The buffer and the levels are sorted runs: walked in merged order (ties to the earlier run) rather
    // than copied into one array and sorted, so that reading a sample allocates the sample and no more
    // at any count (a copy grew with the levels, and a window reads some thirty samples at its close).
    const runs: Float64Array[] = [raw];
    const weights: number[] = [1];
    this.levels.forEach((level, h) => {
      if (level) {
        runs.push(level);
        weights.push(2 ** (h + 1));
      }
    });
    const next = new Int32Array(runs.length);
    const n = this.count;
    const m = Math.min(size, n);
    const sample = new Array<number>(m);
    let cumulative = 0;
    let at = smallestHead(runs, next);
    for (let i = 0; i < m; i++) {
      const rank = Math.floor(((i + 0.5) * n) / m);
      while (cumulative + weights[at]! <= rank) {
        cumulative += weights[at]!;
        next[at]!++;
        at = smallestHead(runs, next);
      }
      sample[i] = runs[at]![next[at]!]!;
    }
    return sample;
  }

  /** Quantile p of the values (quantileSorted's interpolation); exact while exact. */
  quantiles(ps: readonly number[]): number[] {
    const sample = this.sample();
    return ps.map((p) => quantileSorted(sample, p));
  }

  private compact(): void {
    let carry: Float64Array | null = this.halve(this.buffer.sort(), 0);
    this.buffered = 0;
    for (let h = 0; carry !== null; h++) {
      const resident = this.levels[h] ?? null;
      if (resident === null) {
        this.levels[h] = carry;
        carry = null;
      } else {
        this.levels[h] = null;
        carry = this.halve(mergeSorted(resident, carry), h + 1);
      }
    }
  }

  /** Every other value of a sorted run, starting at the level's alternating parity. */
  private halve(sorted: Float64Array, level: number): Float64Array {
    const times = this.compactions[level] ?? 0;
    this.compactions[level] = times + 1;
    const half = new Float64Array(sorted.length >> 1);
    for (let i = 0, j = times % 2; i < half.length; i++, j += 2) half[i] = sorted[j]!;
    return half;
  }
}

/** The run whose next value (at `next`) is the smallest, the earliest on a tie; -1 when all are walked. */
function smallestHead(runs: readonly Float64Array[], next: Int32Array): number {
  let best = -1;
  let bestValue = 0;
  for (let r = 0; r < runs.length; r++) {
    const i = next[r]!;
    if (i < runs[r]!.length && (best === -1 || runs[r]![i]! < bestValue)) {
      best = r;
      bestValue = runs[r]![i]!;
    }
  }
  return best;
}

function mergeSorted(a: Float64Array, b: Float64Array): Float64Array {
  const merged = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let o = 0;
  while (i < a.length && j < b.length) merged[o++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) merged[o++] = a[i++]!;
  while (j < b.length) merged[o++] = b[j++]!;
  return merged;
}
