// The fleet over HTTP with one model of each health written straight into the store, on SQLite and on
// PostgreSQL: the batched reads give each model its own facts, the filters (health, incident kind,
// name search) select and page, the counts cover the whole fleet, and malformed filters answer 400.
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

  it.each([
    ['?health=degraded', ['beta-degraded'], 1],
    ['?health=starting', ['zeta-starting'], 1],
    ['?incidentKind=data_quality', ['beta-degraded', 'delta-escalated'], 2],
    ['?incidentKind=concept_drift&health=recovering', ['gamma-recovering'], 1],
    ['?incidentKind=concept_drift&health=degraded', [], 0],
    ['?search=HEALTHY', ['alpha-healthy', 'Eta-Healthy'], 2],
    ['?search=ta-&health=healthy', ['Eta-Healthy'], 1],
  ])('filters %s, counts still over the whole fleet', async (query, expected, matching) => {
    const body = await fleet(query);
    expect([...names(body)].sort()).toEqual([...expected].sort());
    expect(body.matching).toBe(matching);
    expect(body.counts).toEqual(WHOLE_FLEET);
  });

  it('pages through a filtered fleet', async () => {
    const first = await fleet('?health=healthy&limit=1');
    expect(first.models).toHaveLength(1);
    expect(first.nextCursor).not.toBeNull();
    const second = await fleet(`?health=healthy&limit=1&cursor=${first.nextCursor}`);
    expect(second.models).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    expect([...names(first), ...names(second)].sort()).toEqual(['Eta-Healthy', 'alpha-healthy']);
    // Unfiltered pages of 3 cover every model once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await fleet(`?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...names(page));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(names(await fleet()));
  });

  it.each([
    ['?health=sick', 'query.health'],
    ['?incidentKind=flood', 'query.incidentKind'],
    ['?search=', 'query.search'],
    [`?search=${'x'.repeat(65)}`, 'query.search'],
    ['?state=healthy', 'query'],
  ])('answers 400 for GET /v1/fleet%s, naming %s', async (query, issuePath) => {
    const res = await api.call('GET', `/v1/fleet${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(issuePath);
  });
});
