// data_drift: the inputs' distributions moved away from the reference. Whether performance suffers with
// it (impact) is the performance reading's, set in cross-kind.ts; decide retrains only when it does.
import type { FindingFeature, WindowDrift } from '../types.ts';
import type { DetectSettings, FindingRule } from './rule.ts';
import { featureMargins, notJudged, performanceBaseline, rank } from './shared.ts';

export interface DataDriftEvidence {
  window: number;
  rows: number;
  /** Absent when the window was not judged. */
  featuresJudged?: number | null;
  featuresDrifted?: number;
  maxPsi?: number;
}

export const DATA_DRIFT_DEFAULTS = {
  /** One-sided z of the power the KS effect gate keeps for a shift of exactly minEffect.ks (0.9). */
  effectPowerZ: 1.2816,
} as const;

/**
 * The batch gate of one feature's drift test: significant after the monitor's Benjamini–Hochberg
 * correction (adjusted p < alpha) and practically relevant: PSI ≥ minEffect.psi or, for numeric
 * features, a KS D that a true gap of minEffect.ks would reach with probability 0.9. The window's D
 * scatters around the true gap with an sd of at most ½·√(1/n + 1/m) (n window, m reference values), so
 * a gate at minEffect.ks itself would flag a shift of exactly the minimum effect only half the time;
 * the margin shrinks as windows grow, so large windows still do not flag trivia. bench:detection
 * measures the gate's false-positive rate and power.
 */
export function featureDrifted(d: WindowDrift, s: DetectSettings): boolean {
  const { alpha, minEffect } = s.detection;
  const significant = (d.adjustedPValue ?? 1) < alpha;
  const ksMargin =
    d.currentN && d.referenceN
      ? DATA_DRIFT_DEFAULTS.effectPowerZ * 0.5 * Math.sqrt(1 / d.currentN + 1 / d.referenceN)
      : 0;
  const practical =
    d.psi >= minEffect.psi || (d.test === 'kolmogorov_smirnov' && d.statistic >= minEffect.ks - ksMargin);
  return significant && practical;
}

export const dataDrift: FindingRule<'data_drift'> = {
  kind: 'data_drift',
  origin: 'model',
  priority: 4,
  defaults: DATA_DRIFT_DEFAULTS,
  observe({ window: w, settings: s, brokenFeatures }) {
    const evidence: DataDriftEvidence = { window: w.seq, rows: w.count };
    if (w.count < s.minRows)
      return notJudged('data_drift', `window too small to judge (${w.count} rows)`, evidence);
    if (w.reference !== 'used' || w.drift === undefined)
      return notJudged('data_drift', 'no reference profile to compare the inputs with', evidence);
    const drifted: FindingFeature[] = [];
    for (const d of w.drift) {
      if (brokenFeatures.has(d.name)) continue;
      if (featureDrifted(d, s)) {
        drifted.push({
          name: d.name,
          contribution: d.psi,
          test: d.test,
          statistic: d.statistic,
          pValue: d.adjustedPValue,
          effect: d.psi,
        });
      }
    }
    const features = rank(drifted);
    const maxPsi = Math.max(0, ...drifted.map((f) => f.effect ?? 0));
    return {
      kind: 'data_drift',
      judged: true,
      bad: features.length > 0,
      severity: maxPsi >= 0.5 ? 'critical' : 'warning',
      summary:
        features.length > 0
          ? `input drift in ${features.map((f) => `${f.name} (PSI ${(f.effect ?? 0).toFixed(2)})`).join(', ')}`
          : 'inputs match the reference',
      evidence: {
        ...evidence,
        featuresJudged: w.featuresJudged ?? null,
        featuresDrifted: features.length,
        maxPsi,
      },
      features,
    };
  },
  margins: (f, policy) =>
    featureMargins(f.features, policy.detection.minEffect.psi, policy.detection.alpha, f.evidence.maxPsi),
  verificationBaseline: performanceBaseline,
  holdUntil: null,
};
