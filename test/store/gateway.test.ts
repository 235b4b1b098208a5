// The inference gateway on SQLite and PostgreSQL, with real trained models and a real HTTP model server:
// routing (production, a deterministic canary split, fallback, disabled), shadow isolation, model
// failures, every kind of bad input answered precisely with nothing stored, and the late label join.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { flaggedCount, rejectedCount } from '../../lib/ingest/counters.ts';
import { MAX_BATCH_ROWS } from '../../lib/ingest/limits.ts';
import { loadModel, type ModelArtifact, type ModelOutput } from '../../lib/models/index.ts';
import { chooseRoute, routingShare, type ServingDeployment } from '../../lib/registry/routing.ts';
import { loadRoutingSecret } from '../../lib/registry/routing-secret.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import {
  creditData,
  eventually,
  MODEL_SERVER_OUTPUT,
  type ModelServer,
  registerCreditModel,
  registerCreditVersion,
  startModelServer,
  trainCreditModel,
} from '../helpers/credit-model.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase } from '../helpers/db.ts';
import { allowLoopbackEgress } from '../helpers/egress.ts';

/** How long the slow model server takes: far longer than any gateway answer may. */
const SLOW_MS = 1500;

describeEachProvider('gateway on %s', (provider) => {
  allowLoopbackEgress();
  let db: TestDatabase;
  let api: TestApi;
  let server: ModelServer;
  let production: ModelArtifact;
  let challenger: ModelArtifact;
  const versionIds: Record<number, string> = {};
  const { rows } = creditData(2000, 31);

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    api = await startTestApi(db.store);
    server = await startModelServer(SLOW_MS);
    [production, challenger] = await Promise.all([
      trainCreditModel(400, 1, 200),
      trainCreditModel(400, 2, 50),
    ]);
    await registerCreditModel(api.call, 'credit', { onInvalid: 'reject' });
    for (const artifact of [
      production, // 1
      challenger, // 2
      server.artifact('/slow'), // 3
      server.artifact('/fail'), // 4
    ]) {
      await registerCreditVersion(api.call, 'credit', { artifact });
    }
    for (const v of await db.store.modelVersion.findMany()) versionIds[v.version] = v.id;
  });
  afterAll(async () => {
    await api?.close();
    await server?.close();
    await db?.drop();
  });

  const deploy = async (body: Record<string, unknown>) => {
    const res = await api.call('POST', '/v1/models/credit/deployment', { reason: 'test', ...body });
    expect([200, 201]).toContain(res.status);
    return res.body.deployment;
  };
  const predictions = () => db.store.prediction.count();
  const direct = async (artifact: ModelArtifact, features: (typeof rows)[number][]) =>
    loadModel(artifact).predict(features);
  const answerOf = (o: ModelOutput) => ({
    prediction: o.prediction,
    confidence: o.confidence,
    probabilities: o.probabilities,
  });

  it('answers 409 before the model has a deployment', async () => {
    const res = await api.call('POST', '/v1/models/credit/predict', { features: rows[0] });
    expect(res).toMatchObject({ status: 409, body: { error: { code: 'not_deployed' } } });
    expect(await predictions()).toBe(0);
  });

  it('serves the production version and records every prediction', async () => {
    await deploy({ production: 1 });
    const single = await api.call('POST', '/v1/models/credit/predict', { features: rows[0] });
    expect(single.status).toBe(200);
    const [expected] = await direct(production, [rows[0]!]);
    expect(single.body).toMatchObject({ ...answerOf(expected!), version: 1, route: 'production' });
    expect(single.body.id).toMatch(/^[0-9a-f-]{36}$/);

    const batch = await api.call('POST', '/v1/models/credit/predict', {
      rows: [
        { id: 'b-1', features: rows[1] },
        { id: 'b-2', features: rows[2] },
      ],
    });
    expect(batch.status).toBe(200);
    const outputs = await direct(production, [rows[1]!, rows[2]!]);
    expect(batch.body.predictions).toEqual([
      { id: 'b-1', ...answerOf(outputs[0]!), version: 1, route: 'production' },
      { id: 'b-2', ...answerOf(outputs[1]!), version: 1, route: 'production' },
    ]);

    const stored = await db.store.prediction.findFirstOrThrow({ where: { id: 'b-2' } });
    expect(stored).toMatchObject({
      source: 'gateway',
      versionId: versionIds[1],
      features: rows[2],
      output: { prediction: outputs[1]!.prediction, probabilities: outputs[1]!.probabilities },
      confidence: outputs[1]!.confidence,
      error: null,
      quality: null,
      shadowOf: null,
    });
    expect(stored.latencyMs).toBeGreaterThanOrEqual(0);
    expect(stored.predictedAt.getTime()).toBeLessThanOrEqual(stored.receivedAt.getTime());
    expect(await db.store.prediction.findFirst({ where: { id: single.body.id } })).not.toBeNull();
  });

  it('sends a deterministic canary share of the traffic to the canary', async () => {
    const deployment: ServingDeployment = {
      ...(await deploy({ canary: { version: 2, share: 0.2 } })),
      canaryShare: 0.2,
    };
    const n = 2000;
    const ids = Array.from({ length: n }, (_, i) => `canary-${i}`);
    const routes: string[] = [];
    for (let start = 0; start < n; start += 500) {
      const res = await api.call('POST', '/v1/models/credit/predict', {
        rows: ids.slice(start, start + 500).map((id, k) => ({ id, features: rows[start + k] })),
      });
      expect(res.status).toBe(200);
      routes.push(...res.body.predictions.map((p: { route: string }) => p.route));
    }
    const stored = await db.store.prediction.findMany({
      where: { id: { in: ids } },
      select: { id: true, versionId: true },
    });
    const canary = stored.filter((p) => p.versionId === versionIds[2]).length;
    expect(stored.filter((p) => p.versionId === versionIds[1]).length).toBe(n - canary);
    // Four binomial standard deviations: a correct 20 % split falls outside with probability ~6e-5.
    const bound = 4 * Math.sqrt((0.2 * 0.8) / n);
    expect(Math.abs(canary / n - 0.2)).toBeLessThan(bound);
    expect(routes.filter((r) => r === 'canary').length).toBe(canary);

    // The route is a function of the id and the server's stored routing secret: recomputing it gives what
    // was served, every time.
    const served = new Map(stored.map((p) => [p.id, p.versionId]));
    const secret = await loadRoutingSecret(db.store);
    for (const id of ids) {
      const decision = chooseRoute(deployment, () => routingShare(secret, id), 'unavailable');
      const expected = decision.route === 'canary' ? versionIds[2] : versionIds[1];
      expect(served.get(id)).toBe(expected);
    }
    // And the canary's answers are the canary model's.
    const canaryIndex = ids.findIndex((id) => served.get(id) === versionIds[2]);
    const [expected] = await direct(challenger, [rows[canaryIndex]!]);
    const row = await db.store.prediction.findFirstOrThrow({ where: { id: ids[canaryIndex] } });
    expect(row.output).toEqual({ prediction: expected!.prediction, probabilities: expected!.probabilities });
    await deploy({ canary: null });
  });

  it('scores a shadow copy after answering, without changing or delaying the answer', async () => {
    await deploy({ shadow: 3 }); // the slow HTTP model
    const res = await api.call('POST', '/v1/models/credit/predict', { id: 'shadowed-1', features: rows[5] });
    expect(res.status).toBe(200);
    const [expected] = await direct(production, [rows[5]!]);
    expect(res.body).toEqual({ id: 'shadowed-1', ...answerOf(expected!), version: 1, route: 'production' });
    // Not delayed: the answer is out, and stored as production's, while the shadow model is still
    // working on its copy (it takes SLOW_MS); how fast the gateway answers is bench/gateway.ts's business.
    await eventually(async () => server.inFlight() > 0);
    expect(await db.store.prediction.findFirst({ where: { id: 'shadowed-1:shadow' } })).toBeNull();
    expect(await db.store.prediction.findFirst({ where: { id: 'shadowed-1' } })).toMatchObject({
      source: 'gateway',
      versionId: versionIds[1],
      shadowOf: null,
      output: { prediction: expected!.prediction, probabilities: expected!.probabilities },
    });

    const shadow = await eventually(() =>
      db.store.prediction.findFirst({ where: { id: 'shadowed-1:shadow' } }),
    );
    expect(shadow).toMatchObject({
      source: 'shadow',
      versionId: versionIds[3],
      shadowOf: 'shadowed-1',
      features: rows[5],
      output: {
        prediction: MODEL_SERVER_OUTPUT.prediction,
        probabilities: MODEL_SERVER_OUTPUT.probabilities,
      },
      confidence: MODEL_SERVER_OUTPUT.confidence,
      error: null,
    });
    expect(shadow.latencyMs).toBeGreaterThanOrEqual(SLOW_MS * 0.9);
  });

  it('answers from production when the shadow model fails, and stores the shadow’s error', async () => {
    await deploy({ shadow: 4 }); // the failing HTTP model
    const res = await api.call('POST', '/v1/models/credit/predict', {
      rows: [
        { id: 'shadowed-2', features: rows[6] },
        { id: 'shadowed-3', features: rows[7] },
      ],
    });
    expect(res.status).toBe(200);
    const outputs = await direct(production, [rows[6]!, rows[7]!]);
    expect(res.body.predictions.map((p: ModelOutput) => p.prediction)).toEqual(
      outputs.map((o) => o.prediction),
    );
    const shadow = await eventually(() =>
      db.store.prediction.findFirst({ where: { id: 'shadowed-3:shadow' } }),
    );
    expect(shadow).toMatchObject({
      source: 'shadow',
      versionId: versionIds[4],
      output: null,
      confidence: null,
    });
    expect(shadow.error).toMatch(/^model server answered HTTP 500 \(correlation id [0-9a-f-]{36}\)$/);
    await deploy({ shadow: null });
  });

  it('answers 502 when the serving model fails, and records the failed prediction', async () => {
    await deploy({ production: 4 });
    const res = await api.call('POST', '/v1/models/credit/predict', { id: 'failed-1', features: rows[8] });
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe('model_error');
    // The caller learns that the model server failed and the id the log has its details under: never
    // the server's address nor what it answered.
    expect(res.body.error.message).toMatch(
      /^the model server failed to score the rows: version 4 \(production\), correlation id [0-9a-f-]{36}$/,
    );
    expect(res.body.error.message).not.toMatch(/127\.0\.0\.1|\/fail|exploded/);
    const failed = await db.store.prediction.findFirstOrThrow({ where: { id: 'failed-1' } });
    expect(failed).toMatchObject({
      source: 'gateway',
      versionId: versionIds[4],
      output: null,
      confidence: null,
    });
    const correlationId = /correlation id ([0-9a-f-]{36})/.exec(res.body.error.message)![1];
    expect(failed.error).toBe(`model server answered HTTP 500 (correlation id ${correlationId})`);
    await deploy({ production: 1 });
  });

  it('serves the fallback version in fallback mode', async () => {
    await deploy({ mode: 'fallback', fallback: 2 });
    const res = await api.call('POST', '/v1/models/credit/predict', { id: 'fb-1', features: rows[9] });
    const [expected] = await direct(challenger, [rows[9]!]);
    expect(res).toMatchObject({
      status: 200,
      body: { ...answerOf(expected!), version: 2, route: 'fallback' },
    });
    expect((await db.store.prediction.findFirstOrThrow({ where: { id: 'fb-1' } })).versionId).toBe(
      versionIds[2],
    );
  });

  it('serves the rows of a segment on the fallback while production serves the rest', async () => {
    const segments = await api.call('PUT', '/v1/models/credit/segments', { segments: [{ by: 'channel' }] });
    expect(segments.status).toBe(200);
    await deploy({ mode: 'serving', production: 1, fallback: 2 });
    const before = await db.store.deploymentRevision.count();
    // A segment the model does not define, or a segment route without a fallback: refused, nothing changed.
    const unknown = await api.call('POST', '/v1/models/credit/deployment', {
      reason: 'test',
      fallbackSegments: ['channel=fax'],
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.code).toBe('unknown_segment');
    const alone = await api.call('POST', '/v1/models/credit/deployment', {
      reason: 'test',
      fallback: null,
      fallbackSegments: ['channel=web'],
    });
    expect(alone.status).toBe(400);
    expect(alone.body.error.issues[0].path).toBe('body.fallbackSegments');
    expect(await db.store.deploymentRevision.count()).toBe(before);

    const revision = await deploy({ fallbackSegments: ['channel=web'] });
    expect(revision.fallbackSegments).toEqual(['channel=web']);
    const batch = rows.slice(100, 160).map((features, i) => ({ id: `seg-${i}`, features }));
    const res = await api.call('POST', '/v1/models/credit/predict', { rows: batch });
    expect(res.status).toBe(200);
    const routes = res.body.predictions.map((p: { version: number; route: string }, i: number) => ({
      web: batch[i]!.features.channel === 'web',
      version: p.version,
      route: p.route,
    }));
    expect(routes.some((r: { web: boolean }) => r.web)).toBe(true);
    expect(routes.some((r: { web: boolean }) => !r.web)).toBe(true);
    for (const r of routes)
      expect(r).toEqual(
        r.web
          ? { web: true, version: 2, route: 'fallback' }
          : { web: false, version: 1, route: 'production' },
      );

    // Segment definitions that drop a routed segment are refused while it is routed.
    const dropped = await api.call('PUT', '/v1/models/credit/segments', { segments: [] });
    expect(dropped.status).toBe(409);
    expect(dropped.body.error.code).toBe('segment_routed');

    // Lifting the route is a revision too: every row is production's again.
    await deploy({ fallbackSegments: [] });
    const after = await api.call('POST', '/v1/models/credit/predict', {
      rows: batch.map((r) => ({ ...r, id: `${r.id}-after` })),
    });
    expect(new Set(after.body.predictions.map((p: { version: number }) => p.version))).toEqual(new Set([1]));
    expect((await api.call('PUT', '/v1/models/credit/segments', { segments: [] })).status).toBe(200);
  });

  it('answers 503 with Retry-After when disabled, or the fallback when the model says so', async () => {
    await deploy({ mode: 'disabled' });
    const before = await predictions();
    const refused = await api.call('POST', '/v1/models/credit/predict', { id: 'off-1', features: rows[10] });
    expect(refused).toMatchObject({ status: 503, body: { error: { code: 'model_disabled' } } });
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(await predictions()).toBe(before);

    expect((await api.call('PATCH', '/v1/models/credit', { disabledResponse: 'fallback' })).status).toBe(200);
    const served = await api.call('POST', '/v1/models/credit/predict', { id: 'off-2', features: rows[10] });
    expect(served).toMatchObject({ status: 200, body: { version: 2, route: 'fallback' } });

    // Without a fallback version there is nothing to serve.
    await deploy({ fallback: null });
    const none = await api.call('POST', '/v1/models/credit/predict', { id: 'off-3', features: rows[10] });
    expect(none.status).toBe(503);
    expect(none.headers.get('retry-after')).toBe('30');
    await api.call('PATCH', '/v1/models/credit', { disabledResponse: 'unavailable' });
    await deploy({ mode: 'serving' });
  });

  const valid = rows[11]!;
  it.each([
    ['malformed JSON', '{"features": {', 400, 'malformed_body', undefined],
    ['no features', { id: 'x-1' }, 400, 'invalid_request', 'body.features'],
    ['an unknown field', { features: valid, user: 'u' }, 400, 'invalid_request', 'body'],
    [
      'an object as a feature value',
      { features: { ...valid, age: { years: 40 } } },
      400,
      'invalid_request',
      'body.features.age',
    ],
    ['an empty batch', { rows: [] }, 400, 'invalid_request', 'body.rows'],
    ['an id that is too long', { id: 'x'.repeat(129), features: valid }, 400, 'invalid_request', 'body.id'],
    [
      'a missing feature',
      { features: { ...valid, income: undefined } },
      400,
      'invalid_features',
      'body.features.income',
    ],
    [
      'a value of the wrong type',
      { features: { ...valid, has_mortgage: 'yes' } },
      400,
      'invalid_features',
      'body.features.has_mortgage',
    ],
    [
      'a value out of range',
      { features: { ...valid, age: 140 } },
      400,
      'invalid_features',
      'body.features.age',
    ],
    [
      'an unseen category',
      { features: { ...valid, channel: 'fax' } },
      400,
      'invalid_features',
      'body.features.channel',
    ],
    [
      'a null where none is allowed',
      { features: { ...valid, term: null } },
      400,
      'invalid_features',
      'body.features.term',
    ],
    [
      'an unknown feature',
      { features: { ...valid, zip: '10001' } },
      400,
      'invalid_features',
      'body.features.zip',
    ],
    [
      'a bad row in a batch',
      { rows: [{ features: valid }, { features: valid }, { features: { ...valid, income: -3 } }] },
      400,
      'invalid_features',
      'body.rows.2.features.income',
    ],
    [
      'an id repeated in a batch',
      {
        rows: [
          { id: 'r-1', features: valid },
          { id: 'r-1', features: valid },
        ],
      },
      400,
      'duplicate_ids',
      'body.rows.1.id',
    ],
    ['an id used before', { id: 'b-1', features: valid }, 409, 'prediction_exists', 'body.id'],
    [
      'an id used before, in a batch',
      {
        rows: [
          { id: 'new-1', features: valid },
          { id: 'b-2', features: valid },
        ],
      },
      409,
      'prediction_exists',
      'body.rows.1.id',
    ],
  ])('refuses %s precisely and stores nothing', async (_name, body, status, code, path) => {
    const before = await predictions();
    const res = await api.call('POST', '/v1/models/credit/predict', body);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    if (path) expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(path);
    expect(await predictions()).toBe(before);
  });

  it('names each problem of a row and counts it', async () => {
    const reason = (problem: 'missing' | 'unseen_category') => rejectedCount('credit', 'predict', problem);
    const before = { missing: reason('missing'), unseen: reason('unseen_category') };
    const res = await api.call('POST', '/v1/models/credit/predict', {
      features: { ...valid, income: undefined, channel: 'fax', region: 'mars' },
    });
    expect(res.body.error.issues).toEqual([
      { path: 'body.features.income', message: 'missing: is missing' },
      {
        path: 'body.features.region',
        message: 'unseen_category: "mars" is not one of northeast, midwest, south, west',
      },
      {
        path: 'body.features.channel',
        message: 'unseen_category: "fax" is not one of branch, web, mobile, broker',
      },
    ]);
    expect(reason('missing')).toBe(before.missing + 1);
    expect(reason('unseen_category')).toBe(before.unseen + 2);
  });

  it('refuses oversize batches and bodies with their limits named', async () => {
    const before = await predictions();
    const tooMany = await api.call('POST', '/v1/models/credit/predict', {
      rows: Array.from({ length: MAX_BATCH_ROWS + 1 }, () => ({ features: valid })),
    });
    expect(tooMany).toMatchObject({ status: 400, body: { error: { code: 'batch_too_large' } } });
    expect(tooMany.body.error.message).toContain(`at most ${MAX_BATCH_ROWS} rows`);
    const huge = await api.call('POST', '/v1/models/credit/predict', {
      features: { ...valid, note: 'x'.repeat(3 * 1024 * 1024) },
    });
    expect(huge).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    expect(huge.body.error.message).toMatch(/over the limit of 2097152 bytes/);
    expect(await predictions()).toBe(before);
  });

  it('answers 404 for a model that is not registered', async () => {
    const res = await api.call('POST', '/v1/models/ghost/predict', { features: valid });
    expect(res).toMatchObject({ status: 404, body: { error: { code: 'model_not_found' } } });
  });

  it('serves invalid rows of a model that flags them, and stores the violations', async () => {
    await registerCreditModel(api.call, 'credit-flag'); // onInvalid: flag is the default
    await registerCreditVersion(api.call, 'credit-flag', { artifact: production });
    expect(
      (await api.call('POST', '/v1/models/credit-flag/deployment', { production: 1, reason: 'first' }))
        .status,
    ).toBe(201);
    const before = flaggedCount('credit-flag', 'predict', 'out_of_range');
    const res = await api.call('POST', '/v1/models/credit-flag/predict', {
      rows: [
        {
          id: 'flag-1',
          features: { ...valid, income: valid.income === null ? 1 : Number(valid.income) * 1000 },
        },
        { id: 'flag-2', features: valid },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.predictions[0].violations).toEqual([
      {
        feature: 'income',
        problem: 'out_of_range',
        message: expect.stringMatching(/above the maximum 1000/),
      },
    ]);
    expect(res.body.predictions[1]).not.toHaveProperty('violations');
    const flagged = await db.store.prediction.findFirstOrThrow({ where: { id: 'flag-1' } });
    expect(flagged.quality).toEqual({ violations: [{ feature: 'income', problem: 'out_of_range' }] });
    expect(flagged.output).not.toBeNull();
    expect((await db.store.prediction.findFirstOrThrow({ where: { id: 'flag-2' } })).quality).toBeNull();
    expect(flaggedCount('credit-flag', 'predict', 'out_of_range')).toBe(before + 1);
  });

  it('joins labels that arrive later to gateway predictions, but not to shadow copies', async () => {
    const labels = await api.call('POST', '/v1/models/credit/labels', {
      labels: [
        { predictionId: 'b-1', label: '1' },
        { predictionId: 'shadowed-1', label: 0, ts: '2026-11-20T00:00:00Z' },
      ],
    });
    expect(labels).toMatchObject({ status: 202, body: { accepted: 2 } });
    const joined = await db.store.prediction.findMany({
      where: { id: { in: ['b-1', 'b-2', 'shadowed-1', 'shadowed-1:shadow'] } },
      include: { label: true },
      orderBy: { id: 'asc' },
    });
    expect(joined.map((p) => [p.id, p.label?.value ?? null])).toEqual([
      ['b-1', '1'],
      ['b-2', null],
      ['shadowed-1', 0],
      ['shadowed-1:shadow', null],
    ]);
    expect(joined[2]!.label!.observedAt.toISOString()).toBe('2026-11-20T00:00:00.000Z');
    const onShadow = await api.call('POST', '/v1/models/credit/labels', {
      labels: [{ predictionId: 'shadowed-2:shadow', label: '1' }],
    });
    expect(onShadow).toMatchObject({ status: 422, body: { error: { code: 'unknown_prediction' } } });
  });
});
