// Ingestion of logged predictions and late labels on SQLite and PostgreSQL: features checked against the
// schema (rejected or flagged per model), serving versions and errors recorded, limits and refusals
// answered precisely and counted, and nothing stored from a refused batch.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { flaggedCount, rejectedCount } from '../../lib/ingest/counters.ts';
import { MAX_BATCH_ROWS } from '../../lib/ingest/limits.ts';
import {
  insertPredictions,
  type PredictionRecord,
  storeProvider,
} from '../../lib/ingest/prediction-writer.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import {
  creditData,
  registerCreditModel,
  registerCreditVersion,
  trainCreditModel,
} from '../helpers/credit-model.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase, trafficCounts } from '../helpers/db.ts';

describeEachProvider('ingestion on %s', (provider) => {
  let db: TestDatabase;
  let api: TestApi;
  let v1: string;
  let otherVersion: string;
  const { rows } = creditData(20, 41);
  const valid = rows[0]!;

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    api = await startTestApi(db.store);
    await registerCreditModel(api.call, 'logged', { onInvalid: 'reject' });
    await registerCreditModel(api.call, 'elsewhere');
    const artifact = await trainCreditModel(200, 3);
    await registerCreditVersion(api.call, 'logged', { artifact });
    await registerCreditVersion(api.call, 'elsewhere', { artifact });
    v1 = (await db.store.modelVersion.findFirstOrThrow({ where: { model: { name: 'logged' } } })).id;
    otherVersion = (await db.store.modelVersion.findFirstOrThrow({ where: { model: { name: 'elsewhere' } } }))
      .id;
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const counts = () => trafficCounts(db.store);
  const logged = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    features: valid,
    prediction: '1',
    confidence: 0.8,
    ...extra,
  });
  const post = (body: unknown, model = 'logged') => api.call('POST', `/v1/models/${model}/predictions`, body);

  // Found by the fuzzer: a version number past 32 bits reached PostgreSQL's integer column (a 500).
  it('refuses a version number past 32 bits with a 400, storing nothing', async () => {
    const before = await counts();
    const res = await post({ predictions: [logged('p-huge-version', { version: 2 ** 31 })] });
    expect(res.status).toBe(400);
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toEqual([
      'body.predictions.0.version',
    ]);
    expect(await counts()).toEqual(before);
  });

  it('writes predictions that Prisma reads back exactly and filters by time like its own', async () => {
    expect(await storeProvider(db.store)).toBe(provider);
    const modelId = (await db.store.model.findUniqueOrThrow({ where: { name: 'elsewhere' } })).id;
    const t0 = new Date('2026-11-02T08:00:00.123Z');
    // One row written by Prisma itself, three by the writer around it in time.
    await db.store.prediction.create({
      data: { id: 'w-prisma', modelId, source: 'logged', features: {}, predictedAt: t0, receivedAt: t0 },
    });
    const record = (id: string, predictedAt: Date): PredictionRecord => ({
      id,
      modelId,
      versionId: null,
      source: 'gateway',
      features: { x: 0.1 + 0.2, y: 1e-300, z: 'quote " and \\ backslash', n: null, b: true },
      output: { prediction: '1', probabilities: { '0': 0.10739236971565864, '1': 0.8926076302843414 } },
      confidence: 0.8926076302843414,
      latencyMs: 1 / 3,
      error: null,
      quality: { violations: [{ feature: 'x', problem: 'out_of_range' }] },
      shadowOf: null,
      predictedAt,
    });
    await insertPredictions(db.store, [
      record('w-before', new Date(t0.getTime() - 1)),
      record('w-same', t0),
      record('w-after', new Date(t0.getTime() + 1)),
    ]);
    const after = await db.store.prediction.findMany({
      where: { id: { startsWith: 'w-' }, predictedAt: { gt: t0 } },
      select: { id: true },
    });
    expect(after.map((r) => r.id)).toEqual(['w-after']);
    const atT0 = await db.store.prediction.findMany({
      where: { id: { startsWith: 'w-' }, predictedAt: t0 },
      select: { id: true },
      orderBy: { id: 'asc' },
    });
    expect(atT0.map((r) => r.id)).toEqual(['w-prisma', 'w-same']);
    const row = await db.store.prediction.findFirstOrThrow({ where: { id: 'w-same' } });
    const { id: _, predictedAt, ...rest } = record('w-same', t0);
    expect(row).toMatchObject(rest);
    expect(row.predictedAt.toISOString()).toBe(predictedAt.toISOString());
    const recent = await db.store.prediction.count({
      where: { id: { startsWith: 'w-' }, receivedAt: { gt: new Date(Date.now() - 60_000) } },
    });
    expect(recent).toBe(3);
  });

  it('stores logged predictions with their serving version, errors and exact numbers', async () => {
    const probabilities = { '0': 0.10739236971565864, '1': 0.8926076302843414 };
    const res = await post({
      predictions: [
        logged('l-1', { version: 1, probabilities, latencyMs: 12.5, ts: '2026-11-01T10:00:00Z' }),
        logged('l-2', { versionId: v1 }),
        { id: 'l-3', features: valid, error: 'upstream timeout after 2000 ms', version: 1 },
      ],
    });
    expect(res).toMatchObject({ status: 202, body: { accepted: 3 } });
    expect(res.body).not.toHaveProperty('flagged');
    const [l1, l2, l3] = await db.store.prediction.findMany({
      where: { id: { in: ['l-1', 'l-2', 'l-3'] } },
      orderBy: { id: 'asc' },
    });
    expect(l1).toMatchObject({
      source: 'logged',
      versionId: v1,
      features: valid,
      output: { prediction: '1', probabilities },
      confidence: 0.8,
      latencyMs: 12.5,
      error: null,
      quality: null,
    });
    expect(l1!.predictedAt.toISOString()).toBe('2026-11-01T10:00:00.000Z');
    expect(l2!.versionId).toBe(v1);
    expect(l3).toMatchObject({
      versionId: v1,
      output: null,
      confidence: null,
      error: 'upstream timeout after 2000 ms',
    });
  });

  it.each([
    [
      'neither prediction nor error',
      { predictions: [{ id: 'n-1', features: valid }] },
      400,
      'invalid_request',
      'body.predictions.0.prediction',
    ],
    [
      'both version and versionId',
      { predictions: [logged('n-2', { version: 1, versionId: '$OTHER' })] },
      400,
      'invalid_request',
      'body.predictions.0.versionId',
    ],
    [
      'a class the model does not have',
      { predictions: [logged('n-3'), logged('n-4', { prediction: 'maybe' })] },
      400,
      'invalid_prediction',
      'body.predictions.1.prediction',
    ],
    [
      'an unknown version number',
      { predictions: [logged('n-5', { version: 9 })] },
      422,
      'unknown_version',
      'body.predictions.0.version',
    ],
    [
      'an unknown version id',
      { predictions: [logged('n-6', { versionId: 'x' })] },
      422,
      'unknown_version',
      'body.predictions.0.versionId',
    ],
    [
      'a version of another model',
      { predictions: [logged('n-6', { versionId: '$OTHER' })] },
      422,
      'unknown_version',
      'body.predictions.0.versionId',
    ],
    [
      'a value out of range',
      { predictions: [logged('n-7'), logged('n-8', { features: { ...valid, age: 12 } })] },
      400,
      'invalid_features',
      'body.predictions.1.features.age',
    ],
    [
      'a renamed column',
      { predictions: [logged('n-9', { features: { ...valid, income: undefined, income_k: 50 } })] },
      400,
      'invalid_features',
      'body.predictions.0.features.income_k',
    ],
    [
      'an id the model already has',
      { predictions: [logged('n-10'), logged('own-1')] },
      409,
      'prediction_exists',
      'body.predictions[id=own-1]',
    ],
  ])('refuses %s precisely and stores nothing', async (_name, body, status, code, path) => {
    if (_name === 'an id the model already has') {
      expect((await post({ predictions: [logged('own-1')] })).status).toBe(202);
      // Ids are unique per model: another model's 'shared-1' (labelled below) is no conflict here.
      expect((await post({ predictions: [logged('shared-1')] }, 'elsewhere')).status).toBe(202);
    }
    const before = await counts();
    // "$OTHER" stands for the other model's version id, known only once the models are registered.
    const res = await post(JSON.parse(JSON.stringify(body).replace('$OTHER', otherVersion)));
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(path);
    expect(await counts()).toEqual(before);
  });

  it('counts every refusal by reason', async () => {
    const before = {
      range: rejectedCount('logged', 'predictions', 'out_of_range'),
      unknownFeature: rejectedCount('logged', 'predictions', 'unknown_feature'),
      missing: rejectedCount('logged', 'predictions', 'missing'),
      version: rejectedCount('logged', 'predictions', 'unknown_version'),
    };
    await post({
      predictions: [logged('c-1', { features: { ...valid, age: 12, income: undefined, income_k: 50 } })],
    });
    await post({ predictions: [logged('c-2', { version: 7 }), logged('c-3', { version: 8 })] });
    expect(rejectedCount('logged', 'predictions', 'out_of_range')).toBe(before.range + 1);
    expect(rejectedCount('logged', 'predictions', 'unknown_feature')).toBe(before.unknownFeature + 1);
    expect(rejectedCount('logged', 'predictions', 'missing')).toBe(before.missing + 1);
    expect(rejectedCount('logged', 'predictions', 'unknown_version')).toBe(before.version + 2);
  });

  it('stores invalid rows with their violations when the model flags them', async () => {
    expect((await api.call('PATCH', '/v1/models/logged', { onInvalid: 'flag' })).status).toBe(200);
    const before = flaggedCount('logged', 'predictions', 'null');
    const res = await post({
      predictions: [logged('f-1', { features: { ...valid, term: null, region: 'atlantis' } }), logged('f-2')],
    });
    expect(res).toMatchObject({ status: 202, body: { accepted: 2, flagged: 1 } });
    const f1 = await db.store.prediction.findFirstOrThrow({ where: { id: 'f-1' } });
    expect(f1.quality).toEqual({
      violations: [
        { feature: 'term', problem: 'null' },
        { feature: 'region', problem: 'unseen_category' },
      ],
    });
    expect(f1.features).toMatchObject({ term: null, region: 'atlantis' });
    expect(flaggedCount('logged', 'predictions', 'null')).toBe(before + 1);
    await api.call('PATCH', '/v1/models/logged', { onInvalid: 'reject' });
  });

  it('refuses oversize batches with the limit named', async () => {
    const before = await counts();
    const rejectedBefore = rejectedCount('logged', 'predictions', 'batch_too_large');
    const many = Array.from({ length: MAX_BATCH_ROWS + 1 }, (_, i) => logged(`big-${i}`));
    const res = await post({ predictions: many });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'batch_too_large' } } });
    expect(res.body.error.message).toBe(
      `a batch holds at most ${MAX_BATCH_ROWS} predictions; this one has ${MAX_BATCH_ROWS + 1}: split it`,
    );
    const labels = await api.call('POST', '/v1/models/logged/labels', {
      labels: many.map((p) => ({ predictionId: p.id, label: '1' })),
    });
    expect(labels).toMatchObject({ status: 400, body: { error: { code: 'batch_too_large' } } });
    expect(rejectedCount('logged', 'predictions', 'batch_too_large')).toBe(rejectedBefore + 1);
    expect(await counts()).toEqual(before);
    // The limit itself is accepted.
    expect((await post({ predictions: many.slice(0, MAX_BATCH_ROWS) })).status).toBe(202);
  });

  it('joins labels that arrive late, and counts those it refuses', async () => {
    const labelled = await api.call('POST', '/v1/models/logged/labels', {
      labels: [
        { predictionId: 'l-1', label: '0', ts: '2026-11-03T09:00:00Z' },
        { predictionId: 'l-3', label: 1 },
      ],
    });
    expect(labelled).toMatchObject({ status: 202, body: { accepted: 2 } });
    const joined = await db.store.prediction.findMany({
      where: { id: { in: ['l-1', 'l-2', 'l-3'] } },
      include: { label: true },
      orderBy: { id: 'asc' },
    });
    expect(joined.map((p) => p.label?.value ?? null)).toEqual(['0', null, 1]);
    expect(joined[0]!.label!.observedAt.toISOString()).toBe('2026-11-03T09:00:00.000Z');

    const before = {
      exists: rejectedCount('logged', 'labels', 'label_exists'),
      unknown: rejectedCount('logged', 'labels', 'unknown_prediction'),
      type: rejectedCount('logged', 'labels', 'invalid_label'),
    };
    const counted = await counts();
    expect(
      (await api.call('POST', '/v1/models/logged/labels', { labels: [{ predictionId: 'l-1', label: '1' }] }))
        .status,
    ).toBe(409);
    expect(
      (
        await api.call('POST', '/v1/models/logged/labels', {
          labels: [
            { predictionId: 'nope-1', label: '1' },
            { predictionId: 'shared-1', label: '1' }, // another model's prediction
          ],
        })
      ).status,
    ).toBe(422);
    expect(
      (
        await api.call('POST', '/v1/models/logged/labels', {
          labels: [{ predictionId: 'l-2', label: 'yes' }],
        })
      ).status,
    ).toBe(400);
    expect(rejectedCount('logged', 'labels', 'label_exists')).toBe(before.exists + 1);
    expect(rejectedCount('logged', 'labels', 'unknown_prediction')).toBe(before.unknown + 2);
    expect(rejectedCount('logged', 'labels', 'invalid_label')).toBe(before.type + 1);
    expect(await counts()).toEqual(counted);
  });
});
