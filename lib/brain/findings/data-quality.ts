// data_quality: the inputs are broken upstream — invalid values, a rise of nulls, a constant column.
// Measured on the inputs whichever version serves them, so a fallback that shields users is lifted once
// the inputs are clean again.
import type { FindingFeature } from '../types.ts';
import type { FindingRule } from './rule.ts';
import { featureMargins, notJudged, performanceBaseline, rank } from './shared.ts';

export interface DataQualityEvidence {
  window: number;
  rows: number;
  /** Features with a problem, the worst of them and its rate (absent when the window was not judged). */
  features?: number;
  worst?: string | null;
  worstRate?: number | null;
}

export const dataQuality: FindingRule<'data_quality'> = {
  kind: 'data_quality',
  origin: 'inputs',
  priority: 0,
  defaults: {},
  observe({ window: w, settings: s }) {
    const evidence: DataQualityEvidence = { window: w.seq, rows: w.count };
    if (w.count < s.minRows)
      return notJudged('data_quality', `window too small to judge (${w.count} rows)`, evidence);
    if (w.quality === undefined) return notJudged('data_quality', 'no data-quality metrics', evidence);
    const { alpha, minEffect } = s.detection;
    const bad: FindingFeature[] = [];
    for (const q of w.quality) {
      const nullShift = q.referenceNullRate === null ? 0 : q.nullRate - q.referenceNullRate;
      // Invalid values: the reference data are valid, so a rate at the effect size over a judged window
      // is significant by construction once it is a handful of rows (binomial against ~0).
      const invalidRows = q.invalidRate * w.count;
      if (q.invalidRate >= minEffect.missingRate && invalidRows >= 5) {
        bad.push({
          name: q.name,
          contribution: q.invalidRate,
          test: `invalid_values:${q.mainProblem ?? 'invalid'}`,
          statistic: invalidRows,
          pValue: null,
          effect: q.invalidRate,
        });
      } else if (
        q.nullRateChangePValue !== null &&
        q.nullRateChangePValue < alpha &&
        nullShift >= minEffect.missingRate
      ) {
        bad.push({
          name: q.name,
          contribution: nullShift,
          test: 'null_rate_two_proportion_z',
          statistic: null,
          pValue: q.nullRateChangePValue,
          effect: nullShift,
        });
      } else if (q.constant === true) {
        bad.push({
          name: q.name,
          contribution: 1,
          test: 'constant_column',
          statistic: null,
          pValue: null,
          effect: 1,
        });
      }
    }
    const features = rank(bad);
    const worst = features[0];
    return {
      kind: 'data_quality',
      judged: true,
      bad: features.length > 0,
      severity: features.some((f) => (f.effect ?? 0) >= 0.5) ? 'critical' : 'warning',
      summary: worst ? `${features.map((f) => `${f.name} (${f.test})`).join(', ')}` : 'no data-quality issue',
      evidence: {
        ...evidence,
        features: features.length,
        worst: worst?.name ?? null,
        worstRate: worst?.effect ?? null,
      },
      features,
    };
  },
  margins: (f, policy) =>
    featureMargins(
      f.features,
      policy.detection.minEffect.missingRate,
      policy.detection.alpha,
      f.evidence.worstRate,
    ),
  verificationBaseline: performanceBaseline,
  holdUntil: 'inputs-clear',
};
