// The autonomy benchmark's segment families (lib/bench/autonomy/cases.ts segmentCase): the boundary moves
// where the case says (one region, every region, nowhere), the segments are the regions, and adding the
// families left the seeds of the earlier ones as they were.
import { describe, expect, it } from 'vitest';
import type { BacktestReport } from '../../lib/backtest/report.ts';
import { servedAnswers } from '../../lib/bench/autonomy/agent.ts';
import type { BenchCase, CaseRow } from '../../lib/bench/autonomy/case.ts';
import { CASE_DEFAULTS, caseSeeds, planCases, SEGMENT_CASES } from '../../lib/bench/autonomy/cases.ts';
import { streamOf } from '../../lib/bench/autonomy/run-case.ts';
import { trainModel } from '../../lib/models/index.ts';
import { storedSegments } from '../../lib/segments/definition.ts';

const build = (family: string, rounds = 3) =>
  planCases('development', rounds, [family]).map((p) => p.build());

/**
 * The threshold t of "class 1 when x1 + x2 > t" that disagrees with the fewest of these rows' labels:
 * every split between two sorted sums, counting class-1 rows below it and class-0 rows above.
 */
function fittedBoundary(rows: BenchCase['rows']): number {
  const points = rows
    .map((r) => ({ s: (r.features.x1 as number) + (r.features.x2 as number), y: r.label }))
    .sort((p, q) => p.s - q.s);
  let wrong = points.filter((p) => p.y === 0).length;
  let best = { t: 0, wrong };
  points.forEach((p, i) => {
    wrong += p.y === 1 ? 1 : -1;
    if (wrong < best.wrong) best = { t: (p.s + (points[i + 1]?.s ?? p.s)) / 2, wrong };
  });
  return best.t;
}

/** Each region's fitted boundary before and after replayed row `at`. */
function boundaries(c: BenchCase, at: number) {
  const regions = c.schema!.find((f) => f.name === 'region')! as { categories: string[] };
  const split = c.referenceRows + at;
  return regions.categories.map((region) => {
    const of = (from: number, to: number) =>
      c.rows.slice(from, to).filter((r) => r.features.region === region);
    return {
      region,
      before: fittedBoundary(of(0, split)),
      after: fittedBoundary(of(split, c.rows.length)),
    };
  });
}

// A move of at least SEGMENT_CASES.boundaryShift[0] = 1, fitted on a few hundred noisy rows: ±0.6 apart.
const MOVED = 0.6;

describe('segment cases', () => {
  it('define one segment per region, all of them seen in the reference rows', () => {
    for (const family of ['segment-one-segment', 'segment-whole-population', 'segment-stationary']) {
      for (const c of build(family, 2)) {
        const segments = storedSegments(c.segments, c.schema!);
        const regions = [...new Set(c.rows.slice(0, c.referenceRows).map((r) => r.features.region))].sort();
        expect(segments.map((s) => s.name).sort()).toEqual(regions.map((r) => `region=${r}`).sort());
        const [lo, hi] =
          family === 'segment-stationary' ? SEGMENT_CASES.stationaryRegions : SEGMENT_CASES.regions;
        expect(segments.length).toBeGreaterThanOrEqual(lo);
        expect(segments.length).toBeLessThanOrEqual(hi);
      }
    }
  });

  it('one-segment: the boundary moves in the changed region only, from the change on', () => {
    for (const c of build('segment-one-segment')) {
      expect(c.change.kind).toBe('concept');
      if (c.change.kind !== 'concept') continue;
      const changed = c.change.segment!.replace('region=', '');
      for (const b of boundaries(c, c.change.at)) {
        if (b.region === changed) expect(Math.abs(b.after - b.before)).toBeGreaterThan(MOVED);
        else expect(Math.abs(b.after - b.before)).toBeLessThan(MOVED);
      }
      expect(c.intent).toBe('protect');
    }
  });

  it('whole-population: the boundary moves the same way in every region', () => {
    for (const c of build('segment-whole-population')) {
      expect(c.change.kind === 'concept' && c.change.segment).toBe(undefined);
      if (c.change.kind !== 'concept') continue;
      const moves = boundaries(c, c.change.at).map((b) => b.after - b.before);
      for (const m of moves) expect(Math.abs(m)).toBeGreaterThan(MOVED);
      expect(new Set(moves.map(Math.sign)).size).toBe(1);
      expect(c.intent).toBe('repair');
    }
  });

  it('stationary: a long stream whose boundary stays put in every region', () => {
    for (const c of build('segment-stationary', 2)) {
      expect(c.change).toEqual({ kind: 'none' });
      expect(c.rows).toHaveLength(c.referenceRows + CASE_DEFAULTS.longRows);
      for (const b of boundaries(c, CASE_DEFAULTS.longRows / 2))
        expect(Math.abs(b.after - b.before)).toBeLessThan(MOVED);
    }
  });

  it('is reproducible from its seed', () => {
    const [a] = build('segment-one-segment', 1);
    const [b] = build('segment-one-segment', 1);
    expect(b).toEqual(a);
  });

  it('leaves the seeds of the families added before it as they were', () => {
    // The first group's 20 families draw rounds × 20 seeds from the master seed, in family order.
    const seeds = caseSeeds('held-out', 3 * 20);
    const sea = planCases('held-out', 3, ['sea']).map((p) => p.seed);
    const traffic = planCases('held-out', 3, ['traffic']).map((p) => p.seed);
    expect(sea).toEqual([seeds[0], seeds[20], seeds[40]]);
    expect(traffic).toEqual([seeds[19], seeds[39], seeds[59]]);
    const segment = planCases('held-out', 3, ['segment-one-segment']).map((p) => p.seed);
    expect(segment.some((s) => seeds.includes(s))).toBe(false);
  });
});

describe("the agent's served answers", () => {
  it('answer a segment routed to the fallback from the fallback, the other rows from production', async () => {
    const START = Date.parse('2025-01-01T00:00:00Z');
    const rows: CaseRow[] = Array.from({ length: 400 }, (_, i) => {
      const x = ((i * 37) % 100) / 10 - 5;
      return {
        ts: START + i * 1000,
        labelTs: START + i * 1000,
        features: { x, region: i % 2 === 0 ? 'a' : 'b' },
        label: x > 0 ? 1 : 0,
      };
    });
    const stream = streamOf(rows);
    const indices = rows.map((_, i) => i);
    const trained = (flip: boolean) =>
      trainModel('logistic-regression', stream.task, stream.schema, {
        rows: indices.map((i) => stream.rows[i]!.features),
        labels: indices.map((i) => (flip ? 1 - Number(stream.rows[i]!.label) : stream.rows[i]!.label!)),
      });
    const [production, fallback] = [await trained(false), await trained(true)];
    const segments = storedSegments([{ by: 'region' }], stream.schema);
    const report = {
      versions: [
        { version: 1, artifact: production },
        { version: 2, artifact: fallback },
      ],
      windows: [
        {
          endAt: new Date(START + 400_000).toISOString(),
          serving: {
            revision: 2,
            mode: 'serving',
            production: 1,
            fallback: 2,
            fallbackSegments: ['region=a'],
          },
        },
      ],
    } as unknown as BacktestReport;
    const answers = await servedAnswers(stream, 0, report, segments);
    const wrong = (i: number) => (String(answers[i]) === String(rows[i]!.label) ? 0 : 1);
    const inA = indices.filter((i) => i % 2 === 0);
    const inB = indices.filter((i) => i % 2 === 1);
    // The fallback learnt the labels reversed: region a's rows are answered wrong, region b's right.
    expect(inA.reduce((a, i) => a + wrong(i), 0) / inA.length).toBeGreaterThan(0.9);
    expect(inB.reduce((a, i) => a + wrong(i), 0) / inB.length).toBeLessThan(0.1);
  });
});
