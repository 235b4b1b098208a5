// When a remedy stops waiting for labelled rows: a retrain for its training rows, a canary or shadow for
// its next look, a verification for its evidence. The agent (workflows/remedies.ts) and the backtest
// (lib/backtest/replay.ts) both ask here, so they give up at the same moment.
//
// Each of these waits already ends on rows (retrain.maxRows, the canary's last look, verification's
// INCONCLUSIVE_ROWS × minRows); their time limits (`maxWait`) are sized for ordinary traffic. At one
// labelled row a minute, the 300 rows a retrain trains on take five hours and a verification's 200 rows
// more than three, so a wall-clock limit of two hours or thirty minutes gave up on evidence that was
// arriving. The wait therefore goes on past `maxWait` while the rows arrive at a pace that brings the
// ones it needs before the cap, ROW_WAIT_CAP_MS after it began; at ordinary traffic the rows come long
// before `maxWait` and nothing changes. No rows at all by `maxWait` still ends the wait then.
//
// The cap is a week, whatever `maxWait`: a model with a labelled row every few minutes (a couple of
// thousand a week) brings a retrain's rows in a day or two and a canary's and a verification's in a day
// each, and a human handed the incident instead would not fix it sooner; rows slower than a week's cap
// are no basis for an automatic remedy.
import { durationMs } from '../policy/duration.ts';
import { poissonAtLeast } from '../stats/index.ts';

/** The longest a wait stretches past its `maxWait` while labelled rows keep arriving. */
export const ROW_WAIT_CAP_MS = 7 * 86_400_000;

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

/**
 * Below this chance of so few rows, the rows are taken to come too slowly for the cap (a one-sided test
 * of the arrival rate, see waitIsOver).
 */
export const ROW_PACE_ALPHA = 0.05;

/**
 * True when the wait should end without the rows: past maxWait, and the rows so far show they would not
 * come by the cap. The pace is tested rather than extrapolated: a handful of rows says little about
 * their rate (and labels that lag make the first hours look slow), so the wait ends only when so few rows
 * would be unlikely (below ROW_PACE_ALPHA, Poisson) at the steady rate that brings `needed` by the cap.
 */
export function waitIsOver(w: RowWait): boolean {
  const limit = durationMs(w.maxWait);
  if (w.at < w.startedAt + limit) return false;
  const cap = w.startedAt + Math.max(limit, ROW_WAIT_CAP_MS);
  if (w.at >= cap || w.rows <= 0) return true;
  if (w.rows >= w.needed) return false;
  const enoughPace = w.needed / Math.max(1, cap - w.rowsSince);
  const expectedByNow = enoughPace * Math.max(1, w.at - w.rowsSince);
  return 1 - poissonAtLeast(w.rows + 1, expectedByNow) < ROW_PACE_ALPHA;
}

/** How a wait that ran out says so: "by 2 hours (up to 7 days while labelled rows kept arriving)". */
export function waitLimit(maxWait: string): string {
  const days = Math.max(durationMs(maxWait), ROW_WAIT_CAP_MS) / 86_400_000;
  return `by ${maxWait} (up to ${+days.toFixed(1)} days while labelled rows kept arriving)`;
}
