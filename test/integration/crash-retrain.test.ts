// A worker crash in the middle of a retrain. The stack runs as users run it — a Temporal dev server, the
// worker and the API as separate processes, SQLite — with the credit demo model served through the
// gateway. A concept drift makes the agent retrain; the worker is SIGKILLed while the retrain is under
// way and started again. The retrain must resume where it was and end with exactly one candidate, one
// promotion and a complete audit trail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonCall } from '../../lib/api-client.ts';
import { verifyAuditChain } from '../../lib/audit/chain.ts';
import { creditDefault } from '../../lib/sim/demo-models.ts';
import { drive } from '../../lib/sim/drive.ts';
import { findScenario } from '../../lib/sim/scenarios.ts';
import { setUpDemoModel } from '../../lib/sim/setup.ts';
import { generateStream } from '../../lib/sim/stream.ts';
import { eventually } from '../helpers/credit-model.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { type ProcessStack, startProcessStack } from '../helpers/stack.ts';

const MODEL = 'credit-crash';
/** Healthy windows before the drift: enough for the detector's baseline. */
const ONSET = 1500;
const RATE = 150;

let stack: ProcessStack;
let db: TestDatabase;
let call: JsonCall;

beforeAll(async () => {
  stack = await startProcessStack('crash-retrain-test', { HOMEOSTAT_SERVING_CACHE_MS: '200' });
  ({ db, call } = stack);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('worker crash in the middle of a retrain', () => {
  it('resumes with exactly one candidate, one promotion and a complete audit trail', {
    timeout: 420_000,
  }, async () => {
    let worker = stack.startWorker();
    await worker.waitForLog('worker started');
    const setup = await setUpDemoModel(call, creditDefault, {
      name: MODEL,
      rows: 3000,
      policy: {
        window: { minRows: 50 },
        // Promote directly: the crash is about the retrain's own steps, not the canary's wait.
        retrain: { minRows: 400, promotion: 'direct', maxWait: '10 minutes' },
        verification: { minRows: 150, maxWait: '10 minutes' },
      },
    });
    const model = await db.store.model.findUniqueOrThrow({ where: { name: MODEL } });

    const stop = new AbortController();
    const scenario = { ...findScenario('concept-drift')!, onset: ONSET };
    const traffic = drive({
      call,
      modelName: MODEL,
      events: generateStream({ model: creditDefault, scenario, seed: 11, count: 200_000 })[Symbol.iterator](),
      serve: 'gateway',
      ratePerSecond: RATE,
      labelDelayMs: 200,
      idPrefix: 'crash',
      signal: stop.signal,
      tickMs: 250,
    });

    try {
      // The retrain has started once its audit row exists; kill the worker at once.
      const retrain = await eventually(
        () => db.store.action.findFirst({ where: { modelId: model.id, type: 'retrain' } }),
        120_000,
      );
      await worker.stop('SIGKILL');
      const promotionsAtCrash = await db.store.deploymentRevision.count({
        where: { modelId: model.id, reason: { contains: 'promote' } },
      });
      expect(retrain.status).toBe('started');
      expect(promotionsAtCrash).toBe(0); // the crash really fell inside the retrain

      worker = stack.startWorker();
      await worker.waitForLog('worker started');
      const closed = await eventually(
        () =>
          db.store.incident.findFirst({
            where: { modelId: model.id, status: { in: ['recovered', 'escalated'] } },
          }),
        // A training lost with the worker is retried after its heartbeat timeout (1 minute).
        270_000,
      );
      expect(closed.kind).toBe('concept_drift');
      // On failure, the incident's own timeline says what happened.
      expect(closed.status, JSON.stringify((closed.evidence as { steps?: unknown })?.steps, null, 1)).toBe(
        'recovered',
      );
    } catch (error) {
      // What the agent did, for whoever reads the failure.
      const decisions = await db.store.decision.findMany({
        where: { modelId: model.id },
        orderBy: { cycle: 'asc' },
      });
      const actions = await db.store.action.findMany({
        where: { modelId: model.id },
        orderBy: { createdAt: 'asc' },
      });
      const incidents = await db.store.incident.findMany({ where: { modelId: model.id } });
      console.error(
        [
          ...decisions
            .filter((d) => d.rule !== 'healthy')
            .map((d) => `decision ${d.cycle} ${d.rule} ${d.action}: ${d.reason}`),
          ...actions.map((a) => `action ${a.type} ${a.status} ${a.actor}: ${a.reason}`),
          ...incidents.map((i) =>
            `incident ${i.kind} ${i.status}: ${JSON.stringify(i.evidence)}`.slice(0, 3000),
          ),
        ].join('\n'),
      );
      throw error;
    } finally {
      stop.abort();
      await traffic;
    }

    // Exactly one candidate was trained and one promotion written, whatever was retried.
    const candidates = await db.store.modelVersion.findMany({
      where: { modelId: model.id, parentVersionId: { not: null } },
    });
    expect(candidates).toHaveLength(1);
    const promotions = await db.store.deploymentRevision.findMany({
      where: { modelId: model.id, reason: { contains: 'promote' } },
    });
    expect(promotions).toHaveLength(1);
    expect(promotions[0]!.productionVersionId).toBe(candidates[0]!.id);
    expect(candidates[0]!.version).toBeGreaterThan(setup.production!);

    // The audit trail: one retrain action that succeeded, with the revisions it moved between, and one
    // audited deployment change for the promotion.
    const actions = await db.store.action.findMany({
      where: { modelId: model.id },
      orderBy: { createdAt: 'asc' },
    });
    const retrains = actions.filter((a) => a.type === 'retrain');
    expect(retrains).toHaveLength(1);
    expect(retrains[0]).toMatchObject({ status: 'succeeded', actor: 'agent' });
    expect(retrains[0]!.beforeRevisionId).not.toBeNull();
    expect(retrains[0]!.afterRevisionId).not.toBeNull();
    const keys = actions.map((a) => a.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
    const decisions = await db.store.decision.findMany({
      where: { modelId: model.id },
      orderBy: { cycle: 'asc' },
    });
    const cycles = decisions.map((d) => d.cycle);
    expect(cycles).toEqual(cycles.map((_, i) => i)); // one decision per cycle, none lost to the crash

    // The crash left the tamper-evident chain whole: every audit row sealed, each version once.
    const audit = await verifyAuditChain(db.store, MODEL);
    expect(audit.models[0]?.problems).toEqual([]);
    expect(audit.ok).toBe(true);
  });
});
