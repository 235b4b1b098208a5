// The concept_drift rule as a unit (lib/brain/findings/concept-drift.ts): one window observed at a time,
// with the evidence, summary and severity each branch writes, and the baselines it learns. The detection
// tests (detect.test.ts) run it over streams; these pin down its branches and edges one by one.
import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECT_SETTINGS, initialDetectorState } from '../../lib/brain/detect.ts';
import { conceptDrift, learnAccuracy, learnRmse } from '../../lib/brain/findings/concept-drift.ts';
import type { DetectSettings } from '../../lib/brain/findings/rule.ts';
import type { DetectorState, FindingOf, RunningBaseline, WindowSummary } from '../../lib/brain/types.ts';
import { DEFAULT_POLICY } from '../../lib/policy/policy.ts';
import { normalQuantile, studentTSf } from '../../lib/stats/distributions.ts';
import { healthyWindow } from '../helpers/brain.ts';

const observe = (
  window: WindowSummary,
  state: DetectorState = initialDetectorState(),
  settings: DetectSettings = DEFAULT_DETECT_SETTINGS,
) => conceptDrift.observe({ window, state, settings, brokenFeatures: new Set() });

/** Settings whose minimum accuracy drop is exact in binary (0.25), for the edges of `drop ≥ minEffect`. */
const QUARTER_DROP: DetectSettings = {
  ...DEFAULT_DETECT_SETTINGS,
  detection: {
    ...DEFAULT_DETECT_SETTINGS.detection,
    minEffect: { ...DEFAULT_DETECT_SETTINGS.detection.minEffect, accuracyDrop: 0.25 },
  },
};

/** A window without labels yet: judged, if at all, by its confidence-based estimate. */
const unlabelled = (over: Partial<WindowSummary> = {}) =>
  healthyWindow(1, { labelled: 0, correct: 0, accuracy: null, positivesRows: 0, ...over });

describe('concept_drift while labels lag (the confidence-based estimate)', () => {
  it('judges the estimate against the reference confidence: z of the drop on √(b(1 − b)/count)', () => {
    const o = observe(unlabelled({ estimatedAccuracy: 0.8, count: 500 }));
    const z = (0.9 - 0.8) / Math.sqrt((0.9 * (1 - 0.9)) / 500);
    expect(o).toEqual({
      kind: 'concept_drift',
      judged: true,
      bad: true,
      summary: 'estimated accuracy 0.800 (labels lag) is 0.100 below 0.900',
      evidence: {
        window: 1,
        labelled: 0,
        basis: 'estimate',
        test: 'cbpe_z',
        estimatedAccuracy: 0.8,
        baselineAccuracy: 0.9,
        drop: 0.9 - 0.8,
        z,
      },
      severity: 'warning',
      carry: { errorCusum: undefined },
    });
  });

  it('prefers the baseline of estimates from healthy windows, and floors the variance at 1e-6', () => {
    const baselines = { estimatedAccuracy: { n: 3, mean: 1, meanSq: 1 } };
    const o = observe(unlabelled({ estimatedAccuracy: 0.99, count: 400 }), {
      ...initialDetectorState(),
      baselines,
    });
    expect(o.evidence.baselineAccuracy).toBe(1);
    expect(o.evidence.z).toBeCloseTo((1 - 0.99) / Math.sqrt(1e-6 / 400), 9);
  });

  it('needs the minimum drop (reached exactly is enough) and minZ', () => {
    const at = observe(
      unlabelled({ estimatedAccuracy: 0.5, referenceMeanConfidence: 0.75 }),
      undefined,
      QUARTER_DROP,
    );
    expect(at).toMatchObject({ judged: true, bad: true });
    const below = observe(
      unlabelled({ estimatedAccuracy: 0.51, referenceMeanConfidence: 0.75 }),
      undefined,
      QUARTER_DROP,
    );
    expect(below).toMatchObject({
      judged: true,
      bad: false,
      summary: 'estimated accuracy within the baseline',
    });
    // A drop of the minimum on 40 rows: z = 0.25 / √(0.1875 / 40) ≈ 3.65 passes; on 20 rows ≈ 2.58 does not.
    const few = (count: number) =>
      observe(
        unlabelled({ estimatedAccuracy: 0.5, referenceMeanConfidence: 0.75, count }),
        undefined,
        QUARTER_DROP,
      );
    expect(few(40).bad).toBe(true);
    expect(few(20).judged).toBe(false);
  });

  it('judges from window.minRows predictions, and only a trustworthy estimate', () => {
    expect(observe(unlabelled({ estimatedAccuracy: 0.8, count: 30 })).judged).toBe(true);
    expect(observe(unlabelled({ estimatedAccuracy: 0.8, count: 29 })).judged).toBe(false);
    expect(observe(unlabelled({ estimatedAccuracy: 0.8, estimateTrustworthy: false })).judged).toBe(false);
    expect(observe(unlabelled({ estimatedAccuracy: undefined })).judged).toBe(false);
    expect(observe(unlabelled({ estimatedAccuracy: 0.8, referenceMeanConfidence: undefined })).judged).toBe(
      false,
    );
  });

  it('without labels or a trustworthy estimate, says so and keeps the error CUSUM', () => {
    const errorCusum = {
      s: [1, 2, 3],
      rows: [10, 10, 10],
      ones: [2, 2, 2],
    } as unknown as DetectorState['errorCusum'];
    const o = observe(unlabelled({ estimateTrustworthy: false }), { ...initialDetectorState(), errorCusum });
    expect(o).toEqual({
      kind: 'concept_drift',
      judged: false,
      bad: false,
      summary: 'not enough labelled data to judge accuracy',
      evidence: { window: 1, labelled: 0, accuracy: null, baselineAccuracy: 0.9, baselineWindows: 0 },
      severity: 'warning',
      carry: { errorCusum },
    });
  });
});

describe('concept_drift on realised accuracy', () => {
  it('tests against the reference accuracy as a known rate (one-proportion z) before a production baseline', () => {
    const o = observe(healthyWindow(2, { accuracy: 0.8, labelled: 400, correct: 320 }));
    const z = (0.9 - 0.8) / Math.sqrt((0.9 * 0.1) / 400);
    expect(o).toMatchObject({
      judged: true,
      bad: true,
      summary: 'accuracy 0.800 is 0.100 below the baseline 0.900',
      severity: 'warning',
      evidence: { basis: 'realised', test: 'one_proportion_z', baselineSource: 'reference', drop: 0.9 - 0.8 },
    });
    expect(o.evidence.z).toBeCloseTo(z, 12);
  });

  it('floors the known rate’s variance at 1e-6 (a reference accuracy of 1)', () => {
    const o = observe(
      healthyWindow(2, { accuracy: 0.99, labelled: 400, correct: 396, referenceAccuracy: 1 }),
    );
    expect(o.evidence.z).toBeCloseTo(0.01 / Math.sqrt(1e-6 / 400), 6);
  });

  it('switches to the production baseline at minBaselineWindows (3) windows with labelled rows', () => {
    const production = (baselineWindows: number, baselineLabelled = 1200) => ({
      ...initialDetectorState(),
      baselineWindows,
      baselineLabelled,
      baselineCorrect: Math.round(baselineLabelled * 0.95),
    });
    const window = healthyWindow(2, { accuracy: 0.8, labelled: 400, correct: 320 });
    expect(observe(window, production(3)).evidence).toMatchObject({
      test: 'two_proportion_z',
      baselineSource: 'production',
      baselineAccuracy: 0.95,
    });
    expect(observe(window, production(2)).evidence).toMatchObject({
      test: 'one_proportion_z',
      baselineSource: 'reference',
      baselineAccuracy: 0.9,
    });
    expect(observe(window, production(3, 0)).evidence).toMatchObject({ baselineSource: 'reference' });
  });

  it('judges from window.minRows labelled rows', () => {
    expect(observe(healthyWindow(2, { labelled: 30, positivesRows: 0 })).judged).toBe(true);
    expect(
      observe(healthyWindow(2, { labelled: 29, positivesRows: 0, estimateTrustworthy: false })).judged,
    ).toBe(false);
  });

  it('needs the minimum drop, reached exactly, and shows the window bad from half of it', () => {
    const window = (accuracy: number) =>
      healthyWindow(2, { accuracy, referenceAccuracy: 0.75, labelled: 400, correct: accuracy * 400 });
    expect(observe(window(0.5), undefined, QUARTER_DROP)).toMatchObject({ bad: true, shown: true });
    expect(observe(window(0.625), undefined, QUARTER_DROP)).toMatchObject({
      bad: false,
      shown: true,
      summary: 'accuracy within the baseline',
    });
    expect(observe(window(0.6875), undefined, QUARTER_DROP)).toMatchObject({ bad: false, shown: false });
  });

  it('is critical from a drop of 0.15, or below the accuracy floor', () => {
    const severity = (accuracy: number, referenceAccuracy = 0.9, settings = DEFAULT_DETECT_SETTINGS) =>
      observe(
        healthyWindow(2, { accuracy, referenceAccuracy, labelled: 400, correct: Math.round(accuracy * 400) }),
        undefined,
        settings,
      ).severity;
    expect(severity(0.75, 0.9)).toBe('critical');
    expect(severity(0.8, 0.9)).toBe('warning');
    expect(severity(0.49, 0.55)).toBe('critical');
    expect(severity(0.5, 0.55)).toBe('warning');
    // 0.37 − 0.22 is 0.15 exactly in binary (0.9 − 0.75 is not); the floor out of the way at 0.1.
    const lowFloor = {
      ...DEFAULT_DETECT_SETTINGS,
      floors: { ...DEFAULT_DETECT_SETTINGS.floors, accuracy: 0.1 },
    };
    expect(severity(0.22, 0.37, lowFloor)).toBe('critical');
    expect(severity(0.23, 0.37, lowFloor)).toBe('warning');
  });
});

describe('calibration in the large', () => {
  const calibration = (positives: number, previous?: DetectorState['calibrationCusum']) =>
    observe(
      healthyWindow(3, { positives, expectedPositives: 100, positivesVariance: 70, positivesRows: 450 }),
      {
        ...initialDetectorState(),
        ...(previous ? { calibrationCusum: previous } : {}),
      },
    );

  it('reads z of the positives against Σ p, and a CUSUM side past h with a bound past the minimum is a shift', () => {
    const o = calibration(150);
    const z = 50 / Math.sqrt(70);
    const bound = (50 - normalQuantile(0.99) * Math.sqrt(70)) / 100;
    expect(o).toMatchObject({
      judged: true,
      bad: true,
      shown: true,
      confirmNow: true,
      summary: '150 positives where the model expected 100 (+50 %) over the last 450 labelled rows',
    });
    expect(o.evidence).toMatchObject({
      calibrationTest: 'calibration_in_the_large_cusum',
      positives: 150,
      expectedPositives: 100,
      calibrationEffect: 0.5,
      calibrationMinEffect: 0.12,
    });
    expect(o.evidence.calibrationZ).toBeCloseTo(z, 12);
    expect(o.evidence.calibrationCusum).toBeCloseTo(z - 0.5, 12);
    expect(o.evidence.calibrationEffectBound).toBeCloseTo(bound, 12);
    expect(o.carry?.calibrationCusum).toEqual({
      up: { statistic: z - 0.5, observed: 150, expected: 100, rows: 450, variance: 70 },
      down: { statistic: 0, observed: 0, expected: 0, rows: 0 },
    });
  });

  it('reads the lower side on too few positives, and says by how much', () => {
    const o = calibration(50);
    expect(o).toMatchObject({
      bad: true,
      shown: true,
      summary: '50 positives where the model expected 100 (-50 %) over the last 450 labelled rows',
    });
    expect(o.carry?.calibrationCusum?.down).toMatchObject({ observed: 50, expected: 100, rows: 450 });
    expect(o.carry?.calibrationCusum?.up.statistic).toBe(0);
  });

  it('adds a window to a side that is running, and a window that does not push it on is not shown', () => {
    const z = 50 / Math.sqrt(70);
    const previous = {
      up: { statistic: z - 0.5, observed: 150, expected: 100, rows: 450, variance: 70 },
      down: { statistic: 0, observed: 0, expected: 0, rows: 0 },
    };
    const o = calibration(100, previous);
    expect(o.carry?.calibrationCusum?.up).toEqual({
      statistic: z - 1,
      observed: 250,
      expected: 200,
      rows: 900,
      variance: 140,
    });
    expect(o).toMatchObject({ bad: false, shown: false, evidence: { calibrationEffect: 0.25 } });
    expect(o.summary).toBe('accuracy within the baseline');
  });

  it('reads nothing without positives, expected positives, their variance, or minRows rows of them', () => {
    for (const over of [
      { positives: undefined },
      { expectedPositives: undefined },
      { positivesVariance: 0 },
      { positivesRows: 29 },
    ]) {
      const o = observe(healthyWindow(3, { positives: 150, ...over }));
      expect(o.evidence.calibrationTest).toBeUndefined();
      expect(o.bad).toBe(false);
    }
    expect(observe(healthyWindow(3, { positives: 150, positivesRows: 30 })).evidence.calibrationTest).toBe(
      'calibration_in_the_large_cusum',
    );
  });
});

describe('the per-row error stream', () => {
  const production = (baselineLabelled: number): DetectorState => ({
    ...initialDetectorState(),
    baselineWindows: 5,
    baselineLabelled,
    baselineCorrect: Math.round(baselineLabelled * 0.9),
  });

  it('runs once the production baseline has errorCusumMinBaselineRows (2000) rows, p0 one standard error above it', () => {
    const o = observe(healthyWindow(4), production(2000));
    expect(o.evidence).toMatchObject({
      errorTest: 'bernoulli_cusum',
      errorCusumShift: 0.05,
      errorRows: 450,
      errorChangeRow: null,
    });
    expect(o.evidence.baselineErrorRate).toBeCloseTo(0.1 + Math.sqrt((0.1 * 0.9) / 2000), 12);
    expect(observe(healthyWindow(4, { errorRuns: [] }), production(2000)).evidence.errorRows).toBe(450);
    expect(observe(healthyWindow(4), production(1999)).evidence.errorTest).toBeUndefined();
    // A window without labelled rows leaves the charts as they were (here: none yet).
    expect(observe(healthyWindow(4, { labelled: 0, positivesRows: 0 }), production(2000)).carry).toEqual({
      errorCusum: undefined,
    });
    expect(
      observe(healthyWindow(4, { labelled: 0, positivesRows: 0 }), production(2000)).evidence.errorTest,
    ).toBe(undefined);
  });

  it('counts a window of accuracy 0 by its labelled rows, all of them errors', () => {
    const o = observe(healthyWindow(4, { accuracy: 0, correct: 0, labelled: 200 }), production(4000));
    expect(o.evidence).toMatchObject({ errorRows: 200, errorRateSince: 1, errorRowsSince: 200 });
    expect(o.evidence.errorChangeRow).toBeGreaterThan(0);
    expect(o.summary).toBe('accuracy 0.000 is 0.900 below the baseline 0.900');
  });

  it('reads the window’s run lengths when it has them: the row where a chart crossed', () => {
    // 100 correct, then 40 wrong: the charts cross inside the run of errors.
    const w = healthyWindow(4, { accuracy: 100 / 140, labelled: 140, correct: 100, errorRuns: [100, 40] });
    const o = observe(w, production(4000));
    expect(o.evidence.errorRows).toBe(140);
    expect(o.evidence.errorChangeRow).toBeGreaterThan(100);
    expect(o.evidence.errorChangeRow).toBeLessThanOrEqual(140);
    expect(o).toMatchObject({ bad: true, confirmNow: true });
  });
});

describe('concept_drift of a regressor (RMSE against healthy windows)', () => {
  const rmseBaseline = (mean: number, sd: number, n = 10): RunningBaseline => ({
    n,
    mean,
    meanSq: sd * sd + mean * mean,
  });
  const regression = (rmse: number | null, over: Partial<WindowSummary> = {}) =>
    healthyWindow(5, { task: 'regression', accuracy: null, rmse, referenceRmse: 1.1, ...over });
  const withBaseline = (b: RunningBaseline | undefined): DetectorState => ({
    ...initialDetectorState(),
    baselines: b ? { rmse: b } : {},
  });

  it('is not judged without an RMSE, a baseline of minBaselineWindows windows, a positive one, or minRows rows', () => {
    const notJudged = {
      kind: 'concept_drift',
      judged: false,
      bad: false,
      summary: 'not enough labelled data (or healthy windows) to judge error',
      evidence: { window: 5, labelled: 450, referenceRmse: 1.1 },
      severity: 'warning',
      carry: {},
    };
    expect(observe(regression(null), withBaseline(rmseBaseline(1, 0.1)))).toEqual(notJudged);
    expect(observe(regression(2), withBaseline(undefined))).toEqual(notJudged);
    expect(observe(regression(2), withBaseline(rmseBaseline(1, 0.1, 2)))).toEqual(notJudged);
    expect(observe(regression(2), withBaseline(rmseBaseline(0, 0)))).toEqual(notJudged);
    expect(observe(regression(2, { labelled: 29 }), withBaseline(rmseBaseline(1, 0.1))).judged).toBe(false);
    expect(observe(regression(2, { labelled: 30 }), withBaseline(rmseBaseline(1, 0.1))).judged).toBe(true);
    expect(observe(regression(null, { referenceRmse: undefined }), withBaseline(undefined)).evidence).toEqual(
      {
        window: 5,
        labelled: 450,
        referenceRmse: null,
      },
    );
  });

  it('flags a window far above the spread of healthy windows, critical from twice the minimum rise', () => {
    // sd at its floor (0.15 of the mean), so t is read as z: (1.5 − 1) / (0.15 · √1.1) ≈ 3.18 < 4 sds.
    const state = withBaseline(rmseBaseline(1, 0.01));
    const t = (rmse: number) => (rmse - 1) / (0.15 * Math.sqrt(1 + 1 / 10));
    const mild = observe(regression(1.5), state);
    expect(mild).toMatchObject({ judged: true, bad: false, summary: 'error within the baseline' });
    expect(mild.evidence).toMatchObject({
      test: 'baseline_z',
      rmseTest: 'rmse_z_cusum',
      rmse: 1.5,
      baselineRmse: 1,
    });
    expect(mild.evidence.statistic).toBeCloseTo(t(1.5), 12);
    expect(mild.evidence.effect).toBeCloseTo(0.5, 12);
    const high = observe(regression(1.8), state);
    expect(high).toMatchObject({
      bad: true,
      severity: 'critical',
      summary: 'RMSE 1.800 is 80 % above the baseline 1.000',
    });
    // With a minimum rise of 0.5, a rise of 0.8 (z ≈ 5.1) is a warning and one of exactly 1 critical.
    const halfRise: DetectSettings = {
      ...DEFAULT_DETECT_SETTINGS,
      detection: {
        ...DEFAULT_DETECT_SETTINGS.detection,
        minEffect: { ...DEFAULT_DETECT_SETTINGS.detection.minEffect, errorIncrease: 0.5 },
      },
    };
    expect(observe(regression(1.8), state, halfRise)).toMatchObject({ bad: true, severity: 'warning' });
    expect(observe(regression(2), state, halfRise)).toMatchObject({ bad: true, severity: 'critical' });
  });

  it("reads a baseline's own spread by Student's t with n − 1 degrees of freedom, as the normal z of its p-value", () => {
    // sd 0.5, above the floor: t = 1.5 / (0.5 · √1.25) on 3 degrees of freedom, read as a normal z.
    const o = observe(regression(2.5), withBaseline(rmseBaseline(1, 0.5, 4)));
    const t = 1.5 / (0.5 * Math.sqrt(1 + 1 / 4));
    expect(o.evidence.statistic).toBeCloseTo(-normalQuantile(studentTSf(t, 3)), 9);
  });
});

describe('what the rule learns', () => {
  it('lets healthy windows join the accuracy baseline at once until it has 3 windows, even past 2000 rows', () => {
    const state = {
      ...initialDetectorState(),
      baselineWindows: 2,
      baselineLabelled: 5000,
      baselineCorrect: 4500,
    };
    expect(learnAccuracy(state, { labelled: 400, correct: 360 }, false)).toEqual({
      baselineLabelled: 5400,
      baselineCorrect: 4860,
      baselineWindows: 3,
      pendingBaseline: [],
    });
  });

  it('keeps the RMSE baseline as it was after a failing window, and drops the windows waiting', () => {
    const baseline = { n: 5, mean: 1, meanSq: 1.01 };
    expect(learnRmse(baseline, [1.1, 0.9], 3, 'failing', false)).toEqual({
      rmse: baseline,
      pendingRmse: undefined,
    });
  });

  it('holds a suspect window back like one under a running CUSUM, and caps it at 3 sds of the baseline', () => {
    const baseline = { n: 5, mean: 1, meanSq: 1.01 };
    expect(learnRmse(baseline, undefined, 5, 'suspect', false)).toEqual({
      rmse: baseline,
      pendingRmse: [1 + 3 * 0.15],
    });
    // Without a baseline of minBaselineWindows windows a window joins as it is, uncapped.
    expect(learnRmse(undefined, undefined, 5, 'healthy', false)).toEqual({
      rmse: { n: 1, mean: 5, meanSq: 25 },
      pendingRmse: undefined,
    });
  });
});

describe('margins and collapse', () => {
  const finding = (evidence: Partial<FindingOf<'concept_drift'>['evidence']>) =>
    ({
      kind: 'concept_drift',
      evidence: { window: 1, labelled: 400, ...evidence },
    }) as FindingOf<'concept_drift'>;

  it('weighs the error chart by its level alone when the rise of the error rate is unknown', () => {
    const margins = conceptDrift.margins(
      finding({ drop: 0.1, z: 6, errorTest: 'bernoulli_cusum', errorCusumLevel: 1.4, errorRateSince: 0.01 }),
      DEFAULT_POLICY,
    );
    expect(margins[3]).toBe(1.4);
  });

  it('has no collapse without a realised accuracy', () => {
    expect(
      conceptDrift.collapse!(
        finding({ test: 'one_proportion_z', basis: 'realised', accuracy: null }),
        DEFAULT_POLICY,
      ),
    ).toBeNull();
    expect(
      conceptDrift.collapse!(
        finding({ test: 'one_proportion_z', basis: 'realised', accuracy: 0.4 }),
        DEFAULT_POLICY,
      ),
    ).toBe('accuracy 0.400 is below the floor 0.5');
  });
});
