// Access control: every /v1 route needs a key, each role reaches exactly what it should, keys are stored
// hashed and shown once, and a revoked key stops working at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requiredRole } from '../../api/auth.ts';
import type { JsonCall } from '../../lib/api-client.ts';
import { hashKey } from '../../lib/auth/keys.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { createTestDatabase, TEST_PROVIDERS, type TestDatabase } from '../helpers/db.ts';
import { registerTestModel } from '../helpers/traffic.ts';

describe.each(TEST_PROVIDERS)('access control on %s', (provider) => {
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
    ['ingest', 'POST', '/v1/models/credit/predictions', prediction('i1'), 202],
    ['ingest', 'GET', '/v1/models', undefined, 403],
    ['ingest', 'POST', '/v1/models', model, 403],
    ['viewer', 'GET', '/v1/models', undefined, 200],
    ['viewer', 'GET', '/v1/fleet', undefined, 200],
    ['viewer', 'POST', '/v1/models/credit/predictions', prediction('v1'), 403],
    ['viewer', 'POST', '/v1/models/credit/agent/pause', { reason: 'x' }, 403],
    ['viewer', 'POST', '/v1/models/credit/deployment', { production: 1, reason: 'x' }, 403],
    ['operator', 'GET', '/v1/keys', undefined, 403],
    // Express routes these to GET /v1/keys too (case-insensitive, one optional trailing slash).
    ['viewer', 'GET', '/v1/keys/', undefined, 403],
    ['viewer', 'GET', '/V1/Keys', undefined, 403],
    ['operator', 'GET', '/v1/KEYS/', undefined, 403],
    ['operator', 'POST', '/v1/keys', { name: 'x', role: 'admin' }, 403],
    ['operator', 'POST', '/v1/models', model, 201],
  ] as const)('a %s key: %s %s → %i', async (role, method, path, body, status) => {
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
