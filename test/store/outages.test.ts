// What the API answers while what it depends on is down or overloaded (issue 15, item 7): liveness
// answers whatever is down, readiness says what is down, a database outage is a 503 with Retry-After
// rather than a 500, keys and refused addresses are rate limited (429), and the write queue is bounded.
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../api/app.ts';
import { rateLimitsFromEnv, TokenBuckets, trustProxyFromEnv } from '../../api/rate-limit.ts';
import { jsonClient } from '../../lib/api-client.ts';
import { createKeyVerifier, rotateApiKey } from '../../lib/auth/keys.ts';
import { createStore, type Store } from '../../lib/db/client.ts';
import {
  type PredictionRecord,
  PredictionWriter,
  WriteQueueFull,
} from '../../lib/ingest/prediction-writer.ts';
import { authHeader, listenOnLoopback, startTestApi, type TestApi } from '../helpers/api.ts';
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
import { closedLoopbackAddress, unreachableTemporal } from '../helpers/temporal.ts';

const MODEL = { name: 'm', task: 'regression', featureSchema: [{ name: 'x', type: 'numeric' }] };

/** The API on a store that cannot answer (keys were made beforehand, on the working one). */
async function serve(store: Store): Promise<{ url: string; close(): Promise<void> }> {
  const temporal = await unreachableTemporal({ failFast: true });
  const api = createApi({ store, temporal, agentOptions: { taskQueue: 'test' } });
  const { server, url } = await listenOnLoopback(api.listener);
  return {
    url,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await temporal.connection.close();
    },
  };
}

/** A store of the provider that cannot answer: a PostgreSQL server that is down, a SQLite file locked. */
async function unavailableStore(db: TestDatabase): Promise<{ store: Store; release(): void }> {
  if (db.config.provider === 'postgresql') {
    const url = new URL(db.config.url);
    url.host = await closedLoopbackAddress();
    return { store: await createStore({ provider: 'postgresql', url: url.toString() }, 1_000), release() {} };
  }
  // Another process holds the write lock past the store's timeout (readers still read under WAL).
  const holder = new Database(db.config.url);
  holder.exec('BEGIN EXCLUSIVE');
  const store = await createStore(db.config, 200);
  return { store, release: () => holder.close() };
}

describeEachProvider('outages on %s', (provider) => {
  let db: TestDatabase;
  let api: { url: string; close(): Promise<void> } | undefined;
  let broken: { store: Store; release(): void } | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(provider);
  });
  afterEach(async () => {
    await api?.close();
    broken?.release();
    await broken?.store.$disconnect();
    api = broken = undefined;
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('answers liveness 200 and readiness 503 naming the database and Temporal when both are down', async () => {
    const header = await authHeader(db.store); // made while the database answers
    broken = await unavailableStore(db);
    api = await serve(broken.store);
    const live = await fetch(`${api.url}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${api.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({
      status: 'degraded',
      // Under WAL a locked SQLite file still answers reads: it is ready to serve them.
      db: provider === 'postgresql' ? 'unavailable' : 'ok',
      temporal: 'unavailable',
    });

    // A request that needs the database gets 503 database_unavailable with Retry-After, not a 500.
    const res = await jsonClient(api.url, header)('POST', '/v1/models', MODEL);
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('database_unavailable');
    expect(res.headers.get('retry-after')).toBe('5');
  });

  it('is ready when the database answers (Temporal still down: degraded, db ok)', async () => {
    api = await startTestApi(db.store);
    const ready = await fetch(`${api.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ db: 'ok', temporal: 'unavailable' });
  });

  it('refuses a write at once with WriteQueueFull when the queue has no room, and stores the rest', async () => {
    const model = await db.store.model.create({
      data: { name: `queue-${provider}`, task: 'regression', featureSchema: [] },
    });
    const rows = (prefix: string, n: number): PredictionRecord[] =>
      Array.from({ length: n }, (_, i) => ({
        id: `${prefix}-${i}`,
        modelId: model.id,
        versionId: null,
        source: 'logged',
        features: { x: i },
        output: null,
        confidence: null,
        latencyMs: null,
        error: null,
        quality: null,
        shadowOf: null,
        predictedAt: new Date(),
      }));
    const writer = new PredictionWriter(db.store, 1_000);
    // Both arrive before the writer's first commit takes anything from its queue.
    const first = writer.write(rows('a', 600));
    const second = writer.write(rows('b', 600));
    await expect(second).rejects.toBeInstanceOf(WriteQueueFull);
    await first;
    // Once the queue has drained there is room again.
    await writer.write(rows('c', 600));
    expect(await db.store.prediction.count({ where: { modelId: model.id, id: { startsWith: 'a-' } } })).toBe(
      600,
    );
    expect(await db.store.prediction.count({ where: { modelId: model.id, id: { startsWith: 'b-' } } })).toBe(
      0,
    );
    expect(await db.store.prediction.count({ where: { modelId: model.id, id: { startsWith: 'c-' } } })).toBe(
      600,
    );
  });
});

describe('rate limits', () => {
  let db: TestDatabase;
  let api: TestApi | undefined;
  let clock = 0;
  const now = () => clock;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
  });
  afterEach(async () => {
    await api?.close();
    api = undefined;
    delete process.env.HOMEOSTAT_TRUST_PROXY;
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('answers 429 with Retry-After once a key has used its burst, and again after the bucket refills', async () => {
    const limits = rateLimitsFromEnv({ HOMEOSTAT_RATE_LIMIT: '1', HOMEOSTAT_RATE_BURST: '2' }, now);
    api = await startTestApi(db.store, undefined, undefined, limits);
    const viewer = await api.as('viewer');
    expect((await viewer('GET', '/v1/models')).status).toBe(200);
    expect((await viewer('GET', '/v1/models')).status).toBe(200);
    const limited = await viewer('GET', '/v1/models');
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(limited.headers.get('retry-after')).toBe('1');
    // Another key has its own bucket.
    expect((await api.call('GET', '/v1/models')).status).toBe(200);
    clock += 1_000;
    expect((await viewer('GET', '/v1/models')).status).toBe(200);
  });

  it('limits refused requests per address before looking the key up, even for a good key then', async () => {
    const limits = rateLimitsFromEnv({ HOMEOSTAT_REFUSED_LIMIT: '2' }, now);
    api = await startTestApi(db.store, undefined, undefined, limits);
    const guesser = jsonClient(api.url, { authorization: 'Bearer hs_guess' });
    expect((await guesser('GET', '/v1/models')).status).toBe(401);
    expect((await (await api.as('ingest'))('GET', '/v1/keys')).status).toBe(403); // a refusal counts too
    const blocked = await api.call('GET', '/v1/models');
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBe('30'); // 2 a minute: one refills in 30 s
    clock += 30_000;
    expect((await api.call('GET', '/v1/models')).status).toBe(200);
  });

  it('takes the address from X-Forwarded-For only from a proxy HOMEOSTAT_TRUST_PROXY names', async () => {
    process.env.HOMEOSTAT_TRUST_PROXY = 'loopback';
    const limits = rateLimitsFromEnv({ HOMEOSTAT_REFUSED_LIMIT: '1' }, now);
    api = await startTestApi(db.store, undefined, undefined, limits);
    const from = (address: string) =>
      jsonClient(api!.url, { authorization: 'Bearer hs_guess', 'x-forwarded-for': address });
    expect((await from('203.0.113.1')('GET', '/v1/models')).status).toBe(401);
    expect((await from('203.0.113.1')('GET', '/v1/models')).status).toBe(429);
    expect((await from('203.0.113.2')('GET', '/v1/models')).status).toBe(401);
  });

  it('refuses HOMEOSTAT_TRUST_PROXY=true, which would let any client choose its address', () => {
    expect(() => trustProxyFromEnv('true')).toThrow(/any client/);
    expect(trustProxyFromEnv('2')).toBe(2);
    expect(trustProxyFromEnv(undefined)).toBe(false);
  });

  it('keeps real keys cached through a flood of made-up ones', async () => {
    const secret = await rotateApiKey(db.store, 'flood-survivor', 'viewer');
    const verify = createKeyVerifier(db.store, 60_000);
    expect(await verify(secret)).toMatchObject({ name: 'flood-survivor' });
    // Revoked behind the module's back: only a read of the database would see it.
    await db.store.apiKey.update({ where: { name: 'flood-survivor' }, data: { revokedAt: new Date() } });
    for (let i = 0; i <= 10_000; i++) await verify(`hs_guess-${i}`);
    expect(await verify(secret)).toMatchObject({ name: 'flood-survivor' }); // still the cached identity
  }, 60_000);

  it('forgets the least recently used bucket past its bound, and a rate of 0 turns a limit off', () => {
    const off = new TokenBuckets(0, 1, now);
    for (let i = 0; i < 5; i++) expect(off.take('k')).toBe(0);
    const buckets = new TokenBuckets(1, 1, now);
    expect(buckets.take('first')).toBe(0);
    expect(buckets.take('first')).toBe(1);
    for (let i = 0; i < 10_000; i++) buckets.take(`other-${i}`);
    expect(buckets.waitFor('first')).toBe(0); // forgotten: a new bucket, full
  });
});

describe('/metrics with HOMEOSTAT_METRICS_TOKEN', () => {
  let db: TestDatabase;
  let api: TestApi | undefined;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
  });
  afterAll(async () => {
    delete process.env.HOMEOSTAT_METRICS_TOKEN;
    await api?.close();
    await db?.drop();
  });

  it('needs the token as a bearer token once it is set', async () => {
    process.env.HOMEOSTAT_METRICS_TOKEN = 'scrape-secret';
    api = await startTestApi(db.store);
    expect((await fetch(`${api.url}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${api.url}/metrics`, { headers: { authorization: 'Bearer scrape-secreT' } });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${api.url}/metrics`, { headers: { authorization: 'Bearer scrape-secret' } });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain('homeostat_');
  });
});

describeOnPostgres('the gateway while PostgreSQL holds its writes', () => {
  let db: TestDatabase;
  let api: TestApi | undefined;
  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
    process.env.HOMEOSTAT_WRITE_QUEUE_ROWS = '1000';
    api = await startTestApi(db.store);
    delete process.env.HOMEOSTAT_WRITE_QUEUE_ROWS;
    await registerCreditModel(api.call, 'credit');
    await registerCreditVersion(api.call, 'credit', { artifact: await trainCreditModel(200, 1, 20) });
    const deployed = await api.call('POST', '/v1/models/credit/deployment', {
      reason: 'test',
      production: 1,
    });
    expect(deployed.status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('answers 503 overloaded once its write queue is full, and stores every batch it accepted', async () => {
    // Another session locks the table against writes: commits wait, rows pile up in the queue.
    const holder = new pg.Client({ connectionString: db.config.url });
    await holder.connect();
    await holder.query('BEGIN; LOCK TABLE "Prediction" IN EXCLUSIVE MODE');
    const { rows } = creditData(1000, 3);
    const batch = (n: number) => ({ rows: rows.map((features, i) => ({ id: `b${n}-${i}`, features })) });
    // Two commits wait on the lock with 1 000 rows each, the queue holds 1 000 more: of five batches,
    // at least two are refused at once.
    const answers = Array.from({ length: 5 }, (_, n) =>
      api!.call('POST', '/v1/models/credit/predict', batch(n)),
    );
    // Only refusals can be answered while the lock is held: wait for two of them.
    const early: { status: number }[] = [];
    for (const answer of answers) void answer.then((r) => early.push(r));
    while (early.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    await holder.query('COMMIT');
    await holder.end();
    const settled = await Promise.all(answers);
    const overloaded = settled.filter((r) => r.status === 503);
    const accepted = settled.filter((r) => r.status === 200);
    expect(overloaded.length).toBeGreaterThanOrEqual(2);
    expect(overloaded.length + accepted.length).toBe(5);
    for (const r of overloaded) {
      expect(r.body.error.code).toBe('overloaded');
      expect(r.headers.get('retry-after')).toBe('1');
    }
    expect(early.slice(0, 2).map((r) => r.status)).toEqual([503, 503]); // answered while the lock was held
    expect(await db.store.prediction.count()).toBe(1000 * accepted.length);
  });
});
