// Detect: turns one window's measurements into typed findings. Pure and deterministic: it runs
// inside the agent workflow and its state is carried through continueAsNew.
import type { FindingKind } from '../lib/domain.ts';
import type { DetectorState, Finding, PersistenceState, WindowSummary } from './types.ts';

export const DETECT_DEFAULTS = {
  /** Healthy windows needed before accuracy is judged against the baseline. */
  minBaselineWindows: 3,
  /** Labelled rows a window needs before its accuracy says anything. */
  minLabelled: 30,
  /** Practical relevance: accuracy must fall at least this far below the baseline (absolute). */
  minAccuracyDrop: 0.05,
  /** Statistical significance: the drop must exceed this many standard errors of the window's rate. */
  minZ: 3,
  /** Consecutive bad windows to confirm a finding, and consecutive good ones to clear it. */
  confirmAfter: 2,
  clearAfter: 2,
} as const;

export function initialDetectorState(): DetectorState {
  return { baselineLabelled: 0, baselineCorrect: 0, baselineWindows: 0, persistence: {} };
}

interface Observation {
  kind: FindingKind;
  bad: boolean;
  /** False when the window cannot tell (too few rows): persistence is left as it was. */
  judged: boolean;
  finding: Omit<Finding, 'state'>;
}

function observeAccuracy(window: WindowSummary, state: DetectorState): Observation {
  const baseline = state.baselineLabelled > 0 ? state.baselineCorrect / state.baselineLabelled : null;
  const evidence = {
    window: window.seq,
    labelled: window.labelled,
    accuracy: window.accuracy,
    baselineAccuracy: baseline,
    baselineWindows: state.baselineWindows,
  };
  const base = { kind: 'concept_drift' as const, severity: 'warning' as const };
  if (
    baseline === null ||
    state.baselineWindows < DETECT_DEFAULTS.minBaselineWindows ||
    window.accuracy === null ||
    window.labelled < DETECT_DEFAULTS.minLabelled
  ) {
    return {
      ...base,
      bad: false,
      judged: false,
      finding: { ...base, summary: 'not enough labelled data to judge accuracy', evidence },
    };
  }
  const drop = baseline - window.accuracy;
  const standardError = Math.sqrt(Math.max(baseline * (1 - baseline), 1e-6) / window.labelled);
  const z = drop / standardError;
  const bad = drop >= DETECT_DEFAULTS.minAccuracyDrop && z >= DETECT_DEFAULTS.minZ;
  return {
    ...base,
    bad,
    judged: true,
    finding: {
      ...base,
      severity: drop >= 0.15 ? 'critical' : 'warning',
      summary: bad
        ? `accuracy ${window.accuracy.toFixed(3)} is ${drop.toFixed(3)} below the baseline ${baseline.toFixed(3)}`
        : 'accuracy within the baseline',
      evidence: { ...evidence, drop, z },
    },
  };
}

function observeTraffic(window: WindowSummary): Observation {
  const base = { kind: 'stale_data' as const, severity: 'warning' as const };
  const bad = window.count === 0;
  return {
    ...base,
    bad,
    judged: true,
    finding: {
      ...base,
      summary: bad ? 'no predictions arrived in the window' : 'predictions are arriving',
      evidence: { window: window.seq, count: window.count },
    },
  };
}

/** suspect → confirmed → recovering → clear, with separate confirm and clear streaks (hysteresis). */
export function advancePersistence(previous: PersistenceState | undefined, bad: boolean): PersistenceState {
  const p = previous ?? { state: 'clear', badStreak: 0, goodStreak: 0 };
  const badStreak = bad ? p.badStreak + 1 : 0;
  const goodStreak = bad ? 0 : p.goodStreak + 1;
  const active = p.state === 'confirmed' || p.state === 'recovering';
  let state: PersistenceState['state'];
  if (bad) state = active || badStreak >= DETECT_DEFAULTS.confirmAfter ? 'confirmed' : 'suspect';
  else if (active) state = goodStreak >= DETECT_DEFAULTS.clearAfter ? 'clear' : 'recovering';
  else state = 'clear';
  return { state, badStreak, goodStreak };
}

export function detect(
  window: WindowSummary,
  state: DetectorState,
): { findings: Finding[]; state: DetectorState } {
  const observations = [observeAccuracy(window, state), observeTraffic(window)];
  const persistence = { ...state.persistence };
  const findings: Finding[] = [];
  for (const obs of observations) {
    if (!obs.judged) {
      // A window that cannot judge changes nothing: an active finding stays as it was, and says why.
      const carried = persistence[obs.kind];
      if (carried && carried.state !== 'clear') findings.push({ ...obs.finding, state: carried.state });
      continue;
    }
    const next = advancePersistence(persistence[obs.kind], obs.bad);
    persistence[obs.kind] = next;
    if (next.state !== 'clear') findings.push({ ...obs.finding, state: next.state });
  }
  // Only windows with no active finding extend the baseline, so a failure never becomes the new normal.
  const healthy = findings.length === 0 && window.accuracy !== null && window.labelled > 0;
  return {
    findings,
    state: {
      persistence,
      baselineLabelled: state.baselineLabelled + (healthy ? window.labelled : 0),
      baselineCorrect: state.baselineCorrect + (healthy ? window.correct : 0),
      baselineWindows: state.baselineWindows + (healthy ? 1 : 0),
    },
  };
}
