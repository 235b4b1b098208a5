// The tamper-evident audit chain (issue 15, item 5) on both databases: audit rows written through the
// activities are sealed into a per-model hash chain; the API route and the CLI report a row or an entry
// that was changed, inserted or deleted behind their back; entries are append-only; the chain outlives
// its model.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { auditOnce, createIncidentActivities } from '../../activities/incidents.ts';
import { type AuditReport, verifyAuditChain } from '../../lib/audit/chain.ts';
import { REPO_ROOT } from '../../lib/db/config.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { registerCreditModel, registerCreditVersion, trainCreditModel } from '../helpers/credit-model.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase, tamper } from '../helpers/db.ts';

const run = promisify(execFile);

const problems = (report: AuditReport, model: string) =>
  report.models.find((m) => m.modelName === model)?.problems.map((p) => `${p.kind} ${p.where}`) ?? [];

describeEachProvider('audit chain on %s', (provider) => {
  let db: TestDatabase;
  let api: TestApi;
  let seq = 0;

  /** A model with `n` audited actions, written as the activities write them. */
  async function auditedModel(n: number): Promise<{ name: string; id: string; actionIds: string[] }> {
    const name = `audited-${provider}-${++seq}`;
    const model = await db.store.model.create({ data: { name, task: 'regression', featureSchema: [] } });
    const actionIds: string[] = [];
    for (let i = 0; i < n; i++) {
      const action = await auditOnce(db.store, {
        key: `${name}:${i}`,
        modelId: model.id,
        type: 'alert',
        actor: 'agent',
        reason: `reason ${i}`,
        incidentId: null,
        detail: { i, nested: { b: 2, a: 1.1 } },
      });
      actionIds.push(action.id);
    }
    return { name, id: model.id, actionIds };
  }

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    api = await startTestApi(db.store);
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('seals each version of a row once: a retry adds nothing, a status move adds an entry', async () => {
    const { name, id } = await auditedModel(2);
    const activities = createIncidentActivities(db.store);
    const request = {
      modelName: name,
      key: `${name}:retrain`,
      type: 'retrain',
      actor: 'agent',
      reason: 'drift',
      incidentId: null,
    };
    await activities.recordAction({ ...request, status: 'started' } as never);
    await activities.recordAction({ ...request, status: 'started' } as never); // a retried activity
    await activities.recordAction({
      ...request,
      status: 'succeeded',
      actor: 'human:carol (key ops)',
    } as never);
    await auditOnce(db.store, {
      key: `${name}:0`, // the first alert again: a retry gets the stored row
      modelId: id,
      type: 'alert',
      actor: 'agent',
      reason: 'reason 0',
      incidentId: null,
    });
    const entries = await db.store.auditEntry.findMany({ where: { modelId: id }, orderBy: { seq: 'asc' } });
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(entries[3]!.prevHash).toBe(entries[2]!.hash);
    const report = await verifyAuditChain(db.store, name);
    expect(report).toMatchObject({ ok: true, models: [{ modelName: name, entries: 4, problems: [] }] });
    expect(report.models[0]!.head).toEqual({ seq: 4, hash: entries[3]!.hash });
  });

  it('numbers concurrent appends of one model in turn', async () => {
    const name = `concurrent-${provider}`;
    const model = await db.store.model.create({ data: { name, task: 'regression', featureSchema: [] } });
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        auditOnce(db.store, {
          key: `${name}:${i}`,
          modelId: model.id,
          type: 'alert',
          actor: 'agent',
          reason: 'r',
          incidentId: null,
        }),
      ),
    );
    const entries = await db.store.auditEntry.findMany({
      where: { modelId: model.id },
      orderBy: { seq: 'asc' },
    });
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await verifyAuditChain(db.store, name)).ok).toBe(true);
  });

  it('reports an audit row changed, inserted or deleted outside the audited path', async () => {
    const { name, id, actionIds } = await auditedModel(3);
    await tamper(
      db.config,
      `UPDATE "Action" SET "reason" = 'nothing happened' WHERE "id" = '${actionIds[1]}';
       DELETE FROM "Action" WHERE "id" = '${actionIds[2]}';
       INSERT INTO "Action" ("id", "idempotencyKey", "modelId", "type", "actor", "status", "reason", "createdAt")
         VALUES ('forged', 'forged', '${id}', 'rollback', 'human:nobody', 'succeeded', 'forged', CURRENT_TIMESTAMP);`,
    );
    const report = await verifyAuditChain(db.store, name);
    expect(report.ok).toBe(false);
    expect(problems(report, name).sort()).toEqual(
      [`changed Action:${actionIds[1]}`, 'inserted Action:forged', `deleted Action:${actionIds[2]}`].sort(),
    );
  });

  it('refuses to change or remove an entry; with the triggers dropped, the check reports what was done', async () => {
    const { name, id } = await auditedModel(4);
    await expect(
      tamper(db.config, `UPDATE "AuditEntry" SET "content" = '{}' WHERE "modelId" = '${id}'`),
    ).rejects.toThrow(/append-only/);
    await expect(tamper(db.config, `DELETE FROM "AuditEntry" WHERE "modelId" = '${id}'`)).rejects.toThrow(
      /append-only/,
    );
    const dropTriggers =
      provider === 'sqlite'
        ? 'DROP TRIGGER "AuditEntry_no_update"; DROP TRIGGER "AuditEntry_no_delete";'
        : 'ALTER TABLE "AuditEntry" DISABLE TRIGGER USER;';
    const restoreTriggers =
      provider === 'sqlite'
        ? `CREATE TRIGGER "AuditEntry_no_update" BEFORE UPDATE ON "AuditEntry" BEGIN SELECT RAISE(ABORT, 'AuditEntry is append-only'); END;
           CREATE TRIGGER "AuditEntry_no_delete" BEFORE DELETE ON "AuditEntry" BEGIN SELECT RAISE(ABORT, 'AuditEntry is append-only'); END;`
        : 'ALTER TABLE "AuditEntry" ENABLE TRIGGER USER;';
    // An entry's content edited to match an edited row; an entry removed from the middle; one from the end.
    await tamper(
      db.config,
      `${dropTriggers}
       UPDATE "AuditEntry" SET "content" = REPLACE("content", 'reason 0', 'reason zero') WHERE "modelId" = '${id}' AND "seq" = 1;
       UPDATE "Action" SET "reason" = 'reason zero' WHERE "idempotencyKey" = '${name}:0';
       DELETE FROM "AuditEntry" WHERE "modelId" = '${id}' AND "seq" IN (2, 4);
       ${restoreTriggers}`,
    );
    const report = await verifyAuditChain(db.store, name);
    expect(problems(report, name)).toEqual(
      expect.arrayContaining([
        `changed entry 1 (Action:${(await db.store.action.findUniqueOrThrow({ where: { idempotencyKey: `${name}:0` } })).id})`,
        expect.stringMatching(/^deleted entry 3 /),
        'deleted head',
      ]),
    );
  });

  it('keeps the chain when the model row is deleted, and reports its audit rows as deleted', async () => {
    const { name, id, actionIds } = await auditedModel(2);
    await tamper(db.config, `DELETE FROM "Model" WHERE "id" = '${id}'`);
    expect(await db.store.auditEntry.count({ where: { modelId: id } })).toBe(2);
    const report = await verifyAuditChain(db.store, name);
    expect(problems(report, name).sort()).toEqual(actionIds.map((a) => `deleted Action:${a}`).sort());
  });

  it('answers GET /v1/audit/verify to admins only', async () => {
    const { name } = await auditedModel(1);
    const res = await api.call('GET', `/v1/audit/verify?model=${name}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, models: [{ modelName: name, entries: 1, problems: [] }] });
    expect((await (await api.as('operator'))('GET', '/v1/audit/verify')).status).toBe(403);
    // The whole store holds the tampered models above.
    expect((await api.call('GET', '/v1/audit/verify')).body.ok).toBe(false);
  });

  it('npm run audit -- verify prints the problems and exits 1; 0 for an intact model', async () => {
    const { name, actionIds } = await auditedModel(2);
    const env = {
      ...process.env,
      DATABASE_URL: provider === 'sqlite' ? `file:${db.config.url}` : db.config.url,
    };
    const cli = (...args: string[]) =>
      run('node', ['--import', 'tsx', 'scripts/audit.ts', ...args], { cwd: REPO_ROOT, env });
    const intact = await cli('verify', '--model', name);
    expect(intact.stdout).toContain(`${name}: 2 entries, head 2 `);
    expect(intact.stdout).toContain('audit chain verified');
    await tamper(
      db.config,
      `UPDATE "Action" SET "actor" = 'agent' , "reason" = 'x' WHERE "id" = '${actionIds[0]}'`,
    );
    const failed = await cli('verify', '--model', name).catch((err) => err);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain(`changed: Action:${actionIds[0]}: differs from its last entry`);
    expect(failed.stdout).toContain('audit chain NOT verified');
  }, 60_000);
});

describeEachProvider('audit chain of deployment changes on %s', (provider) => {
  let db: TestDatabase;
  let api: TestApi;
  beforeAll(async () => {
    db = await createTestDatabase(provider);
    api = await startTestApi(db.store);
    await registerCreditModel(api.call, 'credit');
    await registerCreditVersion(api.call, 'credit', { artifact: await trainCreditModel(200, 1, 20) });
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('seals each deployment revision the API writes, and reports one whose actor was rewritten', async () => {
    for (const mode of ['serving', 'disabled', 'serving']) {
      const res = await api.call('POST', '/v1/models/credit/deployment', {
        reason: 'test',
        production: 1,
        mode,
      });
      expect(res.status).toBe(201);
    }
    const before = await verifyAuditChain(db.store, 'credit');
    expect(before).toMatchObject({ ok: true, models: [{ entries: 3, problems: [] }] });
    const second = await db.store.deploymentRevision.findFirstOrThrow({ where: { revision: 2 } });
    await tamper(db.config, `UPDATE "DeploymentRevision" SET "actor" = 'agent' WHERE "id" = '${second.id}'`);
    expect(problems(await verifyAuditChain(db.store, 'credit'), 'credit')).toEqual([
      `changed DeploymentRevision:${second.id}`,
    ]);
  });
});
