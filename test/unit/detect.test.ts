import { describe, expect, it } from 'vitest';
import { advancePersistence, DETECT_DEFAULTS, detect, initialDetectorState } from '../../workflows/detect.ts';
import type { DetectorState, WindowSummary } from '../../workflows/types.ts';

function window(seq: number, labelled: number, accuracy: number, count = labelled): WindowSummary {
  const correct = Math.round(labelled * accuracy);
  return {
    seq,
    startAt: '2026-01-01T00:00:00.000Z',
    endAt: '2026-01-01T00:01:00.000Z',
    count,
    labelled,
    correct,
    accuracy: labelled ? correct / labelled : null,
  };
}

function run(windows: WindowSummary[], state: DetectorState = initialDetectorState()) {
  const results = [];
  for (const w of windows) {
    const r = detect(w, state);
    state = r.state;
    results.push(r);
  }
  return { results, state };
}

const healthy = (n: number, from = 0) => Array.from({ length: n }, (_, i) => window(from + i, 200, 0.9));

describe('advancePersistence', () => {
  it('confirms after consecutive bad windows and clears only after consecutive good ones', () => {
    const states: string[] = [];
    let p: ReturnType<typeof advancePersistence> | undefined;
    for (const bad of [true, false, true, true, true, false, true, false, false, false]) {
      p = advancePersistence(p, bad);
      states.push(p.state);
    }
    expect(states).toEqual([
      'suspect', // one bad window is a suspicion
      'clear', // and one good window dismisses it
      'suspect',
      'confirmed',
      'confirmed',
      'recovering', // hysteresis: one good window does not clear a confirmed finding
      'confirmed', // and a relapse goes straight back to confirmed
      'recovering',
      'clear',
      'clear',
    ]);
  });
});

describe('detect', () => {
  it('builds a baseline from healthy windows and raises nothing while performance holds', () => {
    const { results, state } = run(healthy(10));
    expect(results.every((r) => r.findings.length === 0)).toBe(true);
    expect(state.baselineWindows).toBe(10);
    expect(state.baselineCorrect / state.baselineLabelled).toBeCloseTo(0.9);
  });

  it('does not judge accuracy before the baseline exists or on too few labels', () => {
    const early = run([window(0, 200, 0.3)]);
    expect(early.results[0]!.findings).toEqual([]);
    const { state } = run(healthy(DETECT_DEFAULTS.minBaselineWindows));
    const sparse = detect(window(9, DETECT_DEFAULTS.minLabelled - 1, 0.2), state);
    expect(sparse.findings).toEqual([]);
    expect(sparse.state.persistence.concept_drift).toBeUndefined();
  });

  it('flags a drop that is both significant and large, and confirms it on the second window', () => {
    const { state } = run(healthy(5));
    const first = detect(window(5, 200, 0.7), state);
    expect(first.findings).toMatchObject([{ kind: 'concept_drift', state: 'suspect', severity: 'critical' }]);
    expect(first.findings[0]!.evidence.z).toBeGreaterThan(DETECT_DEFAULTS.minZ);
    const second = detect(window(6, 200, 0.7), first.state);
    expect(second.findings[0]!.state).toBe('confirmed');
    // The failure never joins the baseline.
    expect(second.state.baselineWindows).toBe(5);
  });

  it('keeps an active finding through a window too small to judge it', () => {
    const { state } = run(healthy(5));
    const confirmed = run([window(5, 200, 0.6), window(6, 200, 0.6)], state);
    const sparse = detect(window(7, 5, 1), confirmed.state);
    expect(sparse.findings).toMatchObject([{ kind: 'concept_drift', state: 'confirmed' }]);
    expect(sparse.state.persistence.concept_drift).toEqual(confirmed.state.persistence.concept_drift);
  });

  it('ignores a drop that is statistically clear but practically trivial', () => {
    const { state } = run(Array.from({ length: 5 }, (_, i) => window(i, 100_000, 0.9)));
    const r = detect(window(5, 100_000, 0.88), state); // z ≈ 15, drop 0.02 < minAccuracyDrop
    expect(r.findings).toEqual([]);
  });

  it('ignores a large drop on a window too small to be significant', () => {
    const { state } = run(healthy(5));
    const r = detect(window(5, 30, 0.8), state); // drop 0.1, z ≈ 1.8
    expect(r.findings).toEqual([]);
  });

  it('reports a window without traffic as suspected stale data', () => {
    const { state } = run(healthy(3));
    const r = detect(window(3, 0, 0, 0), state);
    expect(r.findings).toMatchObject([{ kind: 'stale_data', state: 'suspect' }]);
  });
});
