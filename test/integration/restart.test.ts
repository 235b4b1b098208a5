// The whole skeleton as users run it: a Temporal dev server, the worker and the API as separate
// processes, SQLite. The worker is killed (SIGKILL) mid-loop and started again: the agent carries on
// from where it was and no cycle is decided twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonCall } from '../../lib/api-client.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { type ProcessStack, startProcessStack } from '../helpers/stack.ts';
import { workflowBundlePath } from '../helpers/temporal.ts';

let stack: ProcessStack;
let db: TestDatabase;
let call: JsonCall;

beforeAll(async () => {
  stack = await startProcessStack('restart-test');
  ({ db, call } = stack);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

async function agentCycle(): Promise<number> {
  const { status, body } = await call('GET', '/v1/models/credit/agent');
  return status === 200 ? body.agent.cycle : -1;
}

async function waitForCycle(cycle: number, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const current = await agentCycle();
    if (current >= cycle) return current;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`agent did not reach cycle ${cycle}`);
}

describe('worker crash and restart', () => {
  it('resumes the agent loop with no duplicate decisions', { timeout: 180_000 }, async () => {
    let worker = stack.startWorker();
    // It runs the run's prebuilt workflow bundle (HOMEOSTAT_WORKFLOW_BUNDLE) rather than bundling at start.
    expect((await worker.waitForLog('worker started')).workflowBundle).toBe(await workflowBundlePath());
    const registered = await call('POST', '/v1/models', {
      name: 'credit',
      task: 'binary',
      labels: ['no', 'yes'],
      featureSchema: [{ name: 'income', type: 'numeric', min: 0 }],
    });
    expect(registered.status).toBe(201);
    expect(registered.body.agent.started).toBe(true);

    const feed = async (batch: string) => {
      const predictions = Array.from({ length: 20 }, (_, i) => ({
        id: `${batch}-${i}`,
        features: { income: 1000 + i },
        prediction: 'yes',
        confidence: 0.8,
      }));
      expect((await call('POST', '/v1/models/credit/predictions', { predictions })).status).toBe(202);
      const labels = predictions.map((p, i) => ({ predictionId: p.id, label: i % 10 === 0 ? 'no' : 'yes' }));
      expect((await call('POST', '/v1/models/credit/labels', { labels })).status).toBe(202);
    };
    await feed('a');
    await waitForCycle(3);

    await worker.stop('SIGKILL');
    const cycleAtCrash = await agentCycle(); // a query needs a worker: none is running now
    expect(cycleAtCrash).toBe(-1);
    await feed('b');

    worker = stack.startWorker();
    await worker.waitForLog('worker started');
    const reached = await waitForCycle(7);

    await worker.stop('SIGTERM'); // graceful: finishes what it was doing and exits 0
    expect(worker.child.exitCode).toBe(0);
    const decisions = await db.store.decision.findMany({ orderBy: { cycle: 'asc' } });
    const cycles = decisions.map((d) => d.cycle);
    expect(cycles.length).toBeGreaterThanOrEqual(reached);
    expect(new Set(cycles).size).toBe(cycles.length); // exactly one decision per cycle
    expect(cycles).toEqual(cycles.map((_, i) => i)); // and no cycle skipped
    const windows = await db.store.metricWindow.findMany({ orderBy: { seq: 'asc' } });
    expect(windows.map((w) => w.seq)).toEqual(cycles);
    // Every prediction was counted in exactly one window.
    expect(windows.reduce((sum, w) => sum + w.count, 0)).toBe(40);
  });
});
