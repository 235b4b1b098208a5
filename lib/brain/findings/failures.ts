// failures: predictions failed or were invalid more often than the healthy baseline. At floors.failureRate
// it is a collapse: users are protected at once. A fallback is lifted once the production version's
// model server answers again (probe).
import { normalSf } from '../../stats/distributions.ts';
import type { FindingRule } from './rule.ts';
import {
  baselineMean,
  effectMargins,
  finite,
  notJudged,
  runningBaseline,
  SHARED_DEFAULTS,
} from './shared.ts';

export interface FailuresEvidence {
  window: number;
  failureRate: number | null;
  /** The test against the baseline (absent when the window was not judged). */
  test?: 'one_proportion_z';
  baselineFailureRate?: number;
  effect?: number;
  statistic?: number;
  pValue?: number;
}

export const failures: FindingRule<'failures'> = {
  kind: 'failures',
  origin: 'serving',
  priority: 1,
  defaults: {},
  observe({ window: w, state, settings: s }) {
    const evidence: FailuresEvidence = { window: w.seq, failureRate: w.failureRate ?? null };
    if (w.count < s.minRows || w.failureRate == null)
      return notJudged('failures', `window too small to judge (${w.count} rows)`, evidence);
    const base = baselineMean(state.baselines?.failureRate) ?? 0;
    const p0 = Math.max(base, 0.005);
    const z = (w.failureRate - p0) / Math.sqrt((p0 * (1 - p0)) / w.count);
    const increase = w.failureRate - base;
    const bad = increase >= s.detection.minEffect.failureRate && z >= SHARED_DEFAULTS.minZ;
    return {
      kind: 'failures',
      judged: true,
      bad,
      severity: w.failureRate >= s.floors.failureRate || increase >= 0.1 ? 'critical' : 'warning',
      summary: bad
        ? `${(w.failureRate * 100).toFixed(1)} % of predictions failed or were invalid (baseline ${(base * 100).toFixed(1)} %)`
        : 'failures within the baseline',
      evidence: {
        ...evidence,
        test: 'one_proportion_z',
        baselineFailureRate: base,
        effect: increase,
        statistic: z,
        pValue: normalSf(z),
      },
    };
  },
  margins: (f, policy) =>
    effectMargins(f.evidence, policy.detection.minEffect.failureRate, SHARED_DEFAULTS.minZ),
  // Only judged (tested) evidence counts.
  collapse(f, policy) {
    const failureRate = finite(f.evidence.failureRate);
    if (typeof f.evidence.test !== 'string' || failureRate === null) return null;
    return failureRate >= policy.floors.failureRate
      ? `failure rate ${failureRate.toFixed(3)} is at or above the floor ${policy.floors.failureRate}`
      : null;
  },
  verificationBaseline(detector) {
    const b = runningBaseline(detector, 'failureRate');
    return b ? { metric: 'failureRate', ...b } : null;
  },
  holdUntil: 'probe',
};
