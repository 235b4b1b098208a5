// baselineFor: the pre-failure level an incident's recovery is verified against, per finding kind, from
// the detector's healthy windows first and the serving version's reference only when none was seen.
import { describe, expect, it } from 'vitest';
import { baselineFor } from '../../lib/brain/baseline.ts';
import { initialDetectorState } from '../../lib/brain/detect.ts';
import type { DetectorState, RunningBaseline, WindowSummary } from '../../lib/brain/types.ts';

/** A running baseline of values with mean `mean` and standard deviation `sd` over `n` windows. */
const running = (n: number, mean: number, sd: number): RunningBaseline => ({
  n,
  mean,
  meanSq: sd * sd + mean * mean,
});

function detector(over: Partial<DetectorState> = {}): DetectorState {
  return { ...initialDetectorState(), ...over };
}

function window(over: Partial<WindowSummary>): WindowSummary {
  return {
    seq: 1,
    startAt: '2026-01-01T00:00:00.000Z',
    endAt: '2026-01-01T00:01:40.000Z',
    count: 500,
    labelled: 450,
    correct: 405,
    accuracy: 0.9,
    reference: 'used',
    task: 'binary',
    ...over,
  };
}

describe('baselineFor', () => {
  it("latency: the healthy windows' p95 mean, its window count and spread", () => {
    const d = detector({ baselines: { latencyP95: running(7, 60, 4) } });
    const b = baselineFor('latency', d, null);
    expect(b).toMatchObject({ metric: 'latencyP95Ms', value: 60, rows: 7 });
    expect(b?.sd).toBeCloseTo(4, 12);
  });

  it('failures: the healthy failure rate, and null before any healthy window', () => {
    const d = detector({ baselines: { failureRate: running(3, 0.01, 0.002) } });
    const b = baselineFor('failures', d, null);
    expect(b).toMatchObject({ metric: 'failureRate', value: 0.01, rows: 3 });
    expect(b?.sd).toBeCloseTo(0.002, 12);
    expect(baselineFor('failures', detector(), null)).toBeNull();
    expect(
      baselineFor('latency', detector({ baselines: { latencyP95: running(0, 60, 4) } }), null),
    ).toBeNull();
  });

  it('a running baseline whose rounding leaves mean² above the mean of squares has spread 0, not NaN', () => {
    const d = detector({ baselines: { latencyP95: { n: 4, mean: 10, meanSq: 99.999999 } } });
    expect(baselineFor('latency', d, null)?.sd).toBe(0);
  });

  it('a detector state recorded before the running baselines existed has none', () => {
    const { baselines: _none, ...old } = detector();
    expect(baselineFor('latency', old, null)).toBeNull();
    expect(baselineFor('concept_drift', old, window({ task: 'regression', referenceRmse: 3 }))).toEqual({
      metric: 'rmse',
      value: 3,
      rows: 0,
    });
  });

  it('stale data has no metric a recovery could show', () => {
    const d = detector({
      baselineLabelled: 1000,
      baselineCorrect: 900,
      baselines: { latencyP95: running(5, 1, 0) },
    });
    expect(baselineFor('stale_data', d, window({}))).toBeNull();
  });

  it("regression: the healthy windows' RMSE, else the reference RMSE (no rows), else nothing", () => {
    const rmse = running(6, 12.5, 1.5);
    const b = baselineFor('concept_drift', detector({ baselines: { rmse } }), window({ task: 'regression' }));
    expect(b).toMatchObject({ metric: 'rmse', value: 12.5, rows: 6 });
    expect(b?.sd).toBeCloseTo(1.5, 12);
    expect(
      baselineFor('concept_drift', detector(), window({ task: 'regression', referenceRmse: 14 })),
    ).toEqual({ metric: 'rmse', value: 14, rows: 0 });
    expect(baselineFor('data_drift', detector(), window({ task: 'regression' }))).toBeNull();
    // A regression model never falls back to an accuracy baseline, even with labelled healthy rows.
    expect(
      baselineFor(
        'concept_drift',
        detector({ baselineLabelled: 100, baselineCorrect: 90 }),
        window({ task: 'regression' }),
      ),
    ).toBeNull();
  });

  it("classifiers: the healthy windows' accuracy over their labelled rows, before the reference", () => {
    const d = detector({ baselineLabelled: 2000, baselineCorrect: 1760 });
    expect(baselineFor('concept_drift', d, window({ referenceAccuracy: 0.95 }))).toEqual({
      metric: 'accuracy',
      value: 0.88,
      rows: 2000,
    });
    // Same for a kind verified on accuracy that is not a performance finding, and without a window.
    expect(baselineFor('data_quality', d, null)).toEqual({ metric: 'accuracy', value: 0.88, rows: 2000 });
  });

  it('classifiers without healthy labelled rows: the reference accuracy (no rows), else nothing', () => {
    expect(baselineFor('concept_drift', detector(), window({ referenceAccuracy: 0.91 }))).toEqual({
      metric: 'accuracy',
      value: 0.91,
      rows: 0,
    });
    expect(baselineFor('concept_drift', detector(), window({}))).toBeNull();
    expect(baselineFor('concept_drift', detector(), null)).toBeNull();
  });
});
