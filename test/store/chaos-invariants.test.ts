// The chaos benchmark's invariant checks (lib/bench/chaos-invariants.ts) catch what they look for: a
// clean model passes; a planted duplicate or missing prediction, a second candidate under one retrain
// key, a deployment change without its audit row or with two, a row changed behind the chain's back and
// an incident without an outcome are each reported. What the database itself refuses (a second row under
// one key) is planted in the rows the pure checks judge.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeploymentActivities } from '../../activities/deployment.ts';
import {
  candidateViolations,
  checkStoredInvariants,
  deploymentAuditViolations,
  predictionViolations,
} from '../../lib/bench/chaos-invariants.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase, tamper } from '../helpers/db.ts';

describe('chaos invariants, as pure checks', () => {
  it('a prediction stored twice or not at all is a violation; once is not', () => {
    const stored = new Map([
      ['a', 1],
      ['b', 2],
    ]);
    expect(predictionViolations(['a', 'b', 'c'], stored).map((v) => v.detail)).toEqual([
      'acknowledged prediction b is stored 2 times',
      'acknowledged prediction c is stored 0 times',
    ]);
  });

  it('two versions under one retrain key are a violation, whether the key is a column or in the window', () => {
    const versions = [
      { version: 3, idempotencyKey: 'retrain:1:train:0', trainingWindow: { key: 'retrain:1:train:0' } },
      { version: 4, idempotencyKey: 'retrain:1:train:1', trainingWindow: null },
      { version: 5, idempotencyKey: null, trainingWindow: { key: 'retrain:1:train:0' } },
      { version: 1, idempotencyKey: null, trainingWindow: null },
    ];
    expect(candidateViolations(versions).map((v) => v.detail)).toEqual([
      'retrain key retrain:1:train:0 registered versions 3, 5',
    ]);
    expect(candidateViolations(versions.slice(1))).toEqual([]);
  });

  it('an agent change needs exactly one Action naming it and one chain entry; a missing Action waits for the settle', () => {
    const revisions = [
      { id: 'r1', revision: 1, idempotencyKey: null },
      { id: 'r2', revision: 2, idempotencyKey: 'k2' },
      { id: 'r3', revision: 3, idempotencyKey: 'k3' },
    ];
    const entries = ['DeploymentRevision:r1', 'DeploymentRevision:r2', 'DeploymentRevision:r3'];
    const actions = [{ id: 'a2', idempotencyKey: 'k2', afterRevisionId: 'r2' }];
    expect(deploymentAuditViolations(revisions, actions, entries, false)).toEqual({
      violations: [],
      unaudited: ['r3'],
    });
    expect(
      deploymentAuditViolations(revisions, actions, entries, true).violations.map((v) => v.detail),
    ).toEqual(['revision 3 (key k3) has no Action']);
    const doubled = [...actions, { id: 'a3', idempotencyKey: 'k3', afterRevisionId: 'r2' }, actions[0]!];
    expect(
      deploymentAuditViolations(revisions, doubled, [...entries, entries[0]!], true).violations.map(
        (v) => v.detail,
      ),
    ).toEqual([
      'revision 1 has 2 audit chain entries',
      'revision 2 (key k2) has 2 Actions',
      "revision 3's Action a3 names another revision",
    ]);
  });
});

describeEachProvider('chaos invariants on a stored model (%s)', (provider) => {
  let db: TestDatabase;
  let modelId: string;
  const name = 'chaos-checked';

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    const model = await db.store.model.create({
      data: { name, task: 'binary', featureSchema: [], labels: ['0', '1'] },
    });
    modelId = model.id;
    await db.store.modelVersion.create({
      data: { modelId, version: 1, status: 'production', artifact: {} },
    });
    const deployment = createDeploymentActivities(db.store);
    for (const [i, mode] of (['serving', 'disabled'] as const).entries()) {
      await deployment.changeDeploymentFor({
        modelName: name,
        key: `agent:${i}`,
        actor: 'agent',
        reason: `change ${i}`,
        incidentId: null,
        change: { production: 1, mode },
      });
    }
    const now = new Date();
    await db.store.prediction.createMany({
      data: ['p1', 'p2', 'p3'].map((id) => ({
        id,
        modelId,
        source: 'gateway',
        features: {},
        predictedAt: now,
      })),
    });
    await db.store.incident.create({
      data: { modelId, status: 'recovered', kind: 'concept_drift', severity: 'high', summary: 'done' },
    });
  });
  afterAll(() => db?.drop());

  const check = (ids: string[], settled = true) =>
    checkStoredInvariants(db.store, name, ids, { settled }).then((r) => r.violations.map((v) => v.invariant));
  // In this order: each plant stays, so each test adds one more kind of violation.
  it('passes a clean model', async () => {
    expect(await check(['p1', 'p2', 'p3'])).toEqual([]);
  });

  it('reports an acknowledged prediction that is not stored', async () => {
    await db.store.prediction.delete({ where: { modelId_id: { modelId, id: 'p2' } } });
    expect(await check(['p1', 'p2', 'p3'])).toEqual(['prediction-stored-once']);
  });

  it('reports an incident without an outcome once settled, not before', async () => {
    await db.store.incident.create({
      data: { modelId, status: 'mitigating', kind: 'data_quality', severity: 'high', summary: 'stuck' },
    });
    expect(await check(['p1'], false)).toEqual([]);
    expect(await check(['p1'])).toEqual(['incident-has-outcome']);
  });

  it('reports an agent change whose Action is missing (and the chain, which misses the row too)', async () => {
    await tamper(db.config, `DELETE FROM "Action" WHERE "idempotencyKey" = 'agent:1'`);
    expect(await check(['p1'], false)).toEqual(['audit-chain-verifies']);
    expect(await check(['p1'])).toEqual([
      'deployment-change-audited-once',
      'audit-chain-verifies',
      'incident-has-outcome',
    ]);
  });

  it('reports a deployment revision changed behind the chain', async () => {
    await tamper(db.config, `UPDATE "DeploymentRevision" SET "reason" = 'rewritten' WHERE "revision" = 1`);
    const report = await checkStoredInvariants(db.store, name, [], { settled: false });
    expect(report.violations.map((v) => v.detail)).toContainEqual(
      expect.stringMatching(/changed DeploymentRevision:/),
    );
  });
});
