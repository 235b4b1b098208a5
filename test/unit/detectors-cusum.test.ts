// The tabular CUSUM (lib/detectors/cusum.ts) computed by hand: the statistics on a known reference, each
// direction, the decision interval (strictly above h), the warm-up's sample mean and sd (n − 1) frozen
// at exactly `warmup` values, a constant warm-up that waits, and the parameter checks' messages.
import { describe, expect, it } from 'vitest';
import { Cusum } from '../../lib/detectors/index.ts';

describe('CUSUM on a given reference (mean 10, sd 2)', () => {
  const ref = { mean: 10, sd: 2, k: 0.5, h: 4 };

  it('accumulates z − k above and −z − k below, floored at 0', () => {
    const c = new Cusum({ ...ref, mode: 'both' });
    c.update(14); // z = 2: upper 1.5, lower 0
    expect(c.state).toMatchObject({ upper: 1.5, lower: 0, drift: false });
    c.update(6); // z = −2: upper max(0, 1.5 − 2.5) = 0, lower 1.5
    expect(c.state).toMatchObject({ upper: 0, lower: 1.5 });
    c.update(9); // z = −0.5: lower 1.5 + 0.5 − 0.5 = 1.5
    expect(c.state).toMatchObject({ upper: 0, lower: 1.5 });
  });

  it('alarms only strictly above h, in the directions it watches', () => {
    // z = 2.5 each: upper 2, then 4 (= h, no alarm), then 6 (alarm).
    const up = new Cusum({ ...ref, mode: 'up' });
    expect([15, 15, 15].map((x) => up.update(x).drift)).toEqual([false, false, true]);
    expect(up.state.upper).toBe(6);
    const down = new Cusum({ ...ref, mode: 'down' });
    expect([15, 15, 15].map((x) => down.update(x).drift)).toEqual([false, false, false]);
    expect([5, 5, 5].map((x) => down.update(x).drift)).toEqual([false, false, true]);
    const onlyUp = new Cusum({ ...ref, mode: 'up' });
    expect([5, 5, 5, 5].map((x) => onlyUp.update(x).drift)).toEqual([false, false, false, false]);
    const both = new Cusum({ ...ref, mode: 'both' });
    expect([5, 5, 5].map((x) => both.update(x).drift)).toEqual([false, false, true]);
  });

  it('restarts after an alarm, keeping the given reference', () => {
    const c = new Cusum({ ...ref, mode: 'up' });
    for (const x of [15, 15, 15]) c.update(x);
    expect(c.driftDetected).toBe(true);
    c.update(10);
    expect(c.state).toMatchObject({ drift: false, upper: 0, lower: 0, refMean: 10, refSd: 2 });
  });
});

describe('CUSUM warm-up', () => {
  it('freezes the sample mean and sd (n − 1) at exactly `warmup` values', () => {
    const c = new Cusum({ warmup: 4 });
    for (const x of [1, 2, 3]) c.update(x);
    expect(c.state).toMatchObject({ refMean: null, refSd: null, n: 3 });
    c.update(6);
    // mean 3; squared deviations 4 + 1 + 0 + 9 = 14; sd √(14 / 3)
    expect(c.state.refMean).toBe(3);
    expect(c.state.refSd).toBeCloseTo(Math.sqrt(14 / 3), 12);
    // The next value is judged against it: z = (3 + 4√(14/3) − 3)/sd = 4, so upper = 3.5.
    c.update(3 + 4 * Math.sqrt(14 / 3));
    expect(c.state.upper).toBeCloseTo(3.5, 12);
  });

  it('waits while every warm-up value is equal (sd 0 would make any deviation an alarm)', () => {
    const c = new Cusum({ warmup: 3 });
    for (const x of [5, 5, 5, 5]) c.update(x);
    expect(c.state.refSd).toBeNull();
    c.update(7);
    expect(c.state.refMean).toBeCloseTo(5.4, 12);
    expect(c.state.refSd).toBeGreaterThan(0);
  });

  it('takes warm-up 2, the smallest sample with an sd', () => {
    const c = new Cusum({ warmup: 2 });
    c.update(1);
    c.update(3);
    expect(c.state).toMatchObject({ refMean: 2, refSd: Math.SQRT2 });
  });
});

describe('CUSUM parameters', () => {
  it.each([
    [{ k: -0.1 }, 'CUSUM: k must be ≥ 0'],
    [{ h: 0 }, 'CUSUM: h must be > 0'],
    [{ warmup: 1 }, 'CUSUM: warmup must be an integer ≥ 2'],
    [{ warmup: 2.5 }, 'CUSUM: warmup must be an integer ≥ 2'],
    [{ mode: 'sideways' }, "CUSUM: mode must be 'up', 'down' or 'both'"],
    [{ mean: 0 }, 'CUSUM: give mean and sd together, or neither'],
    [{ sd: 1 }, 'CUSUM: give mean and sd together, or neither'],
    [{ mean: Number.NaN, sd: 1 }, 'CUSUM: mean must be finite'],
    [{ mean: 0, sd: 0 }, 'CUSUM: sd must be finite and > 0'],
    [{ mean: 0, sd: Number.POSITIVE_INFINITY }, 'CUSUM: sd must be finite and > 0'],
  ])('refuses %o', (params, message) => {
    expect(() => new Cusum(params as never)).toThrow(new RangeError(message));
  });

  it('accepts the edges: k 0, warmup 2, a given reference', () => {
    expect(() => new Cusum({ k: 0, warmup: 2 })).not.toThrow();
    expect(() => new Cusum({ mean: 0, sd: 1e-9 })).not.toThrow();
  });

  it('refuses a value that is not a finite number', () => {
    expect(() => new Cusum().update(Number.NaN)).toThrow(
      new RangeError('CUSUM: input must be a finite number, got NaN'),
    );
  });
});
