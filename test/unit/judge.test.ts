// The recovery judgements (lib/recovery/judge.ts) on hand-checkable cases at their edges, and the
// paired tests behind trainCandidate (lib/recovery/paired.ts) against SciPy reference values.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Evidence, ServedComparison } from '../../lib/brain/contracts.ts';
import type { VerificationBaseline } from '../../lib/brain/types.ts';
import { compareScores } from '../../lib/recovery/compare.ts';
import {
  canaryPoll,
  INCONCLUSIVE_ROWS,
  judgeCanary,
  judgeRecovery,
  labelPace,
  promotionFor,
} from '../../lib/recovery/judge.ts';
import { mcnemarMidP, pairedTTestGreater } from '../../lib/recovery/paired.ts';
import { normalSf, studentTSf } from '../../lib/stats/index.ts';

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/scipy-reference.json', import.meta.url), 'utf8'),
);

function closeTo(actual: number, expected: number, relative = 1e-10) {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.max(Math.abs(expected), 1e-300));
}

// The cases scripts/reference/scipy_reference.py writes; the tests below loop over them, so an empty or
// truncated fixture must fail here rather than pass them vacuously.
const MCNEMAR_CASES = 13;
const PAIRED_T_CASES = [
  'candidate better, n 80',
  'no difference, n 50',
  'candidate worse, n 12',
  'two pairs',
];

describe(`paired tests against SciPy ${fixture.meta.scipy}`, () => {
  it('McNemar mid-p equals binom.sf(b) + pmf(b)/2', () => {
    expect(fixture.paired.mcnemarMidP).toHaveLength(MCNEMAR_CASES);
    for (const [b, c, p] of fixture.paired.mcnemarMidP) closeTo(mcnemarMidP(b, c).pValue, p);
  });

  it('paired t equals ttest_rel(production, candidate, alternative="greater")', () => {
    expect(fixture.paired.pairedT.map((c: { name: string }) => c.name)).toEqual(PAIRED_T_CASES);
    for (const c of fixture.paired.pairedT) {
      const result = pairedTTestGreater(c.production, c.candidate);
      closeTo(result.statistic, c.statistic);
      closeTo(result.pValue, c.pValue, 1e-9);
    }
  });

  it('refuses unpaired or impossible input', () => {
    expect(() => mcnemarMidP(-1, 2)).toThrow(RangeError);
    expect(() => mcnemarMidP(1.5, 2)).toThrow(RangeError);
    expect(() => pairedTTestGreater([1, 2], [1])).toThrow(RangeError);
    expect(() => pairedTTestGreater([1], [1])).toThrow(RangeError);
  });

  it('constant differences: certain when they favour the candidate, no evidence otherwise', () => {
    expect(pairedTTestGreater([2, 3, 4], [1, 2, 3]).pValue).toBe(0);
    expect(pairedTTestGreater([1, 2, 3], [1, 2, 3]).pValue).toBe(1);
    expect(pairedTTestGreater([1, 2, 3], [2, 3, 4]).pValue).toBe(1);
  });
});

describe('compareScores', () => {
  const right = { correct: true, squaredError: 0 };
  const wrong = { correct: false, squaredError: 0 };

  it('classifiers: accuracy of each on the rows both answered, McNemar on the discordant ones', () => {
    // Candidate alone right on 3 rows, production alone on 1, both right on 1; the null row is left out.
    const candidate = [right, right, right, wrong, right, null];
    const production = [wrong, wrong, wrong, right, right, right];
    expect(compareScores('binary', candidate, production)).toEqual({
      metric: 'accuracy',
      candidate: 4 / 5,
      production: 2 / 5,
      rows: 5,
      ...mcnemarMidP(3, 1),
      effect: { test: 'mcnemar', candidateOnly: 3 / 5, productionOnly: 1 / 5 },
    });
  });

  it('regressors: RMSE of each and the paired t-test on squared errors', () => {
    const se = (e: number) => ({ correct: false, squaredError: e });
    const result = compareScores('regression', [se(1), se(4), se(9), null], [se(4), se(9), se(25), se(1)]);
    expect(result).toMatchObject({ metric: 'rmse', rows: 3 });
    closeTo(result.candidate, Math.sqrt(14 / 3));
    closeTo(result.production, Math.sqrt(38 / 3));
    expect(result.pValue).toBe(pairedTTestGreater([4, 9, 25], [1, 4, 9]).pValue);
    // Differences production − candidate: 3, 5, 16 (mean 8, sd √49 = 7).
    expect(result.effect).toEqual({ test: 'paired-t', meanDifference: 8, sdDifference: 7 });
  });
});

const opts = { tolerance: 0.02, alpha: 0.05, minRows: 200 };
const accuracyBaseline: VerificationBaseline = { metric: 'accuracy', value: 0.9, rows: 5000 };
const accuracy = (successes: number, rows: number): Evidence => ({
  metric: 'accuracy',
  rows,
  successes,
  value: rows > 0 ? successes / rows : null,
});

describe('judgeRecovery', () => {
  it('accuracy: recovered within the tolerance once there are minRows rows', () => {
    const judged = judgeRecovery(accuracyBaseline, accuracy(190, 200), opts);
    expect(judged.verdict).toBe('recovered');
    // Score test against p0 = 0.88: z = (0.88 − 0.95)/√(0.88·0.12/200), p = P(Z > z).
    const z = (0.88 - 0.95) / Math.sqrt((0.88 * 0.12) / 200);
    closeTo(judged.statistic!, z);
    closeTo(judged.pValue!, normalSf(z));
    expect(judged.detail).toContain('accuracy ≥ 0.88');
  });

  it('accuracy: exactly at the threshold is recovered, just beyond it is not', () => {
    expect(judgeRecovery(accuracyBaseline, accuracy(176, 200), opts).verdict).toBe('recovered');
    const beyond = judgeRecovery(accuracyBaseline, accuracy(174, 200), opts);
    // 0.87 < 0.88 but not significantly (z ≈ 0.44): more rows are needed before the point estimate decides.
    expect(beyond.pValue!).toBeGreaterThan(0.3);
    expect(beyond.verdict).toBe('insufficient');
    expect(beyond.detail).toContain('within the noise');
    // With INCONCLUSIVE_ROWS × minRows rows the same shortfall is a failure.
    const rows = INCONCLUSIVE_ROWS * opts.minRows;
    const decided = judgeRecovery(accuracyBaseline, accuracy(Math.round(rows * 0.87), rows), opts);
    expect(decided.verdict).toBe('not_recovered');
    expect(decided.detail).toContain('beyond the tolerance');
    // Within the threshold at minRows is recovered at once.
    expect(judgeRecovery(accuracyBaseline, accuracy(180, 200), opts).verdict).toBe('recovered');
  });

  it('accuracy: a clear failure is not recovered before minRows; a mild one is insufficient', () => {
    const failed = judgeRecovery(accuracyBaseline, accuracy(0, 5), opts);
    expect(failed.verdict).toBe('not_recovered');
    closeTo(failed.pValue!, normalSf(0.88 / Math.sqrt((0.88 * 0.12) / 5)));
    expect(judgeRecovery(accuracyBaseline, accuracy(4, 5), opts).verdict).toBe('insufficient');
    expect(judgeRecovery(accuracyBaseline, accuracy(199, 199), opts).verdict).toBe('insufficient');
  });

  it('no rows is insufficient, evidence of another metric is refused', () => {
    const none = judgeRecovery(accuracyBaseline, accuracy(0, 0), opts);
    expect(none).toMatchObject({ verdict: 'insufficient', statistic: null, pValue: null });
    expect(() => judgeRecovery(accuracyBaseline, { metric: 'rmse', rows: 10, value: 1 }, opts)).toThrow(
      RangeError,
    );
  });

  it('failure rate: absolute tolerance above the baseline', () => {
    const baseline: VerificationBaseline = { metric: 'failureRate', value: 0.01, rows: 30, sd: 0.005 };
    const rate = (failed: number, rows: number): Evidence => ({
      metric: 'failureRate',
      rows,
      successes: failed,
      value: failed / rows,
    });
    expect(judgeRecovery(baseline, rate(30, 1000), opts).verdict).toBe('recovered');
    const worse = judgeRecovery(baseline, rate(60, 1000), opts);
    expect(worse.verdict).toBe('not_recovered');
    closeTo(worse.statistic!, 0.03 / Math.sqrt((0.03 * 0.97) / 1000));
    // A zero threshold has no spread: any failure at all is certainly worse.
    const strict = judgeRecovery({ ...baseline, value: 0 }, rate(1, 10), { ...opts, tolerance: 0 });
    expect(strict).toMatchObject({ verdict: 'not_recovered', pValue: 0 });
  });

  it('rmse: one-sample t-test of the mean squared error against the relative threshold', () => {
    const baseline: VerificationBaseline = { metric: 'rmse', value: 2, rows: 40, sd: 0.1 };
    // Squared errors 3, 5, 7, 9: MSE 6, variance 20/3; T = 2 × 1.1, T² = 4.84.
    const evidence: Evidence = {
      metric: 'rmse',
      rows: 4,
      value: Math.sqrt(6),
      sumSquaredError: 24,
      sumSquaredErrorSq: 164,
    };
    const judged = judgeRecovery(baseline, evidence, { ...opts, tolerance: 0.1 });
    const t = (6 - 4.84) / Math.sqrt(20 / 3 / 4);
    closeTo(judged.statistic!, t, 1e-12);
    closeTo(judged.pValue!, studentTSf(t, 3));
    expect(judged.verdict).toBe('insufficient');
    // The same spread on 400 rows is significantly worse.
    const many = judgeRecovery(
      baseline,
      { ...evidence, rows: 400, sumSquaredError: 2400, sumSquaredErrorSq: 16400 },
      { ...opts, tolerance: 0.1 },
    );
    expect(many.verdict).toBe('not_recovered');
    expect(many.pValue!).toBeLessThan(1e-6);
    // RMSE 2.1 is within 10 % of 2.
    const back = judgeRecovery(
      baseline,
      {
        ...evidence,
        rows: 400,
        value: 2.1,
        sumSquaredError: 400 * 4.41,
        sumSquaredErrorSq: 400 * 4.41 ** 2 + 399,
      },
      { ...opts, tolerance: 0.1 },
    );
    expect(back.verdict).toBe('recovered');
  });

  it('latency: against the spread of the baseline windows, point estimate without one', () => {
    const baseline: VerificationBaseline = { metric: 'latencyP95Ms', value: 100, rows: 20, sd: 10 };
    const p95 = (value: number, rows: number): Evidence => ({ metric: 'latencyP95Ms', rows, value });
    const slow = judgeRecovery(baseline, p95(150, 50), { ...opts, tolerance: 0.2 });
    expect(slow).toMatchObject({ verdict: 'not_recovered', statistic: 3 });
    closeTo(slow.pValue!, normalSf(3));
    expect(judgeRecovery(baseline, p95(115, 500), { ...opts, tolerance: 0.2 }).verdict).toBe('recovered');
    const noSpread = { ...baseline, sd: null };
    expect(judgeRecovery(noSpread, p95(150, 50), { ...opts, tolerance: 0.2 })).toMatchObject({
      verdict: 'insufficient',
      pValue: null,
    });
    expect(judgeRecovery(noSpread, p95(150, 500), { ...opts, tolerance: 0.2 }).verdict).toBe('not_recovered');
  });
});

const canaryOpts = { minRows: 100, alpha: 0.05, margin: 0.02 };
const accuracyArms = (c: [number, number], b: [number, number]): ServedComparison => ({
  metric: 'accuracy',
  candidate: { rows: c[1], correct: c[0] },
  baseline: { rows: b[1], correct: b[0] },
});

describe('judgeCanary', () => {
  it('promotes a candidate shown not worse by more than the margin, at alpha / looks', () => {
    const judged = judgeCanary(accuracyArms([180, 200], [800, 1000]), canaryOpts);
    expect(judged.verdict).toBe('promote');
    expect(judged.alphaPerLook).toBeCloseTo(0.005, 12);
    const z = (0.9 - 0.8 + 0.02) / Math.sqrt((0.9 * 0.1) / 200 + (0.8 * 0.2) / 1000);
    closeTo(judged.inferiorPValue!, normalSf(z));
    expect(judged).toMatchObject({ candidate: 0.9, baseline: 0.8 });
  });

  it('aborts early, below minRows, when the candidate is significantly worse', () => {
    const judged = judgeCanary(accuracyArms([20, 50], [800, 1000]), canaryOpts);
    expect(judged.verdict).toBe('abort');
    expect(judged.worsePValue!).toBeLessThan(0.005);
    expect(judged.detail).toContain('significantly worse');
  });

  it('continues while non-inferiority is not shown, and ends at the last look', () => {
    const comparison = accuracyArms([82, 100], [400, 500]);
    const judged = judgeCanary(comparison, canaryOpts);
    expect(judged.verdict).toBe('continue');
    const z = (0.82 - 0.8 + 0.02) / Math.sqrt((0.82 * 0.18) / 100 + (0.8 * 0.2) / 500);
    closeTo(judged.inferiorPValue!, normalSf(z));
    expect(judgeCanary(comparison, { ...canaryOpts, look: 10 }).verdict).toBe('abort');
    expect(judgeCanary(comparison, { ...canaryOpts, look: 9 }).verdict).toBe('continue');
  });

  it('does not promote below minRows, however good the candidate', () => {
    const judged = judgeCanary(accuracyArms([99, 99], [800, 1000]), canaryOpts);
    expect(judged.verdict).toBe('continue');
    expect(judged.detail).toContain('fewer than 100 rows');
    expect(judgeCanary(accuracyArms([0, 0], [800, 1000]), canaryOpts)).toMatchObject({
      verdict: 'continue',
      candidate: null,
    });
  });

  it('rmse: promotes and aborts on the arms’ mean squared errors and their spread', () => {
    // Arm with MSE m and variance v of the squared errors over n rows: Σe = n·m, Σe² = (n−1)·v + n·m².
    const arm = (n: number, m: number, v: number) => ({
      rows: n,
      sumSquaredError: n * m,
      sumSquaredErrorSq: (n - 1) * v + n * m * m,
    });
    const better: ServedComparison = {
      metric: 'rmse',
      candidate: arm(200, 1, 0.5),
      baseline: arm(1000, 2, 1),
    };
    const promoted = judgeCanary(better, canaryOpts);
    expect(promoted.verdict).toBe('promote');
    closeTo(promoted.candidate!, 1);
    closeTo(promoted.baseline!, Math.SQRT2);
    const k = 1.02 ** 2;
    closeTo(
      promoted.inferiorPValue!,
      normalSf((k * 2 - 1) / Math.sqrt(0.5 / 200 + (k * k * 1) / 1000)),
      1e-9,
    );
    const worse: ServedComparison = {
      metric: 'rmse',
      candidate: arm(200, 2, 1),
      baseline: arm(1000, 1, 0.5),
    };
    expect(judgeCanary(worse, canaryOpts).verdict).toBe('abort');
    // Without the squared errors' spread there is no test.
    const bare: ServedComparison = {
      metric: 'rmse',
      candidate: { rows: 200, sumSquaredError: 200 },
      baseline: { rows: 1000, sumSquaredError: 2000 },
    };
    expect(judgeCanary(bare, canaryOpts).verdict).toBe('continue');
  });
});

describe('canaryPoll', () => {
  it('looks at milestones of evidence: the k-th once both arms have k × minRows rows', () => {
    // 150 rows per arm: look 1 is due (100), look 2 is not (200).
    const clearlyBetter = accuracyArms([140, 150], [120, 150]);
    const first = canaryPoll(clearlyBetter, canaryOpts, 0);
    expect(first).toMatchObject({ looksTaken: 1, judged: { verdict: 'promote' } });
    // The same evidence polled again after look 1: no look is due, so no promotion yet.
    const again = canaryPoll(clearlyBetter, canaryOpts, 1);
    expect(again.looksTaken).toBe(1);
    expect(again.judged.verdict).toBe('continue');
    expect(again.judged.detail).toContain('look 2 at 200 rows per arm');
  });

  it('aborts a significantly worse candidate between looks', () => {
    const worse = accuracyArms([60, 150], [140, 150]);
    expect(canaryPoll(worse, canaryOpts, 1)).toMatchObject({ looksTaken: 1, judged: { verdict: 'abort' } });
  });

  it('the last look decides, however many polls came before it', () => {
    // A candidate a little better than production: not shown non-inferior at 1,000 rows per arm at
    // alpha / 10 would be aborted at look 10, never continued.
    const close = accuracyArms([795, 1000], [800, 1000]);
    expect(canaryPoll(close, canaryOpts, 9)).toMatchObject({ looksTaken: 10, judged: { verdict: 'abort' } });
    // Before the tenth milestone the same poll goes on.
    const early = accuracyArms([795, 999], [800, 1000]);
    expect(canaryPoll(early, canaryOpts, 9)).toMatchObject({
      looksTaken: 9,
      judged: { verdict: 'continue' },
    });
  });
});

describe('promotionFor', () => {
  const retrain = (promotion: 'canary' | 'shadow' | 'direct') => ({
    promotion,
    canaryShare: 0.2,
    canaryMinRows: 100,
    maxWait: '2 hours',
  });
  const perHour = (rows: number) => rows / 3_600_000;

  it('brings a candidate in as the policy says while production serves', () => {
    for (const policy of ['canary', 'shadow', 'direct'] as const) {
      expect(promotionFor(retrain(policy), 'serving')).toEqual({ promotion: policy, why: null });
    }
  });

  it('promotes directly while the model is held: no step waits on traffic the agent turned off', () => {
    expect(promotionFor(retrain('canary'), 'fallback')).toEqual({
      promotion: 'direct',
      why: expect.stringContaining('held (fallback)'),
    });
    expect(promotionFor(retrain('shadow'), 'disabled').promotion).toBe('direct');
    expect(promotionFor(retrain('direct'), 'fallback')).toEqual({ promotion: 'direct', why: null });
  });

  it("promotes directly when it lifts a segment's route: a canary would never see the segment's rows", () => {
    expect(promotionFor(retrain('canary'), 'serving', 'channel=web')).toEqual({
      promotion: 'direct',
      why: expect.stringContaining("segment channel=web's rows"),
    });
    expect(promotionFor(retrain('direct'), 'serving', 'channel=web')).toEqual({
      promotion: 'direct',
      why: null,
    });
  });

  it('a canary whose first look would come after maxWait goes to shadow, which scores every row', () => {
    // 0.2 of 250 rows an hour: the first 100 canary rows in exactly two hours, as maxWait allows.
    expect(promotionFor(retrain('canary'), 'serving', null, perHour(250))).toEqual({
      promotion: 'canary',
      why: null,
    });
    // A row a minute: 12 canary rows an hour, 8.3 hours to the first look.
    expect(promotionFor(retrain('canary'), 'serving', null, perHour(60))).toEqual({
      promotion: 'shadow',
      why: 'in shadow: at 60 labelled rows an hour a canary of 0.2 would take 8.3 hours to its first 100 rows, past retrain.maxWait (2 hours)',
    });
    // Shadow and direct are what the policy asked whatever the pace; a held model still goes directly.
    expect(promotionFor(retrain('shadow'), 'serving', null, perHour(1)).promotion).toBe('shadow');
    expect(promotionFor(retrain('direct'), 'serving', null, perHour(1)).promotion).toBe('direct');
    expect(promotionFor(retrain('canary'), 'fallback', null, perHour(1)).promotion).toBe('direct');
    // An unknown pace leaves the policy's way.
    expect(promotionFor(retrain('canary'), 'serving', null, null).promotion).toBe('canary');
  });

  it('labelPace: the rows since the onset are the held-out rows over their share', () => {
    // 150 held-out rows at holdoutShare 0.5: 300 rows in the three hours since the onset.
    expect(labelPace(150, 0.5, 0, 3 * 3_600_000)! * 3_600_000).toBeCloseTo(100, 10);
    expect(labelPace(150, 0.5, 10, 10)).toBeNull();
  });
});
