// Remedy waits end on rows, with a time cap that suits low traffic (lib/brain/waits.ts): a wait goes on
// past its policy maxWait while the labelled rows it needs arrive at a pace that brings them before the
// cap, and ends at maxWait when no row came or the pace is too slow. In the backtest, a model labelled
// once a minute is retrained after a concept change instead of giving up for want of rows.
import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../lib/backtest/replay.ts';
import { parseStream } from '../../lib/backtest/stream-file.ts';
import { defaultTrainer } from '../../lib/backtest/versions.ts';
import { ROW_WAIT_CAP_MS, waitIsOver, waitLimit } from '../../lib/brain/waits.ts';
import { trainModel } from '../../lib/models/index.ts';
import { parsePolicy } from '../../lib/policy/policy.ts';
import { createSeaStream } from '../../lib/sim/synthetic/sea.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('waitIsOver', () => {
  // A retrain started an hour after the onset, waiting for 300 labelled rows, maxWait 2 hours.
  const retrain = { startedAt: 10 * HOUR, rowsSince: 9 * HOUR, needed: 300, maxWait: '2 hours' };

  it('never ends before maxWait, whatever the rows', () => {
    expect(waitIsOver({ ...retrain, at: retrain.startedAt + 119 * MINUTE, rows: 0 })).toBe(false);
  });

  it('goes on past maxWait while the rows come at a pace that brings them before the cap', () => {
    // One row a minute: 180 rows three hours after the onset, the 300 two hours later.
    const at = retrain.startedAt + 2 * HOUR;
    expect(waitIsOver({ ...retrain, at, rows: 180 })).toBe(false);
    expect(waitIsOver({ ...retrain, at: at + 2 * HOUR, rows: 299 })).toBe(false);
  });

  it('ends at maxWait when no labelled row came, or when they come too slowly for the cap', () => {
    const at = retrain.startedAt + 2 * HOUR;
    expect(waitIsOver({ ...retrain, at, rows: 0 })).toBe(true);
    // The 300 rows by the cap, a week after the wait began, need 1.8 rows an hour: 5.3 expected in the
    // three hours since the onset. One row is unlikely at that pace (p 0.03): the wait ends.
    expect(waitIsOver({ ...retrain, at, rows: 1 })).toBe(true);
    // Two rows are not (p 0.10): too few to say the pace is too slow, the wait goes on.
    expect(waitIsOver({ ...retrain, at, rows: 2 })).toBe(false);
    expect(waitIsOver({ ...retrain, at, rows: 9 })).toBe(false);
  });

  it('ends at the cap even when the rows are still coming', () => {
    const cap = retrain.startedAt + ROW_WAIT_CAP_MS;
    // 299 rows in a week: the last one comes within the two hours left.
    expect(waitIsOver({ ...retrain, at: cap - 2 * HOUR, rows: 299 })).toBe(false);
    expect(waitIsOver({ ...retrain, at: cap, rows: 299 })).toBe(true);
  });
  it('a maxWait longer than the cap is the cap', () => {
    const long = { ...retrain, maxWait: '10 days' };
    expect(waitIsOver({ ...long, at: retrain.startedAt + 9 * 24 * HOUR, rows: 299 })).toBe(false);
    expect(waitIsOver({ ...long, at: retrain.startedAt + 10 * 24 * HOUR, rows: 299 })).toBe(true);
    expect(waitLimit('10 days')).toBe('by 10 days (up to 10 days while labelled rows kept arriving)');
    expect(waitLimit('30 minutes')).toBe('by 30 minutes (up to 7 days while labelled rows kept arriving)');
  });
});

describe('the backtest at one labelled row a minute', () => {
  it('retrains after a concept change instead of giving up for want of rows', async () => {
    const reference = 2000;
    const change = 300;
    const before = createSeaStream({ seed: 11, variant: 0, noise: 0.05 });
    const after = createSeaStream({ seed: 12, variant: 3, noise: 0.05 });
    const start = Date.parse('2025-01-01T00:00:00Z');
    const lines = Array.from({ length: reference + 1500 }, (_, i) => {
      const s = (i < reference + change ? before : after).next();
      const ts = start + i * MINUTE;
      return JSON.stringify({ ts, prediction_id: `r${i}`, ...s.x, label: s.y, label_ts: ts + 2000 });
    });
    const stream = parseStream(lines.join('\n'), 'jsonl', { schemaFrom: reference });
    const parsed = parsePolicy({ retrain: { promotion: 'direct' } });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const fallback = await trainModel(defaultTrainer(stream.task), stream.task, stream.schema, {
      rows: stream.rows.slice(0, reference / 2).map((r) => r.features),
      labels: stream.rows.slice(0, reference / 2).map((r) => r.label!),
    });
    const report = await runBacktest({ stream, policy: parsed.policy, trainRows: reference, fallback });
    const retrains = report.actions.filter((a) => a.action === 'retrain');
    expect(retrains.map((a) => `${a.outcome}: ${a.detail}`)).not.toContainEqual(
      expect.stringMatching(/^failed: only \d+ labelled rows since the onset/),
    );
    expect(retrains.some((a) => a.outcome === 'applied')).toBe(true);
  }, 120_000);
});
