// Where a window closes: the rule the policy's `window` states, on arrival times alone. Pure, so the
// backtest cuts its windows with it and the live agent can ask it of the rows it has seen.
//
// Why windows that adapt (policy `window.kind` 'adaptive', the default): a window cut by the clock alone
// holds a handful of rows on a model with one prediction a minute (every test then judges noise, or says
// it cannot judge), and the whole stream on one with a thousand a second (nothing is confirmed before the
// stream is over); one cut by count alone never closes on a model whose traffic stopped. An adaptive
// window closes `every` after it opened once it holds enough rows to judge (`minRows`), sooner when it
// holds `rows`, and at the latest `maxSpan` after it opened, full or not; a span with no arrivals costs one
// window per `maxSpan`, whatever the stream's length.
//
// Traffic too sparse to bring `minRows` within `maxSpan` (a row every few minutes) would then be cut into
// windows none of which can judge, forever. So once a window could not judge within `maxSpan` of opening,
// the next one gathers: it stays open until it holds `minRows` rows, however long that takes, and closes
// short only when `maxSpan` passes without an arrival. The first window short of `minRows` still closes at
// `maxSpan`, so traffic that dwindles shows within `maxSpan` as it did (its gaps are a stale-data finding),
// and a stopped stream shows within `maxSpan` of its last row; a window that fills within `maxSpan` again
// ends the gathering.
import type { WindowKind } from '../policy/defaults.ts';
import { durationMs } from '../policy/duration.ts';

export interface WindowRule {
  kind: WindowKind;
  /** count: the rows of a window; adaptive: a window closes once it holds this many. */
  rows: number;
  /** time: a window's span; adaptive: its span once it holds `minRows`. */
  every: string;
  /** Below this many rows a window cannot judge: an adaptive window stays open for more. */
  minRows: number;
  /**
   * adaptive: the longest a window stays open, however few rows it holds; on traffic too sparse to fill a
   * window so, the longest stretch without an arrival a gathering window waits out.
   */
  maxSpan: string;
}

export interface WindowBounds {
  /** Exclusive: a window holds the rows with startAt < ts <= endAt. */
  startAt: number;
  endAt: number;
}

/**
 * The windows over arrival times `ts` (ascending) that have closed by `now`, the first opening at
 * `startAt`; rows that share a timestamp share a window. `ts` must hold every arrival after `startAt` up
 * to `now` (later ones are not needed: a window whose close depends on them has not closed). A window
 * still open is not returned: a count or adaptive window short of `rows` rows before its time limit, a
 * time window before its span is over. A long gap closes several windows: one per `every` (time) or per
 * `maxSpan` (adaptive); a count window never closes on traffic that stopped.
 */
export function closedWindows(
  ts: readonly number[],
  startAt: number,
  now: number,
  rule: WindowRule,
): WindowBounds[] {
  return windowCutter(ts, startAt, rule).closedBy(now);
}

/**
 * Every window over arrival times `ts` (ascending), the first opening at `startAt`, as a replay of the
 * whole stream cuts them: the windows closed by the last arrival, then the one still open, which ends
 * where its rule would close it (a count window: at the last arrival).
 */
export function cutWindows(ts: readonly number[], startAt: number, rule: WindowRule): WindowBounds[] {
  if (ts.length === 0) return [];
  const last = ts.at(-1)!;
  const cutter = windowCutter(ts, startAt, rule);
  const bounds = cutter.closedBy(last);
  if (cutter.openAt < last) {
    const endAt = cutter.nextEnd();
    bounds.push({ startAt: cutter.openAt, endAt: Number.isFinite(endAt) ? endAt : last });
  }
  return bounds;
}

/**
 * Cuts the windows over the arrivals `ts` one after the other from `startAt`. Where a window closes
 * (`nextEnd`) is infinity when only an arrival not among `ts` can close it; each bound only grows with
 * later arrivals, so a close computed from the arrivals up to `now` is final once it is at or before `now`.
 */
function windowCutter(ts: readonly number[], startAt: number, rule: WindowRule) {
  const every = durationMs(rule.every);
  const maxSpan = Math.max(every, durationMs(rule.maxSpan));
  /** The time of the n-th arrival (1-based) from index i; none: never. */
  const nth = (i: number, n: number) => (i + n - 1 < ts.length ? ts[i + n - 1]! : Number.POSITIVE_INFINITY);
  /** Index of the first arrival after the open window's start. */
  let i = 0;
  /** The previous window could not judge within maxSpan of opening: this one gathers. */
  let gathering = false;
  const cutter = {
    openAt: startAt,
    nextEnd(): number {
      const at = cutter.openAt;
      while (i < ts.length && ts[i]! <= at) i++;
      if (rule.kind === 'time') return at + every;
      if (rule.kind === 'count') return nth(i, rule.rows);
      const full = nth(i, rule.rows);
      const judgeable = Math.max(at + every, nth(i, rule.minRows));
      if (!gathering) return Math.min(full, judgeable, at + maxSpan);
      // Gathering: short of minRows, the window closes only on a stretch of maxSpan without an arrival.
      let quietSince = at;
      for (let k = i; k < i + rule.minRows; k++) {
        const t = k < ts.length ? ts[k]! : Number.POSITIVE_INFINITY;
        if (t - quietSince > maxSpan) return Math.min(full, judgeable, quietSince + maxSpan);
        quietSince = t;
      }
      return Math.min(full, judgeable);
    },
    /** The windows closed by `now`, from the open one on; the open window then starts after them. */
    closedBy(now: number): WindowBounds[] {
      const bounds: WindowBounds[] = [];
      for (let endAt = cutter.nextEnd(); endAt <= now; endAt = cutter.nextEnd()) {
        // Past the window's rows: where the next window's arrivals begin, as nextEnd would find it.
        const first = i;
        while (i < ts.length && ts[i]! <= endAt) i++;
        gathering = i - first < rule.minRows || endAt - cutter.openAt > maxSpan;
        bounds.push({ startAt: cutter.openAt, endAt });
        cutter.openAt = endAt;
      }
      return bounds;
    },
  };
  return cutter;
}

/** The rule in words, as reports print it. */
export function describeWindows(rule: WindowRule): string {
  if (rule.kind === 'count') return `${rule.rows} rows each`;
  if (rule.kind === 'time') return `${rule.every} each`;
  return `${rule.every} once ${rule.minRows} rows arrived, sooner at ${rule.rows} rows, at most ${rule.maxSpan} (on sparse traffic, until ${rule.minRows} rows or ${rule.maxSpan} without one)`;
}

/**
 * Catching up: a gap of more than this many cycles, and of more than CATCH_UP_MIN_GAP_MS, is measured as
 * several windows; a shorter hiccup (a slow cycle, a restarted worker) as one window a little longer.
 */
const CATCH_UP_AFTER_CYCLES = 2;
const CATCH_UP_MIN_GAP_MS = 60_000;
/** Catching up: the most windows a backlog is cut into, however long the gap (the windows then grow). */
const MAX_CATCH_UP_WINDOWS = 60;

/**
 * Where the live agent's next window ends: at `now`, holding everything since the last window, unless the
 * agent is behind by more than two cycles and a minute (a worker or Temporal outage, an agent resumed
 * after a pause). Then the backlog is cut into the windows the missed cycles would have measured, a cycle
 * each, and the agent measures them one after the other: a long gap becomes several windows, so the
 * detectors see a change where it happened and no window holds hours of traffic. A backlog of more than
 * MAX_CATCH_UP_WINDOWS cycles is cut into that many longer windows (a day's outage at one-minute cycles
 * into windows of 24 minutes), so catching up is bounded work: `catchingUpBy`, the span of the previous
 * window when it was such a window, keeps the cut the backlog started with.
 */
export function liveWindowEnd(startAt: number, now: number, cycleMs: number, catchingUpBy?: number): number {
  const behind = now - startAt;
  if (behind <= Math.max(CATCH_UP_AFTER_CYCLES * cycleMs, CATCH_UP_MIN_GAP_MS)) return now;
  const span = catchingUpBy ?? Math.max(cycleMs, Math.ceil(behind / MAX_CATCH_UP_WINDOWS));
  return Math.min(now, startAt + span);
}
