// The stale_data rule (lib/brain/findings/stale-data.ts) at its boundaries: silence before and after the
// first traffic, gaps against the reference's arrival rate, labels that stop or come late (each test and
// its threshold), and the margins decide reads of each.
import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECT_SETTINGS, initialDetectorState } from '../../lib/brain/detect.ts';
import { STALE_DATA_DEFAULTS, staleData, trafficStopped } from '../../lib/brain/findings/stale-data.ts';
import type { DetectorState, FindingOf, WindowSummary } from '../../lib/brain/types.ts';
import { DEFAULT_POLICY } from '../../lib/policy/defaults.ts';
import { healthyWindow } from '../helpers/brain.ts';

const settings = DEFAULT_DETECT_SETTINGS;
const FACTOR = settings.detection.staleGapFactor;

/** A detector that has seen traffic, with a baseline of 0.9 labels per prediction arriving within 150 s. */
function seen(over: Partial<DetectorState> = {}): DetectorState {
  const steady = (mean: number) => ({ n: 10, mean, meanSq: mean * mean });
  return {
    ...initialDetectorState(),
    trafficSeen: true,
    baselines: { labelShare: steady(0.9), labelDelayP95: steady(150) },
    ...over,
  };
}

const observe = (window: WindowSummary, state: DetectorState = seen()) =>
  staleData.observe({ window, state, settings, brokenFeatures: new Set() });
const asFinding = (o: ReturnType<typeof observe>) =>
  ({ ...o, state: 'confirmed' }) as FindingOf<'stale_data'>;
const healthy = (over: Partial<WindowSummary> = {}) => healthyWindow(4, over);

describe('silence', () => {
  it('before any traffic is not judged; once traffic has flowed it is traffic stopped', () => {
    const empty = healthy({ count: 0, labelled: 0, accuracy: null });
    expect(observe(empty, { ...initialDetectorState(), trafficSeen: false })).toEqual({
      kind: 'stale_data',
      judged: false,
      bad: false,
      severity: 'info',
      summary: 'no traffic has arrived yet',
      evidence: { window: 4, count: 0, gapRatio: 2, longestGapRatio: 6 },
    });
    const stopped = observe(empty);
    expect(stopped).toMatchObject({
      judged: true,
      bad: true,
      severity: 'warning',
      summary: 'no predictions arrived in the window',
    });
    expect(trafficStopped(asFinding(stopped))).toBe(true);
    expect(staleData.margins(asFinding(stopped), DEFAULT_POLICY)).toEqual([Number.POSITIVE_INFINITY]);
  });
});

describe('gaps', () => {
  const gap = (gapRatio: number, longestGapRatio: number, source: 'reference' | 'window' = 'reference') =>
    observe(healthy({ gapRatio, longestGapRatio, usualArrivalSource: source }));

  it(`stop traffic at ${FACTOR}× the reference's time between arrivals, by the mean or the longest gap`, () => {
    expect(gap(FACTOR, 1)).toMatchObject({
      bad: true,
      severity: 'warning',
      summary: `traffic stopped: a gap of ${FACTOR}× the usual time between arrivals`,
      evidence: { test: 'gap_ratio' },
    });
    expect(gap(1, FACTOR).bad).toBe(true);
    expect(gap(FACTOR - 0.01, FACTOR - 0.01).bad).toBe(false);
    expect(trafficStopped(asFinding(gap(FACTOR, 1)))).toBe(true);
    expect(staleData.margins(asFinding(gap(2 * FACTOR, 1)), DEFAULT_POLICY)).toEqual([2]);
  });

  it("are not judged against a window's own arrivals (batches make their gaps zero)", () => {
    expect(gap(3 * FACTOR, 3 * FACTOR, 'window').bad).toBe(false);
  });
});

describe('labels', () => {
  // 500 predictions a window; the baseline is 0.9 labels per prediction.
  it('fewer than half the usual share, and significantly fewer, are labels that stopped', () => {
    const few = observe(healthy({ labelled: 200, accuracy: 0.9 }));
    expect(few).toMatchObject({
      bad: true,
      severity: 'warning',
      summary: 'labels are not coming back: 40 % of the usual 90 % per prediction',
      evidence: { test: 'label_arrival_share_z', labelShare: 0.4, baselineLabelShare: 0.9 },
    });
    expect(trafficStopped(asFinding(few))).toBe(false);
    const [m] = staleData.margins(asFinding(few), DEFAULT_POLICY);
    // 1 − 0.4/0.9 of the 0.5 minimum effect, and z (≈ 37) over 3: the smaller.
    expect(m).toBeCloseTo((1 - 0.4 / 0.9) / (1 - STALE_DATA_DEFAULTS.labelStaleShare), 6);
    // Exactly half the usual share is not fewer than half.
    expect(observe(healthy({ labelled: 225, accuracy: 0.9 })).bad).toBe(false);
  });

  it('labels are judged only in windows of at least window.minRows predictions', () => {
    const tiny = healthy({ count: settings.minRows - 1, labelled: 0, accuracy: null });
    expect(observe(tiny).bad).toBe(false);
    const atFloor = healthy({ count: settings.minRows, labelled: 0, accuracy: null });
    expect(observe(atFloor).bad).toBe(true);
  });

  it('labels arriving elsewhere (the fallback’s answers) count as labels that arrive', () => {
    expect(observe(healthy({ labelled: 0, accuracy: null, labelledElsewhere: 450 })).bad).toBe(false);
  });

  it(`a p95 delay ${STALE_DATA_DEFAULTS.labelDelayFactor}× the usual is labels that come late`, () => {
    const late = observe(healthy({ labelDelayP95Seconds: 750 }));
    expect(late).toMatchObject({
      bad: true,
      summary: 'labels come back late: p95 delay 750 s against 150 s',
      evidence: { test: 'label_delay_ratio', labelDelayP95Seconds: 750, baselineLabelDelayP95Seconds: 150 },
    });
    expect(staleData.margins(asFinding(late), DEFAULT_POLICY)).toEqual([1]);
    expect(observe(healthy({ labelDelayP95Seconds: 749 })).bad).toBe(false);
    // Without a delay in the window, or without a baseline of delays, lateness is not judged.
    expect(observe(healthy({ labelDelayP95Seconds: null })).bad).toBe(false);
    const noDelayBaseline = seen({ baselines: { labelShare: { n: 10, mean: 0.9, meanSq: 0.81 } } });
    expect(observe(healthy({ labelDelayP95Seconds: 10_000 }), noDelayBaseline).bad).toBe(false);
  });

  it('without a baseline of label shares (too few windows, or a model that never had labels) nothing is judged', () => {
    const young = seen({ baselines: { labelShare: { n: 1, mean: 0.9, meanSq: 0.81 } } });
    expect(observe(healthy({ labelled: 0, accuracy: null }), young).bad).toBe(false);
    const unlabelled = seen({ baselines: { labelShare: { n: 10, mean: 0, meanSq: 0 } } });
    expect(observe(healthy({ labelled: 0, accuracy: null }), unlabelled).bad).toBe(false);
    expect(observe(healthy({ labelled: 0, accuracy: null }), seen({ baselines: undefined })).bad).toBe(false);
  });

  it('a healthy window says predictions and labels are arriving', () => {
    expect(observe(healthy())).toEqual({
      kind: 'stale_data',
      judged: true,
      bad: false,
      severity: 'warning',
      summary: 'predictions and labels are arriving',
      evidence: { window: 4, count: 500, gapRatio: 2, longestGapRatio: 6 },
    });
  });
});

it('has no verification baseline and holds until the inputs clear: no served answer shows traffic coming back', () => {
  expect(staleData.verificationBaseline(seen(), healthy(), asFinding(observe(healthy())))).toBeNull();
  expect(staleData.holdUntil).toBe('inputs-clear');
});
