// Temporal outages as the API and the worker meet them. The API starts without Temporal, registers models
// (the store is the source of truth) and says their agent is not started; the agent's routes answer 503
// with Retry-After instead of hanging. The worker's periodic reconcile starts the agent of a model
// registered during the outage, without a restart. A control the API gave up on (no worker) is never
// applied when a worker comes back.

import { WorkflowNotFoundError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonCall, JsonResponse } from '../../lib/api-client.ts';
import { agentWorkflowId } from '../../lib/temporal.ts';
import { createHomeostatWorker } from '../../worker/worker.ts';
import { startTestApi } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { type ProcessStack, startProcessStack } from '../helpers/stack.ts';
import { closedLoopbackAddress, workflowBundle } from '../helpers/temporal.ts';

let stack: ProcessStack;

beforeAll(async () => {
  // The worker reaches the stack's Temporal dev server; the API process is given an address where
  // nothing listens: for the API, Temporal is down (and was down when it started).
  stack = await startProcessStack(
    'outage-test',
    { HOMEOSTAT_RECONCILE_SECONDS: '1' },
    {
      TEMPORAL_ADDRESS: await closedLoopbackAddress(),
    },
  );
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const model = (name: string) => ({
  name,
  task: 'binary',
  labels: ['no', 'yes'],
  featureSchema: [{ name: 'income', type: 'numeric', min: 0 }],
});

const reason = { reason: 'outage drill', actor: 'alice' };
const CONTROLS: [string, string, object][] = [
  ['POST', 'pause', reason],
  ['POST', 'resume', reason],
  ['POST', 'approve', { ...reason, approvalId: 'a1' }],
  ['POST', 'reject', { ...reason, approvalId: 'a1' }],
  ['POST', 'acknowledge', { ...reason, incidentId: 'i1' }],
  ['POST', 'revert', { ...reason, actionId: 'x1' }],
  ['PUT', 'policy', { ...reason, policy: {} }],
];

/** Every operator control of the model, sent at once (each has its own deadline). */
function sendEveryControl(call: JsonCall, modelName: string): Promise<JsonResponse[]> {
  return Promise.all(
    CONTROLS.map(([method, verb, body]) => call(method, `/v1/models/${modelName}/agent/${verb}`, body)),
  );
}

function expectUnavailable(res: JsonResponse) {
  expect(res.status).toBe(503);
  expect(['agent_unresponsive', 'temporal_unavailable']).toContain(res.body.error.code);
  expect(res.headers.get('retry-after')).toBe('5');
}

describe('the API while Temporal is unreachable', () => {
  it('registers a model, says its agent is not started, and answers the agent routes with 503', async () => {
    const registered = await stack.call('POST', '/v1/models', model('during-outage'));
    expect(registered.status).toBe(201);
    expect(registered.body.model.name).toBe('during-outage');
    expect(registered.body.agent).toEqual({ started: false, reason: expect.stringContaining('reconcile') });
    expect(await stack.db.store.model.count({ where: { name: 'during-outage' } })).toBe(1);

    const [status, live, ready, ...controls] = await Promise.all([
      stack.call('GET', '/v1/models/during-outage/agent'),
      stack.call('GET', '/healthz'),
      stack.call('GET', '/readyz'),
      ...CONTROLS.map(([method, verb, body]) =>
        stack.call(method, `/v1/models/during-outage/agent/${verb}`, body),
      ),
    ]);
    for (const res of [status!, ...controls]) expectUnavailable(res);
    expect(live).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(ready).toMatchObject({ status: 503, body: { db: 'ok', temporal: 'unavailable' } });
  });

  it("starts the agent of a model registered during the outage at the worker's next reconcile", {
    timeout: 90_000,
  }, async () => {
    // The worker is up before the registration: only a later round of its reconcile can start the agent.
    const worker = stack.startWorker();
    await worker.waitForLog('worker started');
    const registered = await stack.call('POST', '/v1/models', model('late-agent'));
    expect(registered.body.agent.started).toBe(false);

    const handle = stack.env.client.workflow.getHandle(agentWorkflowId('late-agent'));
    let description = await handle.describe().catch((err) => err);
    for (let i = 0; i < 150 && description instanceof WorkflowNotFoundError; i++) {
      await new Promise((r) => setTimeout(r, 200));
      description = await handle.describe().catch((err) => err);
    }
    expect(description.status?.name).toBe('RUNNING');
    expect(description.taskQueue).toBe('outage-test');
  });
});

describe('controls with Temporal up but no worker', () => {
  it('answers 503, and the refused control is not applied when a worker comes back', {
    timeout: 90_000,
  }, async () => {
    const taskQueue = 'outage-no-worker';
    const db = await createTestDatabase('sqlite');
    const api = await startTestApi(db.store, stack.env.client, { taskQueue, cycleInterval: '1 second' });
    let worker: Worker | undefined;
    let workerRun: Promise<void> | undefined;
    try {
      // Starting an agent needs the Temporal server only, so the registration starts it.
      const registered = await api.call('POST', '/v1/models', model('no-worker'));
      expect(registered.body.agent).toEqual({ started: true });
      for (const res of await sendEveryControl(api.call, 'no-worker')) {
        expectUnavailable(res);
        expect(res.body.error.code, res.body.error.message).toBe('agent_unresponsive');
      }

      worker = await createHomeostatWorker({
        connection: stack.env.nativeConnection,
        taskQueue,
        store: db.store,
        workflowBundle: await workflowBundle(),
      });
      workerRun = worker.run();
      let status = await api.call('GET', '/v1/models/no-worker/agent');
      for (let i = 0; i < 100 && !(status.body.agent?.cycle >= 1); i++) {
        await new Promise((r) => setTimeout(r, 200));
        status = await api.call('GET', '/v1/models/no-worker/agent');
      }
      // The worker received the pause, the policy and the rest the API gave up on, and refused them all.
      expect(status.status).toBe(200);
      expect(status.body.agent.paused).toBe(false);
      expect(await db.store.policyVersion.count()).toBe(0);
      expect(await db.store.action.count({ where: { actor: { startsWith: 'human:' } } })).toBe(0);

      const paused = await api.call('POST', '/v1/models/no-worker/agent/pause', reason);
      expect(paused).toMatchObject({ status: 200, body: { agent: { paused: true } } });
      expect(await db.store.action.count({ where: { actor: { startsWith: 'human:' } } })).toBe(1);
    } finally {
      worker?.shutdown();
      await workerRun;
      await api.close();
      await db.drop();
    }
  });
});
