// The OpenAPI document describes exactly the routes the app serves, with request schemas generated from
// the validators those routes use.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../api/app.ts';
import { ACCESS_RULES, PUBLIC_ROUTES } from '../../api/auth.ts';
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
    const { app } = createApi({
      store: db.store,
      temporal: {} as never,
      agentOptions: { taskQueue: 'test' },
    });
    const mounted = mountedRoutes(app);
    expect(mounted.length).toBeGreaterThan(25);
    expect(mounted).toEqual(Object.keys(OPERATIONS).sort());
    // Every /v1 route has its own access rule or is public (signing in), and every rule names a route.
    expect(mounted.filter((route) => route.includes(' /v1/'))).toEqual(
      [...Object.keys(ACCESS_RULES), ...PUBLIC_ROUTES].sort(),
    );
  });

  it('is served without a key, with schemas generated from the validators', async () => {
    const res = await fetch(`${api.url}/openapi.json`);
    expect(res.status).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document, read by path below
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
    // Free text in a body excludes U+0000 (api/input.ts refuses it), and the document says so.
    const reason =
      doc.paths['/v1/models/{model}/agent/pause'].post.requestBody.content['application/json'].schema
        .properties.reason;
    const accepts = (text: string) => new RegExp(reason.pattern).test(text);
    expect(accepts('late night')).toBe(true);
    expect(accepts('late\u0000night')).toBe(false);
    expect(accepts('  ')).toBe(false);
    const pause = doc.paths['/v1/models/{model}/agent/pause'].post;
    expect(pause.description).toContain('nothing was sent and nothing changes');
    expect(Object.keys(pause.responses)).toEqual([
      ...['200', '202', '400', '401', '403', '404', '409', '413', '429', '503'],
      ...['2XX', '4XX', '5XX'],
    ]);
    // Every /v1 operation states what authentication, rate limits and outages answer.
    for (const [route, operations] of Object.entries(
      doc.paths as Record<string, Record<string, { responses: object }>>,
    )) {
      for (const operation of Object.values(operations)) {
        const statuses = Object.keys(operation.responses);
        if (route.startsWith('/v1/'))
          expect(statuses).toEqual(expect.arrayContaining(['401', '403', '429', '503']));
        else expect(statuses).not.toContain('401');
      }
    }
    expect(doc.paths['/v1/models'].get.responses['503'].description).toContain('database_unavailable');
    expect(doc.paths['/readyz'].get.security).toEqual([]);
    expect(pause.responses['503'].content['application/json'].schema.properties.error).toBeDefined();
    expect(doc.paths['/v1/models/{model}/predict'].post['x-required-role']).toBe('ingest');
    expect(doc.paths['/v1/keys'].post['x-required-role']).toBe('admin');
    // Path parameters state what the routes accept: a model name's pattern, digits-only numbers.
    expect(doc.paths['/v1/models/{model}/labels'].post.parameters).toEqual([
      {
        name: 'model',
        in: 'path',
        required: true,
        schema: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9_-]*$' },
      },
    ]);
    const version = doc.paths['/v1/models/{model}/versions/{version}'].get;
    expect(version.parameters[1].schema).toEqual({ type: 'string', pattern: '^[1-9][0-9]{0,8}$' });
    expect(Object.keys(version.responses)).toEqual(expect.arrayContaining(['400', '404']));
    const actions = doc.paths['/v1/actions'].get.parameters.map((p: { name: string }) => p.name);
    expect(actions).toEqual(expect.arrayContaining(['model', 'actor', 'type', 'from', 'to', 'format']));
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    // Signing in needs no key; the session it starts is a second way in.
    expect(doc.paths['/v1/sessions'].post.security).toEqual([]);
    expect(doc.paths['/v1/sessions/current'].delete['x-required-role']).toBe('viewer');
    expect(doc.security).toEqual([{ apiKey: [] }, { session: [] }]);
  });

  it('states the cross-field rules of the validators and links created things to their routes', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document, read by path below
    const doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as any;
    const body = (route: string, method = 'post') =>
      doc.paths[route][method].requestBody.content['application/json'].schema;
    // A binary model has exactly two labels, a regression model none.
    expect(body('/v1/models').anyOf).toContainEqual({
      properties: { task: { enum: ['binary'] }, labels: { minItems: 2, maxItems: 2 } },
      required: ['labels'],
    });
    expect(body('/v1/models/{model}/deployment').anyOf).toContainEqual({ required: ['mode'] });
    // An API caller's actor is at most 100 characters (the registry stores it prefixed, up to 200).
    expect(body('/v1/models/{model}/deployment').properties.actor.maxLength).toBe(100);
    expect(body('/v1/models/{model}/versions').oneOf).toEqual([
      { required: ['artifact'] },
      { required: ['train'] },
    ]);
    expect(body('/v1/models/{model}', 'patch').minProperties).toBe(1);
    // A record keyed by an enumeration names its keys (OpenAPI 3.0 has no propertyNames).
    const approvals = body('/v1/models/{model}/agent/policy', 'put').properties.policy.properties.approvals;
    expect(Object.keys(approvals.properties)).toEqual([
      'rollback',
      'retrain',
      'fallback',
      'disable',
      'webhook',
    ]);
    expect([approvals.additionalProperties, approvals.required]).toEqual([false, undefined]);
    // A registered model's name leads to every route under it.
    const links = doc.paths['/v1/models'].post.responses['201'].links;
    expect(links.GET_v1_models_model_agent).toEqual({
      operationRef: '#/paths/~1v1~1models~1{model}~1agent/get',
      parameters: { model: '$response.body#/model/name' },
    });
    expect(
      doc.paths['/v1/models/{model}/versions'].get.responses['200'].links.GET_v1_models_model_versions_version
        .parameters,
    ).toEqual({ model: '$request.path.model', version: '$response.body#/versions/0/version' });
  });

  it('answers 405 with Allow for a method a served path does not take, 404 for a path it does not serve', async () => {
    const put = await api.call('PUT', '/v1/models');
    expect(put.status).toBe(405);
    expect(put.body.error.code).toBe('method_not_allowed');
    expect(put.headers.get('allow')).toBe('GET, POST, HEAD');
    const remove = await api.call('DELETE', '/v1/models/credit/versions/3');
    expect(remove.headers.get('allow')).toBe('GET, PATCH, HEAD');
    const open = await fetch(`${api.url}/healthz`, { method: 'POST' });
    expect([open.status, open.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    expect((await api.call('GET', '/v1/nothing-here')).status).toBe(404);
  });
});
