// Serving health: latency and the traffic itself. A window's arrival time is when Homeostat received the
// prediction (receivedAt); silence is measured against the usual time between arrivals, so a quiet
// model and a dead upstream are told apart by the ratio, not by a fixed timeout.
import { QuantileSketch } from '../stats/quantile-sketch.ts';

export interface LatencyMetrics {
  /** Rows with a latency. */
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * Null without latencies. A window in pages passes its sketch (percentiles exact up to its `exactValues`
 * latencies, within its rank error beyond; count, mean and max always exact).
 */
export function latencyMetrics(latenciesMs: QuantileSketch | readonly number[]): LatencyMetrics | null {
  const sketch = latenciesMs instanceof QuantileSketch ? latenciesMs : QuantileSketch.of(latenciesMs);
  if (sketch.count === 0) return null;
  const q = sketch.quantiles([0.5, 0.95, 0.99]);
  return {
    count: sketch.count,
    mean: sketch.sum / sketch.count,
    p50: q[0]!,
    p95: q[1]!,
    p99: q[2]!,
    max: sketch.max,
  };
}

export interface ArrivalMetrics {
  /** From the window's start (else its first arrival) to now. */
  windowSeconds: number;
  /** Arrivals per minute over windowSeconds; null for a window of no duration. */
  throughputPerMinute: number | null;
  /** ISO 8601; the previous arrival when the window has none; null when there never was one. */
  lastArrival: string | null;
  secondsSinceLastArrival: number | null;
  /**
   * Longest silence: between consecutive arrivals, from the arrival before the window to the first in
   * it, and from the last arrival to now. A pause that ended before the window closed shows here only.
   */
  longestGapSeconds: number | null;
  /** Mean time between arrivals: the reference's when it has one, else this window's own. */
  usualInterArrivalSeconds: number | null;
  usualSource: 'reference' | 'window' | null;
  /** secondsSinceLastArrival / usualInterArrivalSeconds. */
  gapRatio: number | null;
  /** longestGapSeconds / usualInterArrivalSeconds. */
  longestGapRatio: number | null;
}

/**
 * Mean seconds between arrivals, (last - first) / (n - 1), from times sorted ascending. The mean, not the
 * median: with batched logging most gaps are 0 and the median says nothing. Null for fewer than two
 * arrivals or a single instant.
 */
export function meanInterArrivalSeconds(sortedMs: ArrayLike<number>): number | null {
  const n = sortedMs.length;
  return n < 2 ? null : meanGapSeconds(sortedMs[0]!, sortedMs[n - 1]!, n);
}

function meanGapSeconds(firstMs: number, lastMs: number, n: number): number | null {
  if (n < 2) return null;
  const span = (lastMs - firstMs) / 1000;
  return span > 0 ? span / (n - 1) : null;
}

/**
 * A window's arrivals folded page by page: count, first, last and the longest gap are all it keeps. The
 * pages must come in arrival order (the monitor reads them by receivedAt) for the longest gap to be the
 * window's; each page is sorted on its own.
 */
export class ArrivalTracker {
  private n = 0;
  private firstMs: number | null = null;
  private lastMs: number | null = null;
  private longestMs: number | null = null;
  private previousMs: number | null;

  constructor(private readonly previousArrival: Date | null) {
    this.previousMs = previousArrival?.getTime() ?? null;
  }

  /** Arrival times of one page, epoch milliseconds (sorted here). */
  add(pageMs: Float64Array): this {
    pageMs.sort();
    for (let i = 0; i < pageMs.length; i++) {
      const t = pageMs[i]!;
      if (this.previousMs !== null) this.longestMs = Math.max(this.longestMs ?? 0, t - this.previousMs);
      this.previousMs = t;
    }
    if (pageMs.length > 0) {
      this.firstMs ??= pageMs[0]!;
      this.lastMs = pageMs[pageMs.length - 1]!;
      this.n += pageMs.length;
    }
    return this;
  }

  metrics(input: {
    windowStart: Date | null;
    now: Date;
    referenceInterArrivalSeconds: number | null;
  }): ArrivalMetrics {
    const { n } = this;
    const nowMs = input.now.getTime();
    const startMs = input.windowStart?.getTime() ?? this.firstMs ?? nowMs;
    const windowSeconds = Math.max(0, (nowMs - startMs) / 1000);
    const lastMs = this.lastMs ?? this.previousArrival?.getTime() ?? null;
    let longestMs = this.longestMs;
    if (lastMs !== null) longestMs = Math.max(longestMs ?? 0, nowMs - lastMs);

    const windowInterArrival =
      this.firstMs === null || this.lastMs === null ? null : meanGapSeconds(this.firstMs, this.lastMs, n);
    const usual = input.referenceInterArrivalSeconds ?? windowInterArrival;
    const secondsSinceLastArrival = lastMs === null ? null : (nowMs - lastMs) / 1000;
    const longestGapSeconds = longestMs === null ? null : longestMs / 1000;
    return {
      windowSeconds,
      throughputPerMinute: windowSeconds > 0 ? (60 * n) / windowSeconds : null,
      lastArrival: lastMs === null ? null : new Date(lastMs).toISOString(),
      secondsSinceLastArrival,
      longestGapSeconds,
      usualInterArrivalSeconds: usual,
      usualSource:
        input.referenceInterArrivalSeconds !== null
          ? 'reference'
          : windowInterArrival !== null
            ? 'window'
            : null,
      gapRatio: usual !== null && secondsSinceLastArrival !== null ? secondsSinceLastArrival / usual : null,
      longestGapRatio: usual !== null && longestGapSeconds !== null ? longestGapSeconds / usual : null,
    };
  }
}
