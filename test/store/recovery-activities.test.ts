// The recovery activities that touch deployments, incidents, the audit trail, escalations and policies,
// against a real database: each activity's effect, and that the same key twice changes nothing more.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createDeploymentActivities } from '../../activities/deployment.ts';
import {
  createIncidentActivities,
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  verifyWebhookSignature,
} from '../../activities/incidents.ts';
import { createPolicyActivities } from '../../activities/policy.ts';
import { DEFAULT_POLICY } from '../../lib/policy/policy.ts';
import { changeDeployment } from '../../lib/registry/revisions.ts';
import { registerVersion } from '../../lib/registry/versions.ts';
import { creditDefault } from '../../lib/sim/demo-models.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import {
  CREDIT_LABELS,
  creditData,
  type ModelServer,
  startModelServer,
  trainCreditModel,
} from '../helpers/credit-model.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase } from '../helpers/db.ts';
import { allowLoopbackEgress } from '../helpers/egress.ts';

/** A webhook receiver that answers each request with the next status of `statuses` (then 200). */
async function startReceiver() {
  const received: { body: string; headers: IncomingHttpHeaders }[] = [];
  const statuses: number[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ body, headers: req.headers });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/escalations`,
    received,
    statuses,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Runs an activity in the SDK's activity context, as a worker would for the workflow `workflowId`. */
function inWorkflow<T>(workflowId: string, work: () => Promise<T>): Promise<T> {
  const env = new MockActivityEnvironment({ workflowExecution: { workflowId, runId: `${workflowId}-run` } });
  return env.run(work) as Promise<T>;
}

/** The failure an activity threw, for its type and retryability. */
async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describeEachProvider('recovery activities on %s', (provider) => {
  allowLoopbackEgress();
  let db: TestDatabase;
  let api: TestApi;
  let modelServer: ModelServer;
  let deployment: ReturnType<typeof createDeploymentActivities>;
  let incidents: ReturnType<typeof createIncidentActivities>;
  let policies: ReturnType<typeof createPolicyActivities>;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    env = { ...process.env }; // with the egress allow-list set above
    db = await createTestDatabase(provider);
    api = await startTestApi(db.store);
    modelServer = await startModelServer(50);
    deployment = createDeploymentActivities(db.store);
    incidents = createIncidentActivities(db.store);
    policies = createPolicyActivities(db.store);
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await modelServer?.close();
    await db?.drop();
  });
  afterEach(() => {
    process.env = { ...env };
  });

  /** A registered credit model with `versions` trained versions (v1..vn) and no deployment. */
  async function creditModel(versions: number): Promise<string> {
    const name = `credit-${randomUUID().slice(0, 8)}`;
    // Straight into the store: registering through the API would also try to start an agent.
    await db.store.model.create({
      data: { name, task: 'binary', featureSchema: creditDefault.schema, labels: CREDIT_LABELS },
    });
    for (let i = 1; i <= versions; i++) {
      await registerVersion(db.store, name, {
        artifact: await trainCreditModel(200, i),
        data: creditData(100, i),
      });
    }
    return name;
  }
  const request = (modelName: string, key: string) => ({
    modelName,
    key,
    actor: 'agent',
    reason: 'test',
    incidentId: null,
  });
  const modelId = async (name: string) => (await db.store.model.findUniqueOrThrow({ where: { name } })).id;
  const revisions = async (name: string) =>
    db.store.deploymentRevision.findMany({
      where: { modelId: await modelId(name) },
      orderBy: { revision: 'asc' },
    });
  const openIncident = async (name: string, evidence: object = {}) =>
    db.store.incident.create({
      data: {
        modelId: await modelId(name),
        status: 'open',
        kind: 'concept_drift',
        severity: 'high',
        summary: 'accuracy fell',
        evidence,
      },
    });
  const actionsOf = async (name: string) =>
    db.store.action.findMany({ where: { modelId: await modelId(name) }, orderBy: { createdAt: 'asc' } });

  it('changes the deployment once per key and audits it once, with the workflow that asked', async () => {
    const name = await creditModel(2);
    const first = await deployment.changeDeploymentFor({ ...request(name, 'k1'), change: { production: 1 } });
    expect(first).toMatchObject({ before: 0, after: 1 });

    const change = { ...request(name, 'k2'), change: { production: 2, fallback: 1 } };
    const second = await inWorkflow('agent:credit', () => deployment.changeDeploymentFor(change));
    expect(second).toMatchObject({ before: 1, after: 2 });
    expect(await inWorkflow('agent:credit', () => deployment.changeDeploymentFor(change))).toEqual(second);

    expect((await revisions(name)).map((r) => [r.revision, r.idempotencyKey])).toEqual([
      [1, 'k1'],
      [2, 'k2'],
    ]);
    const actions = await actionsOf(name);
    expect(actions).toHaveLength(2);
    expect(actions[1]).toMatchObject({
      id: second.actionId,
      type: 'deploy',
      status: 'succeeded',
      workflowId: 'agent:credit',
      runId: 'agent:credit-run',
    });
    expect(actions[0]!.workflowId).toBeNull();
    const facts = await deployment.describeDeployment({ modelName: name });
    expect(facts).toMatchObject({ revision: 2, productionVersion: 2, fallbackVersion: 1, mode: 'serving' });
  });

  it('finds a change made before a crash by its key and audits it without changing again', async () => {
    const name = await creditModel(2);
    await changeDeployment(db.store, name, { production: 1, reason: 'setup' });
    // The first attempt changed the deployment, then the worker died before the audit row.
    await changeDeployment(db.store, name, { production: 2, reason: 'test', actor: 'agent' }, 'crashed');
    const retried = await deployment.changeDeploymentFor({
      ...request(name, 'crashed'),
      change: { production: 2 },
    });
    expect(retried).toMatchObject({ before: 1, after: 2 });
    expect(await revisions(name)).toHaveLength(2);
    expect(await actionsOf(name)).toHaveLength(1);
  });

  it('audits a change that asks for what is in place without a new revision', async () => {
    const name = await creditModel(1);
    await changeDeployment(db.store, name, { production: 1, reason: 'setup' });
    const same = await deployment.changeDeploymentFor({
      ...request(name, 'noop'),
      change: { production: 1 },
    });
    expect(same).toMatchObject({ before: 1, after: 1 });
    expect(await revisions(name)).toHaveLength(1);
  });

  it('refuses invalid changes as non-retryable failures, changing nothing', async () => {
    const name = await creditModel(1);
    const unknown = await failureOf(
      deployment.changeDeploymentFor({ ...request(name, 'bad'), change: { production: 9 } }),
    );
    expect(unknown).toMatchObject({ type: 'unknown_version', nonRetryable: true });
    const unservable = await failureOf(
      deployment.changeDeploymentFor({ ...request(name, 'bad2'), change: { mode: 'fallback' } }),
    );
    expect(unservable).toMatchObject({ type: 'invalid_deployment', nonRetryable: true });
    const noModel = await failureOf(deployment.describeDeployment({ modelName: 'nope' }));
    expect(noModel).toMatchObject({ type: 'ModelNotFound', nonRetryable: true });
    expect(await revisions(name)).toHaveLength(0);
    expect(await actionsOf(name)).toHaveLength(0);
  });

  it('names the last known good revision: the latest earlier serving one with another production', async () => {
    const name = await creditModel(3);
    expect(await deployment.describeDeployment({ modelName: name })).toMatchObject({
      revision: 0,
      productionVersion: null,
      lastKnownGoodRevision: null,
    });
    await changeDeployment(db.store, name, { production: 1, reason: 'r1' });
    expect((await deployment.describeDeployment({ modelName: name })).lastKnownGoodRevision).toBeNull();
    await changeDeployment(db.store, name, { production: 2, reason: 'r2' });
    await changeDeployment(db.store, name, { shadow: 3, reason: 'r3' });
    // Revision 3 serves v2 too, so it is no rollback target; revision 1 is.
    expect((await deployment.describeDeployment({ modelName: name })).lastKnownGoodRevision).toBe(1);
    await changeDeployment(db.store, name, { fallback: 1, mode: 'fallback', reason: 'r4' });
    expect(await deployment.describeDeployment({ modelName: name })).toMatchObject({
      revision: 4,
      mode: 'fallback',
      lastKnownGoodRevision: 1,
      changedBy: 'api',
    });
    await changeDeployment(db.store, name, { production: 3, shadow: null, mode: 'serving', reason: 'r5' });
    // Revisions 2 and 3 served v2, a production other than v3; the fallback revision 4 did not serve.
    expect((await deployment.describeDeployment({ modelName: name })).lastKnownGoodRevision).toBe(3);
  });

  it('restores a revision once per key', async () => {
    const name = await creditModel(2);
    await changeDeployment(db.store, name, { production: 1, reason: 'r1' });
    await changeDeployment(db.store, name, { production: 2, reason: 'r2' });
    const req = { ...request(name, 'restore-1'), revision: 1 };
    const restored = await deployment.restoreDeploymentFor(req);
    expect(await deployment.restoreDeploymentFor(req)).toEqual(restored);
    expect(restored).toMatchObject({ before: 2, after: 3 });
    const rows = await revisions(name);
    expect(rows).toHaveLength(3);
    expect(rows[2]).toMatchObject({ restoredFrom: 1, productionVersionId: rows[0]!.productionVersionId });
    expect((await actionsOf(name)).map((a) => a.type)).toEqual(['restore']);
  });

  it('reverts an audited change as a new revision, once, outside a workflow too', async () => {
    const name = await creditModel(2);
    await changeDeployment(db.store, name, { production: 1, reason: 'r1' });
    const change = await deployment.changeDeploymentFor({
      ...request(name, 'to-v2'),
      change: { production: 2 },
    });
    const revert = {
      modelName: name,
      key: 'revert-1',
      actionId: change.actionId,
      actor: 'human:ops',
      reason: 'v2 was worse',
    };
    const reverted = await deployment.revertAction(revert);
    expect(await deployment.revertAction(revert)).toEqual(reverted);
    expect(reverted).toMatchObject({ before: 2, after: 3 });
    expect((await deployment.describeDeployment({ modelName: name })).productionVersion).toBe(1);
    expect((await revisions(name))[2]).toMatchObject({ restoredFrom: 1, actor: 'human:ops' });
    const audit = await db.store.action.findUniqueOrThrow({ where: { id: reverted.actionId } });
    expect(audit).toMatchObject({ type: 'revert', actor: 'human:ops', workflowId: null });
    expect(audit.detail).toMatchObject({ revertedActionId: change.actionId });
    expect(await revisions(name)).toHaveLength(3);
  });

  it('refuses to revert an unknown action or one with nothing to go back to', async () => {
    const name = await creditModel(1);
    const first = await deployment.changeDeploymentFor({
      ...request(name, 'first'),
      change: { production: 1 },
    });
    const revert = (actionId: string) =>
      deployment.revertAction({
        modelName: name,
        key: `r-${actionId}`,
        actionId,
        actor: 'agent',
        reason: 'x',
      });
    expect(await failureOf(revert('no-such-action'))).toMatchObject({
      type: 'ActionNotFound',
      nonRetryable: true,
    });
    expect(await failureOf(revert(first.actionId))).toMatchObject({
      type: 'NotRevertible',
      nonRetryable: true,
    });
    expect(await revisions(name)).toHaveLength(1);
  });

  it('sets a candidate’s status once per key, never a deployed version’s', async () => {
    const name = await creditModel(2);
    await changeDeployment(db.store, name, { production: 1, reason: 'r1' });
    const req = { modelName: name, key: 'reject-2', version: 2, status: 'rejected' as const, reason: 'lost' };
    await deployment.setCandidateStatus(req);
    await deployment.setCandidateStatus(req);
    const v2 = await db.store.modelVersion.findFirstOrThrow({
      where: { modelId: await modelId(name), version: 2 },
    });
    expect(v2.status).toBe('rejected');
    expect((await actionsOf(name)).map((a) => [a.type, a.detail])).toEqual([
      ['version_status', { version: 2, status: 'rejected' }],
    ]);
    const deployed = await failureOf(deployment.setCandidateStatus({ ...req, key: 'reject-1', version: 1 }));
    expect(deployed).toMatchObject({ type: 'version_deployed', nonRetryable: true });
  });

  it('probes a version on its reference, on served rows, and reports a version that fails', async () => {
    const name = await creditModel(1);
    expect(await deployment.probeVersion({ modelName: name, version: 1, rows: 5 })).toEqual({
      ok: true,
      answered: 5,
      failed: 0,
    });
    // A user's model server that fails, registered without reference rows: probed on served rows.
    await registerVersion(db.store, name, { artifact: modelServer.artifact('/fail') });
    const id = await modelId(name);
    const { rows } = creditData(3, 5);
    await db.store.prediction.createMany({
      data: rows.map((features) => ({
        id: randomUUID(),
        modelId: id,
        source: 'logged',
        features,
        predictedAt: new Date(),
      })),
    });
    const before = modelServer.received.get('/fail') ?? 0;
    const failed = await deployment.probeVersion({ modelName: name, version: 2, rows: 5 });
    expect(failed).toMatchObject({ ok: false, answered: 0, failed: 3 });
    expect(failed.error).toMatch(/500/);
    // One request a row: a server failing a share of its requests is sampled once per row, not once.
    expect(modelServer.received.get('/fail')! - before).toBe(3);
    expect(await deployment.probeVersion({ modelName: name, version: 1, rows: 5 })).toMatchObject({
      ok: true,
      answered: 3,
    });
  });

  it('records an action once per key and only moves its status forward', async () => {
    const name = await creditModel(2);
    await changeDeployment(db.store, name, { production: 1, reason: 'r1' });
    await changeDeployment(db.store, name, { production: 2, reason: 'r2' });
    const record = {
      key: 'rollback-1',
      modelName: name,
      type: 'rollback',
      actor: 'agent',
      reason: 'concept drift',
      incidentId: null,
    };
    const { actionId } = await inWorkflow('rollback:x', () =>
      incidents.recordAction({ ...record, status: 'pending' }),
    );
    expect(await incidents.recordAction({ ...record, status: 'started', beforeRevision: 2 })).toEqual({
      actionId,
    });
    let row = await db.store.action.findUniqueOrThrow({ where: { id: actionId } });
    expect(row).toMatchObject({ status: 'started', completedAt: null, workflowId: 'rollback:x' });
    await incidents.recordAction({ ...record, status: 'succeeded', afterRevision: 1, detail: { x: 1 } });
    // A late retry of the 'started' call must not undo the success.
    await incidents.recordAction({ ...record, status: 'started' });
    row = await db.store.action.findUniqueOrThrow({ where: { id: actionId } });
    const [r1, r2] = await revisions(name);
    expect(row).toMatchObject({
      status: 'succeeded',
      beforeRevisionId: r2!.id,
      afterRevisionId: r1!.id,
      detail: { x: 1 },
    });
    expect(row.completedAt).toBeInstanceOf(Date);
    await incidents.recordAction({ ...record, status: 'compensated' });
    expect((await db.store.action.findUniqueOrThrow({ where: { id: actionId } })).status).toBe('compensated');
    expect(await actionsOf(name)).toHaveLength(1);
    const noRevision = await failureOf(
      incidents.recordAction({ ...record, key: 'r2', status: 'started', beforeRevision: 9 }),
    );
    expect(noRevision).toMatchObject({ type: 'RevisionNotFound', nonRetryable: true });
  });

  it('updates an incident, appending each step once, and closes it', async () => {
    const name = await creditModel(0);
    const incident = await openIncident(name, { window: { seq: 3 } });
    const step = { key: 'rollback:start', at: '2026-11-26T10:00:00Z', phase: 'act', summary: 'rolling back' };
    await incidents.updateIncident({ incidentId: incident.id, status: 'mitigating', step });
    await incidents.updateIncident({ incidentId: incident.id, status: 'mitigating', step });
    await incidents.updateIncident({
      incidentId: incident.id,
      status: 'recovered',
      step: { ...step, key: 'verify:ok', phase: 'verify', summary: 'recovered', detail: { accuracy: 0.9 } },
      close: true,
    });
    const stored = await db.store.incident.findUniqueOrThrow({ where: { id: incident.id } });
    expect(stored.status).toBe('recovered');
    expect(stored.closedAt).toBeInstanceOf(Date);
    expect(stored.evidence).toMatchObject({ window: { seq: 3 } });
    expect((stored.evidence as { steps: { key: string }[] }).steps.map((s) => s.key)).toEqual([
      'rollback:start',
      'verify:ok',
    ]);
    const missing = await failureOf(incidents.updateIncident({ incidentId: 'nope', status: 'open' }));
    expect(missing).toMatchObject({ type: 'IncidentNotFound', nonRetryable: true });
  });

  it('escalates to the policy’s webhook, signed, retried after a 500, delivered once per key', async () => {
    const receiver = await startReceiver();
    try {
      const name = await creditModel(0);
      process.env.HOMEOSTAT_WEBHOOK_SECRET = 'shh';
      delete process.env.HOMEOSTAT_ESCALATION_WEBHOOK;
      await policies.savePolicy({
        modelName: name,
        key: 'p1',
        policy: { escalationWebhook: receiver.url },
        actor: 'human:ops',
        reason: 'page us',
      });
      const incident = await openIncident(name);
      const req = { modelName: name, incidentId: incident.id, key: 'esc-1', pack: { tried: ['rollback'] } };
      receiver.statuses.push(500);
      // Temporal retries a failed attempt: the test calls the activity again as the worker would.
      const first = await failureOf(incidents.sendEscalation(req));
      expect(first.nonRetryable).toBe(false);
      expect(first.message).toMatch(/500/);
      expect(await actionsOf(name)).toHaveLength(0);
      const result = await incidents.sendEscalation(req);
      expect(result).toEqual({ delivered: true, status: 200, webhook: 'policy' });
      expect(await incidents.sendEscalation(req)).toEqual(result);

      expect(receiver.received).toHaveLength(2);
      const delivered = receiver.received[1]!;
      expect(delivered.headers[DELIVERY_HEADER.toLowerCase()]).toBe('esc-1');
      const signature = delivered.headers[SIGNATURE_HEADER.toLowerCase()] as string;
      expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verifyWebhookSignature(delivered.body, signature, 'shh')).toBe(true);
      expect(verifyWebhookSignature(delivered.body, signature, 'other secret')).toBe(false);
      expect(verifyWebhookSignature(`${delivered.body} `, signature, 'shh')).toBe(false);
      expect(verifyWebhookSignature(delivered.body, undefined, 'shh')).toBe(false);
      // The signature covers the delivery id (in the body) and the time: neither can be swapped.
      const otherDelivery = delivered.body.replace('"delivery":"esc-1"', '"delivery":"esc-2"');
      expect(otherDelivery).not.toBe(delivered.body);
      expect(verifyWebhookSignature(otherDelivery, signature, 'shh')).toBe(false);
      const t = Number(/t=(\d+)/.exec(signature)![1]);
      expect(verifyWebhookSignature(delivered.body, signature.replace(`t=${t}`, `t=${t + 1}`), 'shh')).toBe(
        false,
      );
      // Fresh within five minutes either way, by default; a replay later is refused.
      const at = (seconds: number) => ({ now: new Date((t + seconds) * 1000) });
      expect(verifyWebhookSignature(delivered.body, signature, 'shh', at(300))).toBe(true);
      expect(verifyWebhookSignature(delivered.body, signature, 'shh', at(301))).toBe(false);
      expect(verifyWebhookSignature(delivered.body, signature, 'shh', at(-301))).toBe(false);
      expect(
        verifyWebhookSignature(delivered.body, signature, 'shh', { ...at(900), toleranceSeconds: 1000 }),
      ).toBe(true);
      expect(JSON.parse(delivered.body)).toMatchObject({
        delivery: 'esc-1',
        model: name,
        incidentId: incident.id,
        pack: { tried: ['rollback'] },
        sentAt: expect.any(String),
      });
      const actions = await actionsOf(name);
      expect(actions.map((a) => [a.type, a.incidentId])).toEqual([['escalate', incident.id]]);
      // The audit trail says which setting named the webhook, never its address.
      expect(actions[0]!.reason).toBe("escalated to the model policy's escalation webhook");
      expect(JSON.stringify(actions)).not.toContain(receiver.url);
    } finally {
      await receiver.close();
    }
  });

  it('escalates to the deployment-wide webhook, or to the dashboard only when there is none', async () => {
    const receiver = await startReceiver();
    try {
      const name = await creditModel(0);
      const incident = await openIncident(name);
      const req = { modelName: name, incidentId: incident.id, pack: {} };
      delete process.env.HOMEOSTAT_ESCALATION_WEBHOOK;
      expect(await incidents.sendEscalation({ ...req, key: 'none' })).toEqual({
        delivered: false,
        status: null,
        webhook: null,
      });
      process.env.HOMEOSTAT_ESCALATION_WEBHOOK = receiver.url;
      delete process.env.HOMEOSTAT_WEBHOOK_SECRET;
      // Without a secret nothing is sent unless unsigned escalations are explicitly allowed.
      const unsigned = await failureOf(incidents.sendEscalation({ ...req, key: 'unsigned' }));
      expect(unsigned).toMatchObject({ type: 'EscalationUnsigned', nonRetryable: true });
      expect(unsigned.message).toMatch(
        /HOMEOSTAT_WEBHOOK_SECRET is not set.*HOMEOSTAT_WEBHOOK_ALLOW_UNSIGNED=true/,
      );
      expect(receiver.received).toHaveLength(0);
      process.env.HOMEOSTAT_WEBHOOK_ALLOW_UNSIGNED = 'true';
      expect(await incidents.sendEscalation({ ...req, key: 'env' })).toEqual({
        delivered: true,
        status: 200,
        webhook: 'deployment',
      });
      expect(receiver.received).toHaveLength(1);
      expect(receiver.received[0]!.headers[SIGNATURE_HEADER.toLowerCase()]).toBeUndefined();
      expect((await actionsOf(name)).map((a) => a.type)).toEqual(['escalate', 'escalate']);
      // Nobody listening: a network error, retried by Temporal.
      process.env.HOMEOSTAT_ESCALATION_WEBHOOK = 'http://127.0.0.1:9/unreachable';
      const down = await failureOf(incidents.sendEscalation({ ...req, key: 'down' }));
      expect(down).toMatchObject({ type: 'EscalationUndelivered', nonRetryable: false });
    } finally {
      await receiver.close();
    }
  });

  it('does not call a webhook the egress policy refuses, and names no URL in the failure', async () => {
    const receiver = await startReceiver();
    try {
      const name = await creditModel(0);
      const incident = await openIncident(name);
      process.env.HOMEOSTAT_ESCALATION_WEBHOOK = receiver.url;
      process.env.HOMEOSTAT_WEBHOOK_SECRET = 'shh';
      delete process.env.HOMEOSTAT_EGRESS_ALLOW;
      const refused = await failureOf(
        incidents.sendEscalation({ modelName: name, incidentId: incident.id, key: 'refused', pack: {} }),
      );
      // Retrying cannot help: only a change of configuration can.
      expect(refused).toMatchObject({ type: 'EscalationRefused', nonRetryable: true });
      expect(refused.message).toBe(
        'escalation webhook not called: a loopback address, which HOMEOSTAT_EGRESS_ALLOW does not allow',
      );
      expect(receiver.received).toHaveLength(0);
      expect(await actionsOf(name)).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });

  it('versions policies: defaults first, one version per key, invalid ones stored nowhere', async () => {
    const name = await creditModel(0);
    expect(await policies.loadPolicy({ modelName: name })).toEqual({ version: 0, policy: DEFAULT_POLICY });
    const save = (key: string, policy: unknown) =>
      policies.savePolicy({ modelName: name, key, policy, actor: 'human:ops', reason: `because ${key}` });
    const first = await save('a', { floors: { accuracy: 0.6 } });
    expect(first.version).toBe(1);
    expect(await save('a', { floors: { accuracy: 0.6 } })).toEqual(first);
    const second = await save('b', { escalationWebhook: 'https://example.com/hook' });
    expect(second.version).toBe(2);
    const loaded = await policies.loadPolicy({ modelName: name });
    expect(loaded).toEqual(second);
    expect(loaded.policy).toEqual({ ...DEFAULT_POLICY, escalationWebhook: 'https://example.com/hook' });
    const model = await db.store.model.findUniqueOrThrow({ where: { name } });
    expect(model.policy).toEqual({ escalationWebhook: 'https://example.com/hook' });

    const invalid = await failureOf(save('c', { floors: { accuracy: 2 }, bogus: 1 }));
    expect(invalid).toMatchObject({ type: 'InvalidPolicy', nonRetryable: true });
    expect((invalid.details as { path: string }[][])[0]!.length).toBeGreaterThanOrEqual(2);
    expect(await db.store.policyVersion.count({ where: { modelId: model.id } })).toBe(2);
    expect((await db.store.model.findUniqueOrThrow({ where: { name } })).policy).toEqual(model.policy);

    const viewer = await api.as('viewer');
    const res = await viewer('GET', `/v1/models/${name}/policy`);
    expect(res.status).toBe(200);
    // A viewer reads every field but the webhook's address (api/secrets.ts).
    expect(res.body).toMatchObject({
      version: 2,
      policy: { ...loaded.policy, escalationWebhook: '[redacted]' },
    });
    expect(res.body.history).toEqual([
      { version: 2, actor: 'human:ops', reason: 'because b', createdAt: expect.any(String) },
      { version: 1, actor: 'human:ops', reason: 'because a', createdAt: expect.any(String) },
    ]);
    expect((await viewer('GET', '/v1/models/nope/policy')).status).toBe(404);
  });
});
