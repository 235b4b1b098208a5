// The pre-failure baseline an incident's recovery is verified against. Pure: the agent takes it when an
// incident opens, and the backtest takes it the same way.
import type { FindingKind } from '../domain.ts';
import { verificationBaselineOf } from './findings/index.ts';
import type { DetectorState, FindingOf, MetricLevel, VerificationBaseline, WindowSummary } from './types.ts';

/**
 * The pre-failure level of the metric an incident of `kind` hurts, from the detector's healthy windows
 * (never the training data); the serving version's reference only when no healthy window was seen yet.
 * Null when nothing the model serves can show a recovery (stale data) or nothing is known. Each kind's
 * rule says which metric (lib/brain/findings); a segment's is its own rows' (the opening `finding` names it).
 */
export function baselineFor<K extends FindingKind>(
  kind: K,
  detector: DetectorState,
  window: WindowSummary | null,
  finding?: FindingOf<K>,
): VerificationBaseline | null {
  return verificationBaselineOf(kind, detector, window, finding);
}

/**
 * The level the serving model's task metric stands at in `window`: accuracy of a classifier, RMSE of a
 * regressor, on the window's labelled rows. Null when nothing is labelled.
 */
export function levelOf(window: WindowSummary): MetricLevel | null {
  if (window.labelled <= 0) return null;
  if (window.task === 'regression')
    return window.rmse == null ? null : { metric: 'rmse', value: window.rmse, rows: window.labelled };
  return window.accuracy === null
    ? null
    : { metric: 'accuracy', value: window.accuracy, rows: window.labelled };
}
