// What the gateway needs to route a request — the model's schema and settings and its current deployment
// with version numbers — cached per model, so that a prediction costs no registry queries. An entry is
// reloaded when this process changed the model's serving state (lib/registry/changes.ts) or when it is
// older than the TTL, which bounds how long a change made by another process (the worker's rollback, say)
// takes to reach the gateway: HOMEOSTAT_SERVING_CACHE_MS, 1,000 ms by default.
import type { Store } from '../db/client.ts';
import type { Task } from '../domain.ts';
import { type OnInvalid, type RowValidator, rowValidator } from '../ingest/validate.ts';
import { storedSegments } from '../segments/definition.ts';
import { servingGeneration } from './changes.ts';
import { currentRevision } from './revisions.ts';
import type { DisabledResponse, ServingDeployment } from './routing.ts';
import { modelShape } from './versions.ts';

export const DEFAULT_SERVING_CACHE_MS = Number(process.env.HOMEOSTAT_SERVING_CACHE_MS ?? 1000);

export interface ServingState {
  model: {
    id: string;
    name: string;
    task: Task;
    /** Class labels; empty for regression. */
    classes: string[];
    onInvalid: OnInvalid;
    disabledResponse: DisabledResponse;
  };
  validate: RowValidator;
  /** Null until the model's first deployment. */
  deployment: ServingDeployment | null;
}

export async function loadServingState(store: Store, modelName: string): Promise<ServingState | null> {
  const model = await store.model.findUnique({ where: { name: modelName } });
  if (!model) return null;
  const shape = modelShape(model);
  const revision = await currentRevision(store, model.id);
  let deployment: ServingDeployment | null = null;
  if (revision) {
    const ids = [
      revision.productionVersionId,
      revision.fallbackVersionId,
      revision.canaryVersionId,
      revision.shadowVersionId,
    ].filter((id): id is string => id !== null);
    const versions = await store.modelVersion.findMany({
      where: { id: { in: ids } },
      select: { id: true, version: true },
    });
    const byId = new Map(versions.map((v) => [v.id, v]));
    const ref = (id: string | null) => (id ? (byId.get(id) ?? null) : null);
    deployment = {
      revision: revision.revision,
      mode: revision.mode as ServingDeployment['mode'],
      production: ref(revision.productionVersionId),
      fallback: ref(revision.fallbackVersionId),
      canary: ref(revision.canaryVersionId),
      canaryShare: revision.canaryShare,
      shadow: ref(revision.shadowVersionId),
      // By name: a restored revision may name a segment the model no longer defines, which then serves nothing.
      fallbackSegments: storedSegments(model.segments, shape.schema).filter((s) =>
        ((revision.fallbackSegments as string[] | null) ?? []).includes(s.name),
      ),
    };
  }
  return {
    model: {
      id: model.id,
      name: model.name,
      task: shape.task,
      classes: shape.classes,
      onInvalid: model.onInvalid as OnInvalid,
      disabledResponse: model.disabledResponse as DisabledResponse,
    },
    validate: rowValidator(shape.schema),
    deployment,
  };
}

interface Entry {
  state: Promise<ServingState | null>;
  loadedAt: number;
  generation: number;
}

export class ServingStateCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly store: Store,
    private readonly ttlMs = DEFAULT_SERVING_CACHE_MS,
  ) {}

  /** The model's serving state, or null if no such model is registered (not cached). */
  get(modelName: string): Promise<ServingState | null> {
    const generation = servingGeneration(modelName);
    const now = Date.now();
    const entry = this.entries.get(modelName);
    if (entry && entry.generation === generation && now - entry.loadedAt < this.ttlMs) return entry.state;
    // Concurrent requests share one load.
    const state = loadServingState(this.store, modelName);
    const fresh = { state, loadedAt: now, generation };
    this.entries.set(modelName, fresh);
    state.then(
      (loaded) => {
        if (loaded === null && this.entries.get(modelName) === fresh) this.entries.delete(modelName);
      },
      () => {
        if (this.entries.get(modelName) === fresh) this.entries.delete(modelName);
      },
    );
    return state;
  }
}
