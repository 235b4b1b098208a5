// The store through the code that writes it — ingestion endpoints and the agent's activities — on
// SQLite and on PostgreSQL. Bad input must change nothing; retried activities must not duplicate rows.
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CycleRecord } from '../../activities/audit.ts';
import { createActivities } from '../../activities/index.ts';
import { type ClosedWindow, createMonitorActivities, type MeasureRequest } from '../../activities/monitor.ts';
import type { Decision, WindowSummary } from '../../lib/brain/types.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase, trafficCounts } from '../helpers/db.ts';
import { registerTestModel } from '../helpers/traffic.ts';

/** Past the first window of a model with a few rows (adaptive: its maxSpan, an hour). */
const anHourOn = () => new Date(Date.now() + 3.6e6 + 1000);

describeEachProvider('store on %s', (provider) => {
  let db: TestDatabase;
  let api: TestApi;
  let modelId: string;

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    api = await startTestApi(db.store);
    modelId = (await registerTestModel(db.store, 'credit')).id;
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const counts = () => trafficCounts(db.store);
  const prediction = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    features: { x: 1.5 },
    prediction: 'yes',
    confidence: 0.9,
    ...extra,
  });

  it('queues a transaction behind a slow one instead of failing it', async () => {
    // SQLite runs one transaction at a time; Prisma's default gives up on a queued one after 2 s (and
    // ends a running one after 5 s, less than SQLite's own busy wait), which answered requests with 500s
    // on a loaded machine. Three seconds is past that default and well within the store's own limits.
    const slow = db.store.$transaction(async (tx) => {
      await tx.model.count();
      await new Promise((resolve) => setTimeout(resolve, 3000));
      return 'slow';
    });
    const queued = db.store.$transaction(async (tx) => {
      await tx.model.count();
      return 'queued';
    });
    expect(await Promise.all([slow, queued])).toEqual(['slow', 'queued']);
  }, 30_000);

  it('stores a batch of logged predictions and their late labels', async () => {
    const before = await counts();
    const sent = await api.call('POST', '/v1/models/credit/predictions', {
      predictions: [prediction('p1'), prediction('p2', { ts: '2026-11-01T10:00:00Z', latencyMs: 12 })],
    });
    expect(sent).toMatchObject({ status: 202, body: { accepted: 2 } });
    const labelled = await api.call('POST', '/v1/models/credit/labels', {
      labels: [{ predictionId: 'p1', label: 'no' }],
    });
    expect(labelled).toMatchObject({ status: 202, body: { accepted: 1 } });
    expect(await counts()).toEqual({ predictions: before.predictions + 2, labels: before.labels + 1 });
    const p2 = await db.store.prediction.findFirstOrThrow({ where: { id: 'p2' } });
    expect(p2).toMatchObject({ modelId, source: 'logged', latencyMs: 12, confidence: 0.9 });
    expect(p2.predictedAt.toISOString()).toBe('2026-11-01T10:00:00.000Z');
    expect(p2.output).toEqual({ prediction: 'yes' });
  });

  it.each([
    ['malformed JSON', '{"predictions": [', 400, 'malformed_body', undefined],
    ['an empty batch', { predictions: [] }, 400, 'invalid_request', 'body.predictions'],
    [
      'a missing id',
      { predictions: [{ features: {}, prediction: 'yes' }] },
      400,
      'invalid_request',
      'body.predictions.0.id',
    ],
    [
      'a confidence above 1',
      { predictions: [prediction('c1', { confidence: 1.2 })] },
      400,
      'invalid_request',
      'body.predictions.0.confidence',
    ],
    [
      'an unknown field',
      { predictions: [prediction('c2', { colour: 'red' })] },
      400,
      'invalid_request',
      'body.predictions.0',
    ],
    [
      'an id repeated in the batch',
      { predictions: [prediction('c3'), prediction('c3')] },
      400,
      'duplicate_ids',
      'body.predictions[id=c3]',
    ],
    [
      'an id stored before',
      { predictions: [prediction('c4'), prediction('p1')] },
      409,
      'prediction_exists',
      'body.predictions[id=p1]',
    ],
  ])('rejects %s precisely and stores nothing', async (_name, body, status, code, path) => {
    const before = await counts();
    const res = await api.call('POST', '/v1/models/credit/predictions', body);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    if (path) expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(path);
    expect(await counts()).toEqual(before);
  });

  it.each([
    [
      'a feature value',
      '/v1/models/credit/predictions',
      { predictions: [prediction('n1', { features: { x: 'a\u0000b' } })] },
      '$.predictions[0].features.x',
    ],
    [
      'a feature name',
      '/v1/models',
      { name: 'nul-model', task: 'regression', featureSchema: [{ name: 'x\u0000', type: 'numeric' }] },
      '$.featureSchema[0].name',
    ],
    [
      'a key',
      '/v1/models/credit/predictions',
      { predictions: [prediction('n2', { features: { 'x\u0000': 1 } })] },
      '$.predictions[0].features["x\\u0000"]',
    ],
  ])(
    'refuses the NUL character in %s with a 400 naming where, and stores nothing',
    async (_n, path, body, at) => {
      // PostgreSQL cannot store U+0000 in text (a 500 there, found by the fuzzer); SQLite could: both refuse.
      const [before, models] = [await counts(), await db.store.model.count()];
      const res = await api.call('POST', path, body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'malformed_body' });
      expect(res.body.error.message).toBe(`text must not contain the NUL character (U+0000): found at ${at}`);
      expect(await counts()).toEqual(before);
      expect(await db.store.model.count()).toBe(models);
    },
  );

  it.each([
    [
      'a bound within a rounding of the largest double',
      { min: Number.MAX_VALUE },
      'body.featureSchema.0.min',
    ],
    ['a min above the max', { min: 2, max: 1 }, 'body.featureSchema.0.min'],
  ])('refuses %s in a feature schema and registers nothing', async (_name, bounds, path) => {
    // Found by the fuzzer: SQLite kept Number.MAX_VALUE as null (15 significant digits overflow), and the
    // model's stored schema then failed to load on every prediction (500).
    const models = await db.store.model.count();
    const res = await api.call('POST', '/v1/models', {
      name: 'bounded',
      task: 'regression',
      featureSchema: [{ name: 'x', type: 'numeric', ...bounds }],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(path);
    expect(await db.store.model.count()).toBe(models);
  });

  it('keeps the widest schema bounds it accepts exactly', async () => {
    const featureSchema = [{ name: 'x', type: 'numeric', min: -1e308, max: 1e308, nullable: false }];
    const res = await api.call('POST', '/v1/models', { name: 'widest', task: 'regression', featureSchema });
    expect(res.status).toBe(201);
    const stored = await db.store.model.findUniqueOrThrow({ where: { name: 'widest' } });
    expect(stored.featureSchema).toEqual(featureSchema);
  });

  it('refuses the NUL character in a query parameter with a 400 naming it', async () => {
    // Found by the fuzzer: PostgreSQL cannot compare text holding U+0000 (a 500 there).
    const res = await api.call('GET', '/v1/actions?model=a%00b&limit=5');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'invalid_request',
      message: 'query parameters must not contain the NUL character (U+0000): found at query.model',
    });
    // A "%00" that is not a parameter's NUL (an encoded percent sign before "00") is no reason to refuse.
    expect((await api.call('GET', '/v1/actions?model=credit&actor=ops%2500')).status).toBe(200);
  });

  it('accepts an escaped backslash before "u0000" (text that only looks like the escape)', async () => {
    // A model of its own: the window tests below count the traffic of 'credit'.
    await registerTestModel(db.store, 'escaped');
    const res = await api.call('POST', '/v1/models/escaped/predictions', {
      predictions: [prediction('n3', { features: { x: 'C:\\u0000' } })],
    });
    expect(res.status).toBe(202);
    const stored = await db.store.prediction.findFirstOrThrow({ where: { id: 'n3' } });
    expect(stored.features).toEqual({ x: 'C:\\u0000' });
  });

  it.each([
    [
      'a label outside the classes',
      [{ predictionId: 'p2', label: 'maybe' }],
      400,
      'invalid_label',
      'body.labels.0.label',
    ],
    [
      'an unknown prediction',
      [
        { predictionId: 'p2', label: 'no' },
        { predictionId: 'nope', label: 'no' },
      ],
      422,
      'unknown_prediction',
      'body.labels[predictionId=nope]',
    ],
    [
      'a second label',
      [
        { predictionId: 'p2', label: 'no' },
        { predictionId: 'p1', label: 'yes' },
      ],
      409,
      'label_exists',
      'body.labels[predictionId=p1]',
    ],
  ])('rejects %s precisely and stores nothing', async (_name, labels, status, code, path) => {
    const before = await counts();
    const res = await api.call('POST', '/v1/models/credit/labels', { labels });
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(path);
    expect(await counts()).toEqual(before);
  });

  it('answers 404 for an unknown model', async () => {
    const res = await api.call('POST', '/v1/models/ghost/predictions', { predictions: [prediction('g1')] });
    expect(res).toMatchObject({ status: 404, body: { error: { code: 'model_not_found' } } });
  });

  it('measures a window once, however often the activity is retried', async () => {
    const monitor = createMonitorActivities(db.store, { now: anHourOn });
    const env = new MockActivityEnvironment();
    const closed = (await env.run(monitor.closedWindowsSince, {
      modelName: 'credit',
      fromSeq: 0,
    })) as ClosedWindow[];
    expect(closed).toMatchObject([{ seq: 0, rows: 2 }]);
    const first = await env.run(monitor.monitorWindows, { modelName: 'credit', windows: closed });
    const again = await env.run(monitor.monitorWindows, { modelName: 'credit', windows: closed });
    expect(again).toEqual(first);
    expect(first).toMatchObject([{ seq: 0, count: 2, labelled: 1, correct: 0, accuracy: 0 }]);
    expect(await db.store.metricWindow.count({ where: { modelId } })).toBe(1);
    // Cut again, the stored window comes back with its bounds.
    expect(await env.run(monitor.closedWindowsSince, { modelName: 'credit', fromSeq: 0 })).toEqual(closed);
    await expect(
      env.run(monitor.closedWindowsSince, { modelName: 'ghost', fromSeq: 0 }),
    ).rejects.toMatchObject({
      type: 'ModelNotFound',
      nonRetryable: true,
    });
  });

  it('records a cycle exactly once when the activity is retried', async () => {
    const activities = createActivities(db.store);
    const monitor = createMonitorActivities(db.store, { now: anHourOn });
    const env = new MockActivityEnvironment({
      workflowExecution: { workflowId: 'agent:credit', runId: 'run-1' },
    });
    const closed = (await env.run(monitor.closedWindowsSince, {
      modelName: 'credit',
      fromSeq: 0,
    })) as ClosedWindow[];
    const [window] = await env.run<[MeasureRequest], WindowSummary[], typeof monitor.monitorWindows>(
      monitor.monitorWindows,
      { modelName: 'credit', windows: closed },
    );
    if (!window) throw new Error('the first window has not closed');
    const decision: Decision = {
      action: 'alert',
      rule: 'confirmed-finding-opens-incident',
      reason: 'concept_drift confirmed',
      alternatives: [{ action: 'none', rejectedBecause: 'persistent' }],
      incident: { open: { kind: 'concept_drift', severity: 'warning', summary: 'accuracy fell' } },
      judgement: 'persistent',
      severity: 'warning',
      strength: 0.8,
    };
    const record: CycleRecord = {
      modelName: 'credit',
      cycle: 0,
      idempotencyKey: 'agent:credit:cycle:0',
      window,
      findings: [
        {
          kind: 'concept_drift' as const,
          severity: 'warning' as const,
          state: 'confirmed' as const,
          summary: 's',
          evidence: { window: 0, labelled: 400, z: 4 },
        },
      ],
      decision,
      openIncidentId: null,
      newIncidentId: `incident-${provider}`,
    };
    await env.run(activities.recordCycle, record);
    await env.run(activities.recordCycle, record);
    expect(await db.store.decision.count({ where: { modelId } })).toBe(1);
    expect(await db.store.finding.count({ where: { modelId } })).toBe(1);
    expect(await db.store.incident.findMany({ where: { modelId } })).toMatchObject([
      { id: `incident-${provider}`, status: 'open', kind: 'concept_drift' },
    ]);
    expect(await db.store.action.findMany({ where: { modelId } })).toMatchObject([
      {
        type: 'alert',
        actor: 'agent',
        incidentId: `incident-${provider}`,
        workflowId: 'agent:credit',
        runId: 'run-1',
      },
    ]);
  });
});
