// Segments: membership, resolution against a schema, and measurement — each segment's part of a window
// is what the monitor measures on the segment's rows alone, so a fault in one segment shows there and
// not in the others.
import { describe, expect, it } from 'vitest';
import { WINDOW_SCHEMA, WINDOW_START_MS, windowReference, windowRows } from '../../lib/bench/window-rows.ts';
import { baselineFor } from '../../lib/brain/baseline.ts';
import { DEFAULT_DETECT_SETTINGS, detect, initialDetectorState } from '../../lib/brain/detect.ts';
import { FINDING_RULES, findingOf } from '../../lib/brain/findings/index.ts';
import { withRoutes } from '../../lib/brain/findings/segment.ts';
import type { WindowPrediction } from '../../lib/monitor/index.ts';
import { measureWindow } from '../../lib/monitor/measure.ts';
import { resolveSegments } from '../../lib/segments/definition.ts';
import { inSegment, type Segment, segmentsOf } from '../../lib/segments/segment.ts';
import { Random } from '../../lib/sim/random.ts';
import { benjaminiHochberg } from '../../lib/stats/multiple-testing.ts';
import { healthyWindow, segmentPart } from '../helpers/brain.ts';

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
  const context = {
    seq: 1,
    schema: WINDOW_SCHEMA,
    task: 'binary' as const,
    labels: ['0', '1'],
    reference,
    previousArrival: null,
    startAt: new Date(WINDOW_START_MS + 3_600_000),
    endAt: new Date(rows.at(-1)!.receivedAt.getTime() + 600_000),
    minRows: 30,
  };
  const measure = (arrivals: WindowPrediction[], withSegments: readonly Segment[] = []) =>
    measureWindow({
      ...context,
      arrivals,
      labelledInWindow: arrivals.filter((r) => r.label !== null),
      segments: withSegments,
    }).summary;
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
