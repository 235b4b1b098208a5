// stale_data: traffic stopped (no predictions, or a gap far beyond the usual time between arrivals), or
// labels stopped or come late. Nothing a remedy of the model brings back: decide escalates a stopped
// stream and alerts on stale labels; a fallback taken meanwhile is lifted once inputs flow again.
import type { FindingOf } from '../types.ts';
import type { FindingRule } from './rule.ts';
import { baselineMean, finite, labelsReceived, margin, ratio, SHARED_DEFAULTS } from './shared.ts';

export interface StaleDataEvidence {
  window: number;
  count: number;
  gapRatio: number | null;
  longestGapRatio: number | null;
  /** The test that found it (absent when nothing stopped, or when no traffic arrived at all). */
  test?: 'gap_ratio' | 'label_arrival_share_z' | 'label_delay_ratio';
  labelShare?: number;
  baselineLabelShare?: number;
  labelDelayP95Seconds?: number | null;
  baselineLabelDelayP95Seconds?: number | null;
  statistic?: number;
}

export const STALE_DATA_DEFAULTS = {
  /** Label arrivals per prediction below this share of the baseline's mean labels have gone stale. */
  labelStaleShare: 0.5,
  /** Label delay (p95) this many times the baseline's means labels have gone stale. */
  labelDelayFactor: 5,
} as const;

/** A stale-data finding about traffic itself (none arrived, or a gap far beyond the usual), not labels. */
export function trafficStopped(f: FindingOf<'stale_data'>): boolean {
  return f.evidence.count === 0 || f.evidence.test === 'gap_ratio';
}

export const staleData: FindingRule<'stale_data'> = {
  kind: 'stale_data',
  origin: 'traffic',
  priority: 5,
  defaults: STALE_DATA_DEFAULTS,
  observe({ window: w, state, settings: s }) {
    const factor = s.detection.staleGapFactor;
    const evidence: StaleDataEvidence = {
      window: w.seq,
      count: w.count,
      gapRatio: w.gapRatio ?? null,
      longestGapRatio: w.longestGapRatio ?? null,
    };
    if (w.count === 0) {
      // Silence means traffic stopped only once traffic has flowed: a model just put into service, whose
      // clients have not started yet, is not stale.
      if (!state.trafficSeen) {
        return {
          kind: 'stale_data',
          judged: false,
          bad: false,
          severity: 'info',
          summary: 'no traffic has arrived yet',
          evidence,
        };
      }
      return {
        kind: 'stale_data',
        judged: true,
        bad: true,
        severity: 'warning',
        summary: 'no predictions arrived in the window',
        evidence,
      };
    }
    // Gaps are judged against the reference's arrival rate only: a window's own mean inter-arrival says
    // little when predictions are logged in batches (every gap inside a batch is zero).
    const gapJudged = w.usualArrivalSource === 'reference';
    if (gapJudged && ((w.gapRatio ?? 0) >= factor || (w.longestGapRatio ?? 0) >= factor)) {
      return {
        kind: 'stale_data',
        judged: true,
        bad: true,
        severity: 'warning',
        summary: `traffic stopped: a gap of ${Math.max(w.gapRatio ?? 0, w.longestGapRatio ?? 0).toFixed(0)}× the usual time between arrivals`,
        evidence: { ...evidence, test: 'gap_ratio' },
      };
    }
    // Labels going stale: fewer label arrivals per prediction, or labels coming much later, than usual.
    const labelShare = baselineMean(state.baselines?.labelShare);
    const labelDelay = baselineMean(state.baselines?.labelDelayP95);
    if (w.count >= s.minRows && labelShare !== null && labelShare > 0) {
      const share = labelsReceived(w) / w.count;
      const z = (labelShare - share) / Math.sqrt(Math.max(labelShare * (1 - labelShare), 1e-4) / w.count);
      const fewer = share < STALE_DATA_DEFAULTS.labelStaleShare * labelShare && z >= SHARED_DEFAULTS.minZ;
      const later =
        labelDelay !== null &&
        w.labelDelayP95Seconds != null &&
        w.labelDelayP95Seconds >= STALE_DATA_DEFAULTS.labelDelayFactor * Math.max(labelDelay, 1);
      if (fewer || later) {
        return {
          kind: 'stale_data',
          judged: true,
          bad: true,
          severity: 'warning',
          summary: fewer
            ? `labels are not coming back: ${(share * 100).toFixed(0)} % of the usual ${(labelShare * 100).toFixed(0)} % per prediction`
            : `labels come back late: p95 delay ${w.labelDelayP95Seconds?.toFixed(0)} s against ${labelDelay?.toFixed(0)} s`,
          evidence: {
            ...evidence,
            test: fewer ? 'label_arrival_share_z' : 'label_delay_ratio',
            labelShare: share,
            baselineLabelShare: labelShare,
            labelDelayP95Seconds: w.labelDelayP95Seconds ?? null,
            baselineLabelDelayP95Seconds: labelDelay,
            statistic: z,
          },
        };
      }
    }
    return {
      kind: 'stale_data',
      judged: true,
      bad: false,
      severity: 'warning',
      summary: 'predictions and labels are arriving',
      evidence,
    };
  },
  margins(f, policy) {
    const e = f.evidence;
    if (finite(e.count) === 0) return [Number.POSITIVE_INFINITY];
    if (e.test === 'label_arrival_share_z') {
      const share = finite(e.labelShare);
      const base = finite(e.baselineLabelShare);
      const fewer = share !== null && base ? 1 - share / base : null;
      return [
        margin(
          fewer,
          1 - STALE_DATA_DEFAULTS.labelStaleShare,
          ratio(finite(e.statistic), SHARED_DEFAULTS.minZ),
        ),
      ];
    }
    if (e.test === 'label_delay_ratio') {
      const delay = finite(e.labelDelayP95Seconds);
      const base = finite(e.baselineLabelDelayP95Seconds);
      return [
        delay !== null && base ? delay / Math.max(base, 1) / STALE_DATA_DEFAULTS.labelDelayFactor : null,
      ];
    }
    const gap = Math.max(finite(e.gapRatio) ?? 0, finite(e.longestGapRatio) ?? 0);
    return [gap > 0 ? gap / policy.detection.staleGapFactor : null];
  },
  // No served answer can show traffic or labels coming back.
  verificationBaseline: () => null,
  holdUntil: 'inputs-clear',
};
