// Serving health: latency and the traffic itself. A window's arrival time is when Homeostat received the
// prediction (receivedAt); silence is measured against the usual time between arrivals, so a quiet
// model and a dead upstream are told apart by the ratio, not by a fixed timeout.
import { quantiles } from '../stats/index.ts';

export interface LatencyMetrics {
  /** Rows with a latency. */
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Null without latencies. */
export function latencyMetrics(latenciesMs: readonly number[]): LatencyMetrics | null {
  if (latenciesMs.length === 0) return null;
  const q = quantiles(latenciesMs, [0.5, 0.95, 0.99, 1]);
  let sum = 0;
  for (const x of latenciesMs) sum += x;
  return {
    count: latenciesMs.length,
    mean: sum / latenciesMs.length,
    p50: q[0]!,
    p95: q[1]!,
    p99: q[2]!,
    max: q[3]!,
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
  if (n < 2) return null;
  const span = (sortedMs[n - 1]! - sortedMs[0]!) / 1000;
  return span > 0 ? span / (n - 1) : null;
}

export function arrivalMetrics(input: {
  /** Arrival times of the window, epoch milliseconds, ascending. */
  sortedMs: Float64Array;
  previousArrival: Date | null;
  windowStart: Date | null;
  now: Date;
  referenceInterArrivalSeconds: number | null;
}): ArrivalMetrics {
  const { sortedMs, now } = input;
  const n = sortedMs.length;
  const nowMs = now.getTime();
  const startMs = input.windowStart?.getTime() ?? (n > 0 ? sortedMs[0]! : nowMs);
  const windowSeconds = Math.max(0, (nowMs - startMs) / 1000);
  const lastMs = n > 0 ? sortedMs[n - 1]! : (input.previousArrival?.getTime() ?? null);

  let longestMs: number | null = null;
  let previousMs = input.previousArrival?.getTime() ?? null;
  for (let i = 0; i < n; i++) {
    const t = sortedMs[i]!;
    if (previousMs !== null) longestMs = Math.max(longestMs ?? 0, t - previousMs);
    previousMs = t;
  }
  if (lastMs !== null) longestMs = Math.max(longestMs ?? 0, nowMs - lastMs);

  const windowInterArrival = meanInterArrivalSeconds(sortedMs);
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
