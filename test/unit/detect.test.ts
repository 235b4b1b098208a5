// Detect, table-driven: each case is a run of windows (healthy ones first, to build baselines) and the
// findings expected on the last; plus persistence (M of N, hysteresis), the policy seam, small windows
// and windows recorded before the full monitor (old histories).
import { describe, expect, it } from 'vitest';
import {
  advancePersistence,
  afterModelChange,
  afterProductionChange,
  DEFAULT_DETECT_SETTINGS,
  DETECT_DEFAULTS,
  type DetectSettings,
  detect,
  detectSettings,
  featureDrifted,
  initialDetectorState,
} from '../../lib/brain/detect.ts';
import { findingOf } from '../../lib/brain/findings/index.ts';
import type { DetectorState, Finding, WindowDrift, WindowSummary } from '../../lib/brain/types.ts';
import { DEFAULT_POLICY, policySchema } from '../../lib/policy/policy.ts';
import { Random } from '../../lib/sim/random.ts';
import { binomialBound } from '../helpers/bounds.ts';
import { stableDrift, healthyWindow as win } from '../helpers/brain.ts';

function run(
  windows: WindowSummary[],
  state: DetectorState = initialDetectorState(),
  settings: DetectSettings = DEFAULT_DETECT_SETTINGS,
) {
  const results: { findings: Finding[]; state: DetectorState }[] = [];
  for (const w of windows) {
    const r = detect(w, state, settings);
    state = r.state;
    results.push(r);
  }
  return { results, state, last: results.at(-1)! };
}

const healthy = (n: number) => Array.from({ length: n }, (_, i) => win(i));
const drifted = (name: string, psi: number, adjustedPValue = 1e-8): WindowDrift[] =>
  stableDrift().map((d) =>
    d.name === name ? { ...d, statistic: 0.3, pValue: adjustedPValue / 4, adjustedPValue, psi } : d,
  );
const kinds = (findings: Finding[], state?: Finding['state']) =>
  findings.filter((f) => state === undefined || f.state === state).map((f) => f.kind);

describe('policy seam', () => {
  it('defaults to DEFAULT_POLICY values, and reads a model policy passed as the third argument', () => {
    expect(detectSettings(DEFAULT_POLICY)).toEqual(DEFAULT_DETECT_SETTINGS);
    const strict = policySchema.parse({
      window: { minRows: 600 },
      detection: { minEffect: { accuracyDrop: 0.5 } },
    });
    // Accuracy drops by 0.15: a finding under the defaults, far below this policy's minimum effect (for
    // the window test and the error CUSUM, whose charts it scales); and with minRows 600 the 500-row
    // windows judge nothing.
    const windows = [...healthy(5), win(5, { accuracy: 0.75 }), win(6, { accuracy: 0.75 })];
    expect(kinds(run(windows).last.findings, 'confirmed')).toEqual(['concept_drift']);
    const lax = detectSettings({ ...strict, window: DEFAULT_POLICY.window });
    expect(run(windows, initialDetectorState(), lax).last.findings).toEqual([]);
    const small = run(windows, initialDetectorState(), detectSettings(strict)).results;
    expect(small.map((r) => kinds(r.findings))).toEqual(windows.map(() => []));
  });
});

/**
 * Windows of `size` labelled rows whose per-row errors come from one 0/1 error stream: rate p0, and p1
 * from row `change` on, carried as the monitor carries them (run-length, correct first).
 */
function errorWindows(
  windows: number,
  p0: number,
  p1: number,
  change: number,
  { size = 250, seed = 1, runs = true } = {},
): WindowSummary[] {
  const random = new Random(seed);
  return Array.from({ length: windows }, (_, seq) => {
    const errorRuns = [0];
    let wrong = 0;
    for (let i = seq * size; i < (seq + 1) * size; i++) {
      const x = random.bernoulli(i < change ? p0 : p1) ? 1 : 0;
      wrong += x;
      if ((errorRuns.length - 1) % 2 !== x) errorRuns.push(0);
      errorRuns[errorRuns.length - 1]!++;
    }
    return win(seq, {
      count: size,
      labelled: size,
      correct: size - wrong,
      accuracy: (size - wrong) / size,
      referenceAccuracy: 1 - p0,
      positives: undefined,
      ...(runs ? { errorRuns } : {}),
    });
  });
}

/** The first window with a confirmed concept drift, and the row of the stream its evidence names. */
function firstConceptAlarm(windows: WindowSummary[], settings: DetectSettings = DEFAULT_DETECT_SETTINGS) {
  for (const [i, r] of run(windows, initialDetectorState(), settings).results.entries()) {
    const f = findingOf(r.findings, 'concept_drift');
    if (f?.state === 'confirmed') {
      const row = f.evidence.errorChangeRow;
      return { window: i, row: typeof row === 'number' ? i * windows[0]!.labelled + row : null, finding: f };
    }
  }
  return null;
}

describe('per-row error stream (Bernoulli CUSUM in detect)', () => {
  it('raises at most 0.1 false alarms per 10,000 rows on stationary 0.10 error streams (8 × 50,000 rows)', () => {
    let alarms = 0;
    for (let seed = 1; seed <= 8; seed++) {
      let state = initialDetectorState();
      for (const w of errorWindows(200, 0.1, 0.1, Infinity, { seed })) {
        const r = detect(w, state);
        // As the agent would after acting: a confirmed finding starts the detector afresh.
        if (r.findings.some((f) => f.state === 'confirmed')) {
          alarms++;
          state = initialDetectorState();
        } else state = r.state;
      }
    }
    expect(alarms).toBeLessThanOrEqual(4);
  });

  // The seeds bench:detection measures (its means: 73 and 213 rows). One run's delay varies too much to
  // bound tightly (sd 30 and 88 rows over seeds 1–300), so the bound is on the mean of the 20: the mean
  // over seeds 1–300 (63 and 177 rows; the 3 that alarmed before the change left out) plus four standard
  // errors of a 20-seed mean. A detector half again as slow fails it; "twice the mean" per seed did not.
  it.each([
    { p1: 0.3, meanWithin: Math.ceil(63 + (4 * 30) / Math.sqrt(20)) },
    { p1: 0.2, meanWithin: Math.ceil(177 + (4 * 88) / Math.sqrt(20)) },
  ])(
    'finds 0.10 → $p1 at row 5,000 at the row it happens, on average within $meanWithin rows',
    ({ p1, meanWithin }) => {
      // The accuracy baseline holds the rows baselineLagRows behind the change, all at 0.10: its error
      // rate is a binomial estimate from them.
      const baselineRows = 5000 - DETECT_DEFAULTS.baselineLagRows;
      const delays: number[] = [];
      for (let seed = 1; seed <= 20; seed++) {
        const alarm = firstConceptAlarm(errorWindows(40, 0.1, p1, 5000, { seed }));
        expect(alarm, `seed ${seed}`).not.toBeNull();
        const delay = alarm!.row! - 5000;
        expect(delay, `seed ${seed}`).toBeGreaterThanOrEqual(0);
        delays.push(delay);
        // Confirmed on the window that holds that row, not two windows later.
        expect(alarm!.window).toBe(Math.floor((alarm!.row! - 1) / 250));
        expect(alarm!.finding.evidence).toMatchObject({ errorTest: 'bernoulli_cusum' });
        const baseline = alarm!.finding.evidence.baselineErrorRate!;
        expect(Math.abs(baseline - 0.1), `seed ${seed} baseline`).toBeLessThan(
          binomialBound(0.1, baselineRows),
        );
      }
      expect(delays.reduce((a, b) => a + b, 0) / delays.length).toBeLessThan(meanWithin);
    },
  );

  it('sets its charts above a baseline that came out low by chance: an unchanged 0.10 stream raises no alarm', () => {
    // The first 2,000 rows (the baseline before the charts run) at 0.09, 1.5 standard errors below the
    // stream's 0.10, as a baseline comes out one time in fifteen; then 10,000 rows at 0.10. Charts set at
    // the estimate itself alarmed on 5 of these 20 seeds (the autonomy bench's development seeds showed
    // it: incidents on stationary SEA streams), set at its upper bound on 1.
    let alarms = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const alarm = firstConceptAlarm(errorWindows(48, 0.09, 0.1, 2000, { seed }));
      if (alarm) alarms++;
    }
    expect(alarms).toBeLessThanOrEqual(2);
  });

  it('finds the small 0.20 → 0.25 rise that no single 250-row window shows', () => {
    const alarm = firstConceptAlarm(errorWindows(60, 0.2, 0.25, 5000, { seed: 4 }));
    expect(alarm).not.toBeNull();
    expect(alarm!.row! - 5000).toBeGreaterThan(0);
    expect(alarm!.row! - 5000).toBeLessThan(3000);
  });

  it("without the run-length stream, reads the window's counts and confirms at the window's end", () => {
    const alarm = firstConceptAlarm(errorWindows(40, 0.1, 0.3, 5000, { seed: 1, runs: false }));
    expect(alarm).not.toBeNull();
    expect(alarm!.window).toBeLessThanOrEqual(21);
    expect(alarm!.finding.evidence.errorChangeRow).toBe(250);
  });

  describe('error-rate modes (policy detection.errorRateMode)', () => {
    const conservative: DetectSettings = {
      ...DEFAULT_DETECT_SETTINGS,
      detection: { ...DEFAULT_DETECT_SETTINGS.detection, errorRateMode: 'conservative' },
    };

    it('conservative waits for more evidence of the same small rise than fast, and still finds it', () => {
      for (const seed of [4, 5, 6]) {
        const windows = errorWindows(60, 0.2, 0.25, 5000, { seed });
        const fast = firstConceptAlarm(windows);
        const slow = firstConceptAlarm(windows, conservative);
        expect(fast).not.toBeNull();
        expect(slow).not.toBeNull();
        expect(slow!.row!).toBeGreaterThan(fast!.row!);
        // ADWIN's mean on this rise is 1,882 rows (bench:error-tradeoff); twice that as a bound.
        expect(slow!.row! - 5000).toBeLessThan(4000);
      }
    });

    it('conservative needs a window z of 3.5 where fast needs 3', () => {
      // Baseline 0.9 over 1,800 rows (too few for the error charts, which leaves the window test), then
      // two windows at 0.836: z ≈ 3.1 each, enough for fast's window test and not for conservative's.
      const windows = [
        ...Array.from({ length: 4 }, (_, i) => win(i, { positives: undefined })),
        win(4, { count: 250, labelled: 250, accuracy: 0.836, positives: undefined }),
        win(5, { count: 250, labelled: 250, accuracy: 0.836, positives: undefined }),
      ];
      expect(kinds(run(windows).last.findings, 'confirmed')).toContain('concept_drift');
      expect(
        kinds(run(windows, initialDetectorState(), conservative).last.findings, 'confirmed'),
      ).not.toContain('concept_drift');
    });
  });

  it('tests a window against a young baseline as the estimate it is', () => {
    // Four windows put the baseline at 0.925 by chance (1,000 rows); two ordinary windows at 0.868
    // follow. Against 0.925 as if known, z = 3.4 twice: a confirmed drift. As two estimates, z = 2.9.
    const windows = [
      ...Array.from({ length: 4 }, (_, i) =>
        win(i, { count: 250, labelled: 250, accuracy: 0.924, positives: undefined }),
      ),
      win(4, { count: 250, labelled: 250, accuracy: 0.868, positives: undefined }),
      win(5, { count: 250, labelled: 250, accuracy: 0.868, positives: undefined }),
    ];
    const now = run(windows).last;
    expect(kinds(now.findings, 'confirmed')).not.toContain('concept_drift');
    const performance = now.findings.find((f) => f.kind === 'concept_drift');
    expect(performance?.evidence.test ?? 'two_proportion_z').toBe('two_proportion_z');
  });

  it('holds the finding while the rate stays up and clears once it is back', () => {
    const up = errorWindows(40, 0.1, 0.3, 5000, { seed: 2 });
    const back = errorWindows(60, 0.3, 0.1, 0, { seed: 3 })
      .slice(40)
      .map((w, i) => ({ ...w, seq: 40 + i }));
    const states = run([...up, ...back]).results.map(
      (r) => r.findings.find((f) => f.kind === 'concept_drift')?.state ?? 'clear',
    );
    const first = states.indexOf('confirmed');
    expect(first).toBeGreaterThanOrEqual(20);
    expect(states.slice(first, 40).every((s) => s === 'confirmed')).toBe(true);
    expect(states.slice(45)).toEqual(states.slice(45).map(() => 'clear'));
  });

  it('does not learn a slow rise into its baseline before confirming it', () => {
    // 6,000 rows, 1,000 of them after the rise, not confirmed yet: the last 2,000 wait before they count.
    const { state, results } = run(errorWindows(24, 0.2, 0.25, 5000, { seed: 2 }));
    expect(results.flatMap((r) => kinds(r.findings))).toEqual([]);
    const baseline = 1 - state.baselineCorrect / state.baselineLabelled;
    expect(baseline).toBeLessThan(0.21);
    expect(state.baselineLabelled).toBe(4000);
    expect(state.pendingBaseline?.reduce((sum, w) => sum + w.labelled, 0)).toBe(2000);
  });

  it('starts the performance evidence afresh after a model change, and lets old labels drain first', () => {
    const { state } = run(errorWindows(30, 0.1, 0.3, 5000, { seed: 1 }));
    expect(state.persistence.concept_drift?.state).toBe('confirmed');
    expect(state.errorCusum?.drift).toBe(true);
    const fresh = afterModelChange(state);
    expect(fresh.errorCusum).toBeUndefined();
    expect(fresh.calibrationCusum).toBeUndefined();
    expect(fresh.baselineLabelled).toBe(0);
    // The old model's concept drift is not carried to the new model; other findings are.
    expect(fresh.persistence.concept_drift).toBeUndefined();
    const { concept_drift: _old, ...others } = state.persistence;
    expect(fresh.persistence).toEqual(others);
    expect(fresh.baselines?.latencyP95).toEqual(state.baselines?.latencyP95);
    // Labels of the old model's predictions still arrive for a while: even bad ones are not judged in
    // the settling windows, and the fixed model's own windows after them raise nothing.
    const settling = errorWindows(32, 0.3, 0.3, 0, { seed: 9 }).slice(30);
    const afterChange = run(
      [...settling, ...errorWindows(50, 0.1, 0.1, 0, { seed: 9 }).slice(32)].map((w) => ({
        ...w,
        referenceAccuracy: 0.9,
      })),
      fresh,
    ).results.map((r) => r.findings.find((f) => f.kind === 'concept_drift')?.state ?? 'clear');
    expect(afterChange.every((x) => x === 'clear')).toBe(true);
  });

  it("drops the old version's sequential evidence when someone else changes production, keeping its baselines", () => {
    const { state } = run(errorWindows(30, 0.1, 0.3, 5000, { seed: 1 }));
    expect(state.errorCusum?.drift).toBe(true);
    const after = afterProductionChange(state);
    expect(after.errorCusum).toBeUndefined();
    expect(after.baselineLabelled).toBe(state.baselineLabelled);
    expect(after.persistence).toEqual(state.persistence);
    const conceptOn = (windows: WindowSummary[], from: DetectorState) =>
      run(windows, from).results.map((r) => r.findings.find((f) => f.kind === 'concept_drift')?.state);
    // A good version takes over: carried, the old version's chart (held above h) still reads as drift;
    // dropped, the good version's first window is good.
    const good = errorWindows(32, 0.1, 0.1, 0, { seed: 11 }).slice(30);
    expect(conceptOn(good, state)[0]).toBe('confirmed');
    expect(conceptOn(good, after)).toEqual(['recovering', undefined]);
    // A worse release is still judged against the old version's baseline: the charts, started afresh
    // against it, catch it in its first window.
    const fresh = { ...after, persistence: {} };
    const worse = errorWindows(32, 0.3, 0.3, 0, { seed: 12 }).slice(30);
    expect(conceptOn(worse, fresh)).toEqual(['confirmed', 'confirmed']);
    // Reset as after the agent's own remedy instead, the same windows would not be judged at all.
    expect(conceptOn(worse, afterModelChange(state))).toEqual([undefined, undefined]);
  });

  it("counts a settling window's labels, and labels of other versions' answers, as labels that arrive", () => {
    const { state } = run(healthy(6));
    expect(state.baselines?.labelShare?.mean).toBeCloseTo(0.9, 5);
    const fresh = afterModelChange(state);
    const staleAfter = (windows: WindowSummary[], settings = DEFAULT_DETECT_SETTINGS) =>
      run(windows, fresh, settings).results.map(
        (r) => r.findings.find((f) => f.kind === 'stale_data')?.state ?? 'clear',
      );
    // Two settling windows, then the fallback serves: its answers' labels arrive, production has none.
    const windows = [win(6), win(7), win(8, { labelled: 0, accuracy: null, labelledElsewhere: 450 })];
    expect(staleAfter(windows)).toEqual(['clear', 'clear', 'clear']);
  });

  it('leaves a fall in performance to the inputs when a listed feature is significant before correction', () => {
    const windows = errorWindows(40, 0.1, 0.3, 5000, { seed: 1 }).map((w) =>
      w.seq >= 20
        ? {
            ...w,
            drift: stableDrift().map((d) =>
              d.name === 'income' ? { ...d, pValue: 0.004, adjustedPValue: 0.016 } : d,
            ),
          }
        : w,
    );
    const { results } = run(windows);
    expect(results.flatMap((r) => kinds(r.findings, 'confirmed'))).toEqual([]);
    // That the fall is named the unsettled inputs' impact: test/unit/finding-rules-cross-kind.test.ts.
  });

  describe('a burst of errors the chart finds is transient until later windows show it', () => {
    /** Windows of 250 labelled rows at error rate 0.10, with rows [from, to) at `burst`. */
    const burstWindows = (windows: number, from: number, to: number, burst: number, seed = 7) =>
      errorWindows(windows, 0.1, 0.1, Infinity, { seed }).map((w, seq) => {
        const random = new Random(seed * 1000 + seq);
        const errorRuns = [0];
        let wrong = 0;
        for (let i = seq * 250; i < (seq + 1) * 250; i++) {
          const x = random.bernoulli(i >= from && i < to ? burst : 0.1) ? 1 : 0;
          wrong += x;
          if ((errorRuns.length - 1) % 2 !== x) errorRuns.push(0);
          errorRuns[errorRuns.length - 1]!++;
        }
        return { ...w, correct: 250 - wrong, accuracy: (250 - wrong) / 250, errorRuns };
      });
    const conceptDrift = (r: { findings: Finding[] }) => findingOf(r.findings, 'concept_drift');

    /** Over seeds: whether the chart confirmed in window 20, and whether a later window made it persistent. */
    const outcomes = (to: number) =>
      Array.from({ length: 40 }, (_, k) => {
        const { results } = run(burstWindows(26, 5050, to, 0.45, k + 1));
        const confirmed = results.map(conceptDrift).map((f) => (f?.state === 'confirmed' ? f : undefined));
        return {
          atOnce: confirmed[20] !== undefined && confirmed[20].transient === true,
          persistent: confirmed.some((f) => f !== undefined && f.transient !== true),
        };
      });

    it('150 rows of 45 % errors confirm at once, but stay transient: the chart outlasts the burst', () => {
      // Rows 5,050-5,200 are window 20's. The chart stays past h for windows after it; a later window
      // shows a fall in its own rows by chance (accuracy 0.025 below the baseline: 1.3 sd of a 250-row
      // window, about one in ten), and one such in the next two makes two of three: about one in five.
      // Without the distinction all 40 would open an incident.
      const o = outcomes(5200);
      expect(o.filter((x) => x.atOnce).length).toBe(40);
      expect(o.filter((x) => x.persistent).length).toBeLessThanOrEqual(12);
    });

    it('a rise that lasts is transient in its first window only', () => {
      const o = outcomes(Infinity);
      expect(o.filter((x) => x.atOnce).length).toBe(40);
      expect(o.filter((x) => x.persistent).length).toBe(40);
      const { results } = run(burstWindows(26, 5050, Infinity, 0.45));
      const states = results.slice(20, 23).map(conceptDrift);
      expect(states.map((f) => f?.state)).toEqual(['confirmed', 'confirmed', 'confirmed']);
      expect(states.map((f) => f?.transient ?? false)).toEqual([true, false, false]);
    });
  });
});

describe('batch drift gate', () => {
  const ks = (statistic: number, currentN: number): WindowDrift => ({
    name: 'x',
    test: 'kolmogorov_smirnov',
    statistic,
    pValue: 1e-6,
    adjustedPValue: 1e-6,
    psi: 0.05,
    currentN,
    referenceN: 5000,
  });

  it('keeps power for a gap of the minimum effect: the KS gate sits below it by a margin that shrinks with n', () => {
    expect(featureDrifted(ks(0.085, 1000), DEFAULT_DETECT_SETTINGS)).toBe(true);
    expect(featureDrifted(ks(0.085, 100_000), DEFAULT_DETECT_SETTINGS)).toBe(false);
    // Digests from before the sample sizes were kept: the plain gate.
    expect(featureDrifted({ ...ks(0.085, 1000), currentN: undefined }, DEFAULT_DETECT_SETTINGS)).toBe(false);
    expect(featureDrifted({ ...ks(0.3, 1000), adjustedPValue: 0.02 }, DEFAULT_DETECT_SETTINGS)).toBe(false);
  });
});

describe('advancePersistence', () => {
  it.each([
    { bads: [1, 0, 0], states: ['suspect', 'clear', 'clear'], why: 'one bad window is a suspicion' },
    { bads: [1, 1], states: ['suspect', 'confirmed'], why: 'two consecutive bad windows confirm' },
    { bads: [1, 0, 1], states: ['suspect', 'clear', 'confirmed'], why: '2 of the last 3 confirm (M of N)' },
    {
      bads: [1, 0, 0, 1],
      states: ['suspect', 'clear', 'clear', 'suspect'],
      why: 'older bad windows fall out of N',
    },
    {
      bads: [1, 1, 0, 1, 0, 0, 1],
      states: ['suspect', 'confirmed', 'recovering', 'confirmed', 'recovering', 'clear', 'suspect'],
      why: 'hysteresis: clear only after 2 good windows, and a cleared finding starts afresh',
    },
  ])('$why', ({ bads, states }) => {
    let p: ReturnType<typeof advancePersistence> | undefined;
    const seen: string[] = [];
    for (const [i, bad] of bads.entries()) {
      p = advancePersistence(p, bad === 1, DEFAULT_POLICY.detection.persistence, i);
      seen.push(p.state);
    }
    expect(seen).toEqual(states);
  });

  it('carries a state from before M of N (streaks only)', () => {
    const p = advancePersistence({ state: 'suspect', badStreak: 1, goodStreak: 0 }, true);
    expect(p.state).toBe('confirmed');
  });
});

interface Case {
  name: string;
  windows: WindowSummary[];
  /** Kinds confirmed on the last window, in detect's order. */
  confirmed: Finding['kind'][];
  /** Kinds with any non-clear state on the last window. */
  active?: Finding['kind'][];
  check?: (findings: Finding[]) => void;
}

const cases: Case[] = [
  { name: 'steady windows raise nothing', windows: healthy(12), confirmed: [], active: [] },
  {
    name: 'input drift without a performance impact is data_drift with impact none',
    windows: [
      ...healthy(5),
      win(5, { drift: drifted('income', 0.5) }),
      win(6, { drift: drifted('income', 0.5) }),
    ],
    confirmed: ['data_drift'],
    check: (f) => {
      const d = f.find((x) => x.kind === 'data_drift')!;
      expect(d.impact).toBe('none');
      expect(d.features?.[0]).toMatchObject({ name: 'income', contribution: 1, test: 'kolmogorov_smirnov' });
      expect(d.windows).toEqual([5, 6]);
    },
  },
  {
    name: 'features are ranked by contribution',
    windows: [5, 6].map((seq) =>
      win(seq, {
        drift: stableDrift().map((d) =>
          d.name === 'age'
            ? { ...d, adjustedPValue: 1e-9, psi: 0.3, statistic: 0.2 }
            : d.name === 'income'
              ? { ...d, adjustedPValue: 1e-9, psi: 0.9, statistic: 0.4 }
              : d,
        ),
      }),
    ),
    confirmed: ['data_drift'],
    check: (f) => {
      const features = f.find((x) => x.kind === 'data_drift')!.features!;
      expect(features.map((x) => x.name)).toEqual(['income', 'age']);
      expect(features[0]!.contribution).toBeCloseTo(0.75);
    },
  },
  {
    name: 'significant but trivial drift (large window) is no finding',
    windows: [
      ...healthy(5),
      ...[5, 6].map((s) =>
        win(s, {
          drift: drifted('income', 0.05).map((d) => ({
            ...d,
            statistic: d.name === 'income' ? 0.05 : d.statistic,
          })),
        }),
      ),
    ],
    confirmed: [],
    active: [],
  },
  {
    name: 'large but not significant drift (small window) is no finding',
    windows: [
      ...healthy(5),
      win(5, { drift: drifted('income', 0.6, 0.2) }),
      win(6, { drift: drifted('income', 0.6, 0.2) }),
    ],
    confirmed: [],
    active: [],
  },
  {
    name: 'accuracy falling with stable inputs is concept drift',
    windows: [...healthy(5), win(5, { accuracy: 0.75 }), win(6, { accuracy: 0.75 })],
    confirmed: ['concept_drift'],
    check: (f) => {
      expect(f[0]!.evidence).toMatchObject({ basis: 'realised', baselineSource: 'production' });
      expect(f[0]!.severity).toBe('critical');
    },
  },
  {
    name: 'accuracy falling while inputs drift is the drift, with impact degraded, not concept drift',
    windows: [
      ...healthy(5),
      win(5, { accuracy: 0.75, drift: drifted('income', 0.5) }),
      win(6, { accuracy: 0.75, drift: drifted('income', 0.5) }),
    ],
    confirmed: ['data_drift'],
    active: ['data_drift'],
    check: (f) => expect(f[0]!.impact).toBe('degraded'),
  },
  {
    name: 'a unit change (values out of range) is data quality on that feature, never concept drift',
    windows: [
      ...healthy(5),
      ...[5, 6].map((seq) =>
        win(seq, {
          accuracy: 0.6,
          drift: drifted('income', 5),
          quality: [
            {
              name: 'income',
              invalidRate: 1,
              mainProblem: 'out_of_range',
              nullRate: 0,
              referenceNullRate: 0,
              nullRateChangePValue: null,
              constant: null,
            },
          ],
        }),
      ),
    ],
    confirmed: ['data_quality'],
    active: ['data_quality'],
    check: (f) => {
      expect(f[0]!.features?.[0]).toMatchObject({ name: 'income', test: 'invalid_values:out_of_range' });
      expect(f[0]!.severity).toBe('critical');
    },
  },
  {
    name: 'a feed filling with nulls is data quality',
    windows: [5, 6].map((seq) =>
      win(seq, {
        quality: [
          {
            name: 'credit_utilization',
            invalidRate: 0,
            mainProblem: null,
            nullRate: 0.6,
            referenceNullRate: 0.05,
            nullRateChangePValue: 1e-30,
            constant: false,
          },
        ],
      }),
    ),
    confirmed: ['data_quality'],
  },
  {
    name: 'a column gone constant is data quality',
    windows: [5, 6].map((seq) =>
      win(seq, {
        quality: [
          {
            name: 'late_payments_12m',
            invalidRate: 0,
            mainProblem: null,
            nullRate: 0,
            referenceNullRate: 0,
            nullRateChangePValue: 1,
            constant: true,
          },
        ],
      }),
    ),
    confirmed: ['data_quality'],
  },
  {
    name: 'p95 latency three times the baseline is latency',
    windows: [...healthy(5), win(5, { latencyP95Ms: 180 }), win(6, { latencyP95Ms: 185 })],
    confirmed: ['latency'],
  },
  {
    name: 'failing inference is failures',
    windows: [...healthy(5), win(5, { failureRate: 0.15 }), win(6, { failureRate: 0.16 })],
    confirmed: ['failures'],
  },
  {
    name: 'windows without traffic are stale data',
    windows: [
      ...healthy(3),
      win(3, { count: 0, labelled: 0, accuracy: null }),
      win(4, { count: 0, labelled: 0, accuracy: null }),
    ],
    confirmed: ['stale_data'],
  },
  {
    name: 'labels that stop coming back are stale data',
    windows: [
      ...healthy(5),
      win(5, { labelled: 40, accuracy: null }),
      win(6, { labelled: 30, accuracy: null }),
    ],
    confirmed: ['stale_data'],
  },
  {
    name: 'a traffic burst is an anomaly, confirmed at once, and the drift it brings is part of it',
    windows: [...healthy(5), win(5, { count: 900, throughputPerMinute: 540, drift: drifted('age', 2) })],
    confirmed: ['anomaly'],
    active: ['anomaly'],
  },
  {
    name: 'more positives than the model expects, accumulated over windows, is concept drift',
    windows: [
      ...healthy(5),
      ...[5, 6, 7, 8].map((seq) => win(seq, { positives: 130, expectedPositives: 100 })),
    ],
    confirmed: ['concept_drift'],
    check: (f) =>
      expect(findingOf(f, 'concept_drift')?.evidence.calibrationTest).toBe('calibration_in_the_large_cusum'),
  },
  {
    name: 'regression error well above the spread of healthy windows is concept drift',
    windows: [
      ...[0, 1, 2, 3, 4].map((seq) =>
        win(seq, {
          task: 'regression',
          accuracy: null,
          correct: 0,
          rmse: 10 + (seq % 2),
          referenceRmse: 9,
          positives: undefined,
        }),
      ),
      ...[5, 6].map((seq) =>
        win(seq, { task: 'regression', accuracy: null, correct: 0, rmse: 30, positives: undefined }),
      ),
    ],
    confirmed: ['concept_drift'],
  },
  {
    name: 'regression error within the spread of healthy windows is nothing',
    windows: [
      ...[0, 1, 2, 3, 4, 5, 6].map((seq) =>
        win(seq, {
          task: 'regression',
          accuracy: null,
          correct: 0,
          rmse: seq === 6 ? 12.5 : 10 + (seq % 2),
          positives: undefined,
        }),
      ),
    ],
    confirmed: [],
    active: [],
  },
];

describe('detect', () => {
  it.each(cases)('$name', ({ windows, confirmed, active, check }) => {
    const { last } = run(windows);
    expect(kinds(last.findings, 'confirmed')).toEqual(confirmed);
    if (active) expect(kinds(last.findings)).toEqual(active);
    check?.(last.findings);
    // Every state is plain JSON, for continueAsNew.
    expect(JSON.parse(JSON.stringify(last.state))).toEqual(last.state);
  });

  it("a model's constant 10 % calibration offset is not a drift", () => {
    // 90 positives where the model expects 100, window after window: a miscalibrated model, not a change.
    const windows = Array.from({ length: 30 }, (_, seq) =>
      win(seq, { positives: 90, expectedPositives: 100 }),
    );
    expect(kinds(run(windows).last.findings, 'confirmed')).toEqual([]);
  });

  it('a steady 9 % calibration offset is no drift over 300 windows, though its CUSUM passes h', () => {
    // The CUSUM finds the offset; the stretch it accumulates over starts where it last left zero, so its
    // point estimate runs above 9 %. The minimum effect gates the confidence bound of the difference.
    for (const seed of [1, 2, 3]) {
      const rng = new Random(seed);
      const windows = Array.from({ length: 300 }, (_, seq) =>
        win(seq, { positives: Math.round(rng.normal(109, Math.sqrt(70))), expectedPositives: 100 }),
      );
      const { results } = run(windows);
      const confirmed = results.filter((r) => kinds(r.findings, 'confirmed').includes('concept_drift'));
      expect(confirmed).toEqual([]);
      const highest = Math.max(...results.map((r) => r.state.calibrationCusum?.up.statistic ?? 0));
      expect(highest).toBeGreaterThan(DETECT_DEFAULTS.calibrationH);
    }
  });

  describe('regression error CUSUM', () => {
    /** Healthy regression windows at RMSE 11 (the judged spread is then the 15 % floor: 1.65). */
    const regression = (seq: number, rmse: number) =>
      win(seq, { task: 'regression', accuracy: null, correct: 0, rmse, positives: undefined });
    const healthyRegression = (n: number) => Array.from({ length: n }, (_, i) => regression(i, 11));

    it('confirms a rise of 40 % that no single window shows beyond its noise', () => {
      const risen = [6, 7, 8, 9, 10].map((seq) => regression(seq, 15.4));
      const { results, last } = run([...healthyRegression(6), ...risen]);
      const confirmedAt = results.findIndex((r) => kinds(r.findings, 'confirmed').includes('concept_drift'));
      expect(confirmedAt).toBeGreaterThanOrEqual(8);
      expect(confirmedAt).toBeLessThanOrEqual(10);
      const f = last.findings.find((x) => x.kind === 'concept_drift')!;
      // Each risen window is 2.7 sds above the baseline: below the per-window rule's 4.
      expect(f.evidence.statistic).toBeLessThan(DETECT_DEFAULTS.latencySigmas);
      expect(f.evidence.rmseTest).toBe('rmse_z_cusum');
      expect(f.evidence.rmseCusumEffect).toBeCloseTo(0.4, 5);
      expect(f.summary).toMatch(/RMSE has stayed 40 % above the baseline 11\.000/);
      // The risen windows never joined the baseline they are measured against.
      expect(last.state.baselines?.rmse?.mean).toBeCloseTo(11, 5);
    });

    it('clears once the error is back, though the CUSUM takes windows to come down', () => {
      const risen = [6, 7, 8, 9, 10, 11, 12, 13].map((seq) => regression(seq, 40));
      const back = [14, 15, 16, 17].map((seq) => regression(seq, 11));
      const { results, state } = run([...healthyRegression(6), ...risen, ...back]);
      expect(results[13]!.state.rmseCusum?.statistic).toBe(1.5 * DETECT_DEFAULTS.regressionCusumH);
      const states = results.slice(14).map((r) => r.findings.find((f) => f.kind === 'concept_drift')?.state);
      expect(states).toEqual(['recovering', undefined, undefined, undefined]);
      // Cleared with the finding: the next rise starts from zero.
      expect(state.rmseCusum?.statistic).toBe(0);
    });

    it('stationary windows at the judged spread raise no drift over 1,000 windows, though the CUSUM passes h', () => {
      // The CUSUM's windows are those since it last left zero, chosen for running high: their mean RMSE
      // overstates the rise. The minimum effect gates its lower confidence bound.
      for (const seed of [1, 2, 3]) {
        const rng = new Random(seed);
        const windows = Array.from({ length: 1000 }, (_, seq) => regression(seq, rng.normal(11, 1.65)));
        const { results } = run(windows);
        expect(results.filter((r) => kinds(r.findings, 'confirmed').length > 0)).toEqual([]);
        const highest = Math.max(...results.map((r) => r.state.rmseCusum?.statistic ?? 0));
        expect(highest).toBeGreaterThanOrEqual(DETECT_DEFAULTS.regressionCusumH);
      }
    });

    it('keeps learning the baseline on a stationary stream whose windows spread wider than the floor', () => {
      // Windows of a demand stream at 200 rows: RMSE 11.4 with sd 2.7, 24 % of it, above the 15 % floor.
      // A baseline that the first windows left low kept the CUSUM above zero, so the windows that would
      // have corrected it waited for ever, and suspected ones were dropped: the baseline froze at a few
      // windows (7.4-9.2) and false drifts followed, on 8 of these 20 seeds (the autonomy bench's
      // development seeds showed it on a stationary demand stream). Waiting windows now join after
      // regressionBaselineLagWindows newer ones, suspected ones too unless the suspicion confirms. The
      // alarms left (6) come within the first 30 windows, from a baseline of 3-6 windows.
      let alarms = 0;
      for (let seed = 1; seed <= 20; seed++) {
        const rng = new Random(seed);
        const windows = Array.from({ length: 156 }, (_, seq) => regression(seq, rng.normal(11.4, 2.7)));
        const { results, state } = run(windows);
        const alarmedAt = results.findIndex((r) => kinds(r.findings, 'confirmed').length > 0);
        if (alarmedAt >= 0) {
          alarms++;
          expect(alarmedAt, `seed ${seed}`).toBeLessThan(30);
        } else {
          expect(state.baselines?.rmse?.n, `seed ${seed}`).toBe(DETECT_DEFAULTS.baselineCap);
          expect(state.baselines?.rmse?.mean, `seed ${seed}`).toBeGreaterThan(10);
        }
      }
      expect(alarms).toBeLessThanOrEqual(6);
    });

    it('heavy-tailed windows among stationary ones count at most 3 sds in the rise, as in the CUSUM', () => {
      // Stationary demand windows whose errors have a heavy tail: now and then one huge error. The CUSUM
      // passes h, but the rise over its windows is not 20 % once no window counts beyond 3 sds.
      const tail = [200, 11.5, 11.5, 12, 17, 11, 16.5, 11, 16, 11.5, 16.5, 11];
      const { results } = run([...healthyRegression(6), ...tail.map((x, i) => regression(6 + i, x))]);
      expect(
        results.some((r) => (r.state.rmseCusum?.statistic ?? 0) >= DETECT_DEFAULTS.regressionCusumH),
      ).toBe(true);
      expect(results.filter((r) => kinds(r.findings, 'confirmed').length > 0)).toEqual([]);
    });

    it('judges a window against a baseline of few windows by its prediction interval (Student t)', () => {
      // Healthy windows with a spread of their own (sd 2, above the 15 % floor), then one 6 sds above.
      const spread = (n: number) => Array.from({ length: n }, (_, i) => regression(i, i % 2 === 0 ? 9 : 13));
      const judged = (n: number) => {
        const f = run([...spread(n), regression(n, 11 + 6 * 2)]).last.findings;
        return findingOf(f, 'concept_drift');
      };
      // Four windows say little about the spread: t = 5.4 on 3 degrees of freedom is p = 0.006 (z 2.5).
      expect(judged(4)).toBeUndefined();
      // Twenty do: the same window is past the 4 sds the window rule asks.
      expect(judged(20)?.state).toBe('suspect');
      expect(judged(20)?.evidence.statistic).toBeGreaterThan(DETECT_DEFAULTS.latencySigmas);
    });

    it('one heavy-tailed window alone does not cross it', () => {
      const windows = [...healthyRegression(6), regression(6, 200), regression(7, 11), regression(8, 12)];
      const { results, last } = run(windows);
      expect(results.every((r) => kinds(r.findings, 'confirmed').length === 0)).toBe(true);
      expect(last.state.rmseCusum?.statistic ?? 0).toBeLessThan(DETECT_DEFAULTS.regressionCusumH);
    });

    it('holds windows back from the baseline while it is above zero, and lets them in when it returns', () => {
      const windows = [...healthyRegression(6), regression(6, 14), regression(7, 14)];
      const held = run(windows).state;
      expect(held.pendingRmse).toEqual([14, 14]);
      expect(held.baselines?.rmse?.n).toBe(6);
      const back = run([regression(8, 5), regression(9, 5), regression(10, 5)], held).state;
      expect(back.rmseCusum?.statistic ?? 0).toBe(0);
      expect(back.pendingRmse).toBeUndefined();
      expect(back.baselines?.rmse?.n).toBeGreaterThanOrEqual(9);
    });
  });

  it('a window too small to judge says so and leaves the state as it was', () => {
    const { state } = run(healthy(5));
    const small = detect(
      win(5, { count: 10, labelled: 10, accuracy: 0.1, failureRate: 1, latencyP95Ms: 900 }),
      state,
    );
    expect(small.findings).toEqual([]);
    // Only stale data is judged on any window: silence and missing labels are its evidence.
    const { stale_data: _a, ...before } = state.persistence;
    const { stale_data: _b, ...after } = small.state.persistence;
    expect(after).toEqual(before);
    expect(small.state.baselines).toEqual(state.baselines);
  });

  it('keeps an active finding through a window too small to judge it', () => {
    const { state } = run([...healthy(5), win(5, { accuracy: 0.7 }), win(6, { accuracy: 0.7 })]);
    const small = detect(win(7, { count: 10, labelled: 10, accuracy: 1 }), state);
    expect(small.findings).toMatchObject([{ kind: 'concept_drift', state: 'confirmed' }]);
    expect(small.state.persistence.concept_drift).toEqual(state.persistence.concept_drift);
  });

  it('never lets a failing window into the accuracy baseline', () => {
    const { state } = run([...healthy(5), win(5, { accuracy: 0.7 }), win(6, { accuracy: 0.7 })]);
    expect(state.baselineWindows).toBe(5);
    expect(state.baselineCorrect / state.baselineLabelled).toBeCloseTo(0.9, 2);
  });

  it('reads windows and states recorded before the full monitor (old histories)', () => {
    const old = (seq: number, accuracy: number, count = 100): WindowSummary => ({
      seq,
      startAt: '2026-01-01T00:00:00.000Z',
      endAt: '2026-01-01T00:01:00.000Z',
      count,
      labelled: count,
      correct: Math.round(count * accuracy),
      accuracy: count ? Math.round(count * accuracy) / count : null,
    });
    const legacyState = { baselineLabelled: 0, baselineCorrect: 0, baselineWindows: 0, persistence: {} };
    const { results } = run(
      [old(0, 0, 0), ...[1, 2, 3, 4].map((s) => old(s, 0.9)), old(5, 0.5), old(6, 0.5)],
      legacyState,
    );
    expect(results.map((r) => kinds(r.findings))).toEqual([
      [], // an empty first window: no traffic yet is not stale traffic
      [],
      [],
      [],
      [],
      ['concept_drift'],
      ['concept_drift'],
    ]);
    expect(results.at(-1)!.findings[0]!.state).toBe('confirmed');
    expect(DETECT_DEFAULTS.minBaselineWindows).toBe(3);
  });
});
