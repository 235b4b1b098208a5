// The `webhook` remedy end to end (docs/extending.md): the child workflow on the time-skipping server with
// the real worker and activities asks the example receiver (examples/webhook-remedy/receiver.ts, a
// stand-in rollout system) through a signed POST; the receiver verifies the signature, rolls the model
// back through the API and reports the result through the real route, which hands it to the waiting
// child. Also: a receiver that never answers times out as a failed remedy, a second answer with another
// outcome is refused, and a delivery id of another model's agent is not found.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { homeostatApi, type Receiver, startReceiver } from '../../examples/webhook-remedy/receiver.ts';
import { rotateApiKey } from '../../lib/auth/keys.ts';
import { cycleClock } from '../../lib/brain/cycle-clock.ts';
import { agentWorkflowId } from '../../lib/temporal.ts';
import { createHomeostatWorker } from '../../worker/worker.ts';
import type { RemedyInput } from '../../workflows/remedies.ts';
import { webhookRemedyWorkflow } from '../../workflows/webhook-remedy.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { allowLoopbackEgress } from '../helpers/egress.ts';
import { startTimeSkippingServer, workflowBundle } from '../helpers/temporal.ts';

allowLoopbackEgress();

const TASK_QUEUE = 'webhook-remedy';
const SECRET = 'webhook-remedy-secret';
const MODEL = 'credit-webhook';
const ROWS = Array.from({ length: 40 }, (_, i) => ({ x: i }));
const LABELS = ROWS.map((r) => (r.x > 19 ? 'yes' : 'no'));

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let api: TestApi;
let worker: Worker;
let running: Promise<void>;
let receiver: Receiver;
let secretBefore: string | undefined;

async function expectCall(method: string, path: string, body: unknown, status: number) {
  const res = await api.call(method, path, body);
  if (res.status !== status) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

beforeAll(async () => {
  secretBefore = process.env.HOMEOSTAT_WEBHOOK_SECRET;
  process.env.HOMEOSTAT_WEBHOOK_SECRET = SECRET;
  [env, db] = await Promise.all([startTimeSkippingServer(), createTestDatabase('sqlite')]);
  worker = await createHomeostatWorker({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    store: db.store,
    workflowBundle: await workflowBundle(),
  });
  running = worker.run();
  api = await startTestApi(db.store, env.client, { taskQueue: TASK_QUEUE });
  // The rollout system holds an operator key of its own.
  const operatorKey = await rotateApiKey(db.store, 'rollout-system', 'operator');
  receiver = await startReceiver({ api: homeostatApi(api.url, operatorKey), secret: SECRET });

  await expectCall(
    'POST',
    '/v1/models',
    { name: MODEL, task: 'binary', labels: ['no', 'yes'], featureSchema: [{ name: 'x', type: 'numeric' }] },
    201,
  );
  for (let v = 0; v < 2; v++) {
    await expectCall(
      'POST',
      `/v1/models/${MODEL}/versions`,
      { train: { trainer: 'logistic-regression' }, data: { rows: ROWS, labels: LABELS } },
      201,
    );
  }
  await expectCall(
    'POST',
    `/v1/models/${MODEL}/deployment`,
    { production: 1, fallback: 2, reason: 'first deployment' },
    201,
  );
  const model = await db.store.model.findUniqueOrThrow({ where: { name: MODEL } });
  await db.store.model.update({
    where: { id: model.id },
    data: { policy: { remedyWebhook: { url: receiver.url, timeout: '20 minutes' } } },
  });
}, 120_000);

afterAll(async () => {
  await api?.close();
  worker?.shutdown();
  await running?.catch(() => undefined);
  await Promise.all([env?.teardown(), db?.drop(), receiver?.close()]);
  if (secretBefore === undefined) delete process.env.HOMEOSTAT_WEBHOOK_SECRET;
  else process.env.HOMEOSTAT_WEBHOOK_SECRET = secretBefore;
});

const input: RemedyInput = {
  modelName: MODEL,
  incidentId: 'incident-1',
  reason: 'concept_drift confirmed: accuracy fell',
  actor: 'agent',
  cycle: cycleClock(0, 60_000),
};

/** Waits by the clock for `check`; the time-skipping server does not move while no result is awaited. */
async function until(what: string, check: () => boolean, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the webhook remedy', () => {
  it("asks the rollout system, which rolls back and reports through the API: applied, with the rollback's revision", {
    timeout: 120_000,
  }, async () => {
    const delivery = `${agentWorkflowId(MODEL)}:incident-1:1:webhook`;
    const handle = await env.client.workflow.start(webhookRemedyWorkflow, {
      workflowId: delivery,
      taskQueue: TASK_QUEUE,
      args: [input],
    });
    await until('the result reported', () => receiver.reported.has(delivery));
    const request = receiver.requests.find((r) => r.delivery === delivery)!;
    expect(request).toMatchObject({
      model: MODEL,
      incidentId: 'incident-1',
      answer: {
        path: `/v1/models/${MODEL}/remedies/${encodeURIComponent(delivery)}/result`,
        within: '20 minutes',
      },
    });
    expect(receiver.reported.get(delivery)).toEqual({
      outcome: { outcome: 'succeeded', detail: 'rolled back to stable version 2' },
      status: 200,
    });
    const result = await handle.result();
    expect(result).toMatchObject({
      outcome: 'applied',
      detail: 'the remedy webhook reported succeeded (rollout-system): rolled back to stable version 2',
    });
    expect(result.after).toBe((result.before ?? 0) + 1);

    // The same report again, as a retried call would send it: answered as the first time; another
    // outcome, now that the remedy went on, is refused.
    const path = request.answer.path;
    const again = await api.call('POST', path, { outcome: 'succeeded' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ delivery, result: { outcome: 'succeeded' } });
    const other = await api.call('POST', path, { outcome: 'failed' });
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ error: { code: 'remedy_not_waiting' } });
  });

  it('refuses a contradicting second answer, and takes a repeated one', { timeout: 120_000 }, async () => {
    const delivery = `${agentWorkflowId(MODEL)}:incident-2:1:webhook`;
    const answerOnce = await startReceiver({
      api: homeostatApi(api.url, 'unused'),
      secret: SECRET,
      act: async () => ({ outcome: 'failed', detail: 'never reported' }),
    });
    await answerOnce.close(); // nobody answers: the test reports by hand
    const handle = await env.client.workflow.start(webhookRemedyWorkflow, {
      workflowId: delivery,
      taskQueue: TASK_QUEUE,
      args: [{ ...input, incidentId: 'incident-2' }],
    });
    const path = `/v1/models/${MODEL}/remedies/${encodeURIComponent(delivery)}/result`;
    const first = await api.call('POST', path, { outcome: 'failed', detail: 'the canary analysis failed' });
    expect(first.status).toBe(200);
    const contradicting = await api.call('POST', path, { outcome: 'succeeded' });
    expect(contradicting.status).toBe(409);
    expect(contradicting.body).toMatchObject({ error: { code: expect.stringMatching(/^remedy_/) } });
    const result = await handle.result();
    expect(result).toMatchObject({ outcome: 'failed' });
    expect(result.detail).toMatch(/reported failed .*: the canary analysis failed$/);
  });

  it('fails when the rollout system never reports within the timeout', { timeout: 120_000 }, async () => {
    const silent = await startReceiver({
      api: homeostatApi(api.url, 'unused'),
      secret: SECRET,
      act: () => new Promise<never>(() => undefined),
    });
    const model = await db.store.model.findUniqueOrThrow({ where: { name: MODEL } });
    await db.store.model.update({
      where: { id: model.id },
      data: { policy: { remedyWebhook: { url: silent.url, timeout: '20 minutes' } } },
    });
    try {
      const delivery = `${agentWorkflowId(MODEL)}:incident-3:1:webhook`;
      const handle = await env.client.workflow.start(webhookRemedyWorkflow, {
        workflowId: delivery,
        taskQueue: TASK_QUEUE,
        args: [{ ...input, incidentId: 'incident-3' }],
      });
      await until('the request delivered', () => silent.requests.length === 1);
      // Awaiting the result lets the server skip time: the 20 minutes pass at once.
      const result = await handle.result();
      expect(result).toMatchObject({
        outcome: 'failed',
        detail: 'the remedy webhook reported no result within 20 minutes',
      });
    } finally {
      await silent.close();
    }
  });

  it("does not let a model's key answer another model's remedy", async () => {
    const path = `/v1/models/${MODEL}/remedies/${encodeURIComponent('agent:other-model:i:1:webhook')}/result`;
    const res = await api.call('POST', path, { outcome: 'succeeded' });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { code: 'remedy_not_found' } });
  });
});
