// Writes labelled predictions straight into the store, as ingestion would, with a chosen accuracy.
import type { Store } from '../../lib/db/client.ts';

export const BINARY_LABELS = ['no', 'yes'];

export async function registerTestModel(store: Store, name: string) {
  return store.model.create({
    data: {
      name,
      task: 'binary',
      labels: BINARY_LABELS,
      featureSchema: [{ name: 'x', type: 'numeric', nullable: false }],
    },
  });
}

/** `count` predictions, all labelled, of which round(count × accuracy) are right. */
export async function seedLabelledTraffic(
  store: Store,
  modelId: string,
  batch: string,
  count: number,
  accuracy: number,
  /** When the rows arrived (and their labels with them): now unless given. */
  now = new Date(),
): Promise<void> {
  const correct = Math.round(count * accuracy);
  const predictions = Array.from({ length: count }, (_, i) => ({
    id: `${batch}-${i}`,
    modelId,
    source: 'logged',
    features: { x: i },
    output: { prediction: 'yes' },
    predictedAt: now,
    receivedAt: now,
  }));
  await store.prediction.createMany({ data: predictions });
  await store.label.createMany({
    data: predictions.map((p, i) => ({
      modelId,
      predictionId: p.id,
      value: i < correct ? 'yes' : 'no',
      observedAt: now,
      receivedAt: now,
    })),
  });
}
