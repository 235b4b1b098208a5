// judgeRecovery and verificationFor at their edges: the metric each baseline is judged on (which way is
// worse, absolute or relative tolerance), evidence too thin for a test, and the tolerance the agent gives
// the noisier relative metrics. The SciPy-checked tails themselves are in judge.test.ts.
import { describe, expect, it } from 'vitest';
import type { Evidence } from '../../lib/brain/contracts.ts';
import type { VerificationBaseline } from '../../lib/brain/types.ts';
import { DEFAULT_POLICY } from '../../lib/policy/policy.ts';
import {
  INCONCLUSIVE_ROWS,
  judgeRecovery,
  recoveryRowsWanted,
  verificationFor,
} from '../../lib/recovery/judge.ts';

const opts = { tolerance: 0.02, alpha: 0.05, minRows: 100 };

describe('verificationFor', () => {
  it("latency and RMSE count as recovered once back under detection's regression threshold", () => {
    expect(verificationFor(DEFAULT_POLICY, 'latencyP95Ms').tolerance).toBe(0.5);
    // RMSE: half of minEffect.errorIncrease (0.2)
    expect(verificationFor(DEFAULT_POLICY, 'rmse').tolerance).toBe(0.1);
    // rates keep the policy's own tolerance
    expect(verificationFor(DEFAULT_POLICY, 'accuracy')).toEqual(DEFAULT_POLICY.verification);
    expect(verificationFor(DEFAULT_POLICY, null).tolerance).toBe(0.02);
  });

  it("keeps the policy's tolerance when it is looser", () => {
    const loose = { ...DEFAULT_POLICY, verification: { ...DEFAULT_POLICY.verification, tolerance: 0.6 } };
    expect(verificationFor(loose, 'latencyP95Ms').tolerance).toBe(0.6);
    expect(verificationFor(loose, 'rmse')).toEqual({ ...loose.verification, tolerance: 0.6 });
  });
});

describe('judgeRecovery at its edges', () => {
  it('quality rate: lower is better, absolute tolerance above the baseline', () => {
    const baseline: VerificationBaseline = { metric: 'qualityRate', value: 0.01, rows: 0 };
    const ev = (value: number): Evidence => ({ metric: 'qualityRate', rows: 2000, value });
    expect(judgeRecovery(baseline, ev(0.02), opts).verdict).toBe('recovered');
    expect(judgeRecovery(baseline, ev(0.1), opts).verdict).toBe('not_recovered');
    expect(judgeRecovery(baseline, ev(0.02), opts).detail).toMatch(
      /needs qualityRate ≤ 0\.03 \(baseline 0\.01, tolerance 0\.02\)$/,
    );
  });

  it('no rows, or no value, is insufficient whatever the rows say', () => {
    const baseline: VerificationBaseline = { metric: 'accuracy', value: 0.9, rows: 1000 };
    const none = judgeRecovery(baseline, { metric: 'accuracy', rows: 0, value: 0.2 }, opts);
    expect(none).toEqual({
      verdict: 'insufficient',
      statistic: null,
      pValue: null,
      detail: 'no rows yet; needs accuracy ≥ 0.88 (baseline 0.9, tolerance 0.02)',
    });
    expect(judgeRecovery(baseline, { metric: 'accuracy', rows: 500, value: null }, opts).verdict).toBe(
      'insufficient',
    );
  });

  it('a threshold at a bound has no spread: worse is certain, better or equal is no evidence of worse', () => {
    const perfect: VerificationBaseline = { metric: 'failureRate', value: 0, rows: 0 };
    const zeroTolerance = { ...opts, tolerance: 0 };
    const worse = judgeRecovery(perfect, { metric: 'failureRate', rows: 50, value: 0.1 }, zeroTolerance);
    expect(worse).toMatchObject({ verdict: 'not_recovered', statistic: Number.POSITIVE_INFINITY, pValue: 0 });
    const same = judgeRecovery(perfect, { metric: 'failureRate', rows: 500, value: 0 }, zeroTolerance);
    expect(same).toMatchObject({ verdict: 'recovered', statistic: 0, pValue: 1 });
    const accuracy: VerificationBaseline = { metric: 'accuracy', value: 1, rows: 100 };
    const better = judgeRecovery(accuracy, { metric: 'accuracy', rows: 500, value: 1 }, zeroTolerance);
    expect(better).toMatchObject({ verdict: 'recovered', statistic: 0, pValue: 1 });
  });

  it('rmse: without the squared errors, or with fewer than 2 rows, only the point estimate decides', () => {
    const baseline: VerificationBaseline = { metric: 'rmse', value: 10, rows: 6, sd: 1 };
    const bare = judgeRecovery(baseline, { metric: 'rmse', rows: 500, value: 10.1 }, opts);
    expect(bare).toMatchObject({ verdict: 'recovered', statistic: null, pValue: null });
    const one = judgeRecovery(
      baseline,
      { metric: 'rmse', rows: 1, value: 30, sumSquaredError: 900, sumSquaredErrorSq: 810_000 },
      { ...opts, minRows: 1 },
    );
    expect(one).toMatchObject({ verdict: 'not_recovered', statistic: null, pValue: null });
    // Every squared error equal: no spread, so the excess over T² = 104.04 is certain either way.
    const flat = (rmse: number) =>
      judgeRecovery(
        baseline,
        {
          metric: 'rmse',
          rows: 4,
          value: rmse,
          sumSquaredError: 4 * rmse ** 2,
          sumSquaredErrorSq: 4 * rmse ** 4,
        },
        { ...opts, minRows: 4 },
      );
    expect(flat(11)).toMatchObject({
      verdict: 'not_recovered',
      statistic: Number.POSITIVE_INFINITY,
      pValue: 0,
    });
    expect(flat(10)).toMatchObject({ verdict: 'recovered', statistic: Number.NEGATIVE_INFINITY, pValue: 1 });
  });

  it('latency: no test without a positive spread of the baseline windows', () => {
    const judged = (sd: number | null) =>
      judgeRecovery(
        { metric: 'latencyP95Ms', value: 100, rows: 8, sd },
        { metric: 'latencyP95Ms', rows: 500, value: 150 },
        opts,
      );
    expect(judged(0)).toMatchObject({ verdict: 'not_recovered', statistic: null });
    expect(judged(null)).toMatchObject({ verdict: 'not_recovered', statistic: null });
    // sd 10: z = (150 − 102) / 10
    expect(judged(10).statistic).toBeCloseTo(4.8, 12);
  });
});

describe('recoveryRowsWanted', () => {
  it('asks for minRows first, then for the rows an estimate within the noise waits for', () => {
    expect(recoveryRowsWanted(0, 100)).toBe(100);
    expect(recoveryRowsWanted(99, 100)).toBe(100);
    expect(recoveryRowsWanted(100, 100)).toBe(INCONCLUSIVE_ROWS * 100);
    // insufficient past minRows only while below INCONCLUSIVE_ROWS × minRows (judgeRecovery above)
    const baseline: VerificationBaseline = { metric: 'accuracy', value: 0.9, rows: 1000 };
    const within = judgeRecovery(baseline, { metric: 'accuracy', value: 0.87, rows: 100 }, opts);
    expect(within.verdict).toBe('insufficient');
    const decided = { metric: 'accuracy', value: 0.87, rows: recoveryRowsWanted(100, 100) } as const;
    expect(judgeRecovery(baseline, decided, opts).verdict).toBe('not_recovered');
  });
});
