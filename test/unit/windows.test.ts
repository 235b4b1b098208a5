import { describe, expect, it } from 'vitest';
import {
  carryAfter,
  closedWindows,
  cutWindows,
  firstCarry,
  liveWindowEnd,
  type WindowRule,
  windowClose,
} from '../../lib/brain/windows.ts';

const MINUTE = 60_000;
const rule = (over: Partial<WindowRule> = {}): WindowRule => ({
  kind: 'adaptive',
  rows: 1000,
  every: '1 minute',
  minRows: 30,
  maxSpan: '1 hour',
  ...over,
});
/** n arrivals, one every `gapMs`, from t = gapMs. */
const arrivals = (n: number, gapMs: number) => Array.from({ length: n }, (_, i) => (i + 1) * gapMs);
const sizes = (ts: number[], windows: { startAt: number; endAt: number }[]) =>
  windows.map((w) => ts.filter((t) => t > w.startAt && t <= w.endAt).length);

describe('cutWindows: where a window closes', () => {
  it('time windows hold what a minute brings: a thousand rows a second make one window of the whole stream', () => {
    const ts = arrivals(10_000, 1);
    expect(cutWindows(ts, 0, rule({ kind: 'time' }))).toHaveLength(1);
  });

  it('an adaptive window closes at `rows` on fast traffic, so a fast stream is judged window by window', () => {
    const ts = arrivals(10_000, 1);
    const windows = cutWindows(ts, 0, rule());
    expect(sizes(ts, windows)).toEqual(Array(10).fill(1000));
  });

  it('an adaptive window stays open past `every` until it can judge (minRows) on sparse traffic', () => {
    // One row a minute: time windows hold one row each and none can judge.
    const ts = arrivals(300, MINUTE);
    expect(Math.max(...sizes(ts, cutWindows(ts, 0, rule({ kind: 'time' }))))).toBe(1);
    const adaptive = sizes(ts, cutWindows(ts, 0, rule()));
    expect(adaptive).toEqual(Array(10).fill(30));
  });

  it('an adaptive window closes `every` after it opened when it holds enough rows, as a time window does', () => {
    const ts = arrivals(600, 1000); // a row a second: 60 rows a minute
    expect(cutWindows(ts, 0, rule())).toEqual(cutWindows(ts, 0, rule({ kind: 'time' })));
  });

  it('traffic that stops shows within minutes, then costs ever longer silent windows, up to one per maxSpan', () => {
    const ts = [...arrivals(100, 5000), 500_000 + 10 * 60 * MINUTE]; // 12 rows a minute, then ten quiet hours
    const windows = cutWindows(ts, 0, rule());
    const n = sizes(ts, windows);
    // Rows 30, 60, 90 close three windows; the ten rows left close once the silence after them is
    // unlikely at 12 rows a minute (a quiet close), and the next window is empty within minutes.
    expect(n.slice(0, 5)).toEqual([30, 30, 30, 10, 0]);
    expect(windows[3]!.endAt - 500_000).toBeLessThan(2 * MINUTE);
    expect(windows[4]!.endAt - 500_000).toBeLessThan(6 * MINUTE);
    // The silence goes on: each silent window longer than the last, none longer than maxSpan.
    const silent = windows.slice(4, -1).map((w) => w.endAt - w.startAt);
    expect(silent.every((span, k) => k === 0 || span >= silent[k - 1]!)).toBe(true);
    expect(Math.max(...silent)).toBe(60 * MINUTE);
    // Ten silent hours: about ten windows in the first hour, then one an hour.
    expect(windows.length).toBeLessThan(30);
    expect(windows.at(-1)!.endAt).toBeGreaterThanOrEqual(ts.at(-1)!);
  });

  it("a steady stream's ordinary gaps seldom close a window short (QUIET_ALPHA)", () => {
    // Poisson arrivals at 1, 10 and 100 rows a minute, 20,000 each: at 1e-4 per gap, about 2 short
    // windows are expected of each stream's 20,000 gaps; none means the quiet close never fires.
    let seed = 7;
    const uniform = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return (seed + 0.5) / 2147483648;
    };
    for (const perMinute of [1, 10, 100]) {
      const ts: number[] = [];
      let t = 0;
      for (let k = 0; k < 20_000; k++) {
        t += Math.ceil((-Math.log(uniform()) * MINUTE) / perMinute);
        ts.push(t);
      }
      const n = sizes(ts, cutWindows(ts, 0, rule())).slice(0, -1);
      expect(n.filter((rows) => rows < 30).length).toBeLessThanOrEqual(5);
    }
  });

  it('on traffic too sparse to fill a window within maxSpan, windows gather until they can judge', () => {
    // A row every 7 minutes: about 8.6 an hour, never 30 within the hour. The first window closes at
    // maxSpan short; every later one holds 30 rows.
    const ts = arrivals(400, 7 * MINUTE);
    const windows = cutWindows(ts, 0, rule());
    const n = sizes(ts, windows);
    expect(n[0]).toBe(8);
    expect(windows[0]!.endAt).toBe(60 * MINUTE);
    expect(n.slice(1, -1)).toEqual(Array(n.length - 2).fill(30));
    // The stream is replayed whole: the last window holds what is left.
    expect(n.reduce((a, b) => a + b, 0)).toBe(400);
  });

  it('a gathering window closes short after maxSpan without an arrival, and a stopped stream shows', () => {
    // A row every 7 minutes for 100 rows, then four quiet hours, then one more row.
    const ts = [...arrivals(100, 7 * MINUTE), 100 * 7 * MINUTE + 4 * 60 * MINUTE];
    const windows = cutWindows(ts, 0, rule());
    // 8 in the first hour, then 30, 30, 30 and the 2 left, closed an hour after the 100th row; then
    // empty hours, then the last row.
    expect(sizes(ts, windows)).toEqual([8, 30, 30, 30, 2, 0, 0, 1]);
    expect(windows[4]!.endAt).toBe(100 * 7 * MINUTE + 60 * MINUTE);
    expect(windows[5]!.endAt - windows[5]!.startAt).toBe(60 * MINUTE);
  });

  it('traffic that picks up again ends the gathering: a window that fills within maxSpan', () => {
    // A row every 7 minutes for 50 rows, then a row a second.
    const sparse = arrivals(50, 7 * MINUTE);
    const fast = Array.from({ length: 600 }, (_, k) => sparse.at(-1)! + (k + 1) * 1000);
    const ts = [...sparse, ...fast];
    const windows = cutWindows(ts, 0, rule());
    const n = sizes(ts, windows);
    expect(n.slice(0, 2)).toEqual([8, 30]);
    // The third window gathers its 30 rows (12 sparse, 18 fast) over more than maxSpan, so the fourth
    // gathers too, and fills within a minute: from then on windows close `every` after they opened, as
    // on busy traffic.
    expect(n[2]).toBe(30);
    const later = windows.slice(4, -1);
    expect(later.every((w) => w.endAt - w.startAt === MINUTE)).toBe(true);
  });

  it('traffic that dwindles far below its pace shows as silence, then windows gather what trickles in', () => {
    // A row a second for two minutes, then a row every 10 minutes: the next minute is an unlikely silence.
    const busy = arrivals(120, 1000);
    const trickle = Array.from({ length: 40 }, (_, k) => 120_000 + (k + 1) * 10 * MINUTE);
    const ts = [...busy, ...trickle];
    const windows = cutWindows(ts, 0, rule());
    const n = sizes(ts, windows);
    expect(n.slice(0, 3)).toEqual([60, 60, 0]);
    expect(windows[2]!.endAt - windows[2]!.startAt).toBe(MINUTE);
    // At a row every ten minutes no silence of the trickle is unlikely: windows gather 30 of its rows.
    expect(n).toContain(30);
  });

  it('count windows keep rows that share a timestamp together', () => {
    const ts = [1, 2, 2, 2, 3, 4];
    expect(sizes(ts, cutWindows(ts, 0, rule({ kind: 'count', rows: 2 })))).toEqual([4, 2]);
  });
});

describe('closedWindows: the windows the live agent may measure by now', () => {
  it('a long gap becomes silent windows: a minute each while the silence is news, then longer, up to maxSpan', () => {
    // 60 rows a minute for a minute, then nothing for five hours.
    const ts = arrivals(60, 1000);
    const windows = closedWindows(ts, 0, 60 * 1000 + 5 * 60 * MINUTE, rule());
    const spans = windows.slice(1).map((w) => w.endAt - w.startAt);
    expect(sizes(ts, windows)).toEqual([60, ...spans.map(() => 0)]);
    expect(spans.slice(0, 5)).toEqual(Array(5).fill(MINUTE));
    expect(spans.every((span, k) => k === 0 || span >= spans[k - 1]!)).toBe(true);
    expect(Math.max(...spans)).toBeLessThanOrEqual(60 * MINUTE);
    expect(windows.length).toBeLessThan(40);
  });

  it("the live agent, handed each window's carry, closes the windows the replay cuts", () => {
    // What the agent does each cycle: the window since the last one, with what the last one handed on.
    const ts = [
      ...arrivals(100, 5000),
      ...Array.from({ length: 60 }, (_, k) => 900_000 + (k + 1) * 7 * MINUTE),
      600 * MINUTE,
    ];
    const replay = cutWindows(ts, 0, rule());
    const live: { startAt: number; endAt: number }[] = [];
    let carry = firstCarry(0);
    for (let startAt = 0, now = MINUTE; now <= ts.at(-1)!; now += MINUTE / 4) {
      const seen = ts.filter((t) => t > startAt && t <= now);
      const endAt = windowClose(seen, startAt, rule(), carry);
      if (endAt > now) continue;
      const w = { startAt, endAt };
      carry = carryAfter(carry, w, seen.filter((t) => t <= endAt).length, rule());
      live.push(w);
      startAt = endAt;
    }
    expect(live.length).toBeGreaterThan(10);
    expect(live).toEqual(replay.slice(0, live.length));
  });

  it('time windows after a gap: one per `every`, empty or not', () => {
    const windows = closedWindows([], 0, 10 * MINUTE + 1, rule({ kind: 'time' }));
    expect(windows.map((w) => w.endAt)).toEqual(Array.from({ length: 10 }, (_, i) => (i + 1) * MINUTE));
  });

  it('on sparse traffic nothing closes until minRows arrived (after `every`) or maxSpan passed', () => {
    const ts = arrivals(29, MINUTE); // one row a minute: 29 rows by minute 29
    expect(closedWindows(ts, 0, 29 * MINUTE, rule())).toEqual([]);
    const thirty = arrivals(30, MINUTE);
    expect(closedWindows(thirty, 0, 30 * MINUTE, rule())).toEqual([{ startAt: 0, endAt: 30 * MINUTE }]);
    // A handful of rows wait out the hour, then close as one window.
    const few = arrivals(5, MINUTE);
    expect(closedWindows(few, 0, 60 * MINUTE - 1, rule())).toEqual([]);
    expect(sizes(few, closedWindows(few, 0, 60 * MINUTE, rule()))).toEqual([5]);
  });

  it('a full adaptive window closes at its `rows`-th arrival, before `every`', () => {
    const ts = arrivals(2500, 10);
    const windows = closedWindows(ts, 0, 25_000, rule());
    expect(sizes(ts, windows)).toEqual([1000, 1000]);
    expect(windows.at(-1)!.endAt).toBe(20_000);
  });

  it('count windows close when full and never on traffic that stopped', () => {
    const ts = [1, 2, 2, 2, 3, 4, 5];
    const windows = closedWindows(ts, 0, 1e12, rule({ kind: 'count', rows: 2 }));
    expect(sizes(ts, windows)).toEqual([4, 2]);
    expect(windows.at(-1)!.endAt).toBe(4);
  });

  it('agrees with cutWindows on every window the replay closed by the same time', () => {
    const ts = [...arrivals(100, 5000), 500_000 + 10 * 60 * MINUTE];
    const all = cutWindows(ts, 0, rule());
    for (const now of [30_000, 150_000, 500_000, 4 * 60 * MINUTE, ts.at(-1)!]) {
      const seen = ts.filter((t) => t <= now);
      expect(closedWindows(seen, 0, now, rule())).toEqual(all.filter((w) => w.endAt <= now));
    }
  });

  it('agrees with cutWindows on sparse traffic too: a gathering window closes on what arrived by then', () => {
    const ts = [
      ...arrivals(100, 7 * MINUTE),
      100 * 7 * MINUTE + 4 * 60 * MINUTE,
      100 * 7 * MINUTE + 5 * 60 * MINUTE,
    ];
    const all = cutWindows(ts, 0, rule());
    for (let now = 0; now <= ts.at(-1)!; now += 13 * MINUTE) {
      const seen = ts.filter((t) => t <= now);
      expect(closedWindows(seen, 0, now, rule())).toEqual(all.filter((w) => w.endAt <= now));
    }
  });
});

describe('liveWindowEnd: the live agent catches up after a gap', () => {
  const CYCLE = MINUTE;

  it('ends at the cycle a window the rule closed a cycle ago or less, holding everything since the last', () => {
    expect(liveWindowEnd(0, CYCLE, 2 * CYCLE, CYCLE)).toBe(2 * CYCLE);
    // Short cycles: a hiccup of half a minute is no gap either.
    expect(liveWindowEnd(0, 2_000, 32_000, 2_000)).toBe(32_000);
    expect(liveWindowEnd(0, 2_000, 32_001, 2_000)).toBe(2_000);
    // However long the window was open (gathering sparse traffic): the rule closed it just now.
    expect(liveWindowEnd(0, 5 * 60 * CYCLE, 5 * 60 * CYCLE + 30_000, CYCLE)).toBe(5 * 60 * CYCLE + 30_000);
  });

  it("cuts a backlog into the windows the missed cycles would have measured: a cycle each, or the rule's", () => {
    expect(liveWindowEnd(0, CYCLE, 2 * CYCLE + 1, CYCLE)).toBe(CYCLE);
    expect(liveWindowEnd(5 * CYCLE, 6 * CYCLE, 30 * CYCLE, CYCLE)).toBe(6 * CYCLE);
    // A window the rule kept open longer than a cycle ends where the rule closed it.
    expect(liveWindowEnd(0, 10 * CYCLE, 100 * CYCLE, CYCLE)).toBe(10 * CYCLE);
  });

  it('cuts a backlog of more than 60 cycles into 60 longer windows, and keeps that cut to the end', () => {
    const day = 24 * 60 * MINUTE;
    const span = liveWindowEnd(0, CYCLE, day, CYCLE);
    expect(span).toBe(24 * MINUTE);
    // The backlog shrinks, the windows do not: at most 60 over the whole day.
    let startAt = 0;
    let windows = 0;
    for (let endAt = 0; endAt < day; windows++) {
      endAt = liveWindowEnd(startAt, startAt + CYCLE, day, CYCLE, windows === 0 ? undefined : span);
      startAt = endAt;
    }
    expect(windows).toBe(60);
  });

  it('never ends a window after now', () => {
    expect(liveWindowEnd(0, CYCLE, 10 * CYCLE, CYCLE, 24 * MINUTE)).toBe(10 * CYCLE);
  });
});
