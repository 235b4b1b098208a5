// The OpenAPI document describes exactly the routes the app serves, with request schemas generated from
// the validators those routes use.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.ts';
import { ACCESS_RULES } from '../../api/auth.ts';
import { mountedRoutes, OPERATIONS } from '../../api/openapi.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let db: TestDatabase;
let api: TestApi;
beforeAll(async () => {
  db = await createTestDatabase('sqlite');
  api = await startTestApi(db.store);
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

describe('OpenAPI document', () => {
  it('documents every mounted route, and nothing else', () => {
    const app = createApp({ store: db.store, temporal: {} as never, agentOptions: { taskQueue: 'test' } });
    const mounted = mountedRoutes(app);
    expect(mounted.length).toBeGreaterThan(25);
    expect(mounted).toEqual(Object.keys(OPERATIONS).sort());
    // Every /v1 route has its own access rule, and every rule names a route.
    expect(mounted.filter((route) => route.includes(' /v1/'))).toEqual(Object.keys(ACCESS_RULES).sort());
  });

  it('is served without a key, with schemas generated from the validators', async () => {
    const res = await fetch(`${api.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as any;
    expect(doc.openapi).toBe('3.0.3');
    const register = doc.paths['/v1/models'].post;
    expect(register['x-required-role']).toBe('operator');
    const body = register.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(expect.arrayContaining(['name', 'task', 'featureSchema']));
    expect(body.properties.task.enum).toEqual(['binary', 'multiclass', 'regression']);
    expect(body.additionalProperties).toBe(false);
    // What an answer means when Temporal is down is part of the contract.
    expect(register.responses['201'].description).toContain('`agent.started`');
    const pause = doc.paths['/v1/models/{model}/agent/pause'].post;
    expect(pause.description).toContain('nothing was sent and nothing changes');
    expect(Object.keys(pause.responses)).toEqual(['200', '202', '409', '503', '2XX', '4XX', '5XX']);
    expect(pause.responses['503'].content['application/json'].schema.properties.error).toBeDefined();
    expect(doc.paths['/v1/models/{model}/predict'].post['x-required-role']).toBe('ingest');
    expect(doc.paths['/v1/keys'].post['x-required-role']).toBe('admin');
    expect(doc.paths['/v1/models/{model}/labels'].post.parameters).toEqual([
      { name: 'model', in: 'path', required: true, schema: { type: 'string' } },
    ]);
    const actions = doc.paths['/v1/actions'].get.parameters.map((p: { name: string }) => p.name);
    expect(actions).toEqual(expect.arrayContaining(['model', 'actor', 'type', 'from', 'to', 'format']));
    expect(doc.paths['/healthz'].get.security).toEqual([]);
  });
});
