// Windows of any size (issue 16 item 4): a window folded page by page gives exactly what the same rows in
// one array give, sketched or not; while a stream holds at most `exactValues` values the sketch is the
// values themselves; beyond, every order statistic stays within the documented rank error of the exact
// one (docs/agent-logic.md "Windows of any size").
import { describe, expect, it } from 'vitest';
import { WINDOW_SCHEMA, windowReference, windowRows } from '../../lib/bench/window-rows.ts';
import {
  computeWindowMetrics,
  type NumericDrift,
  type WindowInput,
  type WindowMetrics,
  type WindowPrediction,
} from '../../lib/monitor/index.ts';
import { WindowAccumulator } from '../../lib/monitor/window.ts';
import { Random } from '../../lib/sim/random.ts';
import { quantiles } from '../../lib/stats/index.ts';
import { QuantileSketch } from '../../lib/stats/quantile-sketch.ts';

/** The documented bound on any rank read from a sketch's sample: compactions plus the sample's step. */
function rankBound(n: number, exactValues: number): number {
  if (n <= exactValues) return 0;
  return (Math.floor(Math.log2(n / exactValues)) + 2) / exactValues;
}

/** Share of `sorted` strictly below and at most `v`. */
function ranksOf(sorted: Float64Array, v: number): { below: number; atMost: number } {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  let at = lo;
  while (at < sorted.length && sorted[at] === v) at++;
  return { below: lo / sorted.length, atMost: at / sorted.length };
}

function expectRankWithin(sorted: Float64Array, v: number, p: number, bound: number): void {
  const { below, atMost } = ranksOf(sorted, v);
  expect(below).toBeLessThanOrEqual(p + bound);
  expect(atMost).toBeGreaterThanOrEqual(p - bound);
}

describe('QuantileSketch', () => {
  it('keeps every value up to exactValues: its sample is the values sorted and its quantiles are exact', () => {
    const rng = new Random(3);
    const values = Array.from({ length: 4000 }, () => rng.lognormal(3, 1));
    const sketch = new QuantileSketch(4000);
    for (const x of values) sketch.add(x);
    expect(sketch.exact).toBe(true);
    expect(sketch.rankErrorBound).toBe(0);
    expect(sketch.sample()).toEqual(Array.from(Float64Array.from(values).sort()));
    expect(sketch.quantiles([0.05, 0.5, 0.99])).toEqual(quantiles(values, [0.05, 0.5, 0.99]));
  });

  it('beyond exactValues, in bounded memory, every quantile is within the documented rank error', () => {
    const rng = new Random(4);
    const n = 300_000;
    const exactValues = 1024;
    const values = new Float64Array(n);
    const sketch = new QuantileSketch(exactValues);
    for (let i = 0; i < n; i++) {
      // Heavy ties and a long tail: integer counts half the time, lognormal the rest.
      values[i] = rng.bernoulli(0.5) ? Math.floor(rng.exponential(0.3)) : rng.lognormal(2, 1.2);
      sketch.add(values[i]!);
    }
    values.sort();
    expect(sketch.exact).toBe(false);
    expect(sketch.count).toBe(n);
    expect(sketch.min).toBe(values[0]);
    expect(sketch.max).toBe(values[n - 1]);
    const levels = Math.floor(Math.log2(n / exactValues)) + 1;
    expect(sketch.rankErrorBound).toBeLessThanOrEqual(levels / exactValues);
    const bound = rankBound(n, exactValues);
    const sample = Float64Array.from(sketch.sample());
    expect(sample.length).toBe(exactValues);
    for (let p = 0.01; p < 1; p += 0.01) {
      expectRankWithin(values, sketch.quantiles([p])[0]!, p, bound);
    }
  });
});

const rng = new Random(20_261_205);
const referenceRows = [...windowRows(rng, 5000, 0)];
const reference = windowReference(referenceRows);

function windowInput(predictions: WindowPrediction[], exactValues?: number): WindowInput {
  const last = predictions.at(-1)!.receivedAt.getTime();
  return {
    schema: WINDOW_SCHEMA,
    task: 'binary',
    labels: ['0', '1'],
    reference,
    predictions,
    previousArrival: null,
    windowStart: predictions[0]!.receivedAt,
    now: new Date(last + 1000),
    ...(exactValues ? { options: { exactValues } } : {}),
  };
}

function paged(input: WindowInput, pageSize: number): WindowMetrics {
  const accumulator = new WindowAccumulator({ ...input, classes: ['0', '1'] });
  for (let i = 0; i < input.predictions.length; i += pageSize) {
    accumulator.add(input.predictions.slice(i, i + pageSize));
  }
  return accumulator.result();
}

describe('a window in pages', () => {
  const rows = [...windowRows(rng, 20_000, 1)];

  it('equals the same rows in one array, exactly, within exactValues and beyond it', () => {
    const exact = windowInput(rows.slice(0, 6000));
    expect(paged(exact, 777)).toEqual(computeWindowMetrics(exact));
    const sketched = windowInput(rows, 512);
    expect(paged(sketched, 1234)).toEqual(computeWindowMetrics(sketched));
  });

  it('is within the documented error of the exact metrics when sketched', () => {
    const exactValues = 1024;
    const exact = computeWindowMetrics(windowInput(rows, 1_000_000));
    const sketched = paged(windowInput(rows, exactValues), 2000);
    const n = rows.length;
    const bound = rankBound(n, exactValues);
    expect(bound).toBeLessThan(0.01);

    // Counts and sums are exact whatever the size.
    expect(sketched.rows).toBe(exact.rows);
    expect(sketched.outputs).toEqual(exact.outputs);
    expect(sketched.estimate).toEqual(exact.estimate);
    expect({ ...sketched.performance, rocAuc: null }).toEqual({ ...exact.performance, rocAuc: null });
    expect(sketched.system.arrivals).toEqual(exact.system.arrivals);
    expect(sketched.drift.prediction).toEqual(exact.drift.prediction);
    sketched.quality.forEach((q, i) => {
      expect({ ...q, misread: null }).toEqual({ ...exact.quality[i]!, misread: null });
    });
    expect(sketched.labels.labelled).toBe(exact.labels.labelled);
    expect(sketched.confidence!.mean).toBe(exact.confidence!.mean);
    expect(sketched.confidence!.meanEntropy).toBe(exact.confidence!.meanEntropy);

    // Order statistics within the rank error: percentiles of latency, confidence and label delay...
    const latencies = Float64Array.from(rows.map((r) => r.latencyMs!)).sort();
    const latency = sketched.system.latencyMs!;
    expectRankWithin(latencies, latency.p50, 0.5, bound);
    expectRankWithin(latencies, latency.p95, 0.95, bound);
    expectRankWithin(latencies, latency.p99, 0.99, bound);
    expect(latency.max).toBe(exact.system.latencyMs!.max);
    expect(latency.mean).toBe(exact.system.latencyMs!.mean);
    const delays = Float64Array.from(
      rows
        .filter((r) => r.label)
        .map((r) => (r.label!.observedAt.getTime() - r.predictedAt.getTime()) / 1000),
    ).sort();
    expectRankWithin(delays, sketched.labels.delaySeconds!.p95, 0.95, bound);

    // ...KS D within the bound, Wasserstein within the bound times the values' span in reference sds...
    sketched.drift.features.forEach((d, i) => {
      const e = exact.drift.features[i]!;
      expect(d.judged).toBe(e.judged);
      if (d.judged && d.test === 'kolmogorov_smirnov' && e.judged && e.test === 'kolmogorov_smirnov') {
        const spec = exact.quality[i]!;
        expect(Math.abs(d.statistic - e.statistic), spec.name).toBeLessThanOrEqual(bound);
        const column = rows
          .map((r) => r.features[spec.name])
          .filter((v): v is number => typeof v === 'number');
        const profile = reference.features[i]!.distribution!;
        if (profile.type !== 'numeric') throw new Error('numeric profile expected');
        const span = Math.max(profile.max, ...column) - Math.min(profile.min, ...column);
        const sd = profile.sd;
        expect(Math.abs(d.wasserstein - e.wasserstein), spec.name).toBeLessThanOrEqual((bound * span) / sd);
        expect(Math.abs(d.psi - e.psi), spec.name).toBeLessThanOrEqual(0.01);
        expect(d.currentN).toBe(e.currentN);
        expect((d as NumericDrift).pValueMethod).toBe('asymptotic');
      }
    });
    // ...and ROC AUC within the two score sketches' bounds.
    const auc = sketched.performance!;
    if (auc.task === 'regression' || exact.performance!.task === 'regression') throw new Error('classifier');
    expect(Math.abs(auc.rocAuc! - exact.performance!.rocAuc!)).toBeLessThanOrEqual(2 * bound);
  });
});
