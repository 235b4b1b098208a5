// ONNX models made in Python pipelines (test/fixtures/onnx-models.json, from
// scripts/reference/onnx_models.py) go through the registry and the gateway like any version, on SQLite and
// PostgreSQL: registered with their reference profile and metrics computed here, served in production,
// as a canary and as a shadow, every prediction stored.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT } from '../../lib/db/config.ts';
import { drainPredictionWriters } from '../../lib/ingest/prediction-writer.ts';
import { loadModel, parseModelArtifact } from '../../lib/models/index.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase } from '../helpers/db.ts';

interface FixtureModel {
  name: string;
  classes?: string[];
  onnx: string;
  rows: Record<string, number | string | null>[];
  labels: string[];
  probabilities?: number[][];
}
const fixture: { models: FixtureModel[] } = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'onnx-models.json'), 'utf8'),
);
const pipeline = fixture.models.find((m) => m.name === 'sklearn-pipeline-logistic')!;
const xgboost = fixture.models.find((m) => m.name === 'xgboost-classifier')!;
const NUMERIC = ['income', 'debt_ratio', 'age'];

const pipelineArtifact = { kind: 'onnx', task: 'binary', model: pipeline.onnx, classes: pipeline.classes };
const xgboostArtifact = {
  kind: 'onnx',
  task: 'binary',
  model: xgboost.onnx,
  classes: xgboost.classes,
  features: NUMERIC,
};
/** The Python model's class for each row: the most probable one. */
const pythonClass = (m: FixtureModel, i: number) =>
  m.classes![m.probabilities![i]![1]! > m.probabilities![i]![0]! ? 1 : 0];

describeEachProvider('ONNX models on %s', (provider) => {
  let db: TestDatabase;
  let api: TestApi;

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    api = await startTestApi(db.store);
    const res = await api.call('POST', '/v1/models', {
      name: 'churn',
      task: 'binary',
      labels: ['0', '1'],
      featureSchema: [
        { name: 'income', type: 'numeric', nullable: true },
        { name: 'debt_ratio', type: 'numeric' },
        { name: 'age', type: 'numeric' },
        { name: 'region', type: 'categorical', categories: ['north', 'south', 'east', 'west'] },
      ],
    });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await api?.close();
    await drainPredictionWriters();
    await db?.drop();
  });

  it('registers a scikit-learn pipeline with the metrics its own answers give on the reference rows', async () => {
    const res = await api.call('POST', '/v1/models/churn/versions', {
      artifact: pipelineArtifact,
      data: { rows: pipeline.rows, labels: pipeline.labels },
    });
    expect(res.status).toBe(201);
    const expectedAccuracy =
      pipeline.labels.filter((label, i) => label === pythonClass(pipeline, i)).length /
      pipeline.labels.length;
    expect(res.body.version).toMatchObject({ version: 1, kind: 'onnx', status: 'candidate' });
    expect(res.body.version.metrics).toMatchObject({ count: 40, evaluatedOn: 'reference' });
    expect(res.body.version.metrics.accuracy).toBeCloseTo(expectedAccuracy, 10);
    expect(res.body.version.referenceStats.rows).toBe(40);
    // The artifact comes back byte for byte: the stored model is the one registered.
    const stored = await api.call('GET', '/v1/models/churn/versions/1');
    expect(stored.body.version.artifact).toEqual(pipelineArtifact);

    const xgb = await api.call('POST', '/v1/models/churn/versions', {
      artifact: xgboostArtifact,
      data: {
        rows: xgboost.rows.map((r, i) => ({ ...r, region: pipeline.rows[i]!.region })),
        labels: xgboost.labels,
      },
    });
    expect(xgb.status).toBe(201);
    expect(xgb.body.version).toMatchObject({ version: 2, kind: 'onnx' });
  });

  it('refuses an ONNX artifact that cannot serve the model, and stores nothing', async () => {
    const before = await db.store.modelVersion.count();
    const cases: [unknown, string][] = [
      [{ ...xgboostArtifact, features: ['income', 'age'] }, '3 columns'],
      [{ ...xgboostArtifact, model: Buffer.from('garbage').toString('base64') }, 'does not load'],
      [{ ...xgboostArtifact, classes: ['0', '1', '2'] }, 'classes the model does not have'],
    ];
    for (const [artifact, message] of cases) {
      const res = await api.call('POST', '/v1/models/churn/versions', {
        artifact,
        data: { rows: pipeline.rows, labels: pipeline.labels },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_artifact');
      expect(res.body.error.message).toContain(message);
    }
    expect(await db.store.modelVersion.count()).toBe(before);
  });

  it('serves the pipeline in production with the answers Python gives, and a canary and a shadow beside it', async () => {
    const deploy = (body: Record<string, unknown>) =>
      api.call('POST', '/v1/models/churn/deployment', { reason: 'onnx test', ...body });
    expect((await deploy({ production: 1 })).status).toBe(201);
    const single = await api.call('POST', '/v1/models/churn/predict', {
      id: 'p-0',
      features: pipeline.rows[3],
    });
    expect(single.status).toBe(200);
    expect(single.body).toMatchObject({
      version: 1,
      route: 'production',
      prediction: pythonClass(pipeline, 3),
    });
    expect(single.body.probabilities['1']).toBeCloseTo(pipeline.probabilities![3]![1]!, 5);

    const split = await deploy({ canary: { version: 2, share: 0.5 } });
    expect(split.status, JSON.stringify(split.body)).toBe(201);
    const serve = async (prefix: string) => {
      const rows = pipeline.rows.map((features, i) => ({ id: `${prefix}-${i}`, features }));
      const batch = await api.call('POST', '/v1/models/churn/predict', { rows });
      expect(batch.status).toBe(200);
      return batch.body.predictions as { id: string; version: number; route: string; prediction: string }[];
    };
    // The XGBoost model's answers on these rows, from the adapter the unit test checks against Python.
    const xgbAnswers = (await loadModel(parseModelArtifact(xgboostArtifact)).predict(pipeline.rows)).map(
      (o) => o.prediction,
    );
    const split1 = await serve('c');
    expect(new Set(split1.map((a) => a.route))).toEqual(new Set(['production', 'canary']));
    split1.forEach((a, i) => {
      expect(a.version).toBe(a.route === 'canary' ? 2 : 1);
      expect(a.prediction).toBe(a.route === 'canary' ? xgbAnswers[i] : pythonClass(pipeline, i));
    });

    // The XGBoost model in shadow: production answers every row, the shadow's answers are stored apart.
    expect((await deploy({ canary: null, shadow: 2 })).status).toBe(201);
    const shadowed = await serve('s');
    expect(shadowed.every((a) => a.route === 'production' && a.version === 1)).toBe(true);
    await drainPredictionWriters();
    expect(await db.store.prediction.count({ where: { id: { startsWith: 'c-' } } })).toBe(40);
    const shadows = await db.store.prediction.findMany({ where: { source: 'shadow' } });
    expect(shadows).toHaveLength(40);
    const byOrigin = new Map(shadows.map((p) => [p.shadowOf, p]));
    shadowed.forEach((a, i) => {
      expect((byOrigin.get(a.id)!.output as { prediction: string }).prediction).toBe(xgbAnswers[i]);
    });
  });
});
