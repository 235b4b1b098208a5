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
  /** adaptive: the longest a window stays open, however few rows it holds. */
  maxSpan: string;
}

export interface WindowBounds {
  /** Exclusive: a window holds the rows with startAt < ts <= endAt. */
  startAt: number;
  endAt: number;
}

/**
 * The windows over arrival times `ts` (ascending), the first opening at `startAt`; rows that share a
 * timestamp share a window. The last window ends at or after the last arrival.
 */
export function cutWindows(ts: readonly number[], startAt: number, rule: WindowRule): WindowBounds[] {
  const bounds: WindowBounds[] = [];
  if (ts.length === 0) return bounds;
  const last = ts.at(-1)!;
  const every = durationMs(rule.every);
  const maxSpan = Math.max(every, durationMs(rule.maxSpan));
  /** The time of the n-th arrival (1-based) from index i; none: never. */
  const nth = (i: number, n: number) => (i + n - 1 < ts.length ? ts[i + n - 1]! : Number.POSITIVE_INFINITY);
  let i = 0;
  while (startAt < last) {
    while (i < ts.length && ts[i]! <= startAt) i++;
    let endAt: number;
    if (rule.kind === 'time') endAt = startAt + every;
    else if (rule.kind === 'count') endAt = Math.min(nth(i, rule.rows), last);
    else {
      const full = nth(i, rule.rows);
      const judgeable = nth(i, rule.minRows);
      endAt = Math.min(full, Math.max(startAt + every, judgeable), startAt + maxSpan);
    }
    bounds.push({ startAt, endAt });
    startAt = endAt;
  }
  return bounds;
}

/** The rule in words, as reports print it. */
export function describeWindows(rule: WindowRule): string {
  if (rule.kind === 'count') return `${rule.rows} rows each`;
  if (rule.kind === 'time') return `${rule.every} each`;
  return `${rule.every} once ${rule.minRows} rows arrived, sooner at ${rule.rows} rows, at most ${rule.maxSpan}`;
}
