// The judgement that spans kinds, in one place: a feature with a data-quality problem is not also
// drift; a burst moves the inputs for as long as it lasts, so drift during a burst is the burst's; a
// segment's drift while its performance fell is the segment's failure; a fall
// in performance while the inputs moved or broke is the input finding's impact, not a concept drift; and
// the sequential performance evidence restarts when the inputs move or a concept drift has cleared.
import type { FindingKind } from '../../domain.ts';
import type { DetectorState, WindowSummary } from '../types.ts';
import { withoutSegments } from './data-drift.ts';
import { FINDING_RULES } from './index.ts';
import type { DetectSettings, Observation, SequentialState } from './rule.ts';
import { notJudged } from './shared.ts';

export interface WindowObservations {
  /** Every kind's observation, in the order detect reports findings. */
  observations: Observation[];
  /** Performance fell, whether or not it was judged a concept drift (such a window is not healthy). */
  degraded: boolean;
  /** The sequential statistics to carry to the next window. */
  sequential: SequentialState;
}

/** The kinds judged here together; every other kind's rule observes the window on its own. */
const CROSS_KINDS: readonly FindingKind[] = [
  'concept_drift',
  'data_drift',
  'data_quality',
  'anomaly',
  'segment',
];
/** In the registry's order (lib/domain.ts FINDING_KINDS is zod's module: the workflow bundle cannot load it). */
const INDEPENDENT_KINDS = (Object.keys(FINDING_RULES) as FindingKind[]).filter(
  (kind) => !CROSS_KINDS.includes(kind),
);

const active = (state: DetectorState, kind: FindingKind) => {
  const p = state.persistence[kind]?.state;
  return p === 'confirmed' || p === 'suspect' || p === 'recovering';
};

/** Observes one window for every kind and settles what belongs to which. */
export function observeWindow(
  window: WindowSummary,
  state: DetectorState,
  settings: DetectSettings,
): WindowObservations {
  const base = { window, state, settings, brokenFeatures: new Set<string>() };
  const quality = FINDING_RULES.data_quality.observe(base);
  const brokenFeatures = new Set((quality.bad ? quality.features : [])?.map((f) => f.name));
  const anomaly = FINDING_RULES.anomaly.observe(base);
  let drift = FINDING_RULES.data_drift.observe({ ...base, brokenFeatures });
  if (anomaly.bad && drift.bad) {
    // A burst (e.g. one client replaying a request) moves the input distributions for as long as it
    // lasts: that is the anomaly, not a population shift.
    drift = {
      ...drift,
      judged: false,
      bad: false,
      summary: 'inputs moved with a traffic burst: see anomaly',
    };
  }
  let segment = FINDING_RULES.segment.observe(base);
  // A segment whose performance fell (now, or at its last test) is the segment rule's: its inputs' drift
  // against its own reference is that failure's, which the segment's remedy contains.
  const failedSegments = new Set([
    ...(segment.bad ? segment.evidence.tests.filter((t) => t.broken).map((t) => t.name) : []),
    ...Object.entries(state.segments ?? {}).flatMap(([name, b]) => (b.broken ? [name] : [])),
  ]);
  drift = withoutSegments(drift, failedSegments);
  const performance = FINDING_RULES.concept_drift.observe(base);
  const inputsMoved =
    quality.bad || drift.bad || anomaly.bad || active(state, 'data_quality') || active(state, 'data_drift');
  // Before a fall in performance is blamed on the concept, the inputs must also look settled: no listed
  // feature significant at alpha even before the multiple-testing correction. A gradual input shift
  // raises the error rate (which the error CUSUM sees within a window) before its drift is significant
  // after correction; a stable stream fails this only in a few windows in a hundred, which delays a
  // true concept drift by one window.
  const inputsUnsettled =
    drift.judged && !drift.bad && (window.drift ?? []).some((d) => d.pValue < settings.detection.alpha);
  if (drift.judged) {
    const impact = !performance.judged ? 'unknown' : performance.bad ? 'degraded' : 'none';
    const suffix = !drift.bad
      ? ''
      : impact === 'none'
        ? ' without a performance impact'
        : impact === 'degraded'
          ? ', and performance fell'
          : ' (performance unknown)';
    drift = { ...drift, impact, summary: drift.summary + suffix };
  }
  let concept: Observation<'concept_drift'>;
  if (!performance.judged) {
    concept = notJudged('concept_drift', performance.summary, performance.evidence);
  } else if (performance.bad && (segment.bad || active(state, 'segment'))) {
    // Performance fell where one segment fell while the others hold: the segment's failure, which its
    // own remedy can contain. The window's evidence (a CUSUM over its rows) confirms the segment at once.
    concept = notJudged('concept_drift', `${performance.summary}, in one segment`, {
      ...performance.evidence,
      attributedTo: 'segment',
    });
    if (segment.bad && performance.confirmNow) segment = { ...segment, confirmNow: true };
  } else if (performance.bad && (inputsMoved || inputsUnsettled)) {
    // Performance fell while the inputs moved or broke: that is the input finding's impact, not a change
    // of the concept, and it must not be judged as one.
    concept = notJudged('concept_drift', `${performance.summary}, but the inputs changed too`, {
      ...performance.evidence,
      attributedTo:
        quality.bad || active(state, 'data_quality')
          ? 'data_quality'
          : drift.bad || inputsUnsettled
            ? 'data_drift'
            : anomaly.bad
              ? 'anomaly'
              : // Left: an input drift of earlier windows that is still active.
                'data_drift',
    });
  } else {
    concept = {
      ...performance,
      summary: performance.bad ? `${performance.summary} while the inputs are stable` : performance.summary,
    };
  }
  const observe = { window, state, settings, brokenFeatures };
  const observations: Observation[] = [
    concept,
    drift,
    quality,
    ...INDEPENDENT_KINDS.map((kind) => FINDING_RULES[kind].observe(observe)),
    anomaly,
    segment,
  ];
  // The sequential statistics restart when the inputs move (their impact is not the concept's) and when
  // a concept drift has cleared (the agent acted; the new regime is the new normal).
  const conceptCleared =
    state.persistence.concept_drift?.state === 'recovering' && concept.judged && !concept.bad;
  const restart = inputsMoved || conceptCleared;
  const carry = performance.carry ?? {};
  return {
    observations,
    degraded: performance.bad,
    sequential: {
      calibrationCusum: restart ? undefined : (carry.calibrationCusum ?? state.calibrationCusum),
      errorCusum: restart ? undefined : (carry.errorCusum ?? state.errorCusum),
      rmseCusum: restart ? undefined : (carry.rmseCusum ?? state.rmseCusum),
    },
  };
}
