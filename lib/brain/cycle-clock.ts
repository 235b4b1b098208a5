// When the agent measures and when the work beside it looks again, in workflow time.
//
// The agent's cycles fall on a fixed grid counted from its first cycle (fixed rate, not fixed delay): a
// slow cycle does not push every later one back, so a model's windows keep their length over days. A
// remedy's child (a retrain waiting for rows, a canary, a verification) looks again a short lead before
// each of the agent's cycles, so its answer reaches the agent with the window the cycle then measures:
// the order in which the backtest (lib/backtest/replay.ts) takes them at every window boundary, and the
// one in which a run on the time-skipping test server, whose clock stands still only while time is
// skipped, can hold every look and every cycle to the same rows whatever the machine's load.
import { durationMs } from '../policy/duration.ts';

/** The grid of an agent's cycles: its first cycle's workflow time and the interval, in milliseconds. */
export interface CycleClock {
  anchorMs: number;
  intervalMs: number;
}

/** The share of an interval by which a child's look comes before the agent's cycle. */
const LOOK_LEAD_SHARE = 0.1;

export function cycleClock(anchorMs: number, interval: string | number): CycleClock {
  const intervalMs = durationMs(interval);
  if (!(intervalMs > 0)) throw new RangeError(`a cycle interval must be positive, got ${interval}`);
  return { anchorMs, intervalMs };
}

/** Milliseconds from `nowMs` to the agent's next cycle after it (a whole interval when exactly on one). */
export function msToNextCycle(clock: CycleClock, nowMs: number): number {
  const into = (nowMs - clock.anchorMs) % clock.intervalMs;
  return clock.intervalMs - (into < 0 ? into + clock.intervalMs : into);
}

/** The workflow time of the cycle at or before `nowMs`: the grid point a cycle woken at `nowMs` belongs to. */
export function cycleStartMs(clock: CycleClock, nowMs: number): number {
  return nowMs + msToNextCycle(clock, nowMs) - clock.intervalMs;
}

/** How long before a cycle the work beside the agent looks again. */
export function lookLeadMs(clock: CycleClock): number {
  return Math.round(clock.intervalMs * LOOK_LEAD_SHARE);
}

/** Milliseconds from `nowMs` to the next look of a child: the lead before the next cycle still ahead of it. */
export function msToNextLook(clock: CycleClock, nowMs: number): number {
  return msToNextCycle({ ...clock, anchorMs: clock.anchorMs - lookLeadMs(clock) }, nowMs);
}
