// evidenceStrength, test by test: each finding kind's margins read from the evidence fields detect writes,
// with the expected strength derived by hand from the formula (docs/agent-logic.md):
//   per test: margin = min(|effect| / minEffect, significance / its threshold) (a missing part is left out)
//   m = (best test's margin, 1 when no test has one) × severity weight (info 0.75, warning 1, critical 1.5)
//   strength = m / (m + 0.5), rounded to 3 decimals; an infinite margin is strength 1.
// DEFAULT_POLICY: alpha 0.01, minEffect psi 0.2, accuracyDrop 0.05, errorIncrease 0.2, latencyIncrease 0.5,
// failureRate 0.05, missingRate 0.05, staleGapFactor 10; DETECT_DEFAULTS: minZ 3, latencySigmas 4,
// calibrationH 5, regressionCusumH 5, burstFactor 1.5, labelStaleShare 0.5, labelDelayFactor 5.
import { describe, expect, it } from 'vitest';
import { evidenceStrength } from '../../lib/brain/decide.ts';
import type { Finding, FindingFeature } from '../../lib/brain/types.ts';
import { DEFAULT_POLICY, type Policy } from '../../lib/policy/policy.ts';

type Evidence = Record<string, number | string | boolean | null>;

const strengthOf = (m: number) => Math.round((m / (m + 0.5)) * 1000) / 1000;

/** A finding with only the evidence fields a case needs (detect writes more; decide reads these). */
function finding(kind: Finding['kind'], evidence: Evidence, over: Partial<Finding> = {}): Finding {
  return { kind, severity: 'warning', state: 'confirmed', summary: kind, evidence, ...over } as Finding;
}

const feature = (effect: number | null, pValue: number | null): FindingFeature => ({
  name: 'income',
  contribution: 1,
  test: 'kolmogorov_smirnov',
  statistic: 0.3,
  pValue,
  effect,
});

const strength = (f: Finding, policy: Policy = DEFAULT_POLICY) => evidenceStrength(f, policy);

describe('evidence strength of a concept drift', () => {
  it('regression window (baseline_z): RMSE rise over errorIncrease, z over latencySigmas', () => {
    // min(0.4 / 0.2, 6 / 4) = 1.5
    expect(strength(finding('concept_drift', { test: 'baseline_z', effect: 0.4, statistic: 6 }))).toBe(
      strengthOf(1.5),
    );
    // min(0.3 / 0.2, 8 / 4) = 1.5: the effect binds
    expect(strength(finding('concept_drift', { test: 'baseline_z', effect: 0.3, statistic: 8 }))).toBe(
      strengthOf(1.5),
    );
    // The same numbers in a classifier's fields are not read for a baseline_z finding.
    expect(strength(finding('concept_drift', { test: 'baseline_z', drop: 0.4, z: 6 }))).toBe(strengthOf(1));
  });

  it('classifier window: accuracy drop over accuracyDrop, z over minZ', () => {
    // min(0.1 / 0.05, 4.5 / 3) = 1.5
    expect(strength(finding('concept_drift', { test: 'two_proportion_z', drop: 0.1, z: 4.5 }))).toBe(
      strengthOf(1.5),
    );
    // min(0.06 / 0.05, 9 / 3) = 1.2
    expect(strength(finding('concept_drift', { test: 'one_proportion_z', drop: 0.06, z: 9 }))).toBe(
      strengthOf(1.2),
    );
  });

  it('calibration CUSUM: |effect| over the threshold the finding was judged with, statistic over h', () => {
    const calibration = (effect: number, cusum: number, minEffect?: number) =>
      finding('concept_drift', {
        test: 'two_proportion_z',
        drop: 0.01,
        z: 0.5,
        calibrationEffect: effect,
        calibrationCusum: cusum,
        ...(minEffect === undefined ? {} : { calibrationMinEffect: minEffect }),
      });
    // Fewer positives than expected count as much as more: min(0.3 / 0.12, 15 / 5) = 2.5
    expect(strength(calibration(-0.3, 15, 0.12))).toBe(strengthOf(2.5));
    expect(strength(calibration(0.3, 15, 0.12))).toBe(strengthOf(2.5));
    // Recorded without a threshold: today's (0.12), so min(0.3 / 0.12, 3) = 2.5
    expect(strength(calibration(0.3, 15))).toBe(strengthOf(2.5));
    // The statistic binds: min(2.5, 7.5 / 5) = 1.5
    expect(strength(calibration(0.3, 7.5, 0.12))).toBe(strengthOf(1.5));
  });

  it('regression error CUSUM: mean RMSE rise over errorIncrease, statistic over its h, only when it ran', () => {
    const rmse = { test: 'baseline_z', effect: 0.05, statistic: 1, rmseCusumEffect: 0.3, rmseCusum: 6 };
    // window: min(0.25, 0.25); CUSUM: min(0.3 / 0.2, 6 / 5) = 1.2
    expect(strength(finding('concept_drift', { ...rmse, rmseTest: 'rmse_z_cusum' }))).toBe(strengthOf(1.2));
    expect(strength(finding('concept_drift', rmse))).toBe(strengthOf(0.25));
  });

  it('per-row error CUSUM: rise of the error rate since the change over accuracyDrop, at its chart level', () => {
    const errors = {
      test: 'two_proportion_z',
      drop: 0.02,
      z: 1,
      errorRateSince: 0.25,
      baselineErrorRate: 0.1,
      errorCusumLevel: 1.4,
    };
    // window: min(0.4, 0.333); errors: min(0.15 / 0.05, 1.4) = 1.4
    expect(strength(finding('concept_drift', { ...errors, errorTest: 'bernoulli_cusum' }))).toBe(
      strengthOf(1.4),
    );
    // The rise binds: min(0.05 / 0.05, 1.4) = 1
    expect(
      strength(finding('concept_drift', { ...errors, errorRateSince: 0.15, errorTest: 'bernoulli_cusum' })),
    ).toBe(strengthOf(1));
    expect(strength(finding('concept_drift', errors))).toBe(strengthOf(1 / 3));
  });
});

describe('evidence strength of input findings', () => {
  it('data drift: per feature, PSI over minEffect.psi and the p-value against alpha on a log scale', () => {
    // log(1e-6) / log(0.01) = 3; min(0.5 / 0.2, 3) = 2.5; critical: × 1.5
    expect(
      strength(finding('data_drift', {}, { features: [feature(0.5, 1e-6)], severity: 'critical' })),
    ).toBe(strengthOf(3.75));
    // The significance binds: log(1e-3) / log(0.01) = 1.5
    expect(strength(finding('data_drift', {}, { features: [feature(0.5, 1e-3)] }))).toBe(strengthOf(1.5));
    // The best feature counts; a p-value of 0 is infinitely significant, so its effect decides.
    expect(strength(finding('data_drift', {}, { features: [feature(0.3, 1e-3), feature(0.4, 0)] }))).toBe(
      strengthOf(2),
    );
    // Without features, the largest PSI alone: 0.3 / 0.2
    expect(strength(finding('data_drift', { maxPsi: 0.3 }))).toBe(strengthOf(1.5));
    expect(strength(finding('data_drift', { maxPsi: 0.3 }, { features: [] }))).toBe(strengthOf(1.5));
  });

  it('data quality: per feature, the rate over minEffect.missingRate; without features, the worst rate', () => {
    // 0.3 / 0.05 = 6, no p-value (invalid values are significant by construction)
    expect(strength(finding('data_quality', {}, { features: [feature(0.3, null)] }))).toBe(strengthOf(6));
    // a null-rate change: min(6, log(1e-3) / log(0.01) = 1.5)
    expect(strength(finding('data_quality', {}, { features: [feature(0.3, 1e-3)] }))).toBe(strengthOf(1.5));
    expect(strength(finding('data_quality', { worstRate: 0.1 }))).toBe(strengthOf(2));
    expect(strength(finding('data_quality', { worstRate: 0.1 }, { features: [] }))).toBe(strengthOf(2));
  });

  it('anomaly: throughput rise over burstFactor − 1, z over minZ', () => {
    // min(1 / 0.5, 9 / 3) = 2; min(1 / 0.5, 4.5 / 3) = 1.5
    expect(strength(finding('anomaly', { effect: 1, statistic: 9 }))).toBe(strengthOf(2));
    expect(strength(finding('anomaly', { effect: 1, statistic: 4.5 }))).toBe(strengthOf(1.5));
  });
});

describe('evidence strength of system and staleness findings', () => {
  it('latency: rise over minEffect.latencyIncrease, z over latencySigmas', () => {
    // min(1.5 / 0.5, 20 / 4) = 3; min(1.5 / 0.5, 10 / 4) = 2.5
    expect(strength(finding('latency', { effect: 1.5, statistic: 20 }))).toBe(strengthOf(3));
    expect(strength(finding('latency', { effect: 1.5, statistic: 10 }))).toBe(strengthOf(2.5));
  });

  it('failures: rise over minEffect.failureRate, z over minZ', () => {
    // min(0.1 / 0.05, 9 / 3) = 2; min(0.2 / 0.05, 9 / 3) = 3
    expect(strength(finding('failures', { effect: 0.1, statistic: 9 }))).toBe(strengthOf(2));
    expect(strength(finding('failures', { effect: 0.2, statistic: 9 }))).toBe(strengthOf(3));
  });

  it('no predictions at all is certain', () => {
    expect(strength(finding('stale_data', { count: 0 }))).toBe(1);
    // a window with predictions is judged on its gaps: 30 / 10
    expect(strength(finding('stale_data', { count: 5, gapRatio: 30 }))).toBe(strengthOf(3));
  });

  it('label arrivals: the share missing over (1 − labelStaleShare), z over minZ', () => {
    const labels = (labelShare: number, baselineLabelShare: number, statistic: number) =>
      finding('stale_data', {
        count: 500,
        test: 'label_arrival_share_z',
        labelShare,
        baselineLabelShare,
        statistic,
      });
    // (1 − 0.2 / 0.8) / 0.5 = 1.5; 12 / 3 = 4
    expect(strength(labels(0.2, 0.8, 12))).toBe(strengthOf(1.5));
    // (1 − 0 / 0.8) / 0.5 = 2; 4.5 / 3 = 1.5
    expect(strength(labels(0, 0.8, 4.5))).toBe(strengthOf(1.5));
    // No baseline share: only the z is left, 6 / 3
    expect(strength(labels(0.2, 0, 6))).toBe(strengthOf(2));
  });

  it('label delay: the ratio to the baseline delay (at least 1 s) over labelDelayFactor', () => {
    const delay = (labelDelayP95Seconds: number, baselineLabelDelayP95Seconds: number) =>
      finding('stale_data', {
        count: 500,
        test: 'label_delay_ratio',
        labelDelayP95Seconds,
        baselineLabelDelayP95Seconds,
      });
    // 1500 / 150 / 5 = 2
    expect(strength(delay(1500, 150))).toBe(strengthOf(2));
    // A baseline under a second counts as one: 20 / 1 / 5 = 4
    expect(strength(delay(20, 0.5))).toBe(strengthOf(4));
    // No baseline delay: no margin, so detect's flag alone (m = 1)
    expect(strength(delay(1500, 0))).toBe(strengthOf(1));
  });

  it('traffic gaps: the larger of the mean and the longest gap ratio over staleGapFactor', () => {
    expect(strength(finding('stale_data', { count: 50, gapRatio: 12, longestGapRatio: 25 }))).toBe(
      strengthOf(2.5),
    );
    expect(strength(finding('stale_data', { count: 50, gapRatio: 25, longestGapRatio: 12 }))).toBe(
      strengthOf(2.5),
    );
    const policy = { ...DEFAULT_POLICY, detection: { ...DEFAULT_POLICY.detection, staleGapFactor: 5 } };
    expect(strength(finding('stale_data', { count: 50, gapRatio: 25 }), policy)).toBe(strengthOf(5));
    // No gap at all: detect's flag alone
    expect(strength(finding('stale_data', { count: 50, gapRatio: 0 }))).toBe(strengthOf(1));
  });
});

describe('evidence strength: weights and degenerate evidence', () => {
  it('weighs the same margin by severity: info 0.75, warning 1, critical 1.5', () => {
    const latency = (severity: Finding['severity']) =>
      finding('latency', { effect: 1, statistic: 8 }, { severity });
    expect(strength(latency('info'))).toBe(strengthOf(1.5));
    expect(strength(latency('warning'))).toBe(strengthOf(2));
    expect(strength(latency('critical'))).toBe(strengthOf(3));
  });

  it('ignores evidence that is not a finite number', () => {
    expect(strength(finding('latency', { effect: Number.NaN, statistic: 8 }))).toBe(strengthOf(2));
    expect(strength(finding('latency', { effect: Number.POSITIVE_INFINITY, statistic: 8 }))).toBe(
      strengthOf(2),
    );
    expect(strength(finding('latency', { effect: '1.5', statistic: 8 }))).toBe(strengthOf(2));
    expect(strength(finding('latency', {}))).toBe(strengthOf(1));
  });

  it('reads its thresholds from the policy', () => {
    const policy: Policy = {
      ...DEFAULT_POLICY,
      detection: {
        ...DEFAULT_POLICY.detection,
        alpha: 0.001,
        minEffect: { ...DEFAULT_POLICY.detection.minEffect, latencyIncrease: 0.25, psi: 0.1 },
      },
    };
    // min(1 / 0.25, 8 / 4) = 2 (default policy: min(2, 2) = 2 too), so use a larger z: min(4, 5) = 4
    expect(strength(finding('latency', { effect: 1, statistic: 20 }), policy)).toBe(strengthOf(4));
    // log(1e-6) / log(0.001) = 2; 0.5 / 0.1 = 5
    expect(strength(finding('data_drift', {}, { features: [feature(0.5, 1e-6)] }), policy)).toBe(
      strengthOf(2),
    );
  });
});
