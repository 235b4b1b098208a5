// Where a window closes: the rule the policy's `window` states, on arrival times alone. Pure, so the
// backtest cuts its windows with it and the live agent asks it, each cycle, whether its open window has
// closed.
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
//
// A busy stream that stops should show sooner than `maxSpan`: a window short of `minRows` also closes, no
// earlier than `every`, once the silence since its last arrival would be unlikely at the recent pace
// (a quiet close, QUIET_ALPHA). The pace is the rows of the latest windows that hold `minRows`, and of
// this one, over the time since the first of them opened: it needs no profile of the traffic, and as
// silent windows pile up the pace they imply falls, so a long stop is cut into ever longer silent
// windows, up to `maxSpan`.
import { BACKTEST_WINDOW_EVERY, type WindowKind } from '../policy/defaults.ts';
import { durationMs } from '../policy/duration.ts';

export interface WindowRule {
  kind: WindowKind;
  /** count: the rows of a window; adaptive: a window closes once it holds this many. */
  rows: number;
  /**
   * time: a window's span; adaptive: its span once it holds `minRows`. Absent: a cycle, the live agent's
   * (its caller fills it in) or, in the backtest, BACKTEST_WINDOW_EVERY.
   */
  every?: string | number;
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
 * What a closed window hands the next one: whether the next gathers, and the recent pace its quiet close
 * is judged at: `paceRows` rows since `paceFrom`, the latest windows that together hold `minRows` rows (a
 * pace from a handful of rows says little), from the first one's opening.
 */
export interface WindowCarry {
  gathering: boolean;
  paceRows: number;
  paceFrom: number;
}

/** What the first window of a stream starts from: no gathering, no pace. */
export function firstCarry(startAt: number): WindowCarry {
  return { gathering: false, paceRows: 0, paceFrom: startAt };
}

/** What window `w`, holding `rows` rows, hands the next one, given what it was handed. */
export function carryAfter(carry: WindowCarry, w: WindowBounds, rows: number, rule: WindowRule): WindowCarry {
  return {
    gathering: rows < rule.minRows || w.endAt - w.startAt > maxSpanOf(rule),
    ...(rows >= rule.minRows
      ? { paceRows: rows, paceFrom: w.startAt }
      : { paceRows: carry.paceRows + rows, paceFrom: carry.paceFrom }),
  };
}

/**
 * A quiet close: the silence since a window's last arrival (or its opening) is unlikely, p < QUIET_ALPHA,
 * for a Poisson stream at the pace the recent rows imply. At 1e-4 a steady stream's ordinary gaps close
 * a window early about once per 10,000 arrivals (each such close costs one short window that cannot
 * judge; test/unit/windows.test.ts counts them on steady streams of 1, 10 and 100 rows a minute), while a
 * stream of 100 rows a minute that stops shows at the window's `every`, one of 10 a minute within a
 * window or two.
 */
export const QUIET_ALPHA = 1e-4;
const QUIET_NATS = -Math.log(QUIET_ALPHA);

/**
 * The windows over arrival times `ts` (ascending) that have closed by `now`, the first opening at
 * `startAt` as a stream's first window; rows that share a timestamp share a window. `ts` must hold every arrival after `startAt` up to `now`
 * (later ones are not needed: a window whose close depends on them has not closed). A window still open
 * is not returned: a count or adaptive window short of `rows` rows before its time limit, a time window
 * before its span is over. A long gap closes several windows: one per `every` (time) or, adaptive, ever
 * longer silent ones up to one per `maxSpan`; a count window never closes on traffic that stopped.
 */
export function closedWindows(
  ts: readonly number[],
  startAt: number,
  now: number,
  rule: WindowRule,
): WindowBounds[] {
  return windowCutter(ts, startAt, rule, firstCarry(startAt)).closedBy(now);
}

/**
 * Where the window opened at `startAt`, handed `carry`, closes over arrival times `ts` (ascending, every
 * arrival after `startAt` up to some time; the first max(rows, minRows) + 1 of them suffice): a time at
 * or before the last of them is final; infinity means only an arrival not among `ts` can close it.
 */
export function windowClose(
  ts: readonly number[],
  startAt: number,
  rule: WindowRule,
  carry: WindowCarry,
): number {
  return windowCutter(ts, startAt, rule, carry).nextEnd();
}

/**
 * Every window over arrival times `ts` (ascending), the first opening at `startAt`, as a replay of the
 * whole stream cuts them: the windows closed by the last arrival, then the one still open, which ends
 * where its rule would close it (a count window: at the last arrival).
 */
export function cutWindows(ts: readonly number[], startAt: number, rule: WindowRule): WindowBounds[] {
  if (ts.length === 0) return [];
  const last = ts.at(-1)!;
  const cutter = windowCutter(ts, startAt, rule, firstCarry(startAt));
  const bounds = cutter.closedBy(last);
  if (cutter.openAt < last) {
    const endAt = cutter.nextEnd();
    bounds.push({ startAt: cutter.openAt, endAt: Number.isFinite(endAt) ? endAt : last });
  }
  return bounds;
}

function everyOf(rule: WindowRule): number {
  return durationMs(rule.every ?? BACKTEST_WINDOW_EVERY);
}

function maxSpanOf(rule: WindowRule): number {
  return Math.max(everyOf(rule), durationMs(rule.maxSpan));
}

/**
 * Cuts the windows over the arrivals `ts` one after the other from `startAt`. Where a window closes
 * (`nextEnd`) is infinity when only an arrival not among `ts` can close it; each bound only grows with
 * later arrivals, so a close computed from the arrivals up to `now` is final once it is at or before `now`.
 */
function windowCutter(ts: readonly number[], startAt: number, rule: WindowRule, first: WindowCarry) {
  const every = everyOf(rule);
  const maxSpan = maxSpanOf(rule);
  /** The time of the n-th arrival (1-based) from index i; none: never. */
  const nth = (i: number, n: number) => (i + n - 1 < ts.length ? ts[i + n - 1]! : Number.POSITIVE_INFINITY);
  /** Index of the first arrival after the open window's start. */
  let i = 0;
  let carry = first;
  /**
   * The earliest quiet close of the window opened at `at` (its arrivals from index i): the first time,
   * no earlier than `every` after it opened, at which k · silence / (time since paceFrom) reaches
   * QUIET_NATS, k being the pace's rows and the window's arrivals so far. Only a window short of
   * `minRows` needs one, so the scan stops there.
   */
  const quietClose = (at: number): number => {
    let k = carry.paceRows;
    let last = at;
    for (let j = i; j - i <= rule.minRows; j++) {
      // k (t − last) / (t − paceFrom) ≥ QUIET_NATS, solved for t.
      const quietAt =
        k > QUIET_NATS
          ? (k * last - QUIET_NATS * carry.paceFrom) / (k - QUIET_NATS)
          : Number.POSITIVE_INFINITY;
      const closeAt = Math.max(at + every, quietAt);
      const next = j < ts.length ? ts[j]! : Number.POSITIVE_INFINITY;
      if (closeAt < next) return closeAt;
      k++;
      last = next;
    }
    return Number.POSITIVE_INFINITY;
  };
  const cutter = {
    openAt: startAt,
    nextEnd(): number {
      const at = cutter.openAt;
      while (i < ts.length && ts[i]! <= at) i++;
      if (rule.kind === 'time') return at + every;
      if (rule.kind === 'count') return nth(i, rule.rows);
      const full = nth(i, rule.rows);
      const judgeable = Math.max(at + every, nth(i, rule.minRows));
      const quiet = quietClose(at);
      if (!carry.gathering) return Math.min(full, judgeable, quiet, at + maxSpan);
      // Gathering: short of minRows, the window closes only on a stretch of maxSpan without an arrival.
      let quietSince = at;
      for (let k = i; k < i + rule.minRows; k++) {
        const t = k < ts.length ? ts[k]! : Number.POSITIVE_INFINITY;
        if (t - quietSince > maxSpan) return Math.min(full, judgeable, quiet, quietSince + maxSpan);
        quietSince = t;
      }
      return Math.min(full, judgeable, quiet);
    },
    /** The windows closed by `now`, from the open one on; the open window then starts after them. */
    closedBy(now: number): WindowBounds[] {
      const bounds: WindowBounds[] = [];
      for (let endAt = cutter.nextEnd(); endAt <= now; endAt = cutter.nextEnd()) {
        // Past the window's rows: where the next window's arrivals begin, as nextEnd would find it.
        const firstRow = i;
        while (i < ts.length && ts[i]! <= endAt) i++;
        const window = { startAt: cutter.openAt, endAt };
        carry = carryAfter(carry, window, i - firstRow, rule);
        bounds.push(window);
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
  const every = rule.every ?? BACKTEST_WINDOW_EVERY;
  if (rule.kind === 'time') return `${every} each`;
  return `${every} once ${rule.minRows} rows arrived, sooner at ${rule.rows} rows, at most ${rule.maxSpan} (on sparse traffic, until ${rule.minRows} rows or ${rule.maxSpan} without one; short, once a silence is unlikely at the recent pace)`;
}

/**
 * Catching up: a window the rule closed more than a cycle, and more than CATCH_UP_MIN_GAP_MS, ago was due
 * at a cycle the agent missed (a worker or Temporal outage, an agent resumed after a pause): its backlog
 * is measured as several windows. A shorter delay (a slow cycle, a restarted worker) makes one window a
 * little longer.
 */
const CATCH_UP_MIN_GAP_MS = 30_000;
/** Catching up: the most windows a backlog is cut into, however long the gap (the windows then grow). */
const MAX_CATCH_UP_WINDOWS = 60;

/**
 * Where the live agent's window, open since `startAt` and closed by the rule at `closedAt`, ends. The
 * agent asks at each cycle, so it ends at the cycle: `now`, holding everything since the last window. A
 * window the rule closed more than a cycle and half a minute ago is a backlog: it is cut into the windows
 * the missed cycles would have measured (the rule's, a cycle at least), and the agent measures them one
 * after the other, so the detectors see a change where it happened and no window holds hours of traffic.
 * A backlog of more than MAX_CATCH_UP_WINDOWS cycles is cut into that many longer windows (a day's outage
 * at one-minute cycles into windows of 24 minutes), so catching up is bounded work: `catchingUpBy`, the
 * span of the previous window when it was such a window, keeps the cut the backlog started with.
 */
export function liveWindowEnd(
  startAt: number,
  closedAt: number,
  now: number,
  cycleMs: number,
  catchingUpBy?: number,
): number {
  if (now - closedAt <= Math.max(cycleMs, CATCH_UP_MIN_GAP_MS)) return now;
  const span = catchingUpBy ?? Math.max(cycleMs, Math.ceil((now - startAt) / MAX_CATCH_UP_WINDOWS));
  return Math.min(now, Math.max(closedAt, startAt + span));
}
