// The gateway caches a model's deployment for up to DEFAULT_SERVING_CACHE_MS (lib/registry/serving-state.ts),
// so for a second after a remedy's change it may still answer from the version the change replaced. The
// agent's verification leaves those answers out (activities/evidence.ts); the backtest must too, when the
// stream records which version answered each row (the store's export does). Here a slow release is rolled
// back, and the rows of the second after the rollback were answered, slowly, by the release: the rollback
// recovered the latency, and the backtest must judge it so, as the agent did.
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDeploymentHistory } from '../../lib/backtest/deployments.ts';
import { runBacktest } from '../../lib/backtest/replay.ts';
import type { BacktestReport } from '../../lib/backtest/report.ts';
import { parseStream } from '../../lib/backtest/stream-file.ts';
import { DEFAULT_POLICY } from '../../lib/policy/policy.ts';
import { DEFAULT_SERVING_CACHE_MS } from '../../lib/registry/serving-state.ts';
import { creditDefault } from '../../lib/sim/demo-models.ts';
import { findScenario } from '../../lib/sim/scenarios.ts';
import { generateStream, type SimEvent } from '../../lib/sim/stream.ts';
import { creditVersions, releaseHistory } from '../helpers/deployments.ts';

const COUNT = 30_000;
const RELEASE_ROW = 15_000;
/** Dense traffic: the second after the rollback holds a good share of the verification's rows. */
const RATE_PER_SECOND = 200;
const SLOWDOWN = 3;

describe('the backtest and the gateway’s serving cache', () => {
  let events: SimEvent[];
  let release: number;
  let rolledBackAt: number;
  let withVersions: BacktestReport;
  let withoutVersions: BacktestReport;

  /** Backtests the stream as recorded live: slow from the release until `fastFrom`, version 3 before `v1From`. */
  async function replay(fastFrom: number, v1From: number, recordVersions: boolean) {
    const lines = events.map((e, i) => {
      const ts = Date.parse(e.ts);
      const released = i >= RELEASE_ROW;
      return JSON.stringify({
        ts: e.ts,
        prediction_id: e.predictionId,
        features: e.features,
        label: e.label,
        label_ts: e.labelTs,
        latency_ms: released && ts < fastFrom ? e.latencyMs * SLOWDOWN : e.latencyMs,
        ...(recordVersions ? { version: released && ts < v1From ? 3 : 1 } : {}),
      });
    });
    const stream = parseStream(lines.join('\n'), 'jsonl', { schema: creditDefault.schema });
    return runBacktest({ stream, policy: DEFAULT_POLICY, trainRows: 2000, deployments: history });
  }

  let history: ReturnType<typeof parseDeploymentHistory>;

  beforeAll(async () => {
    events = [
      ...generateStream({
        model: creditDefault,
        scenario: findScenario('steady')!,
        seed: 11,
        count: COUNT,
        ratePerSecond: RATE_PER_SECOND,
      }),
    ];
    release = Date.parse(events[RELEASE_ROW]!.ts);
    const { production, fallback } = await creditVersions();
    history = parseDeploymentHistory(
      releaseHistory({
        start: events[0]!.ts,
        release: events[RELEASE_ROW]!.ts,
        reason: 'release 1.1 (the same model on a slower server)',
        versions: [production, fallback, production],
      }),
      'deployments.json',
    );
    // Where the backtest rolls back: the decisions up to it depend only on the rows before it, which every
    // replay below records alike.
    const probe = await replay(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, false);
    const rollback = probe.actions.find((a) => a.action === 'rollback' && a.outcome === 'applied');
    expect(rollback, 'the slow release is rolled back').toBeDefined();
    rolledBackAt = Date.parse(rollback!.at);
    // Live, the gateway answered from the release for one cache period after the rollback.
    const cacheEnds = rolledBackAt + DEFAULT_SERVING_CACHE_MS;
    [withVersions, withoutVersions] = await Promise.all([
      replay(cacheEnds, cacheEnds, true),
      replay(cacheEnds, cacheEnds, false),
    ]);
  }, 300_000);

  it('rolls the slow release back at the same time from either file', () => {
    expect(rolledBackAt).toBeGreaterThan(release);
    for (const report of [withVersions, withoutVersions]) {
      const applied = report.actions.find((a) => a.action === 'rollback' && a.outcome === 'applied');
      expect(Date.parse(applied!.at)).toBe(rolledBackAt);
    }
    const cached = events.filter((e) => {
      const ts = Date.parse(e.ts);
      return ts >= rolledBackAt && ts < rolledBackAt + DEFAULT_SERVING_CACHE_MS;
    });
    // Enough slow answers after the change to hold the p95 up, when they are counted.
    expect(cached.length).toBeGreaterThan(DEFAULT_POLICY.verification.minRows * 0.1);
  });

  it('leaves the replaced version’s answers out of the verification, as the agent does', () => {
    const [incident] = withVersions.incidents;
    expect(incident?.kind).toBe('latency');
    expect(incident?.attempts.map((a) => [a.action, a.outcome])).toEqual([['rollback', 'recovered']]);
  });

  it('counts them when the file does not say which version answered', () => {
    const [incident] = withoutVersions.incidents;
    expect(incident?.attempts[0]).toMatchObject({ action: 'rollback', outcome: 'not_recovered' });
  });
});
