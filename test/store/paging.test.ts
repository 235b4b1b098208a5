// Every list route pages (limit, cursor → nextCursor): following nextCursor reads each row once, in the
// route's order, and the last page says null. On both databases.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JsonCall } from '../../lib/api-client.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase } from '../helpers/db.ts';

/** Reads a list page by page (`limit` a page) and returns every item and the number of pages. */
async function readAll(call: JsonCall, path: string, key: string, limit: number) {
  // biome-ignore lint/suspicious/noExplicitAny: the items are JSON the test reads by field
  const items: any[] = [];
  let pages = 0;
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await call('GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    items.push(...res.body[key]);
    cursor = res.body.nextCursor;
    pages++;
  } while (cursor && pages < 50);
  return { items, pages };
}

describeEachProvider('paging on %s', (provider) => {
  let db: TestDatabase;
  let api: TestApi;
  const NAMES = ['m-a', 'm-b', 'm-c', 'm-d', 'm-e'];
  beforeAll(async () => {
    db = await createTestDatabase(provider);
    api = await startTestApi(db.store);
    for (const name of [...NAMES].reverse()) {
      await db.store.model.create({ data: { name, task: 'regression', featureSchema: [] } });
    }
    const model = await db.store.model.findUniqueOrThrow({ where: { name: 'm-a' } });
    const at = (i: number) => new Date(Date.UTC(2026, 11, 1, 0, i));
    for (let i = 0; i < 7; i++) {
      await db.store.action.create({
        data: {
          idempotencyKey: `k${i}`,
          modelId: model.id,
          type: 'alert',
          actor: 'agent',
          status: 'succeeded',
          reason: `r${i}`,
          createdAt: at(i < 4 ? i : 3), // four share a time: the id breaks the tie
        },
      });
      await db.store.decision.create({
        data: {
          idempotencyKey: `d${i}`,
          modelId: model.id,
          cycle: i,
          action: 'none',
          rule: 'r',
          reason: 'r',
          evidence: {},
          alternatives: [],
          workflowId: 'w',
          runId: 'r',
        },
      });
      await db.store.incident.create({
        data: {
          modelId: model.id,
          status: 'recovered',
          kind: 'data_drift',
          severity: 'low',
          summary: `i${i}`,
          openedAt: at(i % 3),
        },
      });
      await db.store.policyVersion.create({
        data: {
          modelId: model.id,
          version: i + 1,
          document: {},
          actor: 'a',
          reason: 'r',
          idempotencyKey: `p${i}`,
        },
      });
      await db.store.metricWindow.create({
        data: {
          modelId: model.id,
          seq: i,
          startAt: at(i),
          endAt: at(i + 1),
          count: 1,
          labelled: 0,
          metrics: {},
        },
      });
    }
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('pages the models and the fleet by name', async () => {
    const models = await readAll(api.call, '/v1/models', 'models', 2);
    expect(models.pages).toBe(3);
    expect(models.items.map((m) => m.name)).toEqual(NAMES);
    const fleet = await readAll(api.call, '/v1/fleet', 'models', 2);
    expect(fleet.items.map((e) => e.model.name)).toEqual(NAMES);
    const whole = await api.call('GET', '/v1/models');
    expect(whole.body.nextCursor).toBeNull();
  });

  it('pages the audit trail, decisions, incidents and windows without repeating or losing a row', async () => {
    const actions = await readAll(api.call, '/v1/actions', 'actions', 3);
    expect(actions.pages).toBe(3);
    const all = (await api.call('GET', '/v1/actions')).body.actions;
    expect(actions.items).toEqual(all);
    expect(new Set(actions.items.map((a) => a.id)).size).toBe(7);
    const decisions = await readAll(api.call, '/v1/models/m-a/decisions', 'decisions', 2);
    expect(decisions.items.map((d) => d.cycle)).toEqual([6, 5, 4, 3, 2, 1, 0]);
    const incidents = await readAll(api.call, '/v1/models/m-a/incidents', 'incidents', 2);
    expect(new Set(incidents.items.map((i) => i.id)).size).toBe(7);
    expect(incidents.items).toEqual((await api.call('GET', '/v1/models/m-a/incidents')).body.incidents);
    const policy = await readAll(api.call, '/v1/models/m-a/policy', 'history', 3);
    expect(policy.items.map((h) => h.version)).toEqual([7, 6, 5, 4, 3, 2, 1]);
    // Windows: each page oldest first, the next page older.
    const windows = await readAll(api.call, '/v1/models/m-a/windows', 'windows', 3);
    expect(windows.items.map((w) => w.seq)).toEqual([4, 5, 6, 1, 2, 3, 0]);
  });

  it('pages the keys, and refuses a malformed cursor', async () => {
    await api.as('viewer');
    await api.as('operator');
    const keys = await readAll(api.call, '/v1/keys', 'keys', 1);
    expect(keys.items.map((k) => k.name)).toEqual(['test-admin', 'test-viewer', 'test-operator']);
    const bad = await api.call('GET', '/v1/models?cursor=../../etc');
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].path).toBe('query.cursor');
  });

  it('answers a cursor that names no row (stale, or made up) with an empty last page on every list route', async () => {
    for (const [path, key] of [
      ['/v1/models', 'models'],
      ['/v1/actions', 'actions'],
      ['/v1/keys', 'keys'],
      ['/v1/models/m-a/decisions', 'decisions'],
      ['/v1/models/m-a/incidents', 'incidents'],
      ['/v1/models/m-a/policy', 'history'],
      ['/v1/models/m-a/windows', 'windows'],
    ] as const) {
      const res = await api.call('GET', `${path}?limit=5&cursor=C0wYv_`);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect({ path, items: res.body[key], nextCursor: res.body.nextCursor }).toEqual({
        path,
        items: [],
        nextCursor: null,
      });
    }
    // The fleet's cursor is its own (lib/fleet): one it did not write is refused, precisely.
    const fleet = await api.call('GET', '/v1/fleet?cursor=C0wYv_');
    expect(fleet.status).toBe(400);
    expect(fleet.body.error.issues[0].path).toBe('query.cursor');
  });
});
