// The API against a real Temporal dev server, an in-process worker and SQLite: registering a model
// starts its agent; status is a workflow query; pause and resume are workflow updates whose validators
// reject bad requests before anything changes; every operator act is audited.
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHomeostatWorker } from '../../worker/worker.ts';
import { agentWorkflowId, pauseUpdate } from '../../workflows/messages.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startDevServer, workflowBundle } from '../helpers/temporal.ts';

const TASK_QUEUE = 'api-test';
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let api: TestApi;
let worker: Worker;
let workerRun: Promise<void>;

beforeAll(async () => {
  [env, db] = await Promise.all([startDevServer(), createTestDatabase('sqlite')]);
  worker = await createHomeostatWorker({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    store: db.store,
    workflowBundle: await workflowBundle(),
  });
  workerRun = worker.run();
  api = await startTestApi(db.store, env.client, { taskQueue: TASK_QUEUE, cycleInterval: '1 second' });
}, 120_000);

afterAll(async () => {
  await api?.close();
  worker?.shutdown();
  await workerRun;
  await Promise.all([env?.teardown(), db?.drop()]);
});

const credit = {
  name: 'credit',
  task: 'binary',
  labels: ['no', 'yes'],
  featureSchema: [
    { name: 'income', type: 'numeric', min: 0 },
    { name: 'region', type: 'categorical', categories: ['north', 'south'] },
  ],
};

describe('API with a running agent', () => {
  it('reports its health', async () => {
    expect(await api.call('GET', '/healthz')).toMatchObject({
      status: 200,
      body: { status: 'ok', db: 'ok', temporal: 'ok' },
    });
  });

  it.each([
    ['an upper-case name', { ...credit, name: 'Credit' }, 'body.name'],
    ['a binary model without labels', { ...credit, labels: undefined }, 'body.labels'],
    ['three labels for a binary model', { ...credit, labels: ['a', 'b', 'c'] }, 'body.labels'],
    [
      'repeated feature names',
      { ...credit, featureSchema: [credit.featureSchema[0], credit.featureSchema[0]] },
      'body.featureSchema',
    ],
    [
      'a categorical feature without categories',
      { ...credit, featureSchema: [{ name: 'r', type: 'categorical' }] },
      'body.featureSchema.0.categories',
    ],
    ['an unknown task', { ...credit, task: 'ranking' }, 'body.task'],
  ])('rejects a registration with %s and stores nothing', async (_name, body, issuePath) => {
    const res = await api.call('POST', '/v1/models', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(issuePath);
    expect(await db.store.model.count()).toBe(0);
  });

  it('registers a model and starts its agent, once', async () => {
    const res = await api.call('POST', '/v1/models', credit);
    expect(res).toMatchObject({
      status: 201,
      body: { model: { name: 'credit', task: 'binary' }, agent: { started: true } },
    });
    expect((await api.call('POST', '/v1/models', credit)).status).toBe(409);
    expect((await api.call('GET', '/v1/models')).body.models.map((m: { name: string }) => m.name)).toEqual([
      'credit',
    ]);
    expect((await api.call('GET', '/v1/models/nope')).status).toBe(404);
  });

  it('answers the agent status from the workflow', async () => {
    let status = await api.call('GET', '/v1/models/credit/agent');
    for (let i = 0; i < 50 && !(status.body.agent?.cycle >= 2); i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = await api.call('GET', '/v1/models/credit/agent');
    }
    expect(status).toMatchObject({
      status: 200,
      body: { agent: { workflowId: 'agent:credit', modelName: 'credit', paused: false } },
    });
    expect(status.body.agent.cycle).toBeGreaterThanOrEqual(2);
    expect((await api.call('GET', '/v1/models/nope/agent')).status).toBe(404);
  });

  it('pauses and resumes through validated, audited workflow updates', async () => {
    const missingReason = await api.call('POST', '/v1/models/credit/agent/pause', { actor: 'alice' });
    expect(missingReason).toMatchObject({
      status: 400,
      body: { error: { issues: [{ path: 'body.reason' }] } },
    });

    // The workflow's own validator rejects what the API would have let through, and changes nothing.
    const handle = env.client.workflow.getHandle(agentWorkflowId('credit'));
    await expect(
      handle.executeUpdate(pauseUpdate, { args: [{ reason: ' ', actor: 'alice' }] }),
    ).rejects.toThrow(WorkflowUpdateFailedError);
    const operatorActs = { actor: { startsWith: 'human:' } };
    expect(await db.store.action.count({ where: operatorActs })).toBe(0);

    const paused = await api.call('POST', '/v1/models/credit/agent/pause', {
      reason: 'maintenance',
      actor: 'alice',
    });
    expect(paused).toMatchObject({ status: 200, body: { agent: { paused: true, health: 'paused' } } });
    const again = await api.call('POST', '/v1/models/credit/agent/pause', {
      reason: 'again',
      actor: 'alice',
    });
    expect(again).toMatchObject({
      status: 409,
      body: { error: { code: 'agent_rejected', message: 'agent is already paused' } },
    });

    const cycleWhilePaused = paused.body.agent.cycle;
    await new Promise((r) => setTimeout(r, 2_500)); // two intervals: a paused agent measures nothing
    expect((await api.call('GET', '/v1/models/credit/agent')).body.agent.cycle).toBe(cycleWhilePaused);

    const resumed = await api.call('POST', '/v1/models/credit/agent/resume', {
      reason: 'done',
      actor: 'bob',
    });
    expect(resumed).toMatchObject({ status: 200, body: { agent: { paused: false } } });

    const actions = await db.store.action.findMany({ where: operatorActs, orderBy: { createdAt: 'asc' } });
    expect(actions.map((a) => [a.type, a.actor, a.reason, a.workflowId])).toEqual([
      ['pause', 'human:alice', 'maintenance', 'agent:credit'],
      ['resume', 'human:bob', 'done', 'agent:credit'],
    ]);

    const history = await handle.fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, handle.workflowId);
    if (process.env.HOMEOSTAT_WRITE_HISTORIES === '1') {
      fs.writeFileSync(
        path.join(import.meta.dirname, '..', 'histories', 'agent-paused-resumed.json'),
        historyToJSON(history),
      );
    }
  }, 60_000);
});
