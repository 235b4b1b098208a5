// How a refit is judged (lib/recovery/refit-evidence.ts): the rolling-origin folds, the verdict with its
// "inconclusive" wait, and the sample sizes behind it (lib/recovery/sample-size.ts) against SciPy.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { HoldoutComparison } from '../../lib/recovery/compare.ts';
import {
  compareRollingOrigin,
  compareWithRoute,
  judgeRefit,
  judgeWithRoute,
  lostToRoute,
  REFIT_POWER,
  refitGainImmaterial,
  rollingOriginFolds,
} from '../../lib/recovery/refit-evidence.ts';
import { pairedMeanRows, pairedProportionRows } from '../../lib/recovery/sample-size.ts';
import { normalQuantile } from '../../lib/stats/index.ts';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/scipy-reference.json', import.meta.url), 'utf8'))
  .sampleSize as {
  normalPpf: [number, number][];
  pairedMeanRows: [number, number, number, number, number][];
  pairedProportionRows: [number, number, number, number, number, number][];
};

describe(`sample sizes against SciPy`, () => {
  it('normalQuantile equals scipy.stats.norm.ppf', () => {
    expect(fixture.normalPpf).toHaveLength(13);
    for (const [p, z] of fixture.normalPpf) {
      expect(Math.abs(normalQuantile(p) - z)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(z)));
    }
    expect([normalQuantile(0), normalQuantile(1), normalQuantile(1.5)]).toEqual([
      Number.NEGATIVE_INFINITY,
      Number.POSITIVE_INFINITY,
      Number.NaN,
    ]);
  });

  it('paired means: within a row of the exact noncentral-t answer, never more than one short', () => {
    expect(fixture.pairedMeanRows).toHaveLength(6);
    for (const [delta, sd, alpha, power, exact] of fixture.pairedMeanRows) {
      const n = pairedMeanRows(delta, sd, alpha, power);
      expect(Math.abs(n - exact), `δ ${delta}, sd ${sd}`).toBeLessThanOrEqual(1);
    }
    // The two cases of the header: a large effect and a small one, exactly.
    expect(pairedMeanRows(0.5, 1, 0.05, 0.8)).toBe(27);
    expect(pairedMeanRows(0.1, 1, 0.05, 0.8)).toBe(620);
  });

  it("paired proportions: Connor's formula, whose rows give the mid-p McNemar test its power", () => {
    expect(fixture.pairedProportionRows).toHaveLength(5);
    for (const [p10, p01, alpha, power, connor, exactPower] of fixture.pairedProportionRows) {
      expect(pairedProportionRows(p10, p01, alpha, power)).toBe(connor);
      // SciPy's enumeration of the exact test at that many rows reaches the target power.
      expect(exactPower).toBeGreaterThanOrEqual(power);
    }
  });

  it('no number of rows shows an improvement that is not there', () => {
    expect(pairedProportionRows(0.05, 0.05, 0.05, 0.8)).toBe(Number.POSITIVE_INFINITY);
    expect(pairedProportionRows(0.04, 0.05, 0.05, 0.8)).toBe(Number.POSITIVE_INFINITY);
    expect(pairedMeanRows(0, 1, 0.05, 0.8)).toBe(Number.POSITIVE_INFINITY);
    expect(pairedMeanRows(-0.2, 1, 0.05, 0.8)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('rolling origin', () => {
  it('tests the most recent share in consecutive segments, each after all its training rows', () => {
    expect(rollingOriginFolds(1000, 0.5)).toEqual([
      { trainEnd: 500, testEnd: 750 },
      { trainEnd: 750, testEnd: 1000 },
    ]);
    expect(rollingOriginFolds(1000, 0.5, 4)).toEqual([
      { trainEnd: 500, testEnd: 625 },
      { trainEnd: 625, testEnd: 750 },
      { trainEnd: 750, testEnd: 875 },
      { trainEnd: 875, testEnd: 1000 },
    ]);
    // Uneven: the segments still tile the tested rows exactly.
    expect(rollingOriginFolds(10, 0.3, 4)).toEqual([
      { trainEnd: 7, testEnd: 8 },
      { trainEnd: 8, testEnd: 9 },
      { trainEnd: 9, testEnd: 10 },
    ]);
    // Always two rows to train on; none to test: no folds.
    expect(rollingOriginFolds(3, 0.9)).toEqual([{ trainEnd: 2, testEnd: 3 }]);
    expect(rollingOriginFolds(2, 0.5)).toEqual([]);
  });

  it("pools every fold's scores, in order, into one paired comparison", async () => {
    const right = { correct: true, squaredError: 0 };
    const wrong = { correct: false, squaredError: 1 };
    const seen: number[] = [];
    const comparison = await compareRollingOrigin('binary', rollingOriginFolds(8, 0.5, 2), async (fold) => {
      seen.push(fold.trainEnd);
      return { candidate: [right, right], production: [wrong, right] };
    });
    expect(seen).toEqual([4, 6]);
    expect(comparison).toMatchObject({ rows: 4, candidate: 1, production: 0.5 });
    expect(comparison.effect).toEqual({ test: 'mcnemar', candidateOnly: 0.5, productionOnly: 0 });
  });
});

describe('judgeRefit', () => {
  const limits = { alpha: 0.05, rows: 400, testShare: 0.5, maxRows: 5000, materialGain: 0.02 };
  const accuracy = (candidate: number, production: number, pValue: number, only: [number, number]) =>
    ({
      metric: 'accuracy',
      candidate,
      production,
      rows: 200,
      statistic: 0,
      pValue,
      effect: { test: 'mcnemar', candidateOnly: only[0], productionOnly: only[1] },
    }) satisfies HoldoutComparison;

  it('better when significantly better at the policy alpha', () => {
    expect(judgeRefit(accuracy(0.9, 0.8, 0.01, [0.15, 0.05]), limits)).toEqual({ verdict: 'better' });
  });

  it('a refit no better yet is tried again on twice the rows, until doubling passes maxRows', () => {
    expect(judgeRefit(accuracy(0.8, 0.8, 0.5, [0.05, 0.05]), limits)).toEqual({
      verdict: 'inconclusive',
      rowsNeeded: 800,
      why: expect.stringContaining('800'),
    });
    expect(judgeRefit(accuracy(0.78, 0.8, 0.8, [0.03, 0.05]), { ...limits, rows: 2500 })).toMatchObject({
      verdict: 'inconclusive',
      rowsNeeded: 5000,
    });
    expect(judgeRefit(accuracy(0.78, 0.8, 0.8, [0.03, 0.05]), { ...limits, rows: 2501 })).toMatchObject({
      verdict: 'not-better',
      why: expect.stringContaining('no better than production on 2501 rows'),
    });
  });

  it('inconclusive when better but not yet significantly: waits for the rows of a test of power 0.8', () => {
    const judged = judgeRefit(accuracy(0.85, 0.8, 0.12, [0.1, 0.05]), limits);
    // Connor: 369 tested rows at p10 0.1, p01 0.05; half the rows are tested, so 738 since the onset.
    expect(judged).toEqual({ verdict: 'inconclusive', rowsNeeded: 738, why: expect.stringContaining('738') });
    expect(REFIT_POWER).toBe(0.8);
  });

  it('an improvement too small to show within maxRows counts as none', () => {
    // p10 0.08, p01 0.06: 2,162 tested rows, 4,324 since the onset.
    expect(judgeRefit(accuracy(0.82, 0.8, 0.3, [0.08, 0.06]), { ...limits, maxRows: 4323 })).toMatchObject({
      verdict: 'not-better',
      why: expect.stringContaining('4324'),
    });
    expect(judgeRefit(accuracy(0.82, 0.8, 0.3, [0.08, 0.06]), { ...limits, maxRows: 4324 })).toMatchObject({
      verdict: 'inconclusive',
      rowsNeeded: 4324,
    });
  });

  it('regressors: sized by the paired t on squared errors', () => {
    const rmse = {
      metric: 'rmse',
      candidate: 0.9,
      production: 1,
      rows: 200,
      statistic: 0,
      pValue: 0.2,
      effect: { test: 'paired-t', meanDifference: 0.1, sdDifference: 1 },
    } satisfies HoldoutComparison;
    // 620 tested rows (see the SciPy case above), 1,240 since the onset.
    expect(judgeRefit(rmse, limits)).toMatchObject({ verdict: 'inconclusive', rowsNeeded: 1240 });
  });

  it('not better: says whether even the gain the rows cannot rule out is below the material difference', () => {
    // McNemar: gain −0.02 per row, variance 0.08 − 0.0004, 200 rows: the 95 % upper bound is
    // −0.02 + 1.6449 · √(0.0796 / 200) = 0.0128 (z from scipy.stats.norm.ppf(0.95) = 1.6448536).
    const worse = accuracy(0.78, 0.8, 0.8, [0.03, 0.05]);
    expect(refitGainImmaterial(worse, 0.05, 0.0129)).toBe(true);
    expect(refitGainImmaterial(worse, 0.05, 0.0127)).toBe(false);
    expect(judgeRefit(worse, { ...limits, rows: 2501 })).toMatchObject({
      verdict: 'not-better',
      immaterial: true,
      why: expect.stringContaining('nor could it do materially better (by 0.02 or more)'),
    });
    // At the row limit no more rows will narrow the gain: one seen below the material difference is a
    // level to accept even when its upper bound is not below it.
    expect(judgeRefit(worse, { ...limits, rows: 2501, materialGain: 0.01 })).toMatchObject({
      verdict: 'not-better',
      immaterial: true,
      why: expect.stringContaining(
        'the gain seen (-0.020) is below the material 0.01 and the row limit is reached',
      ),
    });
    // A gain of 0.01 (McNemar b − c) that would need more rows than the limit to show: below the material
    // 0.02 it is accepted as a level; above a material 0.005 it stays unproven, for a person to weigh.
    const slight = accuracy(0.81, 0.8, 0.3, [0.06, 0.05]);
    expect(judgeRefit(slight, { ...limits, rows: 4000 })).toMatchObject({
      verdict: 'not-better',
      immaterial: true,
    });
    expect(judgeRefit(slight, { ...limits, rows: 4000, materialGain: 0.005 })).toMatchObject({
      verdict: 'not-better',
      immaterial: false,
      why: expect.not.stringContaining('material'),
    });
    // Paired t on squared errors: RMSE falls by 2 % when MSE (1) falls by 1 − 0.98² = 0.0396; the upper
    // bound of the mean difference is −0.01 + 1.6449 · sd / √200: 0.0133 with sd 0.2, 0.1063 with sd 1.
    const rmse = (sdDifference: number) =>
      ({
        metric: 'rmse',
        candidate: 1.005,
        production: 1,
        rows: 200,
        statistic: 0,
        pValue: 0.7,
        effect: { test: 'paired-t', meanDifference: -0.01, sdDifference },
      }) satisfies HoldoutComparison;
    expect(refitGainImmaterial(rmse(0.2), 0.05, 0.02)).toBe(true);
    expect(refitGainImmaterial(rmse(1), 0.05, 0.02)).toBe(false);
    // Too few rows to bound anything.
    expect(refitGainImmaterial({ ...worse, rows: 1 }, 0.05, 0.5)).toBe(false);
  });

  it('asks for at least one row more than it has', () => {
    // Observed effect large enough that power says fewer rows would do, yet p was not below alpha.
    expect(judgeRefit(accuracy(0.95, 0.8, 0.06, [0.3, 0.1]), { ...limits, rows: 400 })).toMatchObject({
      verdict: 'inconclusive',
      rowsNeeded: 401,
    });
  });
});

describe("a segment incident's candidate against the segment's fallback route", () => {
  const right = { correct: true, squaredError: 0 };
  const wrong = { correct: false, squaredError: 1 };
  const none = { candidate: [], production: [] };

  it("pools the folds' scores; the segment's rows against the route, the other rows against production", () => {
    const route = compareWithRoute(
      'binary',
      'channel=web',
      [
        { candidate: [right, wrong], production: [wrong, wrong] },
        { candidate: [right], production: [right] },
      ],
      [{ candidate: [right, wrong], production: [right, right] }],
    );
    expect(route).toEqual({
      segment: 'channel=web',
      metric: 'accuracy',
      candidate: 2 / 3,
      route: 1 / 3,
      rows: 3,
      others: { candidate: 0.5, production: 1, rows: 2 },
    });
    // Better on the segment, but the others lose half their accuracy: lifting the route would not pay.
    expect(lostToRoute(route, 0.02)).toBe(true);
    expect(lostToRoute(route, 0.5)).toBe(false);
    const tie = compareWithRoute(
      'binary',
      'channel=web',
      [{ candidate: [right, wrong], production: [wrong, right] }],
      [none],
    );
    expect(lostToRoute(tie, 0.02)).toBe(true);
    // No row of the segment among the tested rows: nothing shows the candidate serves it better.
    expect(lostToRoute(compareWithRoute('binary', 'channel=web', [none], [none]), 0.02)).toBe(true);
    // Regression: lower RMSE is better; the others may rise by the relative margin.
    const rmse = compareWithRoute(
      'regression',
      'region=north',
      [
        {
          candidate: [{ correct: false, squaredError: 1 }],
          production: [{ correct: false, squaredError: 4 }],
        },
      ],
      [
        {
          candidate: [{ correct: false, squaredError: 1.21 }],
          production: [{ correct: false, squaredError: 1 }],
        },
      ],
    );
    expect(rmse).toMatchObject({ metric: 'rmse', candidate: 1, route: 2 });
    expect(lostToRoute(rmse, 0.05)).toBe(true);
    expect(lostToRoute(rmse, 0.1)).toBe(false);
  });

  it('turns a refit better than production into "not better" when lifting the route would not pay, and nothing else', () => {
    const others = { candidate: 0.86, production: 0.87, rows: 200 };
    const lost = {
      segment: 'channel=web',
      metric: 'accuracy' as const,
      candidate: 0.6,
      route: 0.7,
      rows: 40,
      others,
    };
    const won = { ...lost, candidate: 0.8 };
    expect(judgeWithRoute({ verdict: 'better' }, lost, 0.02)).toEqual({
      verdict: 'not-better',
      immaterial: false,
      why: "lifting the fallback route would not pay: on segment channel=web's 40 tested rows accuracy 0.6 vs its fallback route 0.7, on the other 200 0.86 vs production 0.87",
    });
    expect(judgeWithRoute({ verdict: 'better' }, won, 0.02)).toEqual({ verdict: 'better' });
    expect(judgeWithRoute({ verdict: 'better' }, null, 0.02)).toEqual({ verdict: 'better' });
    const inconclusive = { verdict: 'inconclusive' as const, rowsNeeded: 600, why: 'not yet' };
    expect(judgeWithRoute(inconclusive, lost, 0.02)).toBe(inconclusive);
  });
});
