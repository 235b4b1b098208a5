// The API against a real Temporal dev server, an in-process worker and SQLite: registering a model
// starts its agent; status is a workflow query; pause and resume are workflow updates whose validators
// reject bad requests before anything changes; every operator act is audited.
import fs from 'node:fs';
import path from 'node:path';
import { type WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeploymentActivities } from '../../activities/deployment.ts';
import { SEARCH_ATTRIBUTES } from '../../lib/search-attributes.ts';
import { agentWorkflowId } from '../../lib/temporal.ts';
import { createHomeostatWorker } from '../../worker/worker.ts';
import { pauseUpdate } from '../../workflows/messages.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { eventually } from '../helpers/credit-model.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { listWorkflowIds, startDevServer, summariesOf, workflowBundle } from '../helpers/temporal.ts';

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

/**
 * Waits until the agent loop has begun `count` sleeps (timers: it sleeps a cycle interval between turns)
 * since its pause update was accepted, reading the workflow's history: the agent's own clock, not ours.
 */
async function sleepsBegunSincePause(handle: WorkflowHandle, count: number): Promise<void> {
  await eventually(async () => {
    const events = (await handle.fetchHistory()).events ?? [];
    const pause = events.findIndex(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'pause',
    );
    return pause >= 0 && events.slice(pause).filter((e) => e.timerStartedEventAttributes).length >= count;
  }, 30_000);
}

/** The windows the agent has asked the monitor for since its pause update was accepted (its history). */
async function measurementsSincePause(handle: WorkflowHandle): Promise<number> {
  const events = (await handle.fetchHistory()).events ?? [];
  const pause = events.findIndex(
    (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'pause',
  );
  return events
    .slice(pause)
    .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'monitorWindow').length;
}

describe('API with a running agent', () => {
  it('reports itself live and ready', async () => {
    expect(await api.call('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await api.call('GET', '/readyz')).toMatchObject({
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

  it('answers the agent status from the workflow: a model without traffic has its first window open', async () => {
    // The policy's default window closes once it holds 30 rows, or an hour after it opened: the agent's
    // cycles (a second each here) find it open, measure nothing, and say so.
    let status = await api.call('GET', '/v1/models/credit/agent');
    for (let i = 0; i < 50 && !status.body.agent?.openWindow; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = await api.call('GET', '/v1/models/credit/agent');
    }
    const model = await db.store.model.findUniqueOrThrow({ where: { name: 'credit' } });
    expect(status).toMatchObject({
      status: 200,
      body: {
        agent: {
          workflowId: 'agent:credit',
          modelName: 'credit',
          paused: false,
          cycle: 0,
          openWindow: { open: true, seq: 0, startAt: model.createdAt.toISOString(), count: 0 },
        },
      },
    });
    expect(await db.store.metricWindow.count({ where: { modelId: model.id } })).toBe(0);
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

    // A paused agent measures nothing. The loop sleeps (a timer) between turns, and a cycle already
    // measuring when the pause came still counts: once a sleep has begun after the pause, that cycle is
    // done and the count settled. Once the next sleep has begun, the loop has been through a whole turn
    // paused, and neither the windows nor the measurements (its window is open: see above) have moved.
    const status = async () => (await api.call('GET', '/v1/models/credit/agent')).body.agent;
    expect(await status()).toMatchObject({ paused: true, health: 'paused' });
    // The Temporal UI finds it by the agent's search attributes (visibility trails by a moment).
    const pausedAgents = async () => {
      const query = `${SEARCH_ATTRIBUTES.model.name} = "credit" AND ${SEARCH_ATTRIBUTES.health.name} = "paused"`;
      const ids = await listWorkflowIds(env, query);
      return ids.length > 0 ? ids : null;
    };
    expect(await eventually(pausedAgents, 10_000)).toEqual(['agent:credit']);
    await sleepsBegunSincePause(handle, 1);
    const cycleWhilePaused = (await status()).cycle;
    const measuredWhilePaused = await measurementsSincePause(handle);
    expect(cycleWhilePaused).toBeGreaterThanOrEqual(paused.body.agent.cycle);
    await sleepsBegunSincePause(handle, 2);
    expect(await status()).toMatchObject({ paused: true, cycle: cycleWhilePaused });
    expect(await measurementsSincePause(handle)).toBe(measuredWhilePaused);

    const resumed = await api.call('POST', '/v1/models/credit/agent/resume', {
      reason: 'done',
      actor: 'bob',
    });
    expect(resumed).toMatchObject({ status: 200, body: { agent: { paused: false } } });

    const actions = await db.store.action.findMany({ where: operatorActs, orderBy: { createdAt: 'asc' } });
    expect(actions.map((a) => [a.type, a.actor, a.reason, a.workflowId])).toEqual([
      ['pause', 'human:alice (key test-admin)', 'maintenance', 'agent:credit'],
      ['resume', 'human:bob (key test-admin)', 'done', 'agent:credit'],
    ]);

    const history = await handle.fetchHistory();
    // The history reads like the product in the Temporal UI: each window and each wait says what it is.
    const summaries = summariesOf(history);
    expect(summaries).toContain('measure window 0');
    expect(summaries).toContain('wait for the next cycle (every 1 second)');
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, handle.workflowId);
    if (process.env.HOMEOSTAT_WRITE_HISTORIES === '1') {
      fs.writeFileSync(
        path.join(import.meta.dirname, '..', 'histories', 'agent-paused-resumed.json'),
        historyToJSON(history),
      );
    }
  }, 60_000);

  it('reverts an audited deployment change, changes the policy, and refuses controls that do not apply', async () => {
    // Two versions of the model and a deployment, then a change the agent made (audited, keyed).
    const rows = Array.from({ length: 80 }, (_, i) => ({
      income: 20 + i,
      region: i % 2 ? 'north' : 'south',
    }));
    const data = { rows, labels: rows.map((r) => (r.income > 60 ? 'yes' : 'no')) };
    for (const trainer of ['logistic-regression', 'random-forest-classifier']) {
      const v = await api.call('POST', '/v1/models/credit/versions', { train: { trainer }, data });
      expect(v.status).toBe(201);
    }
    expect(
      (await api.call('POST', '/v1/models/credit/deployment', { production: 1, reason: 'first' })).status,
    ).toBe(201);
    const change = await createDeploymentActivities(db.store).changeDeploymentFor({
      modelName: 'credit',
      key: 'api-test:change',
      actor: 'agent',
      reason: 'switch to version 2',
      incidentId: null,
      change: { production: 2 },
    });
    expect((await api.call('GET', '/v1/models/credit/deployment')).body.deployment.production.version).toBe(
      2,
    );

    const unknown = await api.call('POST', '/v1/models/credit/agent/revert', {
      actionId: 'no-such-action',
      reason: 'oops',
      actor: 'carol',
    });
    expect(unknown.status).toBe(409);
    const reverted = await api.call('POST', '/v1/models/credit/agent/revert', {
      actionId: change.actionId,
      reason: 'version 2 misbehaves',
      actor: 'carol',
    });
    expect(reverted.status).toBe(200);
    const deployment = (await api.call('GET', '/v1/models/credit/deployment')).body.deployment;
    expect(deployment).toMatchObject({ revision: change.after + 1, production: { version: 1 } });
    const revert = await db.store.action.findFirstOrThrow({ where: { type: 'revert' } });
    expect(revert).toMatchObject({
      actor: 'human:carol (key test-admin)',
      reason: 'version 2 misbehaves',
      status: 'succeeded',
    });

    // A policy is validated before anything changes; a valid one is stored as a new version.
    const invalid = await api.call('PUT', '/v1/models/credit/agent/policy', {
      policy: { approvals: { retrain: { mode: 'sometimes' } } },
      reason: 'try',
    });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.issues[0].path).toBe('body.policy.approvals.retrain.mode');
    expect((await api.call('GET', '/v1/models/credit/policy')).body.version).toBe(0);
    const valid = await api.call('PUT', '/v1/models/credit/agent/policy', {
      policy: { approvals: { retrain: { mode: 'approve' } } },
      reason: 'retrains need a human',
      actor: 'dave',
    });
    expect(valid.status).toBe(200);
    expect(valid.body.agent.policy.version).toBe(1);
    const stored = (await api.call('GET', '/v1/models/credit/policy')).body;
    expect(stored).toMatchObject({ version: 1, policy: { approvals: { retrain: { mode: 'approve' } } } });
    expect(stored.history[0]).toMatchObject({ version: 1, actor: 'human:dave (key test-admin)' });

    // The webhook is an admin's to set; an operator reads it redacted and, sending it back redacted,
    // changes the rest of the policy and keeps the webhook.
    const webhook = 'https://hooks.example.com/services/T0/B0/secret-path';
    const withHook = { approvals: { retrain: { mode: 'approve' } }, escalationWebhook: webhook };
    const set = await api.call('PUT', '/v1/models/credit/agent/policy', {
      policy: withHook,
      reason: 'page us',
    });
    expect(set.status).toBe(200);
    expect(set.body.agent.policy.document.escalationWebhook).toBe(webhook);
    const operator = await api.as('operator');
    const seen = await operator('GET', '/v1/models/credit/agent');
    expect(seen.body.agent.policy.document.escalationWebhook).toBe('[redacted]');
    const kept = await operator('PUT', '/v1/models/credit/agent/policy', {
      policy: { escalationWebhook: '[redacted]', approvals: { retrain: { mode: 'auto' } } },
      reason: 'retrains may go ahead',
    });
    expect(kept.status).toBe(200);
    expect(kept.body.agent.policy).toMatchObject({
      version: 3,
      document: { escalationWebhook: '[redacted]' },
    });
    expect((await api.call('GET', '/v1/models/credit/policy')).body).toMatchObject({
      version: 3,
      policy: { escalationWebhook: webhook, approvals: { retrain: { mode: 'auto' } } },
    });
    // Back to the policy the rest of this test expects.
    const reset = await api.call('PUT', '/v1/models/credit/agent/policy', {
      policy: { approvals: { retrain: { mode: 'approve' } } },
      reason: 'no webhook',
    });
    expect(reset.status).toBe(200);

    // Nothing waits for approval and nothing is escalated: the validators refuse, nothing is recorded.
    const before = await db.store.action.count();
    const approve = await api.call('POST', '/v1/models/credit/agent/approve', {
      approvalId: 'x',
      reason: 'go',
      actor: 'erin',
    });
    expect(approve).toMatchObject({
      status: 409,
      body: { error: { message: 'no action is waiting for approval' } },
    });
    const ack = await api.call('POST', '/v1/models/credit/agent/acknowledge', {
      incidentId: 'x',
      reason: 'seen',
      actor: 'erin',
    });
    expect(ack).toMatchObject({
      status: 409,
      body: { error: { message: 'no escalated incident to acknowledge' } },
    });
    expect(await db.store.action.count()).toBe(before);
  }, 60_000);
});
