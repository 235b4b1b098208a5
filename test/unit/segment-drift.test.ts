// Drift per segment against the segment's own reference (ReferenceProfile.segments): built at
// registration from the reference rows of each segment with enough of them, measured by the monitor on
// the segment's window rows, and judged by the data_drift rule with Benjamini–Hochberg across segments.
import { describe, expect, it } from 'vitest';
import {
  measureWindowRows,
  WINDOW_SCHEMA,
  WINDOW_START_MS,
  windowReference,
  windowRows,
} from '../../lib/bench/window-rows.ts';
import { DEFAULT_DETECT_SETTINGS, detect, initialDetectorState } from '../../lib/brain/detect.ts';
import { segmentDrift } from '../../lib/brain/findings/data-drift.ts';
import { FINDING_RULES } from '../../lib/brain/findings/index.ts';
import type { DetectorState, SegmentWindow, WindowSummary } from '../../lib/brain/types.ts';
import {
  type ReferenceProfile,
  SEGMENT_REFERENCE_DEFAULTS,
  segmentReference,
  type WindowPrediction,
} from '../../lib/monitor/index.ts';
import { resolveSegments } from '../../lib/segments/definition.ts';
import { inSegment, type Segment } from '../../lib/segments/segment.ts';
import { Random } from '../../lib/sim/random.ts';
import { healthyWindow, segmentPart } from '../helpers/brain.ts';

const { segments } = resolveSegments(
  [{ by: 'c0' }, { name: 'large-x1', feature: 'x1', op: 'ge', value: 25 }],
  WINDOW_SCHEMA,
);

/** One window of `rows` measured against `reference` for `segments`. */
const measure = (
  reference: ReferenceProfile,
  rows: WindowPrediction[],
  seq = 1,
  withSegments: readonly Segment[] = segments,
): WindowSummary => measureWindowRows(reference, rows, seq, withSegments);

/** `count` rows from `fromMs`; in segment `c0=v1` only, x0 moved by `shift` (one sd is 10). */
function rowsShiftedIn(rng: Random, count: number, fromMs: number, shift: number): WindowPrediction[] {
  return [...windowRows(rng, count, 0, fromMs)].map((row) => {
    const x0 = row.features.x0 as number | null;
    return row.features.c0 === 'v1' && x0 !== null
      ? { ...row, features: { ...row.features, x0: x0 + shift } }
      : row;
  });
}

const part = (w: WindowSummary, name: string) => w.segments!.find((p) => p.name === name)!;

describe("a segment's own reference (lib/monitor/reference.ts)", () => {
  const rng = new Random(20_261_207);
  const rows = [...windowRows(rng, 4000, 0)];
  const reference = windowReference(rows, segments);

  it('profiles each segment on its own reference rows, with a smaller sample', () => {
    expect(reference.segments?.map((s) => s.segment.name)).toEqual(['c0=v0', 'c0=v1', 'c0=v2', 'large-x1']);
    for (const { segment, profile } of reference.segments!) {
      const own = rows.filter((r) => inSegment(r.features, segment));
      expect(profile.rows).toBe(own.length);
      const x2 = profile.features.find((f) => f.name === 'x2')!.distribution!;
      expect(x2.type === 'numeric' && x2.sample.length).toBe(
        Math.min(SEGMENT_REFERENCE_DEFAULTS.sampleSize, own.length),
      );
      expect(profile.segments).toBeUndefined();
    }
  });

  it(`gives no reference to a segment with fewer than ${SEGMENT_REFERENCE_DEFAULTS.minRows} reference rows`, () => {
    const small = windowReference(rows.slice(0, 700), segments);
    const counts = segments.map((s) => rows.slice(0, 700).filter((r) => inSegment(r.features, s)).length);
    expect(small.segments?.map((s) => s.segment.name)).toEqual(
      segments.filter((_, i) => counts[i]! >= SEGMENT_REFERENCE_DEFAULTS.minRows).map((s) => s.name),
    );
    expect(counts.some((n) => n < SEGMENT_REFERENCE_DEFAULTS.minRows)).toBe(true);
    expect(counts.some((n) => n >= SEGMENT_REFERENCE_DEFAULTS.minRows)).toBe(true);
  });

  it('matches a segment only as it was defined: redefined under the same name, it has none', () => {
    const large = segments.find((s) => s.name === 'large-x1')!;
    expect(segmentReference(reference, large)).not.toBeNull();
    expect(segmentReference(reference, { ...large, value: 30 })).toBeNull();
    expect(segmentReference(reference, { ...large, name: 'other' })).toBeNull();
  });

  it('reads a profile stored before segments had references: none, and the digest as before', () => {
    const { segments: _none, ...old } = reference;
    expect(segmentReference(old, segments[0]!)).toBeNull();
    const w = measure(old, rowsShiftedIn(new Random(3), 1000, WINDOW_START_MS + 3_600_000, 10));
    for (const p of w.segments!) {
      expect(p.driftReference).toBeUndefined();
      // Against the whole population the defining feature is left out of the digest.
      expect(p.drift?.name).not.toBe(p.name.startsWith('c0=') ? 'c0' : 'x1');
    }
    const observed = observe(w);
    expect(observed.evidence.segmentsJudged).toBeUndefined();
    expect(observed.evidence.segmentsDrifted).toBeUndefined();
  });
});

const observe = (w: WindowSummary, state: DetectorState = initialDetectorState()) =>
  FINDING_RULES.data_drift.observe({
    window: w,
    state,
    settings: DEFAULT_DETECT_SETTINGS,
    brokenFeatures: new Set(),
  });

describe('measuring and judging a segment against its own reference', () => {
  const rng = new Random(20_261_208);
  const reference = windowReference([...windowRows(rng, 4000, 0)], segments);
  const start = WINDOW_START_MS + 3_600_000;
  const shifted = measure(reference, rowsShiftedIn(rng, 1000, start, 10));

  it('finds a shift of one feature in one segment and names both, and says where the inputs moved', () => {
    const p = part(shifted, 'c0=v1');
    expect(p.driftReference).toBe('segment');
    expect(p.drift?.name).toBe('x0');
    expect(p.drift!.adjustedPValue!).toBeLessThan(1e-10);
    // Diluted in the whole window the same shift is a fifth of its PSI in the segment: the segment's
    // reference says where the inputs moved.
    const whole = shifted.drift!.find((d) => d.name === 'x0')!;
    expect(whole.psi).toBeLessThan(p.drift!.psi / 5);
    const observed = observe(shifted);
    expect(observed.bad).toBe(true);
    expect(observed.evidence.segmentsJudged).toBe(4);
    expect(observed.evidence.segmentsDrifted?.map((d) => [d.segment, d.name])).toEqual([['c0=v1', 'x0']]);
    expect(observed.summary).toMatch(/x0 in segment c0=v1/);
  });

  it('compares the defining feature like for like: it is judged and does not look shifted', () => {
    const w = measure(reference, [...windowRows(rng, 1000, 0, start)]);
    for (const p of w.segments!) {
      expect(p.featuresJudged).toBe(WINDOW_SCHEMA.length);
      expect(p.drift!.psi).toBeLessThan(DEFAULT_DETECT_SETTINGS.detection.minEffect.psi);
    }
  });

  it('confirms a data_drift finding naming the segment, without a performance impact (an alert, not a remedy)', () => {
    let state = initialDetectorState();
    let last: ReturnType<typeof detect> | null = null;
    for (let seq = 0; seq < 6; seq++) {
      const w = measure(reference, rowsShiftedIn(rng, 1000, start + seq * 3_600_000, 10), seq);
      last = detect(w, state);
      state = last.state;
    }
    const drift = last!.findings.find((f) => f.kind === 'data_drift')!;
    expect(drift.state).toBe('confirmed');
    expect(drift.evidence.segmentsDrifted?.[0]?.segment).toBe('c0=v1');
    // The segment's performance held: lib/brain/remedy-plans.ts judges such a drift an alert.
    expect(drift.impact).toBe('none');
  });

  it("leaves a segment whose performance fell to the segment rule: its drift is that failure's", () => {
    const state: DetectorState = {
      ...initialDetectorState(),
      segments: { 'c0=v1': { labelled: 1000, correct: 900, broken: true } },
    };
    const observed = FINDING_RULES.data_drift.observe({
      window: shifted,
      state,
      settings: DEFAULT_DETECT_SETTINGS,
      brokenFeatures: new Set(),
    });
    expect(observed.bad).toBe(true);
    const settled = detect(shifted, state).findings.find((f) => f.kind === 'data_drift');
    expect(settled?.evidence.segmentsDrifted ?? []).toEqual([]);
  });
});

describe('correcting across segments (Benjamini–Hochberg)', () => {
  const { alpha } = DEFAULT_DETECT_SETTINGS.detection;
  /** A segment part measured against its own reference whose most shifted feature has `p` (adjusted). */
  const drifted = (name: string, p: number, psi = 0.4): SegmentWindow => ({
    ...segmentPart(name, 0.9, 300),
    featuresJudged: 20,
    drift: { name: 'x0', test: 'kolmogorov_smirnov', statistic: 0.3, pValue: p, adjustedPValue: p, psi },
    driftReference: 'segment',
  });
  const windowOf = (parts: SegmentWindow[]) => healthyWindow(1, { segments: parts });

  it('flags a segment at p = 0.3·alpha among 3 and not among 20', () => {
    const p = 0.3 * alpha;
    const three = [drifted('s0', p), drifted('s1', 0.5, 0.01), drifted('s2', 0.6, 0.01)];
    expect(segmentDrift(windowOf(three), DEFAULT_DETECT_SETTINGS, new Set()).drifted).toHaveLength(1);
    const twenty = [
      drifted('s0', p),
      ...Array.from({ length: 19 }, (_, i) => drifted(`s${i + 1}`, 0.5, 0.01)),
    ];
    const r = segmentDrift(windowOf(twenty), DEFAULT_DETECT_SETTINGS, new Set());
    expect(r.judged).toBe(20);
    expect(r.drifted).toEqual([]);
  });

  it('needs the effect gate too: significance alone is not drift', () => {
    const tiny = drifted('s0', 1e-12, 0.01);
    tiny.drift = { ...tiny.drift!, statistic: 0.01 };
    expect(segmentDrift(windowOf([tiny]), DEFAULT_DETECT_SETTINGS, new Set()).drifted).toEqual([]);
  });

  it('judges no routed segment, none with too few rows, none whose feature is broken', () => {
    const routed = { ...drifted('s0', 1e-12), routed: true };
    const small = { ...drifted('s1', 1e-12), count: DEFAULT_DETECT_SETTINGS.minRows - 1 };
    const broken = drifted('s2', 1e-12);
    const r = segmentDrift(windowOf([routed, small, broken]), DEFAULT_DETECT_SETTINGS, new Set(['x0']));
    expect(r).toEqual({ judged: 0, drifted: [] });
  });
});

describe('stationary segments', () => {
  it('flags no segment over 30 stationary windows of 9 segments judged against their own references', () => {
    const rng = new Random(20_261_209);
    const { segments: nine } = resolveSegments([{ by: 'c0' }, { by: 'c1' }, { by: 'b1' }], WINDOW_SCHEMA);
    const reference = windowReference([...windowRows(rng, 4000, 0)], nine);
    let judged = 0;
    for (let seq = 0; seq < 30; seq++) {
      const rows = [...windowRows(rng, 600, 0, WINDOW_START_MS + (seq + 1) * 3_600_000)];
      const r = segmentDrift(measure(reference, rows, seq, nine), DEFAULT_DETECT_SETTINGS, new Set());
      judged += r.judged;
      expect(r.drifted).toEqual([]);
    }
    expect(judged).toBe(30 * 9);
  }, 60_000);
});
