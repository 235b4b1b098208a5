// Detect, rule by rule at its thresholds: each observation's condition just met and just missed, with the
// baselines it is judged against set directly in the state (a running baseline of n ≥ 3 windows is in
// use). DEFAULT_DETECT_SETTINGS: minRows 30, alpha 0.01, minEffect missingRate 0.05, psi 0.2, ks 0.1,
// latencyIncrease 0.5, latencyIncreaseMs 20, failureRate 0.05; DETECT_DEFAULTS: minZ 3, latencySigmas 4,
// burstFactor 1.5, labelStaleShare 0.5, labelDelayFactor 5; staleGapFactor 10. A single bad window is a
// suspect finding (confirmM 2), which detect returns with its evidence.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DETECT_SETTINGS,
  type DetectSettings,
  detect,
  featureDrifted,
  initialDetectorState,
} from '../../lib/brain/detect.ts';
import { findingOf as findingOfKind } from '../../lib/brain/findings/index.ts';
import type {
  DetectorState,
  Finding,
  FindingOf,
  RunningBaseline,
  WindowDrift,
  WindowQuality,
  WindowSummary,
} from '../../lib/brain/types.ts';

/** A baseline of `n` windows with mean `mean` and standard deviation `sd`. */
const baseline = (mean: number, sd = 0, n = 5): RunningBaseline => ({
  n,
  mean,
  meanSq: sd * sd + mean * mean,
});

/** A window of `count` predictions over 100 s with nothing else measured: every rule is off unless set. */
function bare(over: Partial<WindowSummary> = {}): WindowSummary {
  return {
    seq: 7,
    startAt: '2026-01-01T00:00:00.000Z',
    endAt: '2026-01-01T00:01:40.000Z',
    count: 500,
    labelled: 0,
    correct: 0,
    accuracy: null,
    reference: 'none',
    task: 'binary',
    ...over,
  };
}

function stateWith(over: Partial<DetectorState> = {}): DetectorState {
  return { ...initialDetectorState(), trafficSeen: true, ...over };
}

function findingOf<K extends Finding['kind']>(
  kind: K,
  w: WindowSummary,
  state = stateWith(),
  settings: DetectSettings = DEFAULT_DETECT_SETTINGS,
): FindingOf<K> | undefined {
  return findingOfKind(detect(w, state, settings).findings, kind);
}

const quality = (over: Partial<WindowQuality>): WindowQuality => ({
  name: 'income',
  invalidRate: 0,
  mainProblem: null,
  nullRate: 0,
  referenceNullRate: 0,
  nullRateChangePValue: null,
  constant: false,
  ...over,
});

describe('data quality', () => {
  it('invalid values: a rate of at least minEffect.missingRate over at least 5 rows', () => {
    const q = (invalidRate: number, count: number) =>
      findingOf(
        'data_quality',
        bare({ count, quality: [quality({ invalidRate, mainProblem: 'out_of_range' })] }),
      );
    const f = q(0.05, 100);
    expect(f).toMatchObject({ state: 'suspect', severity: 'warning' });
    expect(f?.features).toEqual([
      {
        name: 'income',
        contribution: 1,
        test: 'invalid_values:out_of_range',
        statistic: 5,
        pValue: null,
        effect: 0.05,
      },
    ]);
    expect(f?.evidence).toMatchObject({ features: 1, worst: 'income', worstRate: 0.05, rows: 100 });
    // 4.95 rows: too few to tell from a stray row
    expect(q(0.05, 99)).toBeUndefined();
    // many rows, but under the effect
    expect(q(0.049, 10_000)).toBeUndefined();
  });

  it('null rate: a significant rise (p < alpha) of at least minEffect.missingRate over the reference', () => {
    const q = (nullRate: number, p: number | null, referenceNullRate: number | null = 0.1) =>
      findingOf(
        'data_quality',
        bare({ quality: [quality({ nullRate, referenceNullRate, nullRateChangePValue: p })] }),
      );
    const f = q(0.16, 0.001);
    expect(f?.features?.[0]).toMatchObject({
      test: 'null_rate_two_proportion_z',
      pValue: 0.001,
      statistic: null,
    });
    expect(f?.features?.[0]?.effect).toBeCloseTo(0.06, 12);
    expect(q(0.16, 0.01)).toBeUndefined();
    expect(q(0.14, 0.001)).toBeUndefined();
    expect(q(0.16, null)).toBeUndefined();
    // A fall of the null rate is not a quality problem.
    expect(q(0.02, 0.001)).toBeUndefined();
    // No reference null rate: nothing to measure a shift from.
    expect(q(0.5, 0.001, null)).toBeUndefined();
  });

  it('a constant column is a problem of effect 1; several problems are ranked by contribution', () => {
    const f = findingOf(
      'data_quality',
      bare({
        count: 1000,
        quality: [
          quality({ name: 'age', constant: true }),
          quality({ name: 'income', invalidRate: 0.2, mainProblem: 'type' }),
          quality({ name: 'zip', constant: null }),
        ],
      }),
    );
    expect(f?.severity).toBe('critical');
    expect(f?.features?.map((x) => [x.name, x.test, x.effect])).toEqual([
      ['age', 'constant_column', 1],
      ['income', 'invalid_values:type', 0.2],
    ]);
    // contributions are shares of the total: 1 / 1.2 and 0.2 / 1.2
    expect(f?.features?.[0]?.contribution).toBeCloseTo(1 / 1.2, 12);
    expect(f?.features?.[1]?.contribution).toBeCloseTo(0.2 / 1.2, 12);
    expect(f?.summary).toBe('age (constant_column), income (invalid_values:type)');
    expect(f?.evidence).toMatchObject({ features: 2, worst: 'age', worstRate: 1 });
  });

  it('critical from an effect of 0.5; equal contributions rank by name', () => {
    const f = findingOf(
      'data_quality',
      bare({
        quality: [
          quality({ name: 'b', invalidRate: 0.5, mainProblem: null }),
          quality({ name: 'a', invalidRate: 0.5, mainProblem: null }),
        ],
      }),
    );
    expect(f?.severity).toBe('critical');
    expect(f?.features?.map((x) => [x.name, x.test, x.contribution])).toEqual([
      ['a', 'invalid_values:invalid', 0.5],
      ['b', 'invalid_values:invalid', 0.5],
    ]);
    const mild = findingOf('data_quality', bare({ quality: [quality({ invalidRate: 0.49 })] }));
    expect(mild?.severity).toBe('warning');
  });

  it('does not judge a window under minRows, nor one without quality metrics', () => {
    const broken = [quality({ invalidRate: 0.9 })];
    expect(findingOf('data_quality', bare({ count: 29, quality: broken }))).toBeUndefined();
    expect(findingOf('data_quality', bare({ count: 30, quality: broken }))).toBeDefined();
    // an active finding is carried through a window that cannot judge, and says why
    const active = stateWith({
      persistence: { data_quality: { state: 'confirmed', badStreak: 2, goodStreak: 0, recent: [1, 1] } },
    });
    const carried = findingOf('data_quality', bare({ count: 10, quality: broken }), active);
    expect(carried).toMatchObject({ state: 'confirmed', summary: 'window too small to judge (10 rows)' });
    expect(findingOf('data_quality', bare({}), active)?.summary).toBe('no data-quality metrics');
  });
});

const drift = (over: Partial<WindowDrift>): WindowDrift => ({
  name: 'income',
  test: 'kolmogorov_smirnov',
  statistic: 0.05,
  pValue: 0.001,
  adjustedPValue: 0.001,
  psi: 0.05,
  ...over,
});

describe('batch drift gate (featureDrifted)', () => {
  const gate = (d: Partial<WindowDrift>) => featureDrifted(drift(d), DEFAULT_DETECT_SETTINGS);

  it('needs the adjusted p-value under alpha, and a missing one is no evidence', () => {
    expect(gate({ psi: 0.3, adjustedPValue: 0.0099 })).toBe(true);
    expect(gate({ psi: 0.3, adjustedPValue: 0.01 })).toBe(false);
    expect(gate({ psi: 0.3, adjustedPValue: null, pValue: 1e-9 })).toBe(false);
  });

  it('is practical at PSI ≥ minEffect.psi for any test', () => {
    expect(gate({ psi: 0.2, test: 'chi_square', statistic: 0 })).toBe(true);
    expect(gate({ psi: 0.199, test: 'chi_square', statistic: 1 })).toBe(false);
  });

  it('KS: D at least minEffect.ks less 1.2816 · ½ · √(1/n + 1/m); without sizes, minEffect.ks itself', () => {
    // margin = 1.2816 · 0.5 · √(1/100 + 1/100) = 0.090620...
    const margin = 1.2816 * 0.5 * Math.sqrt(0.02);
    expect(gate({ statistic: 0.1 - margin + 1e-9, currentN: 100, referenceN: 100 })).toBe(true);
    expect(gate({ statistic: 0.1 - margin - 1e-9, currentN: 100, referenceN: 100 })).toBe(false);
    expect(gate({ statistic: 0.1 })).toBe(true);
    expect(gate({ statistic: 0.0999 })).toBe(false);
    expect(gate({ statistic: 0.0999, currentN: 100 })).toBe(false);
    // a chi-square statistic is not a D
    expect(gate({ test: 'chi_square', statistic: 5, currentN: 100, referenceN: 100 })).toBe(false);
  });

  it('a drifted feature with a data-quality problem is that problem, not drift', () => {
    const w = bare({
      reference: 'used',
      featuresJudged: 2,
      drift: [drift({ name: 'income', psi: 0.6 }), drift({ name: 'age', psi: 0.3 })],
      quality: [quality({ name: 'income', invalidRate: 0.3 })],
    });
    const f = findingOf('data_drift', w);
    expect(f?.features?.map((x) => x.name)).toEqual(['age']);
    expect(f).toMatchObject({ severity: 'warning', impact: 'unknown' });
    expect(f?.evidence).toMatchObject({ featuresJudged: 2, featuresDrifted: 1, maxPsi: 0.3 });
    expect(f?.summary).toBe('input drift in age (PSI 0.30) (performance unknown)');
  });

  it('critical from a PSI of 0.5; no reference profile is not judged', () => {
    const w = (reference: WindowSummary['reference'], psi: number) =>
      bare({ reference, drift: [drift({ psi })] });
    expect(findingOf('data_drift', w('used', 0.5))?.severity).toBe('critical');
    expect(findingOf('data_drift', w('used', 0.49))?.severity).toBe('warning');
    expect(findingOf('data_drift', w('none', 0.9))).toBeUndefined();
    expect(findingOf('data_drift', w('incompatible', 0.9))).toBeUndefined();
    expect(
      findingOf('data_drift', bare({ reference: 'used', count: 29, drift: [drift({ psi: 0.9 })] })),
    ).toBeUndefined();
  });
});

describe('latency', () => {
  const state = (sd = 4) => stateWith({ baselines: { latencyP95: baseline(60, sd) } });
  const latency = (p95: number, s = state(), settings = DEFAULT_DETECT_SETTINGS) =>
    findingOf('latency', bare({ latencyP95Ms: p95 }), s, settings);

  it('bad at +50 %, +20 ms and 4 window-to-window sds above the baseline', () => {
    const f = latency(90);
    expect(f).toMatchObject({ state: 'suspect', severity: 'warning' });
    expect(f?.evidence).toMatchObject({ test: 'baseline_z', baselineP95Ms: 60, effect: 0.5 });
    expect(f?.evidence.statistic).toBeCloseTo(7.5, 6);
    expect(f?.summary).toBe('p95 latency 90 ms is 50 % above the baseline 60 ms');
    expect(latency(89.9)).toBeUndefined();
  });

  it('needs the absolute rise too: +50 % of a 30 ms baseline is only 15 ms', () => {
    const s = stateWith({ baselines: { latencyP95: baseline(30, 0) } });
    expect(latency(45, s)).toBeUndefined();
    expect(latency(50, s)?.evidence.effect).toBeCloseTo(2 / 3, 12);
    // Policies recorded before the absolute floor existed have none.
    const { latencyIncreaseMs: _floor, ...legacy } = DEFAULT_DETECT_SETTINGS.detection.minEffect;
    const noFloor = {
      ...DEFAULT_DETECT_SETTINGS,
      detection: { ...DEFAULT_DETECT_SETTINGS.detection, minEffect: legacy },
    } as DetectSettings;
    expect(latency(45, s, noFloor)).toBeDefined();
  });

  it("needs 4 sds of the baseline's spread, the spread at least 5 % of the baseline", () => {
    // sd 10: 90 is 3 sds above
    expect(latency(90, state(10))).toBeUndefined();
    expect(latency(100, state(10))?.evidence.statistic).toBe(4);
    // sd 0 counts as 3 ms (5 % of 60): 90 is 10 sds above
    expect(latency(90, state(0))?.evidence.statistic).toBeCloseTo(10, 12);
  });

  it('critical from three times the baseline (+200 %)', () => {
    expect(latency(180)?.severity).toBe('critical');
    expect(latency(179)?.severity).toBe('warning');
  });

  it('judges only with a baseline of 3 windows, a p95 and minRows predictions', () => {
    expect(latency(200, stateWith({ baselines: { latencyP95: baseline(60, 2, 2) } }))).toBeUndefined();
    expect(latency(200, stateWith({ baselines: { latencyP95: baseline(60, 2, 3) } }))).toBeDefined();
    expect(findingOf('latency', bare({ count: 29, latencyP95Ms: 200 }), state())).toBeUndefined();
    expect(findingOf('latency', bare({ latencyP95Ms: null }), state())).toBeUndefined();
  });
});

describe('failures', () => {
  const failures = (failureRate: number, count = 500, base?: number) =>
    findingOf(
      'failures',
      bare({ count, failureRate }),
      stateWith(base === undefined ? {} : { baselines: { failureRate: baseline(base) } }),
    );

  it('bad at a rise of minEffect.failureRate over the baseline that is significant (z ≥ 3)', () => {
    const f = failures(0.0625, 500, 0.0125);
    // z = (0.0625 − 0.0125) / √(0.0125 · 0.9875 / 500) = 10.06
    expect(f?.evidence.statistic).toBeCloseTo(0.05 / Math.sqrt((0.0125 * 0.9875) / 500), 9);
    expect(f?.evidence).toMatchObject({
      test: 'one_proportion_z',
      baselineFailureRate: 0.0125,
      effect: 0.05,
    });
    expect(f?.summary).toBe('6.3 % of predictions failed or were invalid (baseline 1.3 %)');
    expect(failures(0.062, 500, 0.0125)).toBeUndefined();
  });

  it('without a baseline measures from 0, testing against at least 0.5 %', () => {
    const f = failures(0.05, 40);
    // z = (0.05 − 0.005) / √(0.005 · 0.995 / 40) = 4.03
    expect(f?.evidence.statistic).toBeCloseTo(0.045 / Math.sqrt((0.005 * 0.995) / 40), 9);
    expect(f?.evidence.baselineFailureRate).toBe(0);
    // 30 rows: z = 0.045 / √(0.005 · 0.995 / 30) = 3.49, still significant; but a 0.1 baseline is not
    expect(failures(0.16, 30, 0.1)).toBeUndefined();
  });

  it('critical at the failure-rate floor or a rise of 0.1', () => {
    expect(failures(0.125, 500, 0.025)?.severity).toBe('critical');
    expect(failures(0.12, 500, 0.025)?.severity).toBe('warning');
    // a rise of 0.08 to the floor (0.5) is critical, to just under it is not
    expect(failures(0.5, 500, 0.42)?.severity).toBe('critical');
    expect(failures(0.49, 500, 0.41)?.severity).toBe('warning');
  });

  it('judges only minRows predictions with a failure rate', () => {
    expect(findingOf('failures', bare({ count: 29, failureRate: 0.9 }))).toBeUndefined();
    expect(findingOf('failures', bare({ count: 30, failureRate: 0.9 }))).toBeDefined();
    expect(findingOf('failures', bare({ failureRate: null }))).toBeUndefined();
  });
});

describe('traffic anomaly (burst)', () => {
  const state = (sd = 10) => stateWith({ baselines: { throughput: baseline(300, sd) } });
  const burst = (throughputPerMinute: number, over: Partial<WindowSummary> = {}, s = state()) =>
    findingOf(
      'anomaly',
      bare({ throughputPerMinute, count: Math.round(throughputPerMinute * (100 / 60)), ...over }),
      s,
    );

  it('bad at 1.5× the usual rate when significant and 4 sds above the baseline', () => {
    const f = burst(450);
    // confirmM 1: a burst is confirmed at once
    expect(f).toMatchObject({
      state: 'confirmed',
      severity: 'warning',
      summary: 'traffic burst: 1.5× the usual rate',
    });
    // 750 rows where 500 were expected: the normal z of P(X ≥ 750), X Poisson of mean 500 (scipy 10.3893)
    expect(f?.evidence).toMatchObject({ test: 'poisson_z', baselineThroughputPerMinute: 300, effect: 0.5 });
    expect(f?.evidence.statistic).toBeCloseTo(10.389258965836056, 8);
    expect(burst(449)).toBeUndefined();
  });

  it('needs 4 sds of the rate: a baseline that varies by 40 per minute does not flag 450', () => {
    expect(burst(450, {}, state(40))).toBeUndefined();
    expect(burst(460, {}, state(40))).toBeDefined();
  });

  it('judges only 30 s windows of minRows rows with a positive baseline', () => {
    expect(burst(600, { endAt: '2026-01-01T00:00:29.000Z' })).toBeUndefined();
    expect(burst(600, { endAt: '2026-01-01T00:00:30.000Z' })).toBeDefined();
    expect(burst(600, { count: 29 })).toBeUndefined();
    expect(burst(600, {}, stateWith({ baselines: { throughput: baseline(0) } }))).toBeUndefined();
  });

  it('input drift that moves with a burst is the burst, not a population shift', () => {
    const w = {
      reference: 'used' as const,
      drift: [drift({ psi: 0.6 })],
    };
    const r = detect(bare({ throughputPerMinute: 600, count: 1000, ...w }), state());
    expect(r.findings.map((f) => f.kind)).toEqual(['anomaly']);
    const calm = detect(bare({ throughputPerMinute: 300, ...w }), state());
    expect(calm.findings.map((f) => f.kind)).toEqual(['data_drift']);
  });
});

describe('stale data', () => {
  it('no predictions in a window is stale once traffic has been seen, not before', () => {
    expect(findingOf('stale_data', bare({ count: 0 }))).toMatchObject({
      state: 'suspect',
      summary: 'no predictions arrived in the window',
    });
    expect(findingOf('stale_data', bare({ count: 0 }), initialDetectorState())).toBeUndefined();
    const r = detect(bare({ count: 0 }), initialDetectorState());
    expect(r.state.trafficSeen).toBeUndefined();
    expect(detect(bare({ count: 1 }), initialDetectorState()).state.trafficSeen).toBe(true);
  });

  it("a gap of staleGapFactor × the reference's usual time between arrivals", () => {
    const gap = (gapRatio: number, longestGapRatio: number, source: WindowSummary['usualArrivalSource']) =>
      findingOf('stale_data', bare({ gapRatio, longestGapRatio, usualArrivalSource: source }));
    expect(gap(10, 1, 'reference')).toMatchObject({
      summary: 'traffic stopped: a gap of 10× the usual time between arrivals',
      evidence: { test: 'gap_ratio', gapRatio: 10, longestGapRatio: 1 },
    });
    expect(gap(1, 12, 'reference')?.summary).toBe(
      'traffic stopped: a gap of 12× the usual time between arrivals',
    );
    expect(gap(9.9, 9.9, 'reference')).toBeUndefined();
    // The window's own arrival rate says little about batched logging.
    expect(gap(50, 50, 'window')).toBeUndefined();
  });

  it('labels stop coming back: under half the usual share per prediction, significantly', () => {
    const s = stateWith({ baselines: { labelShare: baseline(0.8) } });
    const labels = (labelled: number, over: Partial<WindowSummary> = {}) =>
      findingOf('stale_data', bare({ labelled, ...over }), s);
    const f = labels(150);
    // share 0.3 against 0.8: z = 0.5 / √(0.8 · 0.2 / 500)
    expect(f?.evidence).toMatchObject({
      test: 'label_arrival_share_z',
      labelShare: 0.3,
      baselineLabelShare: 0.8,
    });
    expect(f?.evidence.statistic).toBeCloseTo(0.5 / Math.sqrt(0.16 / 500), 9);
    expect(f?.summary).toBe('labels are not coming back: 30 % of the usual 80 % per prediction');
    expect(labels(200)).toBeUndefined();
    expect(labels(199)).toBeDefined();
    // Labels for other versions' answers arrive too.
    expect(labels(100, { labelledElsewhere: 100 })).toBeUndefined();
    // Too few predictions to tell a share.
    expect(findingOf('stale_data', bare({ labelled: 0, count: 29 }), s)).toBeUndefined();
  });

  it('labels come back late: p95 delay at 5× the baseline (a baseline under 1 s counts as 1 s)', () => {
    const late = (delay: number, base: number) =>
      findingOf(
        'stale_data',
        bare({ labelled: 400, labelDelayP95Seconds: delay }),
        stateWith({ baselines: { labelShare: baseline(0.8), labelDelayP95: baseline(base) } }),
      );
    expect(late(750, 150)).toMatchObject({
      summary: 'labels come back late: p95 delay 750 s against 150 s',
      evidence: { test: 'label_delay_ratio', labelDelayP95Seconds: 750, baselineLabelDelayP95Seconds: 150 },
    });
    expect(late(749, 150)).toBeUndefined();
    expect(late(5, 0.2)).toBeDefined();
    expect(late(4.9, 0.2)).toBeUndefined();
  });
});

describe('what the baselines learn', () => {
  it('a running baseline is the mean of its windows, exponentially weighted after 20', () => {
    let state = stateWith();
    for (const [i, p95] of [50, 60, 70].entries())
      state = detect(bare({ seq: i, latencyP95Ms: p95 }), state).state;
    expect(state.baselines?.latencyP95?.n).toBe(3);
    expect(state.baselines?.latencyP95?.mean).toBeCloseTo(60, 12);
    expect(state.baselines?.latencyP95?.meanSq).toBeCloseTo((2500 + 3600 + 4900) / 3, 9);
    const capped = stateWith({ baselines: { latencyP95: baseline(60, 0, 20) } });
    const next = detect(bare({ latencyP95Ms: 80 }), capped).state.baselines?.latencyP95;
    expect(next?.n).toBe(20);
    expect(next?.mean).toBeCloseTo(61, 12);
  });

  it('learns nothing from a missing or non-finite value, nor from a window under minRows', () => {
    const state = stateWith({ baselines: { latencyP95: baseline(60, 0, 4) } });
    expect(detect(bare({ latencyP95Ms: null }), state).state.baselines?.latencyP95).toEqual(
      baseline(60, 0, 4),
    );
    expect(detect(bare({ latencyP95Ms: Number.NaN }), state).state.baselines?.latencyP95).toEqual(
      baseline(60, 0, 4),
    );
    expect(detect(bare({ count: 29, latencyP95Ms: 61 }), state).state.baselines?.latencyP95).toEqual(
      baseline(60, 0, 4),
    );
  });

  it('a window bad for a metric does not enter that metric’s baseline, but enters the others', () => {
    const state = stateWith({
      baselines: { latencyP95: baseline(60, 2), failureRate: baseline(0.01) },
    });
    const r = detect(bare({ latencyP95Ms: 200, failureRate: 0.01 }), state);
    expect(r.findings.map((f) => f.kind)).toEqual(['latency']);
    expect(r.state.baselines?.latencyP95).toEqual(state.baselines?.latencyP95);
    expect(r.state.baselines?.failureRate?.n).toBe(6);
    const failing = detect(bare({ latencyP95Ms: 60, failureRate: 0.3 }), state);
    expect(failing.state.baselines?.failureRate).toEqual(state.baselines?.failureRate);
    expect(failing.state.baselines?.latencyP95?.n).toBe(6);
  });

  it('throughput learns from rate-judged windows without a burst or stale data; label share from classifiers', () => {
    const r = detect(
      bare({ throughputPerMinute: 300, labelled: 400, labelDelayP95Seconds: 90 }),
      stateWith(),
    );
    expect(r.state.baselines?.throughput).toEqual({ n: 1, mean: 300, meanSq: 90_000 });
    expect(r.state.baselines?.labelShare).toMatchObject({ n: 1, mean: 0.8 });
    expect(r.state.baselines?.labelDelayP95).toEqual({ n: 1, mean: 90, meanSq: 8100 });
    const short = detect(bare({ throughputPerMinute: 300, endAt: '2026-01-01T00:00:10.000Z' }), stateWith());
    expect(short.state.baselines?.throughput).toBeUndefined();
    const untyped = detect(bare({ task: undefined, labelled: 400 }), stateWith());
    expect(untyped.state.baselines?.labelShare).toBeUndefined();
    const stale = detect(
      bare({
        throughputPerMinute: 300,
        gapRatio: 20,
        usualArrivalSource: 'reference',
        labelDelayP95Seconds: 9,
      }),
      stateWith(),
    );
    expect(stale.state.baselines?.throughput).toBeUndefined();
    expect(stale.state.baselines?.labelDelayP95).toBeUndefined();
  });

  it('the estimated accuracy learns only from healthy windows whose estimate is trustworthy', () => {
    const estimate = (over: Partial<WindowSummary>) =>
      detect(bare({ estimatedAccuracy: 0.9, ...over }), stateWith()).state.baselines?.estimatedAccuracy;
    expect(estimate({ estimateTrustworthy: true })).toEqual({ n: 1, mean: 0.9, meanSq: 0.81 });
    expect(estimate({ estimateTrustworthy: false })).toBeUndefined();
    expect(estimate({ estimateTrustworthy: true, failureRate: 0.5 })).toBeUndefined();
  });
});
