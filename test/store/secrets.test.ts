// Who may point Homeostat at an address it calls, and who may read those addresses and credentials
// back: http artifacts and escalation webhooks are set by admins only, and every other role reads
// "[redacted]" in their place (api/secrets.ts).
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JsonCall } from '../../lib/api-client.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import {
  creditData,
  type ModelServer,
  registerCreditModel,
  startModelServer,
} from '../helpers/credit-model.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase } from '../helpers/db.ts';
import { allowLoopbackEgress } from '../helpers/egress.ts';

describeEachProvider('secrets in the API on %s', (provider) => {
  allowLoopbackEgress();
  let db: TestDatabase;
  let api: TestApi;
  let server: ModelServer;
  let operator: JsonCall;
  let viewer: JsonCall;

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    api = await startTestApi(db.store);
    server = await startModelServer(50);
    operator = await api.as('operator');
    viewer = await api.as('viewer');
    await registerCreditModel(api.call, 'credit');
  });
  afterAll(async () => {
    await api?.close();
    await server?.close();
    await db?.drop();
  });

  const artifact = () => ({
    ...server.artifact('/ok'),
    headers: { authorization: 'Bearer model-token-123' },
    headerEnv: { 'x-api-key': 'HOMEOSTAT_MODEL_KEY' },
  });

  it('lets only admins register an http artifact; an operator gets a 403 and nothing is called or stored', async () => {
    process.env.HOMEOSTAT_MODEL_KEY = 'k';
    const calls = server.received.get('/ok') ?? 0;
    const refused = await operator('POST', '/v1/models/credit/versions', {
      artifact: artifact(),
      data: creditData(20, 1),
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toEqual({
      status: 403,
      code: 'forbidden',
      message:
        'registering an http artifact (a model server the API, gateway and worker call) needs the admin role; key "test-operator" has operator',
    });
    expect(server.received.get('/ok') ?? 0).toBe(calls);
    expect(await db.store.modelVersion.count()).toBe(0);
    const created = await api.call('POST', '/v1/models/credit/versions', {
      artifact: artifact(),
      data: creditData(20, 1),
    });
    expect(created.status).toBe(201);
  });

  it('shows an http artifact’s URL and headers to admins only', async () => {
    const admin = await api.call('GET', '/v1/models/credit/versions/1');
    expect(admin.body.version.artifact).toEqual({ ...artifact(), kind: 'http' });
    for (const reader of [viewer, operator]) {
      const res = await reader('GET', '/v1/models/credit/versions/1');
      expect(res.status).toBe(200);
      expect(res.body.version.artifact).toEqual({
        kind: 'http',
        task: 'binary',
        url: '[redacted]',
        headers: { authorization: '[redacted]' },
        // Names of variables, not their values: what an operator needs to set them.
        headerEnv: { 'x-api-key': 'HOMEOSTAT_MODEL_KEY' },
        timeoutMs: 200,
      });
      expect(JSON.stringify(res.body)).not.toMatch(/model-token-123|127\.0\.0\.1/);
    }
  });

  it('shows the escalation webhook to admins only, and lets only admins change it', async () => {
    const model = await db.store.model.findUniqueOrThrow({ where: { name: 'credit' } });
    const webhook = 'https://hooks.example.com/T000/B000/secret-path';
    await db.store.policyVersion.create({
      data: {
        modelId: model.id,
        version: 1,
        document: { escalationWebhook: webhook },
        actor: 'human:admin',
        reason: 'page us',
        idempotencyKey: 'secrets-test-1',
      },
    });
    expect((await api.call('GET', '/v1/models/credit/policy')).body.policy.escalationWebhook).toBe(webhook);
    const seen = await viewer('GET', '/v1/models/credit/policy');
    expect(seen.body.policy.escalationWebhook).toBe('[redacted]');
    expect(JSON.stringify(seen.body)).not.toContain('secret-path');

    // Setting another address, or removing it, is refused before the agent is asked.
    for (const policy of [{ escalationWebhook: 'http://169.254.169.254/latest' }, {}]) {
      const res = await operator('PUT', '/v1/models/credit/agent/policy', { reason: 'mine now', policy });
      expect(res.status, JSON.stringify(policy)).toBe(403);
      expect(res.body.error.message).toBe(
        'setting, changing or removing escalationWebhook (an address the worker calls) needs the admin role; key "test-operator" has operator',
      );
    }
    expect(await db.store.policyVersion.count({ where: { modelId: model.id } })).toBe(1);
  });

  it("shows the remedy webhook's address to admins only, and lets only admins change it", async () => {
    const model = await db.store.model.findUniqueOrThrow({ where: { name: 'credit' } });
    const url = 'https://rollouts.example.com/hooks/secret-path';
    await db.store.policyVersion.create({
      data: {
        modelId: model.id,
        version: 2,
        document: { remedyWebhook: { url, timeout: '5 minutes' } },
        actor: 'human:admin',
        reason: 'our rollout system',
        idempotencyKey: 'secrets-test-2',
      },
    });
    const seen = await viewer('GET', '/v1/models/credit/policy');
    expect(seen.body.policy.remedyWebhook).toEqual({ url: '[redacted]', timeout: '5 minutes' });
    expect(JSON.stringify(seen.body)).not.toContain('secret-path');
    expect((await api.call('GET', '/v1/models/credit/policy')).body.policy.remedyWebhook.url).toBe(url);

    // The policy as an operator reads it back keeps the address; another address is refused.
    const kept = await operator('PUT', '/v1/models/credit/agent/policy', {
      reason: 'a longer wait',
      policy: { remedyWebhook: { url: '[redacted]', timeout: '30 minutes' } },
    });
    expect(kept.status).not.toBe(403);
    const res = await operator('PUT', '/v1/models/credit/agent/policy', {
      reason: 'mine now',
      policy: { remedyWebhook: { url: 'http://169.254.169.254/latest' } },
    });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toBe(
      'setting, changing or removing remedyWebhook.url (an address the worker calls) needs the admin role; key "test-operator" has operator',
    );
    expect(await db.store.policyVersion.count({ where: { modelId: model.id } })).toBe(2);
  });
});
