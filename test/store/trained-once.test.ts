// The premise of test/helpers/trained-once.ts, which the scenario runs and the monitor suite rely on: a
// version stored again under another model is the version registerVersion would have trained for it, field
// by field and in the stored JSON's text (exact floats). Should a trainer stop being deterministic, or the
// row come to depend on the model, this fails instead of the helper hiding it.
import { expect, it } from 'vitest';
import type { DatabaseProvider } from '../../lib/db/config.ts';
import { registerVersion } from '../../lib/registry/versions.ts';
import { DEMO_MODELS } from '../../lib/sim/demo-models.ts';
import { scenarioTrainer } from '../../lib/sim/recovery-goal.ts';
import { referenceData } from '../../lib/sim/setup.ts';
import { createTestDatabase, describeEachProvider } from '../helpers/db.ts';
import { registerTrainedOnce } from '../helpers/trained-once.ts';

/** The stored JSON columns as text, as the database holds them. */
async function storedText(
  store: Awaited<ReturnType<typeof createTestDatabase>>['store'],
  provider: DatabaseProvider,
  id: string,
) {
  const cast = provider === 'postgresql' ? '::text' : '';
  const param = provider === 'postgresql' ? '$1' : '?';
  return store.$queryRawUnsafe<unknown[]>(
    `SELECT "artifact"${cast} AS a, "referenceStats"${cast} AS r, "metrics"${cast} AS m, "trainingWindow"${cast} AS t FROM "ModelVersion" WHERE "id" = ${param}`,
    id,
  );
}

describeEachProvider('a trained version stored again on %s', (provider) => {
  it.each(DEMO_MODELS.map((m) => [m.name, m] as const))(
    '%s: is the version trained again',
    { timeout: 120_000 },
    async (_, model) => {
      const db = await createTestDatabase(provider);
      try {
        // The scenario harness's trainer on the size of its fallback: as deterministic, and cheaper to train.
        const body = { train: { trainer: scenarioTrainer(model) }, data: referenceData(model, 300, 8) };
        const createModel = (name: string) =>
          db.store.model.create({
            data: {
              name,
              task: model.task,
              featureSchema: model.schema,
              ...(model.task === 'regression' ? {} : { labels: ['0', '1'] }),
            },
          });
        const once = (name: string) =>
          registerTrainedOnce(db.store, name, `${provider} ${model.name}`, () =>
            registerVersion(db.store, name, body),
          );
        await createModel('first');
        await once('first');
        await createModel('stored-again');
        const storedAgain = await once('stored-again');
        await createModel('trained-again');
        const trainedAgain = await registerVersion(db.store, 'trained-again', body);
        const fields = ({ id, modelId, createdAt, ...rest }: typeof storedAgain) => rest;
        expect(fields(storedAgain)).toEqual(fields(trainedAgain));
        expect(await storedText(db.store, provider, storedAgain.id)).toEqual(
          await storedText(db.store, provider, trainedAgain.id),
        );
        // Stored again as the model's next version, as registerVersion numbers them.
        expect((await once('stored-again')).version).toBe(2);
      } finally {
        await db.drop();
      }
    },
  );
});
