// Access control: every /v1 route needs a key, each role reaches exactly what it should, keys are stored
// hashed and shown once, and a revoked key stops working at once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { requiredRole } from '../../api/auth.ts';
import type { JsonCall } from '../../lib/api-client.ts';
import { hashKey } from '../../lib/auth/keys.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase } from '../helpers/db.ts';
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
    ['operator', 'POST', '/v1/keys', 403, { name: 'x', role: 'admin' }],
    ['operator', 'POST', '/v1/models', 201, model],
  ] as const)('%s key: %s %s → %i', async (role, method, path, status, body) => {
    const res = await as[role](method, path, body);
    expect(res.status).toBe(status);
    if (status === 403) expect(res.body.error.message).toMatch(new RegExp(`key "test-${role}" has ${role}`));
  });

  it('denies by default: a route without a rule needs admin', () => {
    expect(requiredRole('DELETE', '/v1/models/credit')).toBe('admin');
    expect(requiredRole('PUT', '/v1/anything')).toBe('admin');
  });

  it('creates a key shown once, stores only its hash, and revokes it at once', async () => {
    const created = await api.call('POST', '/v1/keys', { name: 'ci-bot', role: 'viewer' });
    expect(created).toMatchObject({ status: 201, body: { name: 'ci-bot', role: 'viewer' } });
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
    expect((await api.call('POST', '/v1/keys', { name: 'ci-bot', role: 'admin' })).status).toBe(409);
    expect((await api.call('POST', '/v1/keys', { name: 'Bad Name', role: 'root' })).status).toBe(400);

    const use = () => fetch(`${api.url}/v1/models`, { headers: { authorization: `Bearer ${secret}` } });
    expect((await use()).status).toBe(200);
    expect((await api.call('DELETE', '/v1/keys/ci-bot')).status).toBe(204);
    expect((await use()).status).toBe(401);
    expect((await api.call('DELETE', '/v1/keys/ci-bot')).status).toBe(404);
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
