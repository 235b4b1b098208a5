// Access control: every /v1 route needs a key, each role reaches exactly what it should, keys are stored
// hashed and shown once, and a revoked key stops working at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requiredRole } from '../../api/auth.ts';
import type { JsonCall } from '../../lib/api-client.ts';
import { jsonClient } from '../../lib/api-client.ts';
import { hashKey, rotateApiKey } from '../../lib/auth/keys.ts';
import type { Role } from '../../lib/domain.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase, trafficCounts } from '../helpers/db.ts';
import { registerTestModel } from '../helpers/traffic.ts';

describeEachProvider('access control on %s', (provider) => {
  let db: TestDatabase;
  let api: TestApi;
  let as: Record<'none' | 'ingest' | 'viewer' | 'operator', JsonCall>;

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    api = await startTestApi(db.store);
    await registerTestModel(db.store, 'credit');
    as = {
      none: await api.as(null),
      ingest: await api.as('ingest'),
      viewer: await api.as('viewer'),
      operator: await api.as('operator'),
    };
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const prediction = (id: string) => ({ predictions: [{ id, features: { x: 1 }, prediction: 'yes' }] });
  const model = {
    name: 'fraud',
    task: 'binary',
    labels: ['no', 'yes'],
    featureSchema: [{ name: 'x', type: 'numeric' }],
  };

  it('answers 401 without a key, or with an unknown one', async () => {
    const res = await as.none('GET', '/v1/models');
    expect(res).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } });
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    const forged = await fetch(`${api.url}/v1/models`, { headers: { authorization: 'Bearer hs_forged' } });
    expect(forged.status).toBe(401);
  });

  it.each([
    ['ingest', 'POST', '/v1/models/credit/predictions', 202, prediction('i1')],
    ['ingest', 'GET', '/v1/models', 403, undefined],
    ['ingest', 'POST', '/v1/models', 403, model],
    ['viewer', 'GET', '/v1/models', 200, undefined],
    ['viewer', 'GET', '/v1/fleet', 200, undefined],
    ['viewer', 'POST', '/v1/models/credit/predictions', 403, prediction('v1')],
    ['viewer', 'POST', '/v1/models/credit/agent/pause', 403, { reason: 'x' }],
    ['viewer', 'POST', '/v1/models/credit/deployment', 403, { production: 1, reason: 'x' }],
    ['operator', 'GET', '/v1/keys', 403, undefined],
    // Express routes these to GET /v1/keys too (case-insensitive, one optional trailing slash).
    ['viewer', 'GET', '/v1/keys/', 403, undefined],
    ['viewer', 'GET', '/V1/Keys', 403, undefined],
    ['operator', 'GET', '/v1/KEYS/', 403, undefined],
    ['operator', 'POST', '/v1/keys', 403, { name: 'x', role: 'admin', models: '*' }],
    ['operator', 'POST', '/v1/models', 201, model],
  ] as const)('%s key: %s %s → %i', async (role, method, path, status, body) => {
    const res = await as[role](method, path, body);
    expect(res.status).toBe(status);
    if (status === 403) expect(res.body.error.message).toMatch(new RegExp(`key "test-${role}" has ${role}`));
  });

  it('denies by default: a route without a rule needs admin', () => {
    expect(requiredRole('DELETE', '/v1/models/credit')).toBe('admin');
    expect(requiredRole('PUT', '/v1/anything')).toBe('admin');
    // A path no rule matches, however Express routes it, falls to admin rather than to a looser rule.
    expect(requiredRole('GET', '/v1/keys//')).toBe('admin');
    expect(requiredRole('GET', '/v1/models/credit//versions')).toBe('admin');
    expect(requiredRole('HEAD', '/v1/keys/')).toBe('admin');
    expect(requiredRole('HEAD', '/v1/Models/')).toBe('viewer');
  });

  it('creates a key shown once, stores only its hash, and revokes it at once', async () => {
    const created = await api.call('POST', '/v1/keys', { name: 'ci-bot', role: 'viewer', models: '*' });
    expect(created).toMatchObject({ status: 201, body: { name: 'ci-bot', role: 'viewer', models: '*' } });
    const secret: string = created.body.key;
    expect(secret).toMatch(/^hs_[A-Za-z0-9_-]{43}$/);
    const row = await db.store.apiKey.findUniqueOrThrow({ where: { name: 'ci-bot' } });
    expect(row.hash).toBe(hashKey(secret));
    expect(JSON.stringify(row)).not.toContain(secret);

    const listed = await api.call('GET', '/v1/keys');
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(listed.body.keys.find((k: { name: string }) => k.name === 'ci-bot')).toMatchObject({
      prefix: secret.slice(0, 10),
    });
    expect((await api.call('POST', '/v1/keys', { name: 'ci-bot', role: 'admin', models: '*' })).status).toBe(
      409,
    );
    expect((await api.call('POST', '/v1/keys', { name: 'Bad Name', role: 'root' })).status).toBe(400);
    // A key states its scope: no default that would quietly grant every model.
    expect(await api.call('POST', '/v1/keys', { name: 'no-scope', role: 'viewer' })).toMatchObject({
      status: 400,
      body: { error: { issues: [{ path: 'body.models' }] } },
    });

    const use = () => fetch(`${api.url}/v1/models`, { headers: { authorization: `Bearer ${secret}` } });
    expect((await use()).status).toBe(200);
    expect((await api.call('DELETE', '/v1/keys/ci-bot')).status).toBe(204);
    expect((await use()).status).toBe(401);
    expect((await api.call('DELETE', '/v1/keys/ci-bot')).status).toBe(404);
  });

  describe('keys scoped to models', () => {
    const scoped = async (role: Role, models: string[] | '*') =>
      jsonClient(api.url, {
        authorization: `Bearer ${await rotateApiKey(db.store, `scoped-${role}`, role, models)}`,
      });
    let otherIncident: string;

    beforeAll(async () => {
      const other = await registerTestModel(db.store, 'other');
      otherIncident = (
        await db.store.incident.create({
          data: { modelId: other.id, status: 'open', kind: 'data_drift', severity: 'high', summary: 'x' },
        })
      ).id;
      await db.store.action.create({
        data: {
          idempotencyKey: 'other-alert',
          modelId: other.id,
          type: 'alert',
          actor: 'agent',
          status: 'succeeded',
          reason: 'x',
        },
      });
    });

    it('lets a key write only to its models; elsewhere 403 and nothing is stored', async () => {
      const ingest = await scoped('ingest', ['credit']);
      const before = await trafficCounts(db.store);
      const refused = await ingest('POST', '/v1/models/other/predictions', prediction('s1'));
      expect(refused).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
      expect(refused.body.error.message).toContain('not scoped to model "other"');
      // The same answer for a model that does not exist: a scope reveals no model names.
      expect((await ingest('POST', '/v1/models/nosuch/predictions', prediction('s1'))).status).toBe(403);
      expect((await ingest('POST', '/v1/models/Other/labels', { labels: [] })).status).toBe(403);
      expect(await trafficCounts(db.store)).toEqual(before);
      expect((await ingest('POST', '/v1/models/credit/predictions', prediction('s1'))).status).toBe(202);
    });

    it('keeps prediction ids unique per model: another model may use the same id, and a 409 names only ids of its own model', async () => {
      const ingest = await scoped('ingest', ['credit', 'other']);
      expect((await ingest('POST', '/v1/models/credit/predictions', prediction('shared'))).status).toBe(202);
      expect((await ingest('POST', '/v1/models/other/predictions', prediction('shared'))).status).toBe(202);
      const again = await ingest('POST', '/v1/models/other/predictions', {
        predictions: [
          { id: 'shared', features: { x: 1 }, prediction: 'yes' },
          { id: 's1', features: { x: 1 }, prediction: 'yes' }, // stored for credit only
        ],
      });
      expect(again).toMatchObject({ status: 409, body: { error: { code: 'prediction_exists' } } });
      expect(again.body.error.issues).toEqual([
        { path: 'body.predictions[id=shared]', message: 'already ingested' },
      ]);
      const labels = await ingest('POST', '/v1/models/other/labels', {
        labels: [{ predictionId: 'shared', label: 'no' }],
      });
      expect(labels.status).toBe(202);
      const labelled = await db.store.label.findMany({ where: { predictionId: 'shared' } });
      expect(labelled).toHaveLength(1);
    });

    it('lists only the models in scope, and hides other models’ incidents and actions', async () => {
      const viewer = await scoped('viewer', ['credit']);
      const names = (body: { models: { name?: string; model?: { name: string } }[] }) =>
        body.models.map((m) => m.name ?? m.model?.name);
      expect(names((await viewer('GET', '/v1/models')).body)).toEqual(['credit']);
      expect(names((await viewer('GET', '/v1/fleet')).body)).toEqual(['credit']);
      expect(names((await api.call('GET', '/v1/fleet')).body)).toEqual(
        expect.arrayContaining(['credit', 'other']),
      );
      const actions = (await viewer('GET', '/v1/actions')).body.actions;
      expect(actions.map((a: { model: string }) => a.model)).not.toContain('other');
      expect(
        (await api.call('GET', '/v1/actions')).body.actions.map((a: { model: string }) => a.model),
      ).toContain('other');
      expect((await viewer('GET', '/v1/actions?model=other')).status).toBe(403);
      expect((await viewer(`GET`, `/v1/incidents/${otherIncident}`)).status).toBe(404);
      expect((await api.call('GET', `/v1/incidents/${otherIncident}`)).status).toBe(200);
      expect((await viewer('GET', '/v1/fleet/other')).status).toBe(403);
      expect((await viewer('GET', '/v1/models/credit')).status).toBe(200);
    });

    it('lets a key register only a model in its scope, and manage keys only with every model', async () => {
      const operator = await scoped('operator', ['credit', 'fraud-2']);
      const model = {
        name: 'fraud-3',
        task: 'binary',
        labels: ['no', 'yes'],
        featureSchema: [{ name: 'x', type: 'numeric' }],
      };
      const before = await db.store.model.count();
      expect(await operator('POST', '/v1/models', model)).toMatchObject({
        status: 403,
        body: { error: { code: 'forbidden' } },
      });
      expect(await db.store.model.count()).toBe(before);
      const admin = await scoped('admin', ['credit']);
      expect((await admin('GET', '/v1/keys')).status).toBe(403);
      expect((await admin('POST', '/v1/keys', { name: 'mine', role: 'admin', models: '*' })).status).toBe(
        403,
      );
      expect(await db.store.apiKey.count({ where: { name: 'mine' } })).toBe(0);
      expect((await admin('GET', '/v1/models/credit/versions')).status).toBe(200);
    });

    it('stores the scope a key is created with, and lists it', async () => {
      const created = await api.call('POST', '/v1/keys', {
        name: 'feeder',
        role: 'ingest',
        models: ['credit'],
      });
      expect(created).toMatchObject({ status: 201, body: { models: ['credit'] } });
      const use = jsonClient(api.url, { authorization: `Bearer ${created.body.key}` });
      expect((await use('POST', '/v1/models/other/labels', { labels: [] })).status).toBe(403);
      const listed = (await api.call('GET', '/v1/keys')).body.keys;
      expect(listed.find((k: { name: string }) => k.name === 'feeder')).toMatchObject({ models: ['credit'] });
      expect(listed.find((k: { name: string }) => k.name === 'test-admin')).toMatchObject({ models: '*' });
    });
  });

  it('leaves /metrics open and counts requests and stored predictions there', async () => {
    await as.ingest('POST', '/v1/models/credit/predictions', prediction('m1'));
    const res = await fetch(`${api.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(
      /homeostat_http_requests_total\{method="POST",route="\/v1\/models\/:model\/predictions",status="202",model="credit"\} \d+/,
    );
    expect(text).toMatch(/homeostat_predictions_stored_total\{[^}]*source="logged"\} \d+/);
    expect(text).toMatch(/homeostat_http_requests_total\{method="GET",route="[^"]*",status="401"/);
  });
});
