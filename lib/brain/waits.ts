// When a remedy stops waiting for labelled rows: a retrain for its training rows, a canary or shadow for
// its next look, a verification for its evidence. The agent (workflows/remedies.ts) and the backtest
// (lib/backtest/replay.ts) both ask here, so they give up at the same moment.
//
// Each of these waits already ends on rows (retrain.maxRows, the canary's last look, verification's
// INCONCLUSIVE_ROWS × minRows); their time limits (`maxWait`) are sized for ordinary traffic. At one
// labelled row a minute, the 300 rows a retrain trains on take five hours and a verification's 200 rows
// more than three, so a wall-clock limit of two hours or thirty minutes gave up on evidence that was
// arriving. The wait therefore goes on past `maxWait` while the rows arrive at a pace that brings the
// ones it needs before the cap, ROW_WAIT_CAP × maxWait after it began; at ordinary traffic the rows come
// long before `maxWait` and nothing changes. No rows at all by `maxWait` still ends the wait then.
import { durationMs } from '../policy/duration.ts';

/** The wait stretches to at most this multiple of its `maxWait` (a day for a retrain's two hours). */
export const ROW_WAIT_CAP = 12;

export interface RowWait {
  /** When the wait began (epoch ms). */
  startedAt: number;
  /** Where the counted rows start (a retrain's onset; for the others, when the wait began). */
  rowsSince: number;
  /** The moment asked about: now, or the next look when the caller would otherwise sleep until then. */
  at: number;
  /** Labelled rows counted so far, and the number the wait is for. */
  rows: number;
  needed: number;
  /** The policy's time limit for ordinary traffic, as a duration ('2 hours'). */
  maxWait: string;
}

/** True when the wait should end without the rows: past maxWait and the rows would not come by the cap. */
export function waitIsOver(w: RowWait): boolean {
  const limit = durationMs(w.maxWait);
  if (w.at < w.startedAt + limit) return false;
  const cap = w.startedAt + ROW_WAIT_CAP * limit;
  if (w.at >= cap || w.rows <= 0) return true;
  if (w.rows >= w.needed) return false;
  const perMs = w.rows / Math.max(1, w.at - w.rowsSince);
  return w.at + (w.needed - w.rows) / perMs > cap;
}

/** How a wait that ran out says so: "by 2 hours (up to 1 day while labelled rows kept arriving)". */
export function waitLimit(maxWait: string): string {
  const cap = durationMs(maxWait) * ROW_WAIT_CAP;
  const hours = cap / 3_600_000;
  const span = hours >= 1 ? `${+hours.toFixed(1)} hours` : `${Math.round(cap / 60_000)} minutes`;
  return `by ${maxWait} (up to ${span} while labelled rows kept arriving)`;
}
