// data_drift: the inputs' distributions moved away from the reference — the whole window's away from the
// version's reference, or one segment's away from the segment's own (ReferenceProfile.segments). Whether
// performance suffers with it (impact) is the performance reading's, set in cross-kind.ts; decide retrains
// only when it does. A segment whose performance fell is the segment rule's: its drift is that failure's.
import { benjaminiHochberg } from '../../stats/multiple-testing.ts';
import type { FindingFeature, WindowDrift, WindowSummary } from '../types.ts';
import type { DetectSettings, FindingRule, Observation } from './rule.ts';
import { featureMargins, notJudged, performanceBaseline, rank } from './shared.ts';

/** A segment whose inputs drifted against its own reference: its most shifted feature. */
export type SegmentDrift = {
  segment: string;
  /** The feature. */
  name: string;
  test: WindowDrift['test'];
  statistic: number;
  psi: number;
  /**
   * The feature's p-value adjusted across the segment's features (Benjamini–Hochberg in the window) and
   * again across the segments judged.
   */
  pValue: number;
};

export interface DataDriftEvidence {
  window: number;
  rows: number;
  /** Absent when the window was not judged. */
  featuresJudged?: number | null;
  featuresDrifted?: number;
  maxPsi?: number;
  /**
   * Segments whose drift was judged against their own reference (absent: none was, as before segments
   * had references), and those that drifted, most shifted first.
   */
  segmentsJudged?: number;
  segmentsDrifted?: SegmentDrift[];
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

/**
 * The segments judged against their own reference and those whose inputs drifted. Each segment's window
 * carries its most shifted feature (largest PSI) with its p-value adjusted across the segment's features;
 * that adjusted p-value is at least the segment's Simes p-value (the smallest adjusted one), so it is a
 * valid, conservative p-value for "none of the segment's features moved". Those are corrected across the
 * segments judged (Benjamini–Hochberg, as the segment rule corrects its performance tests): a segment
 * drifted when its twice-adjusted p-value is below alpha and its feature passes the same effect gate as
 * the whole window's (featureDrifted). Routed segments (the fallback answers them: a remedy stands),
 * segments with fewer than window.minRows rows and features with a quality problem are not judged.
 */
export function segmentDrift(
  w: WindowSummary,
  s: DetectSettings,
  brokenFeatures: ReadonlySet<string>,
): { judged: number; drifted: SegmentDrift[] } {
  const judged = (w.segments ?? []).flatMap((p) =>
    p.driftReference === 'segment' &&
    !p.routed &&
    p.count >= s.minRows &&
    p.drift !== null &&
    p.drift.adjustedPValue !== null &&
    !brokenFeatures.has(p.drift.name)
      ? [{ segment: p.name, drift: p.drift, pValue: p.drift.adjustedPValue }]
      : [],
  );
  const adjusted = benjaminiHochberg(judged.map((j) => j.pValue));
  const drifted = judged.flatMap(({ segment, drift: d }, i): SegmentDrift[] =>
    adjusted[i]! < s.detection.alpha && featureDrifted(d, s)
      ? [
          {
            segment,
            name: d.name,
            test: d.test,
            statistic: d.statistic,
            psi: d.psi,
            pValue: adjusted[i]!,
          },
        ]
      : [],
  );
  return { judged: judged.length, drifted: drifted.sort((a, b) => b.psi - a.psi) };
}

/** The observation of the drifted features and segments found in a judged window. */
function judgement(
  evidence: DataDriftEvidence,
  features: FindingFeature[],
  segments: SegmentDrift[] | undefined,
): Observation<'data_drift'> {
  const maxPsi = Math.max(0, ...features.map((f) => f.effect ?? 0), ...(segments ?? []).map((d) => d.psi));
  const listed = [
    ...features.map((f) => `${f.name} (PSI ${(f.effect ?? 0).toFixed(2)})`),
    ...(segments ?? []).map((d) => `${d.name} in segment ${d.segment} (PSI ${d.psi.toFixed(2)})`),
  ];
  return {
    kind: 'data_drift',
    judged: true,
    bad: listed.length > 0,
    severity: maxPsi >= 0.5 ? 'critical' : 'warning',
    summary: listed.length > 0 ? `input drift in ${listed.join(', ')}` : 'inputs match the reference',
    evidence: {
      ...evidence,
      featuresDrifted: features.length,
      maxPsi,
      ...(segments ? { segmentsDrifted: segments } : {}),
    },
    features,
  };
}

/**
 * The drift without that of the segments named (cross-kind.ts: their performance fell, and their drift
 * is that failure's, which the segment rule judges and its remedy contains).
 */
export function withoutSegments(
  drift: Observation<'data_drift'>,
  segments: ReadonlySet<string>,
): Observation<'data_drift'> {
  const drifted = drift.evidence.segmentsDrifted;
  if (!drift.judged || !drifted?.some((d) => segments.has(d.segment))) return drift;
  return judgement(
    drift.evidence,
    drift.features ?? [],
    drifted.filter((d) => !segments.has(d.segment)),
  );
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
    const segments = segmentDrift(w, s, brokenFeatures);
    return judgement(
      {
        ...evidence,
        featuresJudged: w.featuresJudged ?? null,
        ...(segments.judged > 0 ? { segmentsJudged: segments.judged } : {}),
      },
      rank(drifted),
      segments.judged > 0 ? segments.drifted : undefined,
    );
  },
  margins: (f, policy) =>
    featureMargins(
      [
        ...(f.features ?? []),
        ...(f.evidence.segmentsDrifted ?? []).map((d) => ({ ...d, contribution: 1, effect: d.psi })),
      ],
      policy.detection.minEffect.psi,
      policy.detection.alpha,
      f.evidence.maxPsi,
    ),
  verificationBaseline: performanceBaseline,
  holdUntil: null,
};
