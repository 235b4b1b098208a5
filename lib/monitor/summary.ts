// The part of a window's metrics the agent workflow carries. WindowMetrics grows with the number of
// features (under 1 kB each) and every activity result is recorded in the workflow's history and kept
// in its state across continueAsNew, so the full metrics stay in the store (MetricWindow.metrics) and
// the workflow gets this summary: a fixed set of numbers plus at most `listed` features per section,
// about 2 kB whatever the schema. `count`, `labelled`, `correct` and `accuracy` mean what they mean in
// the workflow's WindowSummary.

import { VALUE_PROBLEMS, type ValueProblem } from '../ingest/validate.ts';
import type { Misreading } from './validity.ts';
import type { WindowMetrics } from './window.ts';

export const SUMMARY_DEFAULTS = {
  /** Benjamini–Hochberg adjusted p-value below which a feature's drift counts as significant. */
  alpha: 0.05,
  /** PSI from which a shift counts as practically relevant: 0.1 is "moderate" (Siddiqi, 2006). */
  minPsi: 0.1,
  /** Features listed per section, worst first. */
  listed: 5,
};
export type SummarySettings = typeof SUMMARY_DEFAULTS;

export interface DriftDigest {
  name: string;
  test: 'kolmogorov_smirnov' | 'chi_square';
  statistic: number;
  pValue: number;
  adjustedPValue: number | null;
  psi: number;
  /** Values on each side of the test (absent in digests from before they were kept). */
  currentN?: number;
  referenceN?: number;
}

export interface QualityDigest {
  name: string;
  invalidRate: number;
  /**
   * The problem kind with the most rows, or how the column is misread (then its misread rows, all of a
   * rescaled column's, the swapped share of a swapped one's, count as invalid);
   * null when the issue is the null rate or a constant column.
   */
  mainProblem: ValueProblem | Misreading['kind'] | null;
  /**
   * How the column is misread: "×1000" (its values in other units) or "swapped with x" (in part of the
   * rows: "swapped with x in 30 % of rows"); null when not.
   */
  misread?: string | null;
  nullRate: number;
  referenceNullRate: number | null;
  /** p-value of the null rate's change against the reference; null when not judged. */
  nullRateChangePValue: number | null;
  constant: boolean | null;
}

export interface AgentWindowSummary {
  count: number;
  labelled: number;
  correct: number | null;
  accuracy: number | null;
  f1: number | null;
  logLoss: number | null;
  rocAuc: number | null;
  rmse: number | null;
  mae: number | null;
  r2: number | null;
  labelCoverage: number | null;
  labelDelayP95Seconds: number | null;
  estimatedAccuracy: number | null;
  estimatedF1: number | null;
  estimateTrustworthy: boolean;
  /** Realised minus estimated accuracy on the window's labelled rows; null when not judged. */
  calibrationGap: number | null;
  meanConfidence: number | null;
  lowConfidenceShare: number | null;
  meanEntropy: number | null;
  errorRate: number | null;
  invalidOutputRate: number | null;
  failureRate: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
  throughputPerMinute: number | null;
  secondsSinceLastArrival: number | null;
  gapRatio: number | null;
  longestGapRatio: number | null;
  /** Features whose drift was tested (not too small, with a reference). */
  featuresJudged: number;
  /** Of those, significant (adjusted p < alpha) with a practically relevant PSI (≥ minPsi). */
  featuresDrifted: number;
  /** The judged features with the largest PSI. */
  drift: DriftDigest[];
  predictionDriftPValue: number | null;
  predictionPsi: number | null;
  /** Features with a schema violation, a significant change of null rate, or gone constant. */
  featuresWithQualityIssues: number;
  /** The worst of them: highest invalid rate, then largest change of null rate. */
  quality: QualityDigest[];
}

export function summarizeForAgent(
  metrics: WindowMetrics,
  settings: SummarySettings = SUMMARY_DEFAULTS,
): AgentWindowSummary {
  const { performance, estimate, confidence, system, outputs, drift } = metrics;
  const classification = performance !== null && performance.task !== 'regression' ? performance : null;
  const regression = performance?.task === 'regression' ? performance : null;
  const calibration = estimate?.calibration.judged ? estimate.calibration : null;

  const judged = drift.features.filter((d) => d.judged);
  const drifted = judged.filter((d) => (d.adjustedPValue ?? 1) < settings.alpha && d.psi >= settings.minPsi);
  const driftDigest = [...judged]
    .sort((a, b) => b.psi - a.psi || a.pValue - b.pValue)
    .slice(0, settings.listed)
    .map(
      (d): DriftDigest => ({
        name: d.name,
        test: d.test,
        statistic: d.statistic,
        pValue: d.pValue,
        adjustedPValue: d.adjustedPValue,
        psi: d.psi,
        currentN: d.currentN,
        referenceN: d.referenceN,
      }),
    );

  const qualityIssues = metrics.quality
    .filter(
      (q) =>
        (q.invalidRate ?? 0) > 0 ||
        q.constant === true ||
        q.misread !== null ||
        (q.nullRateChange?.pValue ?? 1) < settings.alpha,
    )
    .map((q): QualityDigest => {
      const mainProblem = VALUE_PROBLEMS.reduce((worst, p) =>
        q.problems[p] > q.problems[worst] ? p : worst,
      );
      const common = {
        name: q.name,
        nullRate: q.nullRate ?? 0,
        referenceNullRate: q.referenceNullRate,
        nullRateChangePValue: q.nullRateChange?.pValue ?? null,
        constant: q.constant,
      };
      if (q.misread !== null) {
        const misread =
          q.misread.kind === 'rescaled'
            ? `×${q.misread.factor}`
            : `swapped with ${q.misread.with}${q.misread.share < 1 ? ` in ${Math.round(q.misread.share * 100)} % of rows` : ''}`;
        // The misread rows are invalid: every row of a rescaled column, the swapped share of a swapped one.
        const invalidRate = q.misread.kind === 'swapped' ? q.misread.share : 1;
        return { ...common, invalidRate, mainProblem: q.misread.kind, misread };
      }
      return {
        ...common,
        invalidRate: q.invalidRate ?? 0,
        mainProblem: q.problems[mainProblem] > 0 ? mainProblem : null,
      };
    })
    .sort(
      (a, b) =>
        b.invalidRate - a.invalidRate ||
        Math.abs(b.nullRate - (b.referenceNullRate ?? b.nullRate)) -
          Math.abs(a.nullRate - (a.referenceNullRate ?? a.nullRate)),
    );

  return {
    count: metrics.rows,
    labelled: metrics.labels.labelled,
    correct: classification?.correct ?? null,
    accuracy: classification?.accuracy ?? null,
    f1: classification?.f1 ?? null,
    logLoss: classification?.logLoss ?? null,
    rocAuc: classification?.rocAuc ?? null,
    rmse: regression?.rmse ?? null,
    mae: regression?.mae ?? null,
    r2: regression?.r2 ?? null,
    labelCoverage: metrics.labels.coverage,
    labelDelayP95Seconds: metrics.labels.delaySeconds?.p95 ?? null,
    estimatedAccuracy: estimate?.expectedAccuracy ?? null,
    estimatedF1: estimate?.expectedF1 ?? null,
    estimateTrustworthy: estimate?.trustworthy ?? false,
    calibrationGap: calibration?.gap ?? null,
    meanConfidence: confidence?.mean ?? null,
    lowConfidenceShare: confidence?.lowConfidenceShare ?? null,
    meanEntropy: confidence?.meanEntropy ?? null,
    errorRate: outputs.errorRate,
    invalidOutputRate: outputs.invalidRate,
    failureRate: system.failureRate,
    latencyP50Ms: system.latencyMs?.p50 ?? null,
    latencyP95Ms: system.latencyMs?.p95 ?? null,
    latencyP99Ms: system.latencyMs?.p99 ?? null,
    throughputPerMinute: system.arrivals.throughputPerMinute,
    secondsSinceLastArrival: system.arrivals.secondsSinceLastArrival,
    gapRatio: system.arrivals.gapRatio,
    longestGapRatio: system.arrivals.longestGapRatio,
    featuresJudged: judged.length,
    featuresDrifted: drifted.length,
    drift: driftDigest,
    predictionDriftPValue: drift.prediction.judged ? drift.prediction.pValue : null,
    predictionPsi: drift.prediction.judged ? drift.prediction.psi : null,
    featuresWithQualityIssues: qualityIssues.length,
    quality: qualityIssues.slice(0, settings.listed),
  };
}
