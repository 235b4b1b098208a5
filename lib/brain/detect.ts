// Detect: turns one window's measurements into typed findings. Pure and deterministic: it runs
// inside the agent workflow (no I/O, clock or randomness) and its state, plain JSON, is carried through
// continueAsNew. Imports only types from the policy module, so zod stays out of the workflow bundle.
//
// Per kind, each window gives an observation (the kind's rule in lib/brain/findings, reconciled across
// kinds by findings/cross-kind.ts): bad, good, or not judged (too few rows, no baseline yet, or the
// evidence belongs to another kind). Judged observations move the kind's persistence — suspect →
// confirmed (M of the last N judged windows bad) → recovering → clear (`clearAfter` consecutive good
// windows) — and unjudged ones leave it as it was. A bad observation needs both significance
// (BH-corrected p-values from the monitor, or a test at `alpha`) and an effect of at least the policy's
// `minEffect`, so large windows do not flag trivia and small ones do not flag noise. Evidence that
// already spans windows (a CUSUM past its decision interval) confirms at once. Healthy windows teach the
// running baselines the rules judge against.
import type { FindingKind } from '../domain.ts';
import { DEFAULT_POLICY } from '../policy/defaults.ts';
import type { Policy } from '../policy/policy.ts';
import { ANOMALY_DEFAULTS, rateJudged } from './findings/anomaly.ts';
import {
  type BaselineStanding,
  CONCEPT_DRIFT_DEFAULTS,
  learnAccuracy,
  learnRmse,
} from './findings/concept-drift.ts';
import { observeWindow } from './findings/cross-kind.ts';
import { DATA_DRIFT_DEFAULTS } from './findings/data-drift.ts';
import type { DetectSettings, Observation } from './findings/rule.ts';
import { learnSegments, SEGMENT_DEFAULTS, type SegmentEvidence } from './findings/segment.ts';
import { extend, labelsReceived, SHARED_DEFAULTS } from './findings/shared.ts';
import { STALE_DATA_DEFAULTS } from './findings/stale-data.ts';
import type { DetectorState, Finding, MetricLevel, PersistenceState, WindowSummary } from './types.ts';

// Detect's public face for its callers (the agent, the backtest, status, benchmarks).
export { learnAccuracy } from './findings/concept-drift.ts';
export { featureDrifted } from './findings/data-drift.ts';
export type { DetectSettings } from './findings/rule.ts';

/**
 * The sections of a model's policy detect reads; pass the result as `detect`'s third argument. The
 * second argument is ignored: detect judges one way, today's (workflows/agent.ts still passes the
 * revision its patch markers name until they are cut, issue 13).
 */
export function detectSettings(
  policy: Pick<Policy, 'detection' | 'window' | 'floors'>,
  _ignored: { revision?: number } = {},
): DetectSettings {
  return { detection: policy.detection, minRows: policy.window.minRows, floors: policy.floors };
}

/** Detect's settings under the default policy, for callers without a model's policy. */
export const DEFAULT_DETECT_SETTINGS: DetectSettings = detectSettings(DEFAULT_POLICY);

/** Every threshold detect judges with beyond the policy's: each rule's own, and those they share. */
export const DETECT_DEFAULTS = {
  ...SHARED_DEFAULTS,
  ...CONCEPT_DRIFT_DEFAULTS,
  ...DATA_DRIFT_DEFAULTS,
  ...ANOMALY_DEFAULTS,
  ...STALE_DATA_DEFAULTS,
  ...SEGMENT_DEFAULTS,
} as const;

export function initialDetectorState(): DetectorState {
  return {
    baselineLabelled: 0,
    baselineCorrect: 0,
    baselineWindows: 0,
    persistence: {},
    baselines: {},
  };
}

type Baselines = NonNullable<DetectorState['baselines']>;

// ---- persistence --------------------------------------------------------------------------------

/**
 * suspect → confirmed → recovering → clear. Confirmed when at least `confirmM` of the last `confirmN`
 * judged windows were bad (the current one among them); cleared after `clearAfter` consecutive good
 * windows (hysteresis). `confirmM` 1 confirms at once (anomalies: a burst is over by the next window).
 */
export function advancePersistence(
  previous: PersistenceState | undefined,
  bad: boolean,
  persistence: Policy['detection']['persistence'] = DEFAULT_DETECT_SETTINGS.detection.persistence,
  seq?: number,
  /** Whether the window's own rows show the failure (Observation.shown); undefined: not told apart. */
  shownNow?: boolean,
): PersistenceState {
  const p = previous ?? { state: 'clear', badStreak: 0, goodStreak: 0 };
  const { confirmM, confirmN, clearAfter } = persistence;
  const badStreak = bad ? p.badStreak + 1 : 0;
  const goodStreak = bad ? 0 : p.goodStreak + 1;
  // States from before M-of-N carry only the streak: it stands for the recent judgements.
  const before = p.recent ?? Array.from({ length: Math.min(p.badStreak, confirmN) }, () => 1);
  let recent = [...before, bad ? 1 : 0].slice(-confirmN);
  let badWindows =
    bad && seq !== undefined ? [...(p.badWindows ?? []), seq].slice(-confirmN) : (p.badWindows ?? []);
  const active = p.state === 'confirmed' || p.state === 'recovering';
  const badCount = recent.reduce((sum, x) => sum + x, 0);
  let state: PersistenceState['state'];
  if (bad) state = active || badCount >= confirmM ? 'confirmed' : 'suspect';
  else if (active) state = goodStreak >= clearAfter ? 'clear' : 'recovering';
  else state = 'clear';
  let shown =
    shownNow === undefined && p.shown === undefined
      ? undefined
      : [...(p.shown ?? []), bad && shownNow !== false ? 1 : 0].slice(-confirmN);
  if (state === 'clear' && active) {
    // A finding that has cleared starts afresh: its old bad windows do not count towards the next one.
    recent = [];
    badWindows = [];
    if (shown) shown = [];
  }
  return { state, badStreak, goodStreak, recent, badWindows, ...(shown ? { shown } : {}) };
}

/**
 * A confirmed finding whose own-row evidence is kept (PersistenceState.shown) is transient while fewer
 * than `confirmM` of the last `confirmN` judged windows show it in their own rows: the persistence rule
 * asks that of every other finding, and evidence carried over windows (a CUSUM) must not skip it.
 */
export function isTransient(
  p: PersistenceState,
  persistence: Policy['detection']['persistence'] = DEFAULT_DETECT_SETTINGS.detection.persistence,
): boolean {
  if (p.state !== 'confirmed' || p.shown === undefined) return false;
  return p.shown.reduce((sum, x) => sum + x, 0) < persistence.confirmM;
}

// ---- detect -------------------------------------------------------------------------------------

export function detect(
  measured: WindowSummary,
  state: DetectorState,
  settings: DetectSettings = DEFAULT_DETECT_SETTINGS,
): { findings: Finding[]; state: DetectorState } {
  const settling = (state.settleWindows ?? 0) > 0;
  const window = settling ? withoutLabels(measured) : measured;
  const { observations, degraded, sequential } = observeWindow(window, state, settings);

  const persistence = { ...state.persistence };
  const findings: Finding[] = [];
  for (const obs of observations) {
    const rule =
      obs.kind === 'anomaly' || obs.confirmNow
        ? { ...settings.detection.persistence, confirmM: 1 }
        : settings.detection.persistence;
    if (!obs.judged) {
      // A window that cannot judge changes nothing: an active finding stays as it was, and says why.
      const carried = persistence[obs.kind];
      if (carried && carried.state !== 'clear')
        findings.push(toFinding(obs, carried, isTransient(carried, settings.detection.persistence)));
      continue;
    }
    const next = advancePersistence(persistence[obs.kind], obs.bad, rule, window.seq, obs.shown);
    persistence[obs.kind] = next;
    if (next.state !== 'clear')
      findings.push(toFinding(obs, next, isTransient(next, settings.detection.persistence)));
  }

  // Baselines learn only from windows that are healthy for what they measure, so a failure never
  // becomes the new normal.
  // A fall in performance left to the inputs (not judged as a concept drift) is not healthy either.
  const healthy = findings.length === 0 && !degraded;
  const accuracyHealthy =
    healthy && window.accuracy !== null && window.labelled > 0 && window.task !== 'regression';
  const clean = (kind: FindingKind) => !findings.some((f) => f.kind === kind);
  const baselines: Baselines = { ...(state.baselines ?? {}) };
  const judgeable = window.count >= settings.minRows;
  if (judgeable && clean('latency') && clean('anomaly'))
    baselines.latencyP95 = extend(baselines.latencyP95, window.latencyP95Ms);
  if (judgeable && clean('failures'))
    baselines.failureRate = extend(baselines.failureRate, window.failureRate);
  if (rateJudged(window, settings) && clean('anomaly') && clean('stale_data'))
    baselines.throughput = extend(baselines.throughput, window.throughputPerMinute);
  if (judgeable && clean('stale_data')) {
    if (window.task !== undefined)
      baselines.labelShare = extend(baselines.labelShare, labelsReceived(window) / window.count);
    baselines.labelDelayP95 = extend(baselines.labelDelayP95, window.labelDelayP95Seconds);
  }
  if (healthy && judgeable) {
    baselines.estimatedAccuracy = extend(
      baselines.estimatedAccuracy,
      window.estimateTrustworthy ? window.estimatedAccuracy : null,
    );
  }
  // A regression window's RMSE waits while the RMSE CUSUM is above zero or a finding is only suspected,
  // at most regressionBaselineLagWindows windows (learnRmse, DetectorState.pendingRmse).
  const { calibrationCusum, errorCusum, rmseCusum } = sequential;
  let pendingRmse = state.pendingRmse;
  const rmse = window.task === 'regression' && window.labelled >= settings.minRows ? window.rmse : null;
  if (rmse != null) {
    const standing: BaselineStanding =
      !judgeable || degraded || findings.some((f) => f.state !== 'suspect')
        ? 'failing'
        : healthy
          ? 'healthy'
          : 'suspect';
    const learnt = learnRmse(baselines.rmse, pendingRmse, rmse, standing, (rmseCusum?.statistic ?? 0) > 0);
    baselines.rmse = learnt.rmse;
    pendingRmse = learnt.pendingRmse;
  }
  const segmentObservation = observations.find((o) => o.kind === 'segment');
  const segments = learnSegments(
    state,
    window,
    (segmentObservation?.evidence as SegmentEvidence | undefined) ?? null,
    settings.detection.alpha,
  );
  return {
    findings,
    state: {
      ...state,
      persistence,
      baselines,
      ...(segments ? { segments } : {}),
      calibrationCusum,
      errorCusum,
      rmseCusum,
      pendingRmse,
      ...(window.count > 0 || state.trafficSeen ? { trafficSeen: true } : {}),
      settleWindows: settling ? state.settleWindows! - 1 : undefined,
      ...learnAccuracy(
        state,
        accuracyHealthy ? window : null,
        findings.some((f) => f.kind === 'concept_drift'),
      ),
    },
  };
}

/**
 * The state to carry once the production model has changed (a retrain promoted, a rollback, a
 * fallback): the performance evidence and baselines described the previous model, so they start afresh
 * (the calibration and error CUSUMs, which would otherwise hold a concept drift for windows after the
 * fix, and the accuracy and error baselines); persistence is kept, so active findings clear through
 * good windows with their usual hysteresis. The agent captures the pre-failure baseline before.
 */
export function afterModelChange(state: DetectorState): DetectorState {
  const {
    calibrationCusum: _c,
    errorCusum: _e,
    rmseCusum: _r2,
    pendingRmse: _p2,
    pendingBaseline: _p,
    segments: _s,
    ...rest
  } = state;
  const { rmse: _r, estimatedAccuracy: _a, ...baselines } = state.baselines ?? {};
  // The old model's concept drift is not the new one's: it must be found again on the new model's own
  // evidence, not carried (a verified fix would otherwise open a second incident at once).
  const { concept_drift: _d, ...persistence } = state.persistence;
  return {
    ...rest,
    persistence,
    baselines,
    baselineLabelled: 0,
    baselineCorrect: 0,
    baselineWindows: 0,
    settleWindows: SETTLE_WINDOWS,
  };
}

/**
 * The state after the agent took `level` as the new baseline (decide's level-changed-rebaseline): the
 * same model serves, so nothing settles; its performance evidence described the old level and starts
 * afresh. The accuracy baseline starts at the level measured on the rows since the onset (else a
 * classifier would be judged against its reference accuracy, the old level, until it was learnt again);
 * an RMSE baseline is a spread of windows, which one measurement cannot give: it is learnt from the
 * coming healthy windows, and nothing is judged on RMSE until then.
 */
export function afterLevelChange(state: DetectorState, level: MetricLevel): DetectorState {
  const next = { ...afterModelChange(state), settleWindows: state.settleWindows };
  if (level.metric !== 'accuracy') return next;
  return {
    ...next,
    baselineLabelled: level.rows,
    baselineCorrect: Math.round(level.value * level.rows),
    baselineWindows: SHARED_DEFAULTS.minBaselineWindows,
  };
}

/**
 * The state after someone other than the agent changed the production version (a release, a person's
 * own rollback). The baselines stay, so the new version is judged against the old one's performance (a
 * worse release shows as a drop in its first windows: that is how a bad release is caught), but the
 * sequential statistics are the old version's evidence and are dropped: an error chart the old version
 * drove over h (say while an escalation was held) would otherwise confirm a concept drift on the new
 * version's first window, however well it does. Regression windows that waited for the RMSE CUSUM to
 * settle are dropped with it rather than learnt.
 */
export function afterProductionChange(state: DetectorState): DetectorState {
  const { calibrationCusum: _c, errorCusum: _e, rmseCusum: _r, pendingRmse: _p, ...rest } = state;
  return rest;
}

/**
 * Windows after a model change whose labels are not judged: labels keep arriving for predictions the
 * previous model made, and would be read as the new model's performance (its calibration, its errors).
 */
export const SETTLE_WINDOWS = 2;

/**
 * A window with its labelled-row evidence removed: performance cannot be judged from it. The labels
 * still arrived, so they count as labelled elsewhere (label arrival is judged on them).
 */
function withoutLabels(w: WindowSummary): WindowSummary {
  const {
    errorRuns: _r,
    positives: _p,
    expectedPositives: _e,
    positivesVariance: _v,
    positivesRows: _n,
    ...rest
  } = w;
  return {
    ...rest,
    labelledElsewhere: labelsReceived(w),
    labelled: 0,
    correct: 0,
    accuracy: null,
    f1: null,
    logLoss: null,
    rmse: null,
    mae: null,
  };
}

function toFinding(obs: Observation, p: PersistenceState, transient = false): Finding {
  const finding = {
    kind: obs.kind,
    severity: obs.severity,
    state: p.state,
    summary: obs.summary,
    evidence: obs.evidence,
  } as Finding;
  if (obs.features && obs.features.length > 0) finding.features = obs.features;
  if (obs.impact !== undefined) finding.impact = obs.impact;
  if (p.badWindows && p.badWindows.length > 0) finding.windows = p.badWindows;
  if (transient) finding.transient = true;
  return finding;
}
