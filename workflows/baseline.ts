// The pre-failure baseline an incident's recovery is verified against. Pure: the agent takes it when an
// incident opens, and the backtest takes it the same way.
import type { FindingKind } from '../lib/domain.ts';
import type { DetectorState, VerificationBaseline, WindowSummary } from './types.ts';

/**
 * The pre-failure level of the metric an incident of `kind` hurts, from the detector's healthy windows
 * (never the training data); the serving version's reference only when no healthy window was seen yet.
 * Null when nothing the model serves can show a recovery (stale data) or nothing is known.
 */
export function baselineFor(
  kind: FindingKind,
  detector: DetectorState,
  window: WindowSummary | null,
): VerificationBaseline | null {
  const running = (key: 'latencyP95' | 'failureRate' | 'rmse') => {
    const b = detector.baselines?.[key];
    return b && b.n > 0
      ? { value: b.mean, rows: b.n, sd: Math.sqrt(Math.max(0, b.meanSq - b.mean ** 2)) }
      : null;
  };
  if (kind === 'latency') {
    const b = running('latencyP95');
    return b ? { metric: 'latencyP95Ms', ...b } : null;
  }
  if (kind === 'failures') {
    const b = running('failureRate');
    return b ? { metric: 'failureRate', ...b } : null;
  }
  if (kind === 'stale_data') return null;
  if (window?.task === 'regression') {
    const b = running('rmse');
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
