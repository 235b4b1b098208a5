import { describe, expect, it } from 'vitest';
import { cutWindows, type WindowRule } from '../../lib/brain/windows.ts';

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

  it('traffic that stops costs one window per maxSpan, which closes however few rows it holds', () => {
    const ts = [...arrivals(100, 5000), 500_000 + 10 * 60 * MINUTE]; // 12 rows a minute, then ten quiet hours
    const windows = cutWindows(ts, 0, rule());
    // Rows 30, 60, 90 close three windows; the ten rows left wait at most an hour, then an empty
    // stretch of hours is cut in hour-long windows until the last arrival.
    expect(sizes(ts, windows).slice(0, 4)).toEqual([30, 30, 30, 10]);
    expect(windows[3]!.endAt - windows[3]!.startAt).toBe(60 * MINUTE);
    expect(windows.length).toBeLessThan(15);
    expect(windows.at(-1)!.endAt).toBeGreaterThanOrEqual(ts.at(-1)!);
  });

  it('count windows keep rows that share a timestamp together', () => {
    const ts = [1, 2, 2, 2, 3, 4];
    expect(sizes(ts, cutWindows(ts, 0, rule({ kind: 'count', rows: 2 })))).toEqual([4, 2]);
  });
});
