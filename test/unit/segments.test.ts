// Segments: membership, resolution against a schema, and measurement — each segment's part of a window
// is what the monitor measures on the segment's rows alone, so a fault in one segment shows there and
// not in the others.
import { describe, expect, it } from 'vitest';
import { WINDOW_SCHEMA, WINDOW_START_MS, windowReference, windowRows } from '../../lib/bench/window-rows.ts';
import { baselineFor } from '../../lib/brain/baseline.ts';
import { DEFAULT_DETECT_SETTINGS, detect, initialDetectorState } from '../../lib/brain/detect.ts';
import { FINDING_RULES, findingOf } from '../../lib/brain/findings/index.ts';
import { SEGMENT_DEFAULTS, withRoutes } from '../../lib/brain/findings/segment.ts';
import type { DetectorState, WindowSummary } from '../../lib/brain/types.ts';
import type { Task } from '../../lib/domain.ts';
import type { ReferenceProfile, WindowPrediction } from '../../lib/monitor/index.ts';
import { measureWindow } from '../../lib/monitor/measure.ts';
import { DEFAULT_POLICY } from '../../lib/policy/policy.ts';
import { resolveSegments } from '../../lib/segments/definition.ts';
import { inSegment, type Segment, segmentsOf } from '../../lib/segments/segment.ts';
import { Random } from '../../lib/sim/random.ts';
import { benjaminiHochberg } from '../../lib/stats/multiple-testing.ts';
import { healthyWindow, regressionSegmentPart, segmentPart } from '../helpers/brain.ts';

describe('segment membership', () => {
  const large: Segment = { name: 'large', feature: 'amount', op: 'gt', value: 100 };
  const notWeb: Segment = { name: 'not-web', feature: 'channel', op: 'ne', value: 'web' };

  it('compares the feature with the value', () => {
    expect(inSegment({ amount: 101 }, large)).toBe(true);
    expect(inSegment({ amount: 100 }, large)).toBe(false);
    expect(inSegment({ amount: 100 }, { ...large, op: 'ge' })).toBe(true);
    expect(inSegment({ amount: 99 }, { ...large, op: 'lt' })).toBe(true);
    expect(inSegment({ amount: 100 }, { ...large, op: 'le' })).toBe(true);
    expect(inSegment({ channel: 'app' }, notWeb)).toBe(true);
    expect(inSegment({ channel: 'web' }, notWeb)).toBe(false);
  });

  it('puts a row without the value in no segment, not even a ne one', () => {
    expect(inSegment({ channel: null }, notWeb)).toBe(false);
    expect(inSegment({}, notWeb)).toBe(false);
    expect(inSegment({ amount: 'many' }, large)).toBe(false);
  });

  it('names every segment a row belongs to, in order', () => {
    expect(segmentsOf({ amount: 500, channel: 'app' }, [large, notWeb])).toEqual(['large', 'not-web']);
  });
});

describe('resolving definitions', () => {
  it('makes one segment per value of a boolean or categorical feature', () => {
    const { segments, issues } = resolveSegments([{ by: 'b0' }, { by: 'c0' }], WINDOW_SCHEMA);
    expect(issues).toEqual([]);
    expect(segments.map((s) => s.name)).toEqual(['b0=true', 'b0=false', 'c0=v0', 'c0=v1', 'c0=v2']);
    expect(segments[3]).toEqual({ name: 'c0=v1', feature: 'c0', op: 'eq', value: 'v1' });
  });
});

/**
 * One window of `arrivals` (labelled in it: the rows with a label) measured for `model`
 * from `startAt` to 10 minutes after `all`'s last row, so a subset of the rows is measured over the same span.
 */
function measureRows(
  model: { task: Task; labels: string[] | null; reference: ReferenceProfile | null; startAt: Date },
  all: readonly WindowPrediction[],
  arrivals: WindowPrediction[],
  segments: readonly Segment[] = [],
) {
  return measureWindow({
    ...model,
    seq: 1,
    schema: WINDOW_SCHEMA,
    previousArrival: null,
    endAt: new Date(all.at(-1)!.receivedAt.getTime() + 600_000),
    minRows: 30,
    arrivals,
    labelledInWindow: arrivals.filter((r) => r.label !== null),
    segments,
  });
}

describe('measuring a window per segment', () => {
  const rng = new Random(20_261_207);
  const reference = windowReference([...windowRows(rng, 4000, 0)]);
  const { segments } = resolveSegments([{ by: 'c0' }], WINDOW_SCHEMA);
  const broken = 'c0=v1';
  /** In segment c0=v1 only: x0 arrives in other units (×1000) and the model answers it wrongly. */
  const breakRow = (row: WindowPrediction): WindowPrediction => {
    if (row.features.c0 !== 'v1' || row.label === null) return row;
    const x0 = row.features.x0 as number | null;
    const wrong = row.label.value === '1' ? '0' : '1';
    return {
      ...row,
      features: { ...row.features, x0: x0 === null ? null : x0 * 1000 },
      output: { prediction: wrong, probabilities: { [wrong]: 0.9, [row.label.value]: 0.1 } },
      confidence: 0.9,
    };
  };
  const rows = [...windowRows(rng, 6000, 0, WINDOW_START_MS + 3_600_000)].map(breakRow);
  const model = {
    task: 'binary' as const,
    labels: ['0', '1'],
    reference,
    startAt: new Date(WINDOW_START_MS + 3_600_000),
  };
  const measure = (arrivals: WindowPrediction[], withSegments: readonly Segment[] = []) =>
    measureRows(model, rows, arrivals, withSegments).summary;
  const whole = measure(rows, segments);

  it('gives each segment the figures the monitor measures on its rows alone', () => {
    expect(whole.segments?.map((s) => s.name)).toEqual(['c0=v0', 'c0=v1', 'c0=v2']);
    for (const segment of segments) {
      const alone = measure(rows.filter((r) => inSegment(r.features, segment)));
      const part = whole.segments!.find((s) => s.name === segment.name)!;
      expect(part).toEqual({
        name: segment.name,
        count: alone.count,
        labelled: alone.labelled,
        correct: alone.correct,
        accuracy: alone.accuracy,
        rmse: null,
        featuresJudged: alone.featuresJudged,
        // The feature that defines the segment is the one every segment differs in from the reference.
        drift: alone.drift!.find((d) => d.name !== 'c0'),
        predictionPsi: alone.predictionPsi,
      });
      expect(part.count).toBeGreaterThan(100);
    }
    expect(whole.segments!.reduce((n, s) => n + s.count, 0)).toBe(whole.count);
  });

  it('shows a fault of one segment in that segment only', () => {
    const part = (name: string) => whole.segments!.find((s) => s.name === name)!;
    expect(part(broken).accuracy).toBe(0);
    expect(part(broken).drift?.name).toBe('x0');
    expect(part(broken).drift?.psi).toBeGreaterThan(1);
    for (const healthy of ['c0=v0', 'c0=v2']) {
      expect(part(healthy).accuracy).toBeGreaterThan(0.6);
      expect(part(healthy).drift?.psi ?? 0).toBeLessThan(0.5);
    }
  });

  it('adds nothing to a window of a model without segments', () => {
    expect(measure(rows).segments).toBeUndefined();
  });
});

describe('judging segments (lib/brain/findings/segment.ts)', () => {
  const parts = (accuracies: number[], labelled = 150) =>
    accuracies.map((accuracy, i) => segmentPart(`s${i}`, accuracy, labelled));
  /** Six healthy windows, then `then` twice; the findings and state after each. */
  const run = (healthy: number[], then: number[]) => {
    let state = initialDetectorState();
    const seen: ReturnType<typeof detect>[] = [];
    for (let seq = 0; seq < 8; seq++) {
      const r = detect(healthyWindow(seq, { segments: parts(seq < 6 ? healthy : then) }), state);
      state = r.state;
      seen.push(r);
    }
    return seen;
  };
  const segmentFinding = (r: ReturnType<typeof detect>) => r.findings.find((f) => f.kind === 'segment');

  it('finds the one segment that fell, names it, and leaves the others alone', () => {
    const seen = run([0.9, 0.9, 0.9], [0.9, 0.5, 0.9]);
    expect(segmentFinding(seen[5]!)).toBeUndefined();
    expect(segmentFinding(seen[6]!)?.state).toBe('suspect');
    const f = findingOf(seen[7]!.findings, 'segment')!;
    expect(f.state).toBe('confirmed');
    expect(f.evidence.segment).toBe('s1');
    expect(f.summary).toMatch(/^segment s1: accuracy 0\.500 against its 0\.900/);
    expect(f.evidence.tests.filter((t) => t.broken).map((t) => t.name)).toEqual(['s1']);
    // The fallen window did not join its baseline; the healthy segments' windows did.
    expect(seen[7]!.state.segments!.s1).toEqual({ ...seen[5]!.state.segments!.s1, broken: true });
    expect(seen[7]!.state.segments!.s0!.labelled).toBe(8 * 150);
  });

  it('corrects across segments: a fall found among 3 segments is not one among 20 (Benjamini–Hochberg)', () => {
    const observe = (count: number) => {
      const names = Array.from({ length: count }, (_, i) => `s${i}`);
      const state = {
        ...initialDetectorState(),
        segments: Object.fromEntries(names.map((n) => [n, { labelled: 2000, correct: 1800 }])),
      };
      // s0 falls from 0.90 to 0.82 (a drop past minEffect 0.05); every other segment holds at 0.90.
      const window = healthyWindow(9, { segments: parts(names.map((_, i) => (i === 0 ? 0.82 : 0.9))) });
      const settings = DEFAULT_DETECT_SETTINGS;
      return FINDING_RULES.segment.observe({ window, state, settings, brokenFeatures: new Set() });
    };
    const { alpha } = DEFAULT_DETECT_SETTINGS.detection;
    const alone = observe(3);
    const s0 = alone.evidence.tests.find((t) => t.name === 's0')!;
    expect(s0.pValue).toBeLessThan(alpha);
    expect(alone.bad).toBe(true);
    const among = observe(20);
    const byName = [...among.evidence.tests].sort(
      (a, b) => Number(a.name.slice(1)) - Number(b.name.slice(1)),
    );
    const adjusted = benjaminiHochberg(byName.map((t) => t.pValue));
    for (const [i, t] of byName.entries()) expect(t.adjustedPValue).toBeCloseTo(adjusted[i]!, 12);
    expect(byName[0]!.pValue).toBeCloseTo(s0.pValue, 12);
    expect(byName[0]!.adjustedPValue).toBeGreaterThan(alpha);
    expect(among.bad).toBe(false);
  });

  it('flags no segment by chance alone more often than alpha allows, across 20 segments', () => {
    const rng = new Random(7);
    let state = initialDetectorState();
    let bad = 0;
    let judged = 0;
    for (let seq = 0; seq < 300; seq++) {
      const segments = Array.from({ length: 20 }, (_, i) => {
        let correct = 0;
        for (let k = 0; k < 100; k++) if (rng.bernoulli(0.85)) correct++;
        return {
          ...parts([0])[0]!,
          name: `s${i}`,
          count: 100,
          labelled: 100,
          correct,
          accuracy: correct / 100,
        };
      });
      const obs = FINDING_RULES.segment.observe({
        window: healthyWindow(seq, { segments }),
        state,
        settings: DEFAULT_DETECT_SETTINGS,
        brokenFeatures: new Set(),
      });
      if (obs.judged) judged++;
      if (obs.bad) bad++;
      state = detect(healthyWindow(seq, { segments }), state).state;
    }
    expect(judged).toBeGreaterThan(250);
    // Benjamini–Hochberg at alpha 0.01 over 20 null segments: at most about 1 % of windows flag one.
    expect(bad / judged).toBeLessThan(0.02);
  });

  it('keeps a broken segment suspect through windows with too few of its rows to judge', () => {
    const seen = run([0.9, 0.9, 0.9], [0.9, 0.5, 0.9]);
    const thin = healthyWindow(8, {
      segments: [segmentPart('s0', 0.9), segmentPart('s1', 0.9, 10), segmentPart('s2', 0.9)],
    });
    const next = detect(thin, seen[6]!.state);
    expect(segmentFinding(next)?.state).toBe('suspect');
    expect(segmentFinding(next)?.summary).toBe('segment s1 has too few labelled rows to judge again');
  });

  it('judges a segment the fallback answers no more: its finding clears, its baseline and broken flag wait', () => {
    const seen = run([0.9, 0.9, 0.9], [0.9, 0.5, 0.9]);
    let state = seen[7]!.state;
    let last = seen[7]!;
    // The route stands: the window still carries s1's few production rows, however bad, marked routed.
    for (let seq = 8; seq < 11; seq++) {
      const window = withRoutes(healthyWindow(seq, { segments: parts([0.9, 0.3, 0.9]) }), ['s1']);
      last = detect(window, state);
      state = last.state;
    }
    expect(findingOf(last.findings, 'segment')).toBeUndefined();
    expect(state.segments!.s1).toEqual(seen[7]!.state.segments!.s1);
    const observed = FINDING_RULES.segment.observe({
      window: withRoutes(healthyWindow(11, { segments: parts([0.9, 0.3, 0.9]) }), ['s1']),
      state,
      settings: DEFAULT_DETECT_SETTINGS,
      brokenFeatures: new Set(),
    });
    expect(observed.evidence.routed).toEqual(['s1']);
    expect(observed.evidence.tests.map((t) => t.name)).toEqual(['s0', 's2']);
    // Lifted, the segment is judged again, from its pre-failure baseline.
    const lifted = detect(healthyWindow(11, { segments: parts([0.9, 0.3, 0.9]) }), state);
    expect(findingOf(lifted.findings, 'segment')?.evidence.segment).toBe('s1');
  });

  it("verifies a segment incident against the named segment's own healthy level", () => {
    const seen = run([0.9, 0.7, 0.9], [0.9, 0.2, 0.9]);
    const finding = findingOf(seen[7]!.findings, 'segment')!;
    expect(baselineFor('segment', seen[5]!.state, null, finding)).toEqual({
      metric: 'accuracy',
      value: 0.7,
      rows: 900,
      segment: 's1',
    });
    expect(baselineFor('segment', seen[5]!.state, null)).toBeNull();
  });

  it('leaves a fall of most segments to the whole-window rules', () => {
    const seen = run([0.9, 0.9, 0.9], [0.5, 0.5, 0.9]);
    expect(segmentFinding(seen[7]!)).toBeUndefined();
  });

  it('leaves a fall to the whole model when the segments not found broken, pooled, fell too', () => {
    // Every segment fell: s0 far enough to be found alone, the six others each too little to be found
    // among seven (0.84 on 150 rows against 0.9) — but pooled, 900 rows at 0.84 are a fall.
    const seen = run([0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9], [0.6, 0.84, 0.84, 0.84, 0.84, 0.84, 0.84]);
    expect(segmentFinding(seen[7]!)).toBeUndefined();
    const observed = FINDING_RULES.segment.observe({
      window: healthyWindow(8, { segments: parts([0.6, 0.84, 0.84, 0.84, 0.84, 0.84, 0.84]) }),
      state: seen[5]!.state,
      settings: DEFAULT_DETECT_SETTINGS,
      brokenFeatures: new Set(),
    });
    expect(observed.judged).toBe(false);
    expect(observed.summary).toMatch(/^the other segments fell too \(pooled: adjusted p /);
    expect(observed.evidence.tests.filter((t) => t.broken).map((t) => t.name)).toEqual(['s0']);
    expect(observed.evidence.othersPooled).toMatchObject({ name: 'others', labelled: 900, accuracy: 0.84 });
    // The same s0 among segments that held is a segment's failure.
    const confined = run([0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9], [0.6, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]);
    expect(findingOf(confined[7]!.findings, 'segment')?.evidence.segment).toBe('s0');
  });

  it('judges no segment without its own baseline or enough labelled rows', () => {
    const first = detect(healthyWindow(0, { segments: parts([0.5, 0.9]) }), initialDetectorState());
    expect(first.findings.find((f) => f.kind === 'segment')).toBeUndefined();
    let state = initialDetectorState();
    for (let seq = 0; seq < 6; seq++)
      state = detect(healthyWindow(seq, { segments: parts([0.9, 0.9]) }), state).state;
    const few = FINDING_RULES.segment.observe({
      window: healthyWindow(6, { segments: parts([0.9, 0.2], 20) }),
      state,
      settings: DEFAULT_DETECT_SETTINGS,
      brokenFeatures: new Set(),
    });
    expect(few.judged).toBe(false);
    expect(few.evidence.untested).toEqual(['s0', 's1']);
  });
});

// One window observed against baselines given outright: the rule's gates and what it writes, edge by edge.
describe('the segment rule on one window', () => {
  const judge = (
    segments: WindowSummary['segments'],
    baselines: DetectorState['segments'],
    over: Partial<WindowSummary> = {},
  ) =>
    FINDING_RULES.segment.observe({
      window: healthyWindow(9, { segments, ...over }),
      state: { ...initialDetectorState(), segments: baselines },
      settings: DEFAULT_DETECT_SETTINGS,
      brokenFeatures: new Set(),
    });
  const base = (labelled = 1000, accuracy = 0.9) => ({ labelled, correct: Math.round(labelled * accuracy) });
  const bases = (...names: string[]) => Object.fromEntries(names.map((n) => [n, base()]));

  it('is not judged on a model without segments', () => {
    const notJudged = {
      kind: 'segment',
      judged: false,
      bad: false,
      severity: 'warning',
      summary: 'the model has no segments',
      evidence: { window: 9, segment: null, tests: [], untested: [] },
    };
    expect(judge(undefined, undefined)).toEqual(notJudged);
    expect(judge([], undefined)).toEqual(notJudged);
  });

  it('tests a segment from window.minRows labelled rows and a baseline of segmentBaselineRows (200)', () => {
    const o = judge(
      [segmentPart('a', 0.9, 30), segmentPart('b', 0.9, 29), segmentPart('c', 0.9), segmentPart('d', 0.9)],
      { a: base(), b: base(), c: base(200), d: base(199) },
    );
    expect(o.evidence.tests.map((t) => t.name).sort()).toEqual(['a', 'c']);
    expect(o.evidence.untested).toEqual(['b', 'd']);
    expect(judge([segmentPart('a', 0.9, 29)], { a: base() })).toMatchObject({
      judged: false,
      summary: 'no segment has enough labelled rows and a baseline yet',
    });
  });

  it('holds when no segment fell: judged, info, every tested segment with its one-sided test', () => {
    const o = judge([segmentPart('a', 0.9), segmentPart('b', 0.9), segmentPart('new', 0.9)], bases('a', 'b'));
    expect(o).toMatchObject({
      kind: 'segment',
      judged: true,
      bad: false,
      severity: 'info',
      summary: '2 segments hold their accuracy',
    });
    expect(o.evidence.untested).toEqual(['new']);
    expect(o.evidence.tests[0]).toMatchObject({
      metric: 'accuracy',
      accuracy: 0.9,
      baselineAccuracy: 0.9,
      drop: 0,
    });
  });

  it('reads a rise of the error rate one-sided: a segment better than its baseline has p above ½', () => {
    const o = judge([segmentPart('better', 0.97), segmentPart('worse', 0.85)], bases('better', 'worse'));
    const test = (name: string) => o.evidence.tests.find((t) => t.name === name)!;
    expect(test('better').pValue).toBeGreaterThan(0.5);
    expect(test('worse').pValue).toBeLessThan(0.5);
    expect(test('worse')).toMatchObject({ metric: 'accuracy', drop: expect.closeTo(0.9 - 128 / 150, 12) });
    // Most significant first.
    expect(o.evidence.tests.map((t) => t.name)).toEqual(['worse', 'better']);
  });

  it('orders segments of equal significance by name', () => {
    const o = judge(
      [segmentPart('b', 0.9), segmentPart('a', 0.9), segmentPart('c', 0.9)],
      bases('a', 'b', 'c'),
    );
    expect(o.evidence.tests.map((t) => t.name)).toEqual(['a', 'b', 'c']);
  });

  it('finds one of two segments fallen (half is not most), and names the others that fell too', () => {
    const two = judge([segmentPart('a', 0.5), segmentPart('b', 0.9)], bases('a', 'b'));
    expect(two).toMatchObject({ judged: true, bad: true, evidence: { segment: 'a' } });
    const five = judge(
      ['a', 'b', 'c', 'd', 'e'].map((n, i) => segmentPart(n, i < 2 ? 0.5 : 0.9)),
      bases('a', 'b', 'c', 'd', 'e'),
    );
    expect(five.summary).toMatch(/ \(1 more segments fell too\)$/);
    expect(two.summary).not.toMatch(/more segments/);
    const most = judge(
      [segmentPart('a', 0.5), segmentPart('b', 0.5), segmentPart('c', 0.9)],
      bases('a', 'b', 'c'),
    );
    expect(most).toMatchObject({
      judged: false,
      summary: "2 of 3 segments fell: the whole model's failure, not a segment's",
    });
  });

  it('does not blame the whole model for a fall of the others when none was found broken', () => {
    // Each of the seven down by 0.06 on 100 rows (one-sided p ≈ 0.03), none found alone: pooled, 700 rows
    // fell by more than the minimum, but with no broken segment there is nothing to leave to the
    // whole-window rules — the segments hold.
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const o = judge(
      names.map((n) => segmentPart(n, 0.84, 100)),
      bases(...names),
    );
    expect(o).toMatchObject({ judged: true, bad: false, summary: '7 segments hold their accuracy' });
  });

  it('is critical when the fallen segment is below the accuracy floor', () => {
    expect(judge([segmentPart('a', 0.4), segmentPart('b', 0.9)], bases('a', 'b')).severity).toBe('critical');
    expect(judge([segmentPart('a', 0.6), segmentPart('b', 0.9)], bases('a', 'b')).severity).toBe('warning');
  });

  it('waits for a segment found broken to be judged again, beside segments without a baseline', () => {
    const o = judge([segmentPart('a', 0.9, 10), segmentPart('b', 0.9), segmentPart('new', 0.9)], {
      a: { ...base(), broken: true },
      b: base(),
    });
    expect(o).toMatchObject({ judged: false, summary: 'segment a has too few labelled rows to judge again' });
  });

  it('weighs a broken segment by its drop and adjusted p-value (margins), and no other', () => {
    const o = judge([segmentPart('a', 0.5), segmentPart('b', 0.9)], bases('a', 'b'));
    const finding = { kind: 'segment', evidence: o.evidence } as Parameters<
      typeof FINDING_RULES.segment.margins
    >[0];
    const margins = FINDING_RULES.segment.margins(finding, DEFAULT_POLICY);
    expect(margins).toHaveLength(1);
    const a = o.evidence.tests.find((t) => t.name === 'a')!;
    expect(margins[0]).toBeCloseTo(
      Math.min((0.9 - 0.5) / 0.05, Math.log(a.adjustedPValue) / Math.log(0.01)),
      9,
    );
  });
});

describe('judging segments of a regressor (mean squared error against its own baseline)', () => {
  /** A regressor's window: whole-window RMSE steady, the segments as given. */
  const regressionWindow = (seq: number, segments: NonNullable<WindowSummary['segments']>) =>
    healthyWindow(seq, {
      task: 'regression',
      accuracy: null,
      correct: 0,
      rmse: 1,
      referenceRmse: 1,
      estimatedAccuracy: null,
      estimateTrustworthy: false,
      segments,
    });
  /** Segments s0… with error sds `sds`, `rows` labelled rows each. */
  const parts = (rng: Random, sds: number[], rows = 150) =>
    sds.map((sd, i) => regressionSegmentPart(`s${i}`, rng, { rows, sd }));
  /** Six healthy windows, then `then` twice; the detect results of each. */
  const run = (healthy: number[], then: number[], seed = 11) => {
    const rng = new Random(seed);
    let state = initialDetectorState();
    const seen: ReturnType<typeof detect>[] = [];
    for (let seq = 0; seq < 8; seq++) {
      const r = detect(regressionWindow(seq, parts(rng, seq < 6 ? healthy : then)), state);
      state = r.state;
      seen.push(r);
    }
    return seen;
  };
  const observe = (window: WindowSummary, state: DetectorState) =>
    FINDING_RULES.segment.observe({
      window,
      state,
      settings: DEFAULT_DETECT_SETTINGS,
      brokenFeatures: new Set(),
    });

  it('finds the one segment whose RMSE rose, names it, and leaves the others alone', () => {
    const seen = run([1, 1, 1, 1], [1, 1.6, 1, 1]);
    expect(seen.slice(0, 6).every((r) => findingOf(r.findings, 'segment') === undefined)).toBe(true);
    expect(findingOf(seen[6]!.findings, 'segment')?.state).toBe('suspect');
    const f = findingOf(seen[7]!.findings, 'segment')!;
    expect(f.state).toBe('confirmed');
    expect(f.evidence.segment).toBe('s1');
    expect(f.summary).toMatch(/^segment s1: RMSE 1\.[4-8]\d against its (0\.9|1\.0)\d \(adjusted p /);
    expect(f.evidence.tests.filter((t) => t.broken).map((t) => t.name)).toEqual(['s1']);
    const s1 = f.evidence.tests.find((t) => t.name === 's1')!;
    expect(s1.metric).toBe('rmse');
    if (s1.metric !== 'rmse') return;
    expect(s1.rise).toBeGreaterThan(DEFAULT_DETECT_SETTINGS.detection.minEffect.errorIncrease);
    // The risen windows did not join s1's baseline; the steady segments' windows joined theirs.
    expect(seen[7]!.state.segments!.s1).toEqual({ ...seen[5]!.state.segments!.s1, broken: true });
    expect(seen[7]!.state.segments!.s0!.labelled).toBe(8 * 150);
    expect(seen[7]!.state.segments!.s0!.squaredErrors!.n).toBe(8 * 150);
  });

  it('flags no segment of a stationary regressor more often than alpha allows, across 20 segments', () => {
    // Normal errors, and Student's t(5) errors, whose squared errors have the heavy right tail a
    // variance-ratio (F) test would take for a rise.
    for (const df of [undefined, 5]) {
      const rng = new Random(df ?? 3);
      let state = initialDetectorState();
      let bad = 0;
      let judged = 0;
      let tested = 0;
      let rawBelowAlpha = 0;
      for (let seq = 0; seq < 300; seq++) {
        const segments = Array.from({ length: 20 }, (_, i) =>
          regressionSegmentPart(`s${i}`, rng, { rows: 100, sd: 1 + i / 10, ...(df ? { df } : {}) }),
        );
        const window = regressionWindow(seq, segments);
        const obs = observe(window, state);
        if (obs.judged) judged++;
        if (obs.bad) bad++;
        tested += obs.evidence.tests.length;
        rawBelowAlpha += obs.evidence.tests.filter(
          (t) => t.pValue < DEFAULT_DETECT_SETTINGS.detection.alpha,
        ).length;
        state = detect(window, state).state;
      }
      expect(judged).toBeGreaterThan(250);
      const label = `errors ${df ? `t(${df})` : 'normal'}`;
      // Each segment's own one-sided test holds its level (Welch's t on right-skewed squared errors errs
      // on the safe side: 0.2 % and 0.02 % of segments below alpha on these seeds)...
      expect(rawBelowAlpha / tested, label).toBeLessThan(DEFAULT_DETECT_SETTINGS.detection.alpha);
      // ...and across 20 of them Benjamini–Hochberg keeps windows with a flagged segment about as rare.
      expect(bad / judged, label).toBeLessThan(0.02);
    }
  });

  it('corrects across segments: one rise found among 3 segments is not one among 20 (Benjamini–Hochberg)', () => {
    const baseline = {
      labelled: 4000,
      correct: 0,
      squaredErrors: { n: 4000, sum: 4000, sumSquares: 12_000 },
    };
    // s0's window: 100 rows, mean squared error 1.8 (RMSE ×1.34), Σe⁴ as normal errors would give (3σ⁴).
    const risen = { n: 100, sum: 180, sumSquares: 100 * 1.8 ** 2 * 3 };
    const steady = { n: 100, sum: 100, sumSquares: 300 };
    const observeAmong = (count: number) => {
      const names = Array.from({ length: count }, (_, i) => `s${i}`);
      const state = {
        ...initialDetectorState(),
        segments: Object.fromEntries(names.map((n) => [n, baseline])),
      };
      const segments = names.map((name, i) => ({
        ...regressionSegmentPart(name, new Random(1), { rows: 2 }),
        labelled: 100,
        squaredErrors: i === 0 ? risen : steady,
      }));
      return observe(regressionWindow(9, segments), state);
    };
    const { alpha } = DEFAULT_DETECT_SETTINGS.detection;
    const alone = observeAmong(3);
    expect(alone.evidence.tests.find((t) => t.name === 's0')!.pValue).toBeLessThan(alpha);
    expect(alone.evidence.segment).toBe('s0');
    const among = observeAmong(20);
    const s0 = among.evidence.tests.find((t) => t.name === 's0')!;
    expect(s0.adjustedPValue).toBeCloseTo(Math.min(1, s0.pValue * 20), 12);
    expect(s0.adjustedPValue).toBeGreaterThan(alpha);
    expect(among.bad).toBe(false);
  });

  it('needs the minimum effect (minEffect.errorIncrease), not significance alone', () => {
    const rng = new Random(5);
    let state = initialDetectorState();
    for (let seq = 0; seq < 6; seq++)
      state = detect(regressionWindow(seq, parts(rng, [1, 1, 1], 2000)), state).state;
    // RMSE ×1.1 on 5,000 rows: significant, but a tenth, under the policy's fifth.
    const small = observe(regressionWindow(6, parts(rng, [1, 1.1, 1], 5000)), state);
    const s1 = small.evidence.tests.find((t) => t.name === 's1')!;
    expect(s1.adjustedPValue).toBeLessThan(DEFAULT_DETECT_SETTINGS.detection.alpha);
    expect(s1.broken).toBe(false);
    expect(small.bad).toBe(false);
  });

  it('tests no segment on a single row, even where window.minRows allows one', () => {
    const rng = new Random(6);
    let state = initialDetectorState();
    for (let seq = 0; seq < 6; seq++) state = detect(regressionWindow(seq, parts(rng, [1, 1])), state).state;
    const window = regressionWindow(6, [
      regressionSegmentPart('s0', rng, { rows: 1, sd: 5 }),
      regressionSegmentPart('s1', rng),
    ]);
    const settings = { ...DEFAULT_DETECT_SETTINGS, minRows: 1 };
    const obs = FINDING_RULES.segment.observe({ window, state, settings, brokenFeatures: new Set() });
    expect(obs.evidence.untested).toEqual(['s0']);
    expect(obs.evidence.tests.map((t) => t.name)).toEqual(['s1']);
  });

  it('leaves a rise of most segments to the whole-window rules', () => {
    const seen = run([1, 1, 1], [1.8, 1.8, 1]);
    expect(findingOf(seen[7]!.findings, 'segment')).toBeUndefined();
  });

  it("verifies a regressor's segment incident against the segment's own RMSE", () => {
    const seen = run([1, 2, 1], [1, 3.5, 1]);
    const finding = findingOf(seen[7]!.findings, 'segment')!;
    expect(finding.evidence.segment).toBe('s1');
    const base = seen[5]!.state.segments!.s1!;
    expect(baselineFor('segment', seen[5]!.state, null, finding)).toEqual({
      metric: 'rmse',
      value: Math.sqrt(base.squaredErrors!.sum / base.squaredErrors!.n),
      rows: 900,
      segment: 's1',
    });
    expect(baselineFor('segment', seen[5]!.state, null, finding)!.value).toBeCloseTo(2, 1);
  });

  it('caps the baseline by scaling its sums: the mean squared error stays, the rows count for less', () => {
    const rng = new Random(9);
    let state = initialDetectorState();
    for (let seq = 0; seq < 40; seq++)
      state = detect(regressionWindow(seq, parts(rng, [1, 2], 200)), state).state;
    const s1 = state.segments!.s1!;
    expect(s1.labelled).toBe(SEGMENT_DEFAULTS.segmentBaselineCap);
    expect(s1.squaredErrors!.n).toBeCloseTo(SEGMENT_DEFAULTS.segmentBaselineCap, 9);
    expect(Math.sqrt(s1.squaredErrors!.sum / s1.squaredErrors!.n)).toBeCloseTo(2, 1);
  });
});

describe("measuring a regressor's window per segment", () => {
  const rng = new Random(20_261_208);
  const { segments } = resolveSegments([{ by: 'c0' }], WINDOW_SCHEMA);
  /** The classifier rows turned into a regressor's: prediction 10p, truth 10p + noise, noisier in c0=v1. */
  const rows = [...windowRows(rng, 3000, 0)].map(
    (row): WindowPrediction => ({
      ...row,
      output: row.output && { prediction: 10 * row.output.probabilities!['1']! },
      label: row.label &&
        row.output && {
          ...row.label,
          value: 10 * row.output.probabilities!['1']! + rng.normal(0, row.features.c0 === 'v1' ? 3 : 1),
        },
    }),
  );
  const model = {
    task: 'regression' as const,
    labels: null,
    reference: null,
    startAt: new Date(WINDOW_START_MS),
  };
  const measure = (arrivals: WindowPrediction[], withSegments: readonly Segment[] = []) =>
    measureRows(model, rows, arrivals, withSegments);

  it("carries each segment's squared errors as sums, as the monitor measures them on its rows alone", () => {
    const whole = measure(rows, segments).summary;
    for (const segment of segments) {
      const alone = measure(rows.filter((r) => inSegment(r.features, segment))).metrics.realised.performance;
      if (alone?.task !== 'regression') throw new Error('expected regression performance');
      const part = whole.segments!.find((s) => s.name === segment.name)!;
      // The summary keeps numbers at 15 significant digits (as the store does).
      const { n, sum, sumSquares } = part.squaredErrors!;
      expect(n).toBe(alone.count);
      expect(sum / alone.squaredErrors.sum).toBeCloseTo(1, 12);
      expect(sumSquares / alone.squaredErrors.sumSquares).toBeCloseTo(1, 12);
      expect(Math.sqrt(part.squaredErrors!.sum / part.squaredErrors!.n)).toBeCloseTo(part.rmse!, 9);
    }
    // Against the rows themselves: Σe² and Σe⁴ of prediction − truth.
    const v1 = rows.filter((r) => r.label && r.output && r.features.c0 === 'v1');
    const errors = v1.map((r) => (r.output!.prediction as number) - (r.label!.value as number));
    const v1Sums = whole.segments!.find((s) => s.name === 'c0=v1')!.squaredErrors!;
    expect(v1Sums.n).toBe(errors.length);
    expect(v1Sums.sum).toBeCloseTo(
      errors.reduce((a, e) => a + e ** 2, 0),
      6,
    );
    expect(v1Sums.sumSquares).toBeCloseTo(
      errors.reduce((a, e) => a + e ** 4, 0),
      4,
    );
    const rmse = (name: string) => whole.segments!.find((s) => s.name === name)!.rmse!;
    expect(rmse('c0=v1')).toBeGreaterThan(2 * rmse('c0=v0'));
  });

  it('sums of the squared errors of two halves of the rows are those of the whole', () => {
    const half = Math.floor(rows.length / 2);
    const sums = (arrivals: WindowPrediction[]) => measure(arrivals, segments).summary.segments!;
    const [first, second, all] = [sums(rows.slice(0, half)), sums(rows.slice(half)), sums(rows)];
    for (const [i, part] of all.entries()) {
      const a = first[i]!.squaredErrors!;
      const b = second[i]!.squaredErrors!;
      expect(part.squaredErrors!.n).toBe(a.n + b.n);
      expect(part.squaredErrors!.sum).toBeCloseTo(a.sum + b.sum, 6);
      expect(part.squaredErrors!.sumSquares).toBeCloseTo(a.sumSquares + b.sumSquares, 4);
    }
  });
});
