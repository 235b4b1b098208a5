// The judgement across kinds (lib/brain/findings/cross-kind.ts observeWindow), one rule at a time: a fall
// in performance is the concept's only while the inputs are settled, and otherwise names the input
// finding it belongs to; drift names its performance impact; drift during a burst is the burst's; the
// sequential performance evidence restarts when the inputs move or a concept drift has cleared.
import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECT_SETTINGS, detect, initialDetectorState } from '../../lib/brain/detect.ts';
import { observeWindow } from '../../lib/brain/findings/cross-kind.ts';
import type { Observation } from '../../lib/brain/findings/rule.ts';
import type { DetectorState, WindowDrift, WindowSummary } from '../../lib/brain/types.ts';
import type { FindingKind } from '../../lib/domain.ts';
import { stableDrift, healthyWindow as win } from '../helpers/brain.ts';

/** The detector's state after six healthy windows. */
function learnt(): DetectorState {
  let state = initialDetectorState();
  for (let seq = 0; seq < 6; seq++) state = detect(win(seq), state, DEFAULT_DETECT_SETTINGS).state;
  return state;
}

const withPersistence = (kind: FindingKind, state: 'suspect' | 'confirmed' | 'recovering' | 'clear') => {
  const s = learnt();
  return { ...s, persistence: { ...s.persistence, [kind]: { state, badStreak: 1, goodStreak: 0 } } };
};

const observe = (window: WindowSummary, state: DetectorState = learnt()) => {
  const result = observeWindow(window, state, DEFAULT_DETECT_SETTINGS);
  const of = <K extends FindingKind>(kind: K) =>
    result.observations.find((o) => o.kind === kind) as Observation<K>;
  return { ...result, of };
};

/** Accuracy 0.6 on 450 labelled rows, against a baseline of 0.9: performance fell, by any test. */
const fallen = (over: Partial<WindowSummary> = {}) => win(6, { accuracy: 0.6, ...over });
const drifted = (name: string, pValue: number, adjustedPValue: number): WindowDrift[] =>
  stableDrift().map((d) => (d.name === name ? { ...d, statistic: 0.3, pValue, adjustedPValue, psi: 2 } : d));
const outOfRange = {
  name: 'income',
  invalidRate: 1,
  mainProblem: 'out_of_range' as const,
  nullRate: 0,
  referenceNullRate: 0,
  nullRateChangePValue: null,
  constant: null,
};

/** No labels, and no label-free estimate to trust: performance cannot be judged. */
const unlabelled: Partial<WindowSummary> = {
  labelled: 0,
  accuracy: null,
  estimatedAccuracy: null,
  estimateTrustworthy: false,
  positives: undefined,
};

describe('a fall in performance', () => {
  it('with the inputs settled is a concept drift, said so', () => {
    const { of, degraded, sequential } = observe(fallen());
    const concept = of('concept_drift');
    expect(concept).toMatchObject({ judged: true, bad: true });
    expect(concept.summary).toMatch(/ while the inputs are stable$/);
    expect(concept.evidence).not.toHaveProperty('attributedTo');
    expect(degraded).toBe(true);
    expect(sequential.errorCusum).toBeDefined();
  });

  it('while a data-quality finding is active (suspect, confirmed or recovering) belongs to it, and restarts the evidence', () => {
    for (const p of ['suspect', 'confirmed', 'recovering'] as const) {
      const { of, degraded, sequential } = observe(fallen(), withPersistence('data_quality', p));
      const concept = of('concept_drift');
      expect(concept.judged, p).toBe(false);
      expect(concept.summary, p).toMatch(/, but the inputs changed too$/);
      expect(concept.evidence.attributedTo, p).toBe('data_quality');
      expect(degraded, p).toBe(true);
      expect(sequential, p).toEqual({
        calibrationCusum: undefined,
        errorCusum: undefined,
        rmseCusum: undefined,
      });
    }
    // A cleared finding is no longer active: the fall is the concept's again.
    expect(observe(fallen(), withPersistence('data_quality', 'clear')).of('concept_drift').judged).toBe(true);
  });

  it('while an earlier input drift is still active belongs to that drift', () => {
    const concept = observe(fallen(), withPersistence('data_drift', 'recovering')).of('concept_drift');
    expect(concept.judged).toBe(false);
    expect(concept.evidence.attributedTo).toBe('data_drift');
  });

  it('in a window with broken inputs belongs to data quality, and the broken feature is not also drift', () => {
    const { of } = observe(fallen({ quality: [outOfRange], drift: drifted('income', 1e-9, 1e-8) }));
    expect(of('concept_drift').evidence.attributedTo).toBe('data_quality');
    expect(of('data_quality').bad).toBe(true);
    expect(of('data_drift').bad).toBe(false);
  });

  it('with a feature drifted belongs to the drift, whose impact is then "degraded"', () => {
    const { of } = observe(fallen({ drift: drifted('age', 1e-9, 1e-8) }));
    expect(of('concept_drift').evidence.attributedTo).toBe('data_drift');
    expect(of('data_drift')).toMatchObject({ bad: true, impact: 'degraded' });
    expect(of('data_drift').summary).toMatch(/, and performance fell$/);
  });

  it('with a feature significant only before the correction belongs to the drift (the inputs are unsettled)', () => {
    // Significant at alpha before the correction: the inputs are not settled.
    const unsettled = observe(fallen({ drift: drifted('age', 0.004, 0.5) })).of('concept_drift');
    expect(unsettled).toMatchObject({ judged: false, evidence: { attributedTo: 'data_drift' } });
    // Exactly at alpha is not below it.
    const alpha = DEFAULT_DETECT_SETTINGS.detection.alpha;
    const at = observe(fallen({ drift: drifted('age', alpha, 0.5) })).of('concept_drift');
    expect(at.judged).toBe(true);
  });

  it('during a burst belongs to the burst', () => {
    const { of } = observe(fallen({ count: 900, throughputPerMinute: 540 }));
    expect(of('anomaly').bad).toBe(true);
    expect(of('concept_drift').evidence.attributedTo).toBe('anomaly');
  });

  it('without labels is not judged, and says why', () => {
    const { of, degraded } = observe(win(6, unlabelled));
    expect(of('concept_drift').judged).toBe(false);
    expect(of('concept_drift').evidence).not.toHaveProperty('attributedTo');
    expect(degraded).toBe(false);
  });
});

describe('an input drift', () => {
  it('says its performance impact: none, or unknown without labels; a window without drift adds nothing', () => {
    const moved = drifted('age', 1e-9, 1e-8);
    const none = observe(win(6, { drift: moved })).of('data_drift');
    expect(none).toMatchObject({ bad: true, impact: 'none' });
    expect(none.summary).toMatch(/ without a performance impact$/);
    const unknown = observe(win(6, { drift: moved, ...unlabelled })).of('data_drift');
    expect(unknown).toMatchObject({ bad: true, impact: 'unknown' });
    expect(unknown.summary).toMatch(/ \(performance unknown\)$/);
    const still = observe(win(6)).of('data_drift');
    expect(still).toMatchObject({ judged: true, bad: false, impact: 'none' });
    expect(still.summary).not.toMatch(/impact|performance/);
  });

  it('during a burst is the burst: not judged, not bad, and the summary points at the anomaly', () => {
    const { of } = observe(
      win(6, { count: 900, throughputPerMinute: 540, drift: drifted('age', 1e-9, 1e-8) }),
    );
    expect(of('anomaly').bad).toBe(true);
    expect(of('data_drift')).toMatchObject({
      judged: false,
      bad: false,
      summary: 'inputs moved with a traffic burst: see anomaly',
    });
  });
});

describe('the sequential performance evidence', () => {
  it('is carried through a healthy window, and restarts once a concept drift has cleared', () => {
    const carried = observe(win(6));
    expect(carried.sequential.errorCusum).toBeDefined();
    const cleared = observe(win(6), withPersistence('concept_drift', 'recovering'));
    expect(cleared.of('concept_drift')).toMatchObject({ judged: true, bad: false });
    expect(cleared.sequential).toEqual({
      calibrationCusum: undefined,
      errorCusum: undefined,
      rmseCusum: undefined,
    });
    // Still confirmed (not yet recovering): carried.
    expect(
      observe(win(6), withPersistence('concept_drift', 'confirmed')).sequential.errorCusum,
    ).toBeDefined();
  });
});

it('reports every kind once, in the order detect reports findings', () => {
  const kinds = observe(win(6)).observations.map((o) => o.kind);
  expect(kinds.slice(0, 3)).toEqual(['concept_drift', 'data_drift', 'data_quality']);
  expect(kinds.slice(-2)).toEqual(['anomaly', 'segment']);
  expect(new Set(kinds).size).toBe(kinds.length);
});
