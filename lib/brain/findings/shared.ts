// Helpers and thresholds more than one finding rule uses: running baselines of healthy windows, ranking
// of features, the margins decide weighs evidence by, and the model-performance verification baseline.
import type { FindingKind } from '../../domain.ts';
import type {
  DetectorState,
  EvidenceByKind,
  FindingFeature,
  RunningBaseline,
  VerificationBaseline,
  WindowSummary,
} from '../types.ts';
import type { Observation } from './rule.ts';

export const SHARED_DEFAULTS = {
  /** Healthy windows needed before a running baseline (accuracy, latency, throughput...) is used. */
  minBaselineWindows: 3,
  /** Windows after which a running baseline becomes an exponentially weighted one. */
  baselineCap: 20,
  /** One-sided z for tests made here (≈ alpha 0.01 after a few kinds); the monitor's tests use alpha. */
  minZ: 3,
  /** Latency, throughput and regression error must exceed their baseline by this many window-to-window sds, too. */
  latencySigmas: 4,
} as const;

export function baselineMean(b: RunningBaseline | undefined): number | null {
  return b && b.n >= SHARED_DEFAULTS.minBaselineWindows ? b.mean : null;
}

export function baselineSd(b: RunningBaseline): number {
  return Math.sqrt(Math.max(0, b.meanSq - b.mean * b.mean));
}

export function extend(
  b: RunningBaseline | undefined,
  x: number | null | undefined,
): RunningBaseline | undefined {
  if (x === null || x === undefined || !Number.isFinite(x)) return b;
  if (!b) return { n: 1, mean: x, meanSq: x * x };
  const n = Math.min(b.n + 1, SHARED_DEFAULTS.baselineCap);
  return { n, mean: b.mean + (x - b.mean) / n, meanSq: b.meanSq + (x * x - b.meanSq) / n };
}

/** Labels that arrived in the window, whichever version answered them: the evidence that labels flow. */
export function labelsReceived(w: WindowSummary): number {
  return w.labelled + (w.labelledElsewhere ?? 0);
}

export const notJudged = <K extends FindingKind>(
  kind: K,
  summary: string,
  evidence: EvidenceByKind[K],
): Observation<K> => ({
  kind,
  judged: false,
  bad: false,
  severity: 'warning',
  summary,
  evidence,
});

/** Ranks features by effect and gives each its share of the total as contribution. */
export function rank(features: FindingFeature[]): FindingFeature[] {
  const total = features.reduce((sum, f) => sum + Math.max(0, f.contribution), 0);
  return [...features]
    .sort((a, b) => b.contribution - a.contribution || a.name.localeCompare(b.name))
    .map((f) => ({ ...f, contribution: total > 0 ? Math.max(0, f.contribution) / total : 0 }));
}

// ---- margins (decide's evidence strength) ----------------------------------------------------------

/** A number only when it is a finite one (evidence written before a field existed, or NaN, is none). */
export const finite = (x: number | null | undefined): number | null =>
  typeof x === 'number' && Number.isFinite(x) ? x : null;

/**
 * A test's margin over its thresholds: the weaker of effect / minimum effect and significance / its
 * threshold. Evidence fields are read through `finite` first (a field written before it existed, or not
 * a finite number, is no test); features' own effects are taken as they are.
 */
export function margin(effect: number | null, minEffect: number, significance: number | null): number | null {
  const parts = [effect === null ? null : Math.abs(effect) / minEffect, significance].filter(
    (x): x is number => x !== null,
  );
  return parts.length === 0 ? null : Math.min(...parts);
}

/** Significance of a p-value against alpha on a log scale: 1 at alpha, 2 at alpha². */
export function pMargin(p: number | null, alpha: number): number | null {
  if (p === null) return null;
  return p <= 0 ? Number.POSITIVE_INFINITY : Math.log(p) / Math.log(alpha);
}

/** A statistic over its threshold. */
export const ratio = (x: number | null, threshold: number) => (x === null ? null : x / threshold);

/** The margin of a test that writes its effect and statistic: effect over minEffect, statistic over its threshold. */
export const effectMargins = (
  evidence: { effect?: number; statistic?: number },
  minEffect: number,
  threshold: number,
): (number | null)[] => [
  margin(finite(evidence.effect), minEffect, ratio(finite(evidence.statistic), threshold)),
];

/** Margins of the features a finding lists, or of its worst effect when it lists none. */
export function featureMargins(
  features: FindingFeature[] | undefined,
  minEffect: number,
  alpha: number,
  worst: number | null | undefined,
): (number | null)[] {
  return features && features.length > 0
    ? features.map((x) => margin(x.effect, minEffect, pMargin(x.pValue, alpha)))
    : [margin(finite(worst), minEffect, null)];
}

// ---- verification baselines ------------------------------------------------------------------------

/** A running baseline of the detector's healthy windows, as verification reads it. */
export function runningBaseline(
  detector: DetectorState,
  key: 'latencyP95' | 'failureRate' | 'rmse',
): { value: number; rows: number; sd: number } | null {
  const b = detector.baselines?.[key];
  return b && b.n > 0
    ? { value: b.mean, rows: b.n, sd: Math.sqrt(Math.max(0, b.meanSq - b.mean ** 2)) }
    : null;
}

/**
 * The model's pre-failure performance (accuracy, or RMSE for regression) from the detector's healthy
 * windows (never the training data); the serving version's reference only when no healthy window was
 * seen yet. Kinds whose harm shows in the model's answers verify against it.
 */
export function performanceBaseline(
  detector: DetectorState,
  window: WindowSummary | null,
): VerificationBaseline | null {
  if (window?.task === 'regression') {
    const b = runningBaseline(detector, 'rmse');
    if (b) return { metric: 'rmse', ...b };
    return window.referenceRmse != null ? { metric: 'rmse', value: window.referenceRmse, rows: 0 } : null;
  }
  if (detector.baselineLabelled > 0) {
    return {
      metric: 'accuracy',
      value: detector.baselineCorrect / detector.baselineLabelled,
      rows: detector.baselineLabelled,
    };
  }
  return window?.referenceAccuracy != null
    ? { metric: 'accuracy', value: window.referenceAccuracy, rows: 0 }
    : null;
}
