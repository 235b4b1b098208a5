// lib/recovery/outcomes.ts: what one labelled output scores (as the monitor reads outputs and labels), the
// totals of scored rows, and the accuracy or RMSE evidence verification and canaries are judged on.
import { describe, expect, it } from 'vitest';
import type { OutputRow } from '../../lib/monitor/outputs.ts';
import { addScore, emptyTotals, rowScorer, scoredEvidence } from '../../lib/recovery/outcomes.ts';

const row = (
  prediction: string | number | null,
  label: string | number | null,
  error: string | null = null,
) =>
  ({
    error,
    output: prediction === null ? null : { prediction },
    confidence: null,
    label: label === null ? null : { value: label },
  }) satisfies OutputRow;

describe('rowScorer', () => {
  it('classifier: right or wrong against the label, no squared error; a numeric class reads as its name', () => {
    const score = rowScorer('binary', ['0', '1']);
    expect(score(row('1', '1'))).toEqual({ correct: true, squaredError: 0 });
    expect(score(row('0', '1'))).toEqual({ correct: false, squaredError: 0 });
    expect(score(row(1, 1))).toEqual({ correct: true, squaredError: 0 });
  });

  it('regressor: the squared error; correct only on an exact hit', () => {
    const score = rowScorer('regression', null);
    expect(score(row(13, 10))).toEqual({ correct: false, squaredError: 9 });
    expect(score(row(7.5, 10))).toEqual({ correct: false, squaredError: 6.25 });
    expect(score(row(10, 10))).toEqual({ correct: true, squaredError: 0 });
  });

  it('scores nothing for a failure, a missing or invalid output, or a missing or invalid label', () => {
    const classify = rowScorer('binary', ['0', '1']);
    expect(classify(row('1', '1', 'timeout'))).toBeNull();
    expect(classify(row(null, '1'))).toBeNull();
    expect(classify(row('maybe', '1'))).toBeNull();
    expect(classify(row('1', null))).toBeNull();
    expect(classify(row('1', 'maybe'))).toBeNull();
    const regress = rowScorer('regression', null);
    expect(regress(row(12, null))).toBeNull();
    expect(regress(row(12, 'ten'))).toBeNull();
    expect(regress(row('twelve', 10))).toBeNull();
  });
});

describe('score totals and evidence', () => {
  it('adds rows, correct ones, squared errors and their squares; skips rows that score nothing', () => {
    const totals = emptyTotals();
    expect(totals).toEqual({ rows: 0, correct: 0, sumSquaredError: 0, sumSquaredErrorSq: 0 });
    addScore(totals, { correct: false, squaredError: 9 });
    addScore(totals, null);
    addScore(totals, { correct: true, squaredError: 0 });
    addScore(totals, { correct: false, squaredError: 4 });
    expect(totals).toEqual({ rows: 3, correct: 1, sumSquaredError: 13, sumSquaredErrorSq: 81 + 16 });
  });

  it('accuracy: correct over rows with the successes; no value without rows', () => {
    expect(
      scoredEvidence('accuracy', { rows: 8, correct: 6, sumSquaredError: 0, sumSquaredErrorSq: 0 }),
    ).toEqual({
      metric: 'accuracy',
      rows: 8,
      value: 0.75,
      successes: 6,
    });
    expect(scoredEvidence('accuracy', emptyTotals())).toEqual({
      metric: 'accuracy',
      rows: 0,
      value: null,
      successes: 0,
    });
  });

  it('rmse: the root of the mean squared error, with the sums the t-test needs; no value without rows', () => {
    expect(
      scoredEvidence('rmse', { rows: 4, correct: 0, sumSquaredError: 36, sumSquaredErrorSq: 500 }),
    ).toEqual({
      metric: 'rmse',
      rows: 4,
      value: 3,
      sumSquaredError: 36,
      sumSquaredErrorSq: 500,
    });
    expect(scoredEvidence('rmse', emptyTotals()).value).toBeNull();
  });
});
