// Segments: membership, resolution against a schema, and measurement — each segment's part of a window
// is what the monitor measures on the segment's rows alone, so a fault in one segment shows there and
// not in the others.
import { describe, expect, it } from 'vitest';
import { WINDOW_SCHEMA, WINDOW_START_MS, windowReference, windowRows } from '../../lib/bench/window-rows.ts';
import type { WindowPrediction } from '../../lib/monitor/index.ts';
import { measureWindow } from '../../lib/monitor/measure.ts';
import { resolveSegments } from '../../lib/segments/definition.ts';
import { inSegment, type Segment, segmentsOf } from '../../lib/segments/segment.ts';
import { Random } from '../../lib/sim/random.ts';

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
