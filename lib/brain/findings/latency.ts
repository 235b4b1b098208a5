// latency: the p95 latency rose above its healthy baseline (a serving regression: retraining cannot fix it).
import type { FindingRule } from './rule.ts';
import {
  baselineMean,
  baselineSd,
  effectMargins,
  notJudged,
  runningBaseline,
  SHARED_DEFAULTS,
} from './shared.ts';

export interface LatencyEvidence {
  window: number;
  latencyP95Ms: number | null;
  /** The test against the baseline (absent when the window was not judged). */
  test?: 'baseline_z';
  baselineP95Ms?: number;
  effect?: number;
  statistic?: number;
}

export const latency: FindingRule<'latency'> = {
  kind: 'latency',
  origin: 'serving',
  priority: 2,
  defaults: {},
  observe({ window: w, state, settings: s }) {
    const evidence: LatencyEvidence = { window: w.seq, latencyP95Ms: w.latencyP95Ms ?? null };
    const b = state.baselines?.latencyP95;
    const base = baselineMean(b);
    if (w.count < s.minRows || w.latencyP95Ms == null || base === null || !b)
      return notJudged('latency', 'no latency baseline or window too small', evidence);
    const increase = w.latencyP95Ms / base - 1;
    const sd = Math.max(baselineSd(b), 0.05 * base);
    const z = (w.latencyP95Ms - base) / sd;
    const bad =
      increase >= s.detection.minEffect.latencyIncrease &&
      w.latencyP95Ms - base >= (s.detection.minEffect.latencyIncreaseMs ?? 0) &&
      z >= SHARED_DEFAULTS.latencySigmas;
    return {
      kind: 'latency',
      judged: true,
      bad,
      severity: increase >= 2 ? 'critical' : 'warning',
      summary: bad
        ? `p95 latency ${w.latencyP95Ms.toFixed(0)} ms is ${(increase * 100).toFixed(0)} % above the baseline ${base.toFixed(0)} ms`
        : 'latency within the baseline',
      evidence: { ...evidence, test: 'baseline_z', baselineP95Ms: base, effect: increase, statistic: z },
    };
  },
  margins: (f, policy) =>
    effectMargins(f.evidence, policy.detection.minEffect.latencyIncrease, SHARED_DEFAULTS.latencySigmas),
  verificationBaseline(detector) {
    const b = runningBaseline(detector, 'latencyP95');
    return b ? { metric: 'latencyP95Ms', ...b } : null;
  },
  // The serving of the model itself is at fault: users stay protected while the next rung repairs it.
  holdUntil: null,
};
