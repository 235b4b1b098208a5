// QuantileSketch on streams small enough to follow by hand: what it keeps, at which weights, which values
// a compaction drops (the kept parity alternating per level) and which order statistics a sample reads.
// test/unit/window-sketch.test.ts checks the same sketch statistically, on windows of 300,000 values.
import { describe, expect, it } from 'vitest';
import { quantiles } from '../../lib/stats/index.ts';
import { QuantileSketch } from '../../lib/stats/quantile-sketch.ts';

function sketchOf(exactValues: number, values: number[]): QuantileSketch {
  const sketch = new QuantileSketch(exactValues);
  for (const x of values) sketch.add(x);
  return sketch;
}

describe('QuantileSketch, followed by hand', () => {
  it('refuses fewer than two exact values', () => {
    for (const exactValues of [1, 0, -3, Number.NaN]) {
      expect(() => new QuantileSketch(exactValues)).toThrow(
        new RangeError('QuantileSketch: exactValues must be at least 2'),
      );
    }
    expect(sketchOf(2, [5, 4]).sample()).toEqual([4, 5]);
  });

  it('counts, sums and bounds every value added, kept or not', () => {
    const sketch = sketchOf(4, [3, -2, 7, 0.5, 11, -6, 2]);
    expect(sketch).toMatchObject({ count: 7, sum: 15.5, min: -6, max: 11 });
    const empty = new QuantileSketch(4);
    expect(empty).toMatchObject({
      count: 0,
      sum: 0,
      min: Number.POSITIVE_INFINITY,
      max: Number.NEGATIVE_INFINITY,
    });
    expect(empty.rankErrorBound).toBe(0);
    expect(empty.exact).toBe(true);
    expect(empty.sample()).toEqual([]);
  });

  it('keeps exactValues values verbatim, and compacts at the next one', () => {
    const full = sketchOf(4, [4, 1, 3, 2]);
    expect(full.exact).toBe(true);
    expect(full.sample()).toEqual([1, 2, 3, 4]);
    // While exact the sample is every value, whatever size is asked for.
    expect(full.sample(2)).toEqual([1, 2, 3, 4]);
    // The fifth value finds the buffer of 2k = 4 full: sorted, every other value from the first, [1, 3],
    // becomes level 0 at weight 2, and 5 starts the buffer again.
    const once = sketchOf(4, [4, 1, 3, 2, 5]);
    expect(once.exact).toBe(false);
    // One compaction at weight 1 over 5 values.
    expect(once.rankErrorBound).toBe(1 / 5);
    // Ranks ⌊(i + ½)·5/4⌋ = 0, 1, 3, 4 of the weighted values 1, 1, 3, 3, 5.
    expect(once.sample()).toEqual([1, 1, 3, 5]);
    expect(once.sample(2)).toEqual([1, 3]);
    // A sample larger than the count reads every rank once.
    expect(once.sample(10)).toEqual([1, 1, 3, 3, 5]);
  });

  it('alternates the kept parity and carries a full level up like a binary counter', () => {
    // Second compaction of the buffer [5, 6, 7, 8] keeps the odd positions, [6, 8]; level 0 is taken
    // ([1, 3]), so the two merge to [1, 3, 6, 8] and level 1's first compaction keeps [1, 6] at weight 4.
    const twice = sketchOf(4, [4, 1, 3, 2, 5, 6, 7, 8, 9]);
    expect(twice.rankErrorBound).toBe((2 * 1 + 1 * 2) / 9);
    // Ranks ⌊(i + ½)·9/4⌋ = 1, 3, 5, 7 of 1, 1, 1, 1, 6, 6, 6, 6, 9.
    expect(twice.sample()).toEqual([1, 1, 6, 6]);
    expect(twice.sample(9)).toEqual([1, 1, 1, 1, 6, 6, 6, 6, 9]);
    // The third buffer compaction is even again ([9, 11] of [9, 10, 11, 12]) and lands on the empty
    // level 0; level 1 keeps [1, 6].
    const thrice = sketchOf(4, [4, 1, 3, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(thrice.rankErrorBound).toBe((3 * 1 + 1 * 2) / 13);
    expect(thrice.sample(13)).toEqual([1, 1, 1, 1, 6, 6, 6, 6, 9, 9, 11, 11, 13]);
  });

  it('merges a level into the carry in order, and walks past a run it has used up', () => {
    // The second buffer [1, 2, 3, 4] lies wholly below level 0 ([5, 7]): it halves to [2, 4], the merge
    // must interleave to [2, 4, 5, 7], and level 1 keeps [2, 5]. The buffer's 0 is read first and its run
    // is then used up while the sample goes on in level 1.
    const sketch = sketchOf(4, [5, 6, 7, 8, 1, 2, 3, 4, 0]);
    expect(sketch.sample(9)).toEqual([0, 2, 2, 2, 2, 5, 5, 5, 5]);
    expect(sketch.sample()).toEqual([2, 2, 5, 5]);
  });

  it('rounds an odd exactValues down to an even buffer', () => {
    const odd = sketchOf(5, [4, 1, 3, 2, 5]);
    expect(odd.exact).toBe(false);
    expect(odd.sample(5)).toEqual([1, 1, 3, 3, 5]);
  });

  it('reads quantiles from its sample, exactly while it is exact', () => {
    const values = [9, 2, 7, 4, 4, 1, 8];
    const exact = sketchOf(16, values);
    expect(exact.quantiles([0, 0.3, 0.5, 1])).toEqual(quantiles(values, [0, 0.3, 0.5, 1]));
    const compacted = sketchOf(4, [4, 1, 3, 2, 5, 6, 7, 8, 9]);
    expect(compacted.quantiles([0, 0.5, 1])).toEqual(quantiles([1, 1, 6, 6], [0, 0.5, 1]));
  });

  it('of() keeps every value however many, growing its buffer', () => {
    const values = Array.from({ length: 3000 }, (_, i) => (i * 7919) % 3001);
    const sketch = QuantileSketch.of(values);
    expect(sketch.exact).toBe(true);
    expect(sketch.count).toBe(3000);
    expect(sketch.sample()).toEqual([...values].sort((a, b) => a - b));
  });
});
