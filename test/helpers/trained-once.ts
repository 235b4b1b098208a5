// Registering a version that the same inputs always train alike, once per test file. A built-in trainer is
// deterministic (the same rows, trainer, options and holdout seed train the same model), and the version
// row registerVersion stores (artifact, reference profile, metrics, training window) depends on nothing
// else but the model's segments at registration (the reference profile profiles each: ReferenceProfile.
// segments), which the key must therefore name too: not on the model's name or policy. Files that give many models the same trained version
// (a scenario file on one seed, the monitor suite) spent a fifth to a tenth of their CPU training it again
// for each. The first model of a kind registers it the real way (the API, or registerVersion); each later
// model gets that row stored again as registerVersion stores it (insertVersion: exact floats), under its own
// next version number.
import { randomUUID } from 'node:crypto';
import type { Store } from '../../lib/db/client.ts';
import type { ModelArtifact } from '../../lib/models/index.ts';
import type { ReferenceProfile } from '../../lib/monitor/index.ts';
import { insertVersion } from '../../lib/registry/versions.ts';

type VersionRow = Awaited<ReturnType<Store['modelVersion']['findUniqueOrThrow']>>;

/** Rows made in this process (one test file), by what trained them. */
const made = new Map<string, Promise<VersionRow>>();

/**
 * The model `modelName`'s next version, trained as `key` says. `register` registers it for real and
 * answers the new version's id; it runs for the first model of each key in this process, and again after
 * a failure. The key must name everything the row depends on (data, its seed, trainer, options, and the
 * model's segments).
 */
export async function registerTrainedOnce(
  store: Store,
  modelName: string,
  key: string,
  register: () => Promise<{ id: string }>,
): Promise<VersionRow> {
  const first = made.get(key);
  if (!first) {
    const row = register().then(({ id }) => store.modelVersion.findUniqueOrThrow({ where: { id } }));
    made.set(key, row);
    row.catch(() => made.delete(key));
    return row;
  }
  const trained = await first;
  const model = await store.model.findUniqueOrThrow({ where: { name: modelName } });
  const last = await store.modelVersion.findFirst({
    where: { modelId: model.id },
    orderBy: { version: 'desc' },
    select: { version: true },
  });
  const id = randomUUID();
  await insertVersion(store, {
    id,
    modelId: model.id,
    version: (last?.version ?? 0) + 1,
    artifact: trained.artifact as unknown as ModelArtifact,
    referenceStats: trained.referenceStats as unknown as ReferenceProfile | null,
    metrics: trained.metrics as Record<string, unknown> | null,
    trainingWindow: trained.trainingWindow as Record<string, unknown> | null,
    parentVersionId: null,
    incidentId: null,
  });
  return store.modelVersion.findUniqueOrThrow({ where: { id } });
}
