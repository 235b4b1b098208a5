// The anomaly rule (lib/brain/findings/anomaly.ts) at its boundaries: when a rate is judged at all, and the
// three conditions of a burst — the factor over the baseline rate, the Poisson z of the window's rows, and
// the distance in the baseline's own window-to-window spread.
import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECT_SETTINGS, initialDetectorState } from '../../lib/brain/detect.ts';
import { ANOMALY_DEFAULTS, anomaly, burstZ, rateJudged } from '../../lib/brain/findings/anomaly.ts';
import { SHARED_DEFAULTS } from '../../lib/brain/findings/shared.ts';
import type { DetectorState, WindowSummary } from '../../lib/brain/types.ts';
import { healthyWindow } from '../helpers/brain.ts';

const settings = DEFAULT_DETECT_SETTINGS;

/** A baseline of 300 predictions a minute, with window-to-window sd `sd`. */
const rate = (sd = 6, n = 10): DetectorState => ({
  ...initialDetectorState(),
  baselines: { throughput: { n, mean: 300, meanSq: 300 * 300 + sd * sd } },
});
/** A window of `seconds` with `count` rows at `perMinute`. */
const window = (count: number, perMinute: number, seconds = 100): WindowSummary => ({
  ...healthyWindow(5),
  startAt: new Date(0).toISOString(),
  endAt: new Date(seconds * 1000).toISOString(),
  count,
  throughputPerMinute: perMinute,
});
const observe = (w: WindowSummary, state = rate()) =>
  anomaly.observe({ window: w, state, settings, brokenFeatures: new Set() });

describe('a rate is judged', () => {
  it(`in windows of at least window.minRows rows and ${ANOMALY_DEFAULTS.minRateWindowSeconds} s`, () => {
    expect(rateJudged(window(settings.minRows, 300, 30), settings)).toBe(true);
    expect(rateJudged(window(settings.minRows - 1, 300, 30), settings)).toBe(false);
    expect(rateJudged(window(settings.minRows, 300, 29.999), settings)).toBe(false);
  });

  it('only against a baseline of enough windows, and not without a throughput', () => {
    const unjudged = {
      kind: 'anomaly',
      judged: false,
      bad: false,
      summary: 'no traffic baseline or window too small',
    };
    expect(observe(window(900, 450), rate(6, SHARED_DEFAULTS.minBaselineWindows - 1))).toMatchObject(
      unjudged,
    );
    expect(observe(window(900, 450), initialDetectorState())).toMatchObject(unjudged);
    expect(observe({ ...window(900, 450), throughputPerMinute: undefined })).toMatchObject({
      ...unjudged,
      evidence: { window: 5, throughputPerMinute: null },
    });
    expect(observe(window(20, 450))).toMatchObject(unjudged);
  });
});

describe('a burst', () => {
  it(`is ${ANOMALY_DEFAULTS.burstFactor}× the usual rate, said so with its evidence`, () => {
    expect(observe(window(900, 450))).toEqual({
      kind: 'anomaly',
      judged: true,
      bad: true,
      severity: 'warning',
      summary: 'traffic burst: 1.5× the usual rate',
      evidence: {
        window: 5,
        throughputPerMinute: 450,
        test: 'poisson_z',
        baselineThroughputPerMinute: 300,
        effect: 0.5,
        // The normal z of P(X ≥ 900) for a Poisson count of mean 600 (scipy: 11.3831546…).
        statistic: expect.closeTo(11.383154622152356, 8),
        // scipy.stats.norm.isf(900 × 1e-6): chance bursts under one per million rows.
        threshold: expect.closeTo(3.121389149359866, 8),
      },
    });
    expect(observe(window(900, 449))).toMatchObject({ bad: false, summary: 'traffic at its usual rate' });
  });

  it("needs an exact Poisson z past a threshold that follows the window's rows: at 1.5× the rate, 98 rows are, 97 are not", () => {
    // scipy.stats.norm.isf(scipy.stats.poisson.sf(n - 1, n / 1.5)): 3.7253 for 98, 3.7059 for 97; the
    // thresholds, scipy.stats.norm.isf(n × 1e-6), 3.7241 and 3.7267. The normal approximation's z,
    // (n − n/1.5) / √(n/1.5), passed 3 from 54 rows on; the exact z passes 3 from 65.
    expect(observe(window(98, 450)).evidence.statistic).toBeCloseTo(3.725301561699802, 8);
    expect(observe(window(97, 450)).evidence.statistic).toBeCloseTo(3.705889919000119, 8);
    expect(burstZ(98)).toBeCloseTo(3.724117023637051, 8);
    expect(burstZ(97)).toBeCloseTo(3.7267040822423843, 8);
    expect(observe(window(98, 450)).bad).toBe(true);
    expect(observe(window(97, 450)).bad).toBe(false);
    expect(observe(window(65, 450)).bad).toBe(false);
  });

  it(`keeps chance bursts under one per million rows: z 4.0 at 30 rows, ${SHARED_DEFAULTS.minZ} from about 1,350`, () => {
    expect(burstZ(30)).toBeCloseTo(4.012810811118254, 8);
    expect(burstZ(1349)).toBeGreaterThan(SHARED_DEFAULTS.minZ);
    expect(burstZ(1350)).toBe(SHARED_DEFAULTS.minZ);
    expect(burstZ(100_000)).toBe(SHARED_DEFAULTS.minZ);
    // The tail never passes one half, whatever the rows: the threshold stays minZ, not a negative z.
    expect(burstZ(10_000_000)).toBe(SHARED_DEFAULTS.minZ);
  });

  it(`needs to lie ${SHARED_DEFAULTS.latencySigmas} of the baseline's window-to-window sds above it`, () => {
    // 150 above the mean: sd 37.5 is exactly 4 sds, 40 is fewer.
    expect(observe(window(900, 450), rate(37.5)).bad).toBe(true);
    expect(observe(window(900, 450), rate(40)).bad).toBe(false);
  });
});
