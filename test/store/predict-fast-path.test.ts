// The gateway's fast path (api/predict-listener.ts) answers POST /v1/models/:model/predict exactly as the
// Express route does: one API, served twice — by its listener (the fast path in front of the app) and by
// the Express app alone — and every case of the documented contract sent to both: the same status, body
// and headers, and the documented ones. Then the request metrics' labels: the canonical route and the
// model's name, whatever case the path was typed in.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Api, createApi } from '../../api/app.ts';
import { type RateLimits, rateLimitsFromEnv } from '../../api/rate-limit.ts';
import { type JsonCall, jsonClient } from '../../lib/api-client.ts';
import { rotateApiKey } from '../../lib/auth/keys.ts';
import type { Role } from '../../lib/domain.ts';
import { MAX_CONCURRENT_COMMITS } from '../../lib/ingest/prediction-writer.ts';
import { listenOnLoopback } from '../helpers/api.ts';
import {
  creditData,
  registerCreditModel,
  registerCreditVersion,
  trainCreditModel,
} from '../helpers/credit-model.ts';
import {
  createTestDatabase,
  describeEachProvider,
  describeOnPostgres,
  type TestDatabase,
} from '../helpers/db.ts';
import { unreachableTemporal } from '../helpers/temporal.ts';

interface Served {
  api: Api;
  /** The API's own listener: the fast path in front of the app. */
  fast: string;
  /** The Express app alone, on the same state. */
  express: string;
  close(): Promise<void>;
}

async function serve(db: TestDatabase, limits: RateLimits): Promise<Served> {
  const temporal = await unreachableTemporal({ failFast: true });
  const api = createApi({ store: db.store, temporal, agentOptions: { taskQueue: 'test' } }, limits);
  const [fast, express] = await Promise.all([listenOnLoopback(api.listener), listenOnLoopback(api.app)]);
  return {
    api,
    fast: fast.url,
    express: express.url,
    async close() {
      await Promise.all([fast, express].map(({ server }) => new Promise((resolve) => server.close(resolve))));
      await temporal.connection.close();
    },
  };
}

interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string | null>;
}

/** A request as a client sends it: raw body text, JSON content type unless told otherwise. */
async function send(
  base: string,
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  return {
    status: res.status,
    body: JSON.parse(text),
    headers: Object.fromEntries(
      ['content-type', 'retry-after', 'www-authenticate'].map((name) => [name, res.headers.get(name)]),
    ),
  };
}

/** The same request to both servers: their answers must be equal; the fast path's is returned. */
async function both(served: Served, path: string, body: string, headers: Record<string, string> = {}) {
  const fast = await send(served.fast, path, body, headers);
  const express = await send(served.express, path, body, headers);
  expect(fast).toEqual(express);
  return fast;
}

/** The model 'credit' with one trained version in production. */
async function deployCredit(call: JsonCall, settings: { onInvalid?: 'reject' }) {
  await registerCreditModel(call, 'credit', settings);
  await registerCreditVersion(call, 'credit', { artifact: await trainCreditModel(200, 1, 20) });
  const deployed = await call('POST', '/v1/models/credit/deployment', { reason: 'test', production: 1 });
  expect(deployed.status).toBe(201);
}

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

describeEachProvider('the predict fast path on %s', (provider) => {
  let db: TestDatabase;
  let served: Served;
  // The clock stands still: a bucket the test empties stays empty.
  const limits = rateLimitsFromEnv({ HOMEOSTAT_REFUSED_LIMIT: '0' }, () => 1_000_000);
  const keys: Record<string, string> = {};
  const [row] = creditData(1, 5).rows;
  const key = async (name: string, role: Role, models: '*' | string[] = '*') => {
    keys[name] = await rotateApiKey(db.store, name, role, models);
  };

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    served = await serve(db, limits);
    await Promise.all([
      key('admin', 'admin'),
      key('ingest', 'ingest'),
      key('viewer', 'viewer'),
      key('other-model', 'ingest', ['other']),
      key('limited', 'ingest'),
    ]);
    const call = jsonClient(served.fast, bearer(keys.admin!));
    await deployCredit(call, { onInvalid: 'reject' });
  }, 60_000);
  afterAll(async () => {
    await served?.close();
    await db?.drop();
  });

  it('serves a row as the route does, and stores it', async () => {
    const body = JSON.stringify({ features: row });
    const fast = await send(served.fast, '/v1/models/credit/predict', body, bearer(keys.ingest!));
    const express = await send(served.express, '/v1/models/credit/predict', body, bearer(keys.ingest!));
    expect(fast.status).toBe(200);
    const { id: fastId, ...fastAnswer } = fast.body as { id: string };
    const { id: expressId, ...expressAnswer } = express.body as { id: string };
    expect(fastAnswer).toEqual(expressAnswer);
    expect(fastAnswer).toMatchObject({ version: 1, route: 'production', prediction: expect.any(String) });
    expect(fast.headers).toEqual(express.headers);
    const stored = await db.store.prediction.findMany({ where: { id: { in: [fastId, expressId] } } });
    expect(stored).toHaveLength(2);
    // The path as Express matches it: any case, a trailing slash; a batch too.
    const batch = JSON.stringify({ rows: [{ id: 'b-1', features: row }] });
    const spelled = await send(served.fast, '/V1/Models/credit/PREDICT/', batch, bearer(keys.ingest!));
    expect(spelled).toMatchObject({ status: 200, body: { predictions: [{ id: 'b-1', version: 1 }] } });
  });

  it('answers an unknown model 404 model_not_found', async () => {
    const answer = await both(
      served,
      '/v1/models/nope/predict',
      JSON.stringify({ features: row }),
      bearer(keys.ingest!),
    );
    expect(answer).toMatchObject({ status: 404, body: { error: { status: 404, code: 'model_not_found' } } });
  });

  it('answers a bad body 400 with the same issues or parser message', async () => {
    const path = '/v1/models/credit/predict';
    const auth = bearer(keys.ingest!);
    const invalid = await both(served, path, JSON.stringify({ features: 'x', extra: 1 }), auth);
    expect(invalid).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect((invalid.body as { error: { issues: unknown[] } }).error.issues.length).toBeGreaterThan(0);
    const features = await both(served, path, JSON.stringify({ features: { ...row, age: 'old' } }), auth);
    expect(features).toMatchObject({ status: 400, body: { error: { code: 'invalid_features' } } });
    for (const malformed of ['{"features":', '[1]', ' {"features": 1}', '"x"', '']) {
      const answer = await both(served, path, malformed, auth);
      expect(answer.status, malformed).toBe(400);
    }
    const nul = await both(served, path, JSON.stringify({ id: 'nul-a\u0000b', features: row }), auth);
    expect(nul).toMatchObject({ status: 400, body: { error: { code: 'malformed_body' } } });
    expect(await db.store.prediction.count({ where: { id: { startsWith: 'nul-' } } })).toBe(0);
  });

  it('answers no key 401 with WWW-Authenticate, and a key of another role or scope 403', async () => {
    const body = JSON.stringify({ features: row });
    const path = '/v1/models/credit/predict';
    const none = await both(served, path, body);
    expect(none).toMatchObject({
      status: 401,
      body: { error: { code: 'unauthenticated' } },
      headers: { 'www-authenticate': 'Bearer' },
    });
    const unknown = await both(served, path, body, bearer('not-a-key'));
    expect(unknown).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } });
    const scoped = await both(served, path, body, bearer(keys['other-model']!));
    expect(scoped).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    const viewer = await both(served, path, body, bearer(keys.viewer!));
    expect(viewer).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
  });

  it('answers a key over its rate 429 with Retry-After', async () => {
    let wait = 0;
    while (wait === 0) wait = limits.perKey.take('limited');
    const answer = await both(
      served,
      '/v1/models/credit/predict',
      JSON.stringify({ features: row }),
      bearer(keys.limited!),
    );
    expect(answer).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('labels requests with the canonical route and the model, whatever the case of the path', async () => {
    const auth = bearer(keys.admin!);
    const body = JSON.stringify({ features: row });
    // Through the fast path, through the Express route (a query string), and a route under a router.
    for (const path of ['/v1/Models/credit/predict', '/V1/MODELS/credit/predict/?trace=1']) {
      expect((await send(served.fast, path, body, auth)).status).toBe(200);
    }
    for (const path of ['/V1/Models/credit/versions', '/v1/models/credit/VERSIONS/']) {
      const res = await fetch(`${served.fast}${path}`, { headers: auth });
      expect(res.status).toBe(200);
    }
    const exposition = await (await fetch(`${served.fast}/metrics`)).text();
    const series = (route: string) =>
      exposition
        .split('\n')
        .filter((line) => line.startsWith('homeostat_http_requests_total{'))
        .filter((line) => line.includes(`route="${route}"`));
    const routes = new Set(
      exposition
        .split('\n')
        .filter((line) => line.startsWith('homeostat_http_requests_total{'))
        .map((line) => /route="([^"]*)"/.exec(line)?.[1]),
    );
    for (const route of routes) expect(route).toMatch(/^(unmatched|\/[a-z0-9/:.{}-]*)$/);
    expect(series('/v1/models/:model/predict').some((l) => l.includes('model="credit"'))).toBe(true);
    const versions = series('/v1/models/:model/versions').filter((l) => l.includes('method="GET"'));
    expect(versions.map((l) => /model="([^"]*)"/.exec(l)?.[1])).toEqual(['credit']);
    expect(Number(versions[0]!.split(' ').at(-1))).toBe(2);
  });
});

describeOnPostgres('the predict fast path while PostgreSQL holds its writes', () => {
  let db: TestDatabase;
  let served: Served;
  let ingest: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
    process.env.HOMEOSTAT_WRITE_QUEUE_ROWS = '1000';
    served = await serve(db, rateLimitsFromEnv({ HOMEOSTAT_RATE_LIMIT: '0', HOMEOSTAT_REFUSED_LIMIT: '0' }));
    delete process.env.HOMEOSTAT_WRITE_QUEUE_ROWS;
    const call = jsonClient(served.fast, bearer(await rotateApiKey(db.store, 'admin', 'admin')));
    ingest = bearer(await rotateApiKey(db.store, 'ingest', 'ingest'));
    await deployCredit(call, {});
  }, 60_000);
  afterAll(async () => {
    await served?.close();
    await db?.drop();
  });

  it('answers 503 overloaded with Retry-After, as the route does, once the write queue is full', async () => {
    const holder = new pg.Client({ connectionString: db.config.url });
    await holder.connect();
    await holder.query('BEGIN; LOCK TABLE "Prediction" IN EXCLUSIVE MODE');
    const { rows } = creditData(1000, 3);
    const batch = (prefix: string) =>
      JSON.stringify({ rows: rows.map((features, i) => ({ id: `${prefix}-${i}`, features })) });
    // At most MAX_CONCURRENT_COMMITS commits wait on the lock with 1 000 rows each and the queue holds
    // 1 000 more: of ten batches, sent in turn to the fast path and to the Express app (one writer behind
    // both), seven or more are refused at once, so each server refuses some.
    const accepted = MAX_CONCURRENT_COMMITS + 1;
    const servers = [served.fast, served.express];
    const answers = Array.from({ length: 10 }, (_, n) =>
      send(servers[n % 2]!, '/v1/models/credit/predict', batch(`b${n}`), ingest),
    );
    const early: Answer[] = [];
    for (const answer of answers) void answer.then((r) => early.push(r));
    while (early.length < answers.length - accepted) await new Promise((resolve) => setTimeout(resolve, 20));
    await holder.query('COMMIT');
    await holder.end();
    const settled = await Promise.all(answers);
    expect(settled.filter((r) => r.status === 503).length).toBeGreaterThanOrEqual(answers.length - accepted);
    const refused = (server: number) => settled.filter((r, n) => n % 2 === server && r.status === 503);
    const [fast, express] = [refused(0)[0], refused(1)[0]];
    expect(fast).toEqual(express);
    expect(fast).toMatchObject({
      status: 503,
      body: { error: { status: 503, code: 'overloaded' } },
      headers: { 'retry-after': '1' },
    });
    const stored = settled.filter((r) => r.status === 200).length * 1000;
    expect(await db.store.prediction.count()).toBe(stored);
  });
});
