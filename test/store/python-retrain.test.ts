// A retrain by the Python worker, its TypeScript halves over the store: collectTrainingSet hands out the
// training rows of a concept drift (and only ids for the held-out ones), the Python pipeline fits an ONNX
// candidate on them (the same code the worker runs, through `python -m homeostat_trainer.fit`), and
// registerCandidate registers it like any candidate: lineage, reference profile, held-out comparison,
// once per key.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRetrainActivities, type RemoteTrainingSet } from '../../activities/retrain.ts';
import { fitPythonPipeline } from '../../lib/models/python-fit.ts';
import { changeDeployment } from '../../lib/registry/revisions.ts';
import { registerVersion } from '../../lib/registry/versions.ts';
import { creditDefault, creditDefaultLogit, sigmoid } from '../../lib/sim/demo-models.ts';
import { findScenario, type Scenario } from '../../lib/sim/scenarios.ts';
import { referenceData } from '../../lib/sim/setup.ts';
import { generateStream } from '../../lib/sim/stream.ts';
import { CREDIT_LABELS } from '../helpers/credit-model.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase } from '../helpers/db.ts';

const ONSET = '2026-03-01T00:00:00.000Z';
const drift: Scenario = {
  ...findScenario('concept-drift')!,
  onset: 0,
  transform: {
    label: (row, rng) =>
      rng.bernoulli(sigmoid(creditDefaultLogit(row) + 20 * ((row.debt_to_income as number) - 0.3))) ? 1 : 0,
  },
};

describeEachProvider('a retrain by the Python worker on %s', (provider) => {
  let db: TestDatabase;
  let productionVersion: number;

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    const model = await db.store.model.create({
      data: { name: 'credit', task: 'binary', featureSchema: creditDefault.schema, labels: CREDIT_LABELS },
    });
    const data = referenceData(creditDefault, 1500, 3);
    const artifact = await fitPythonPipeline('sklearn-gradient-boosting', {
      task: 'binary',
      schema: creditDefault.schema,
      data,
      classes: CREDIT_LABELS,
    });
    productionVersion = (await registerVersion(db.store, 'credit', { artifact, data })).version;
    await changeDeployment(db.store, 'credit', {
      production: productionVersion,
      reason: 'r',
      actor: 'human:t',
    });
    const production = await db.store.modelVersion.findFirstOrThrow({ where: { modelId: model.id } });
    const events = [
      ...generateStream({ model: creditDefault, scenario: drift, seed: 5, count: 900, startTime: ONSET }),
    ];
    await db.store.prediction.createMany({
      data: events.map((e) => ({
        id: e.predictionId,
        modelId: model.id,
        versionId: production.id,
        source: 'gateway',
        features: e.features,
        output: { prediction: '0' },
        predictedAt: new Date(e.ts),
        receivedAt: new Date(e.ts),
      })),
    });
    await db.store.label.createMany({
      data: events
        .filter((e) => e.label !== null)
        .map((e) => ({
          modelId: model.id,
          predictionId: e.predictionId,
          value: String(e.label),
          observedAt: new Date(e.ts),
          receivedAt: new Date(e.ts),
        })),
    });
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
  });

  it('collects, fits in Python and registers an ONNX candidate that beats production, once per key', {
    timeout: 120_000,
  }, async () => {
    const acts = createRetrainActivities(db.store);
    const request = {
      modelName: 'credit',
      key: 'k1',
      incidentId: null,
      since: ONSET,
      minRows: 300,
      holdoutShare: 0.3,
      alpha: 0.05,
      maxRows: 5000,
      materialGain: 0.02,
    };
    const collected = (await acts.collectTrainingSet(request)) as RemoteTrainingSet;
    expect(collected.status).toBe('collected');
    expect(collected.training.rows).toHaveLength(collected.trainingIds.length);
    expect(collected).not.toHaveProperty('holdout'); // held-out rows stay in the store
    const { status: _, task, schema, classes, training, ...ref } = collected;
    const candidate = await fitPythonPipeline('sklearn-gradient-boosting', {
      task,
      schema,
      data: training,
      classes,
    });

    const trained = await acts.registerCandidate({ ...request, collected: ref, candidate });
    expect(trained).toMatchObject({
      status: 'trained',
      trainRows: ref.trainingIds.length,
      holdoutRows: ref.holdoutIds.length,
      better: true,
    });
    if (trained.status !== 'trained') throw new Error('not trained');
    expect(trained.candidate).toBeGreaterThan(trained.production);
    const version = await db.store.modelVersion.findFirstOrThrow({ where: { version: trained.version } });
    expect((version.artifact as { kind: string }).kind).toBe('onnx');
    expect(version.referenceStats).not.toBeNull();
    expect(version.parentVersionId).not.toBeNull();

    // A retry answers the same candidate and registers nothing more.
    expect(await acts.registerCandidate({ ...request, collected: ref, candidate })).toEqual(trained);
    expect(await acts.collectTrainingSet(request)).toEqual(trained);
    expect(await db.store.modelVersion.count()).toBe(2);
  });
});
