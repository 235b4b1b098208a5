import { describe, expect, it } from 'vitest';
import { cycleClock, lookLeadMs, msToNextCycle, msToNextLook } from '../../lib/brain/cycle-clock.ts';

const MINUTE = 60_000;
const clock = cycleClock(1_000_000, '1 minute');

describe('the cycle clock: when the agent measures and when its children look', () => {
  it('keeps a fixed rate: a cycle that took 20 s is followed by the next one on the grid, not a minute later', () => {
    expect(msToNextCycle(clock, 1_000_000 + 20_000)).toBe(40_000);
    expect(msToNextCycle(clock, 1_000_000 + 7 * MINUTE + 59_999)).toBe(1);
  });

  it('waits a whole interval from a cycle that starts exactly on the grid', () => {
    expect(msToNextCycle(clock, 1_000_000)).toBe(MINUTE);
    expect(msToNextCycle(clock, 1_000_000 + 3 * MINUTE)).toBe(MINUTE);
  });

  it('skips a cycle an overrun passed rather than running two back to back', () => {
    // The cycle begun at the anchor took 61 s: the next is the one at two minutes.
    expect(1_000_000 + 61_000 + msToNextCycle(clock, 1_000_000 + 61_000)).toBe(1_000_000 + 2 * MINUTE);
  });

  it('counts the grid before the anchor as well (a clock read back from a later run)', () => {
    expect(msToNextCycle(clock, 1_000_000 - 15_000)).toBe(15_000);
  });

  it('puts every look a tenth of an interval before the cycle it precedes', () => {
    expect(lookLeadMs(clock)).toBe(6_000);
    // A child started 2 s after a cycle looks 52 s later, 6 s before the next cycle.
    expect(msToNextLook(clock, 1_000_000 + 2_000)).toBe(52_000);
    // A child started inside the lead looks before the cycle after next.
    expect(msToNextLook(clock, 1_000_000 + 57_000)).toBe(57_000);
  });

  it('takes the interval as a policy duration or milliseconds, and refuses one that is not positive', () => {
    expect(cycleClock(0, 30_000)).toEqual({ anchorMs: 0, intervalMs: 30_000 });
    expect(cycleClock(0, '30s').intervalMs).toBe(30_000);
    expect(() => cycleClock(0, 0)).toThrow(/must be positive/);
    expect(() => cycleClock(0, 'soon')).toThrow(/not a duration/);
  });
});
