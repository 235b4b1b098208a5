// The paired tests' statistics and refusals, derived by hand (their p-values are checked against SciPy
// in judge.test.ts).
import { describe, expect, it } from 'vitest';
import { mcnemarMidP, pairedTTestGreater } from '../../lib/recovery/paired.ts';

describe('mcnemarMidP', () => {
  it("statistic: the candidate's excess of wins over half the discordant rows", () => {
    expect(mcnemarMidP(7, 3).statistic).toBe(2);
    expect(mcnemarMidP(1, 5).statistic).toBe(-2);
  });

  it('p = P(X > b) + ½ P(X = b) for X ~ Binomial(n, ½): by hand for n = 3', () => {
    // P(X = k) = 1/8, 3/8, 3/8, 1/8
    expect(mcnemarMidP(2, 1).pValue).toBeCloseTo(1 / 8 + 3 / 16, 15);
    expect(mcnemarMidP(3, 0).pValue).toBeCloseTo(1 / 16, 15);
    expect(mcnemarMidP(0, 3).pValue).toBeCloseTo(7 / 8 + 1 / 16, 15);
    expect(mcnemarMidP(0, 0)).toEqual({ statistic: 0, pValue: 0.5 });
  });

  it('refuses counts that are not non-negative integers', () => {
    expect(() => mcnemarMidP(-1, 2)).toThrow('mcnemarMidP: counts must be non-negative integers');
    expect(() => mcnemarMidP(1.5, 2)).toThrow(RangeError);
  });
});

describe('pairedTTestGreater', () => {
  it('constant differences: certain in their direction, no evidence when there are none', () => {
    expect(pairedTTestGreater([3, 4, 5], [1, 2, 3])).toEqual({
      statistic: Number.POSITIVE_INFINITY,
      pValue: 0,
    });
    expect(pairedTTestGreater([1, 2, 3], [3, 4, 5])).toEqual({
      statistic: Number.NEGATIVE_INFINITY,
      pValue: 1,
    });
    expect(pairedTTestGreater([1, 2], [1, 2])).toEqual({ statistic: 0, pValue: 1 });
  });

  it('t = mean(d) / (sd(d) / √n): differences 1, 2, 3 give t = 2 / (1 / √3)', () => {
    expect(pairedTTestGreater([2, 4, 6], [1, 2, 3]).statistic).toBeCloseTo(2 * Math.sqrt(3), 12);
  });

  it('refuses unpaired samples and fewer than two pairs', () => {
    expect(() => pairedTTestGreater([1, 2], [1])).toThrow(
      'pairedTTestGreater: the two samples must be paired (same length)',
    );
    expect(() => pairedTTestGreater([1], [2])).toThrow('pairedTTestGreater: needs at least two pairs');
  });
});
