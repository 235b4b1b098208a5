// Replays the streams of River's `river.drift` docstring examples and expects the same indices River
// prints (see test/fixtures/river-parity/README.md), with River's parameters written out.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type AnyDetector, createDetector } from '../../lib/detectors/index.ts';

interface MeanShiftFixture {
  stream: number[];
  expected_first_drift_index: Record<string, number[]>;
}

interface ErrorRateFixture {
  stream: number[];
  'expected (first warning indices, drift indices)': Record<string, [number[], number[]]>;
}

function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/river-parity/${name}`, import.meta.url), 'utf8')) as T;
}

const meanShift = readFixture<MeanShiftFixture>('river_docstring_stream_mean_shift.json');
const errorRate = readFixture<ErrorRateFixture>('river_docstring_stream_error_rate.json');

/** The loop of River's docstrings: every drift, and the first warning after the start and after a drift. */
function replay(detector: AnyDetector, stream: readonly number[]): { warnings: number[]; drifts: number[] } {
  const warnings: number[] = [];
  const drifts: number[] = [];
  let printWarning = true;
  stream.forEach((x, i) => {
    detector.update(x);
    if (detector.warningDetected && printWarning) {
      warnings.push(i);
      printWarning = false;
    }
    if (detector.driftDetected) {
      drifts.push(i);
      printWarning = true;
    }
  });
  return { warnings, drifts };
}

describe('River parity: mean-shift stream (0/1, then 4–7 from index 1000)', () => {
  it('has the stream the fixture describes', () => {
    expect(meanShift.stream).toHaveLength(2000);
  });

  it('ADWIN(delta=0.002) first signals drift where River does', () => {
    const expected = meanShift.expected_first_drift_index['ADWIN(delta=0.002)'];
    const { drifts } = replay(
      createDetector({ kind: 'adwin', params: { delta: 0.002, clock: 32 } }),
      meanShift.stream,
    );
    expect(expected).toEqual([1023]);
    expect(drifts[0]).toBe(expected?.[0]);
  });

  it('PageHinkley(30, 0.005, 50, 0.9999) first signals drift where River does', () => {
    const expected =
      meanShift.expected_first_drift_index[
        'PageHinkley(min_instances=30,delta=0.005,threshold=50,alpha=0.9999)'
      ];
    const detector = createDetector({
      kind: 'page_hinkley',
      params: { minInstances: 30, delta: 0.005, threshold: 50, alpha: 1 - 0.0001, mode: 'both' },
    });
    const { drifts } = replay(detector, meanShift.stream);
    expect(expected).toEqual([1006]);
    expect(drifts[0]).toBe(expected?.[0]);
  });
});

describe('River parity: error-rate stream (0.5 → 0.7 at index 1000)', () => {
  const expected = errorRate['expected (first warning indices, drift indices)'];

  it('DDM(30, 2, 3) warns and drifts where River does, including after its restart', () => {
    const result = replay(
      createDetector({ kind: 'ddm', params: { minInstances: 30, warningLevel: 2, driftLevel: 3 } }),
      errorRate.stream,
    );
    expect(expected['DDM(30,2,3)']).toEqual([[1084, 1492], [1334]]);
    expect([result.warnings, result.drifts]).toEqual(expected['DDM(30,2,3)']);
  });

  it('HDDM_A(0.001, 0.005) warns and drifts where River does', () => {
    const result = replay(
      createDetector({ kind: 'hddm_a', params: { driftConfidence: 0.001, warningConfidence: 0.005 } }),
      errorRate.stream,
    );
    expect(expected['HDDM_A(0.001,0.005)']).toEqual([[451], [1206]]);
    expect([result.warnings, result.drifts]).toEqual(expected['HDDM_A(0.001,0.005)']);
  });

  it('HDDM_W(0.001, 0.005, 0.05) warns and drifts where River does', () => {
    const result = replay(
      createDetector({
        kind: 'hddm_w',
        params: { driftConfidence: 0.001, warningConfidence: 0.005, lambda: 0.05 },
      }),
      errorRate.stream,
    );
    expect(expected['HDDM_W(0.001,0.005,0.05)']).toEqual([[451], [1077]]);
    expect([result.warnings, result.drifts]).toEqual(expected['HDDM_W(0.001,0.005,0.05)']);
  });
});
