// Writes labelled predictions straight into the store, as ingestion would, with a chosen accuracy.
import type { Store } from '../../lib/db/client.ts';

export const BINARY_LABELS = ['no', 'yes'];

/**
 * A policy whose windows hold `rows` rows each (lib/brain/windows.ts): a test that writes a batch of that
 * many rows, then runs a cycle, has the agent judge that batch as one window, however long the writing
 * took on the wall clock (which the time-skipping server's cycles do not follow).
 */
export const countWindows = (rows: number) => ({ window: { kind: 'count', rows } });

export async function registerTestModel(store: Store, name: string, policy?: object) {
  return store.model.create({
    data: {
      name,
      policy,
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
): Promise<void> {
  const correct = Math.round(count * accuracy);
  const now = new Date();
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
