// The fleet over HTTP with one model of each health written straight into the store, on SQLite and on
// PostgreSQL: the batched reads give each model its own facts, the filters (health, incident kind,
// name search) select, the counts by health and by incident kind follow the other filters, keyset pages
// go forward and back and stay put while models are added, and malformed parameters answer 400.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Store } from '../../lib/db/client.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase } from '../helpers/db.ts';
import { registerTestModel } from '../helpers/traffic.ts';

const START_MS = Date.parse('2026-11-01T00:00:00.000Z');
const at = (minute: number) => new Date(START_MS + minute * 60_000);

/** Windows 0..count-1, each 10 rows of which `correct` right, and a decision per window. */
async function measured(store: Store, modelId: string, count: number, correct = 9) {
  await store.metricWindow.createMany({
    data: Array.from({ length: count }, (_, seq) => ({
      modelId,
      seq,
      startAt: at(seq),
      endAt: at(seq + 1),
      count: 10,
      labelled: 10,
      metrics: { task: 'binary', accuracy: correct / 10, correct },
    })),
  });
  await store.decision.createMany({
    data: Array.from({ length: count }, (_, cycle) => ({
      idempotencyKey: `${modelId}-${cycle}`,
      modelId,
      cycle,
      action: 'none',
      rule: 'healthy',
      reason: `window ${cycle} of ${modelId}`,
      evidence: {},
      alternatives: [],
      workflowId: `agent-${modelId}`,
      runId: 'run',
      createdAt: at(cycle + 1),
    })),
  });
}

async function incident(store: Store, modelId: string, kind: string, status: string) {
  return store.incident.create({
    data: { modelId, kind, status, severity: 'critical', summary: `${kind} on ${modelId}`, openedAt: at(2) },
  });
}

async function finding(store: Store, modelId: string, windowSeq: number, kind: string, state: string) {
  await store.finding.create({
    data: {
      modelId,
      windowSeq,
      kind,
      state,
      severity: 'warning',
      evidence: {},
      createdAt: at(windowSeq + 1),
    },
  });
}

async function action(store: Store, modelId: string, type: string, actor: string, minute: number) {
  await store.action.create({
    data: {
      idempotencyKey: `${modelId}-${type}`,
      modelId,
      type,
      actor,
      status: 'succeeded',
      reason: `${type} by ${actor}`,
      createdAt: at(minute),
    },
  });
}

describeEachProvider('fleet filters and counts on %s', (provider) => {
  let db: TestDatabase;
  let api: TestApi;

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    const { store } = db;
    const id = async (name: string) => (await registerTestModel(store, name)).id;
    const healthy = await id('alpha-healthy');
    await measured(store, healthy, 12);
    await action(store, healthy, 'alert', 'agent', 11);
    const degraded = await id('beta-degraded');
    await measured(store, degraded, 4, 5);
    await incident(store, degraded, 'data_quality', 'open');
    await finding(store, degraded, 3, 'data_quality', 'confirmed');
    await finding(store, degraded, 3, 'anomaly', 'suspect');
    await finding(store, degraded, 2, 'data_quality', 'suspect');
    const recovering = await id('gamma-recovering');
    await measured(store, recovering, 4);
    await incident(store, recovering, 'concept_drift', 'mitigating');
    await finding(store, recovering, 3, 'concept_drift', 'recovering');
    const escalated = await id('delta-escalated');
    await measured(store, escalated, 4);
    await incident(store, escalated, 'data_quality', 'escalated');
    const paused = await id('epsilon-paused');
    await measured(store, paused, 2);
    await action(store, paused, 'pause', 'human:alice', 5);
    await id('zeta-starting');
    await measured(store, await id('Eta-Healthy'), 1);
    api = await startTestApi(store);
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const fleet = async (query = '') => {
    const res = await api.call('GET', `/v1/fleet${query}`);
    expect(res.status).toBe(200);
    return res.body;
  };
  const names = (body: { models: { model: { name: string } }[] }) => body.models.map((m) => m.model.name);
  const WHOLE_FLEET = { healthy: 2, degraded: 1, recovering: 1, escalated: 1, paused: 1, starting: 1 };

  it('reads each model its own facts, and counts the fleet by health', async () => {
    const body = await fleet();
    expect(body.counts).toEqual(WHOLE_FLEET);
    expect(body.matching).toBe(7);
    expect(body.nextCursor).toBeNull();
    // By name as the database orders it ("Eta-Healthy" has a capital); each with its health.
    const healthOf = Object.fromEntries(
      body.models.map((m: { model: { name: string }; health: string }) => [m.model.name, m.health]),
    );
    expect(healthOf).toEqual({
      'alpha-healthy': 'healthy',
      'beta-degraded': 'degraded',
      'gamma-recovering': 'recovering',
      'delta-escalated': 'escalated',
      'epsilon-paused': 'paused',
      'zeta-starting': 'starting',
      'Eta-Healthy': 'healthy',
    });
    const entry = (name: string) =>
      body.models.find((m: { model: { name: string } }) => m.model.name === name);
    expect(entry('alpha-healthy')).toMatchObject({
      lastWindow: { seq: 11, accuracy: 0.9 },
      lastDecision: { cycle: 11, reason: expect.stringMatching(/^window 11 of /) },
      lastAction: { type: 'alert', model: 'alpha-healthy' },
      openIncident: null,
      lastFindings: [],
    });
    // The baseline replayed from the twelve windows' stored metrics (9 of 10 right in each).
    expect(entry('alpha-healthy').baseline).toMatchObject({ accuracy: 0.9, windows: 12 });
    // Only the last window's findings, ordered by kind.
    expect(entry('beta-degraded')).toMatchObject({
      lastWindow: { seq: 3, accuracy: 0.5 },
      openIncident: { kind: 'data_quality', phase: 'open', model: 'beta-degraded' },
      lastFindings: [
        { kind: 'anomaly', windowSeq: 3 },
        { kind: 'data_quality', windowSeq: 3 },
      ],
      lastAction: null,
    });
    expect(entry('epsilon-paused')).toMatchObject({ paused: true, lastAction: { type: 'pause' } });
    expect(entry('zeta-starting')).toMatchObject({
      lastWindow: null,
      lastDecision: null,
      baseline: { ready: false },
    });
    // The page and the single model's route read the same entry.
    for (const name of Object.keys(healthOf)) {
      const single = await api.call('GET', `/v1/fleet/${name}`);
      expect(single.body.model).toEqual(entry(name));
    }
  });

  const NO_INCIDENTS = {
    data_drift: 0,
    concept_drift: 0,
    anomaly: 0,
    data_quality: 0,
    latency: 0,
    failures: 0,
    stale_data: 0,
    custom: 0,
    segment: 0,
  };
  /** The models whose name contains "ta-", by health. */
  const TA_HEALTHS = { healthy: 1, degraded: 1, escalated: 1, starting: 1 };
  const NO_HEALTH = { healthy: 0, degraded: 0, recovering: 0, escalated: 0, paused: 0, starting: 0 };

  it('counts the whole fleet by health and by open-incident kind when nothing is filtered', async () => {
    const body = await fleet();
    expect(body).toMatchObject({ total: 7, matching: 7, offset: 0, prevCursor: null, nextCursor: null });
    expect(body.incidentCounts).toEqual({ ...NO_INCIDENTS, data_quality: 2, concept_drift: 1 });
  });

  it.each([
    ['?health=degraded', ['beta-degraded'], WHOLE_FLEET, { data_quality: 1 }],
    ['?health=starting', ['zeta-starting'], WHOLE_FLEET, {}],
    // The health counts follow the incident kind; the kind counts do not follow the kind filter itself.
    [
      '?incidentKind=data_quality',
      ['beta-degraded', 'delta-escalated'],
      { degraded: 1, escalated: 1 },
      { data_quality: 2, concept_drift: 1 },
    ],
    [
      '?incidentKind=concept_drift&health=recovering',
      ['gamma-recovering'],
      { recovering: 1 },
      { concept_drift: 1 },
    ],
    ['?incidentKind=concept_drift&health=degraded', [], { recovering: 1 }, { data_quality: 1 }],
    // Both counts follow the search.
    ['?search=HEALTHY', ['alpha-healthy', 'Eta-Healthy'], { healthy: 2 }, {}],
    ['?search=ta-&health=healthy', ['Eta-Healthy'], TA_HEALTHS, {}],
    [
      '?search=ta-',
      ['Eta-Healthy', 'beta-degraded', 'delta-escalated', 'zeta-starting'],
      TA_HEALTHS,
      { data_quality: 2 },
    ],
  ])('filters %s; counts follow the other filters', async (query, expected, counts, incidentCounts) => {
    const body = await fleet(query);
    expect([...names(body)].sort()).toEqual([...expected].sort());
    expect(body.matching).toBe(expected.length);
    expect(body.total).toBe(7);
    expect(body.counts).toEqual({ ...NO_HEALTH, ...counts });
    expect(body.incidentCounts).toEqual({ ...NO_INCIDENTS, ...incidentCounts });
  });

  it('pages through a filtered fleet, forward and back', async () => {
    const first = await fleet('?health=healthy&limit=1');
    // Code-point order: capitals first.
    expect(first).toMatchObject({ offset: 0, prevCursor: null, matching: 2 });
    expect(names(first)).toEqual(['Eta-Healthy']);
    const second = await fleet(`?health=healthy&limit=1&cursor=${first.nextCursor}`);
    expect(names(second)).toEqual(['alpha-healthy']);
    expect(second).toMatchObject({ offset: 1, nextCursor: null });
    const back = await fleet(`?health=healthy&limit=1&cursor=${second.prevCursor}`);
    expect(names(back)).toEqual(['Eta-Healthy']);
    expect(back).toMatchObject({ offset: 0, prevCursor: null, nextCursor: first.nextCursor });
  });

  it('walks every page forward and back, the same models each way', async () => {
    const all = names(await fleet());
    expect(all).toEqual([...all].sort((a, b) => (a < b ? -1 : 1)));
    const forward: string[][] = [];
    let page = await fleet('?limit=3');
    forward.push(names(page));
    while (page.nextCursor) {
      page = await fleet(`?limit=3&cursor=${page.nextCursor}`);
      expect(page.offset).toBe(forward.flat().length);
      forward.push(names(page));
    }
    expect(forward.flat()).toEqual(all);
    const backward: string[][] = [names(page)];
    while (page.prevCursor) {
      page = await fleet(`?limit=3&cursor=${page.prevCursor}`);
      backward.unshift(names(page));
    }
    expect(backward).toEqual(forward);
  });

  it('keeps a page where it was while models are added before and after it, or its first model goes', async () => {
    const first = await fleet('?limit=2&search=a');
    const second = await fleet(`?limit=2&search=a&cursor=${first.nextCursor}`);
    const earlier = await registerTestModel(db.store, 'aaa-added-first');
    const later = await registerTestModel(db.store, 'zzz-added-last');
    try {
      const again = await fleet(`?limit=2&search=a&cursor=${first.nextCursor}`);
      expect(names(again)).toEqual(names(second));
      // One more before it: the offset says so, and the page before now ends with the new model.
      expect(again.offset).toBe(second.offset + 1);
      expect(again.matching).toBe(second.matching + 2);
      const back = await fleet(`?limit=2&search=a&cursor=${again.prevCursor}`);
      expect(names(back)).toEqual(['aaa-added-first', 'alpha-healthy']);
      const start = await fleet(`?limit=2&search=a&cursor=${back.prevCursor}`);
      expect(names(start)).toEqual(['Eta-Healthy']);
      expect(start).toMatchObject({ offset: 0, prevCursor: null });
      // A cursor whose model is gone still marks the place.
      await db.store.model.delete({ where: { id: earlier.id } });
      expect(names(await fleet('?limit=2&search=a&cursor=after.aaa-added-first'))).toEqual([
        'alpha-healthy',
        'beta-degraded',
      ]);
    } finally {
      await db.store.model.deleteMany({ where: { id: { in: [earlier.id, later.id] } } });
    }
  });

  it('answers an empty page on either side of the fleet, with the way back', async () => {
    const past = await fleet('?cursor=after.zzzz');
    expect(past).toMatchObject({ models: [], nextCursor: null, prevCursor: 'before.zzzz', offset: 7 });
    const before = await fleet('?cursor=before.AAAA');
    expect(before).toMatchObject({ models: [], prevCursor: null, nextCursor: 'after.AAAA', offset: 0 });
  });

  it.each([
    ['?health=sick', 'query.health'],
    ['?incidentKind=flood', 'query.incidentKind'],
    ['?search=', 'query.search'],
    [`?search=${'x'.repeat(65)}`, 'query.search'],
    ['?state=healthy', 'query'],
    ['?health=healthy&health=degraded', 'query.health'],
    ['?limit=0', 'query.limit'],
    ['?limit=1001', 'query.limit'],
    ['?limit=ten', 'query.limit'],
    ['?limit=1.5', 'query.limit'],
    ['?cursor=', 'query.cursor'],
    ['?cursor=model-1', 'query.cursor'],
    ['?cursor=after.', 'query.cursor'],
    ['?cursor=sideways.model-1', 'query.cursor'],
    ['?cursor=after.model%201', 'query.cursor'],
    [`?cursor=after.${'m'.repeat(65)}`, 'query.cursor'],
  ])('answers 400 for GET /v1/fleet%s, naming %s', async (query, issuePath) => {
    const res = await api.call('GET', `/v1/fleet${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(issuePath);
  });
});
