// anomaly: a traffic burst — throughput well above its healthy baseline. Not a model fault: decide alerts.
// A burst is over by the next window, so one bad window confirms it.
import { normalQuantile, poissonAtLeast } from '../../stats/index.ts';
import type { WindowSummary } from '../types.ts';
import type { DetectSettings, FindingRule } from './rule.ts';
import {
  baselineMean,
  baselineSd,
  effectMargins,
  notJudged,
  performanceBaseline,
  SHARED_DEFAULTS,
} from './shared.ts';

export interface AnomalyEvidence {
  window: number;
  throughputPerMinute: number | null;
  /** The test against the baseline rate (absent when the window was not judged). */
  test?: 'poisson_z';
  baselineThroughputPerMinute?: number;
  effect?: number;
  statistic?: number;
  /** The z the statistic had to reach in a window of this many rows (burstZ). */
  threshold?: number;
}

export const ANOMALY_DEFAULTS = {
  /** Windows shorter than this do not judge (or learn) the arrival rate. */
  minRateWindowSeconds: 30,
  /** Throughput at least this many times the baseline, significant, is an anomaly (burst). */
  burstFactor: 1.5,
  /**
   * One bad window confirms a burst, so chance bursts add up window by window: at z 3 alone about one
   * window in 740 alerts, which on windows of 30 rows (a model with a row every few minutes) is 45 false
   * alerts per million rows. A window's z must also pass the one whose tail is its rows × this, keeping
   * chance bursts under one per million rows however small the windows: z 4.0 at 30 rows, and minZ (3)
   * from about 1,350 rows up.
   */
  chanceBurstsPerRow: 1e-6,
} as const;

/** The z a burst must reach in a window of `rows` rows (ANOMALY_DEFAULTS.chanceBurstsPerRow). */
export function burstZ(rows: number): number {
  const tail = Math.min(0.5, rows * ANOMALY_DEFAULTS.chanceBurstsPerRow);
  return Math.max(SHARED_DEFAULTS.minZ, -normalQuantile(tail));
}

/** A rate means something over a window of some duration and rows (not over a burst of milliseconds). */
export function rateJudged(w: WindowSummary, s: DetectSettings): boolean {
  const seconds = (Date.parse(w.endAt) - Date.parse(w.startAt)) / 1000;
  return w.count >= s.minRows && seconds >= ANOMALY_DEFAULTS.minRateWindowSeconds;
}

export const anomaly: FindingRule<'anomaly'> = {
  kind: 'anomaly',
  origin: 'traffic',
  priority: 6,
  defaults: ANOMALY_DEFAULTS,
  observe({ window: w, state, settings: s }) {
    const evidence: AnomalyEvidence = { window: w.seq, throughputPerMinute: w.throughputPerMinute ?? null };
    const base = baselineMean(state.baselines?.throughput);
    if (!rateJudged(w, s) || w.throughputPerMinute == null || base === null || base <= 0)
      return notJudged('anomaly', 'no traffic baseline or window too small', evidence);
    const b = state.baselines?.throughput;
    const ratioToBase = w.throughputPerMinute / base;
    const sigmas = b ? (w.throughputPerMinute - base) / Math.max(baselineSd(b), 0.05 * base) : 0;
    // Poisson counts: the window's rows against those the baseline rate predicts over the same time, by
    // the exact upper tail, as the normal z of the same p-value. The normal approximation overstates a
    // count of a few dozen rows (30 where 16.7 were expected: z 3.27, exactly 2.87), and a window that
    // closes on its rows is such a count: its span is then the random part, with the same tail.
    const expected = w.count / ratioToBase;
    // A p-value below the smallest double is read at it: the statistic stays a finite number (z 38.5).
    const z = -normalQuantile(Math.max(poissonAtLeast(w.count, expected), Number.MIN_VALUE));
    const threshold = burstZ(w.count);
    const bad =
      ratioToBase >= ANOMALY_DEFAULTS.burstFactor &&
      z >= threshold &&
      sigmas >= SHARED_DEFAULTS.latencySigmas;
    return {
      kind: 'anomaly',
      judged: true,
      bad,
      severity: 'warning',
      summary: bad ? `traffic burst: ${ratioToBase.toFixed(1)}× the usual rate` : 'traffic at its usual rate',
      evidence: {
        ...evidence,
        test: 'poisson_z',
        baselineThroughputPerMinute: base,
        effect: ratioToBase - 1,
        statistic: z,
        threshold,
      },
    };
  },
  margins: (f) =>
    effectMargins(f.evidence, ANOMALY_DEFAULTS.burstFactor - 1, f.evidence.threshold ?? SHARED_DEFAULTS.minZ),
  verificationBaseline: performanceBaseline,
  holdUntil: null,
};
