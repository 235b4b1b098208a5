// Loaded model adapters, cached per version: artifacts are immutable, so a version is read from the store
// and deserialised once, however many predictions it serves. Least recently used versions are dropped
// beyond the capacity, and a failed load is not cached (the next request tries again).
import type { Store } from '../db/client.ts';
import { loadModel, type ModelAdapter, parseModelArtifact } from '../models/index.ts';

export const DEFAULT_ADAPTER_CACHE_SIZE = 32;

export class ModelAdapterCache {
  private readonly entries = new Map<string, Promise<ModelAdapter>>();

  constructor(
    private readonly store: Store,
    private readonly capacity = DEFAULT_ADAPTER_CACHE_SIZE,
  ) {}

  get(versionId: string): Promise<ModelAdapter> {
    const cached = this.entries.get(versionId);
    if (cached) {
      // Re-inserting keeps the map in least-recently-used order.
      this.entries.delete(versionId);
      this.entries.set(versionId, cached);
      return cached;
    }
    const loading = this.load(versionId);
    this.entries.set(versionId, loading);
    loading.catch(() => {
      if (this.entries.get(versionId) === loading) this.entries.delete(versionId);
    });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return loading;
  }

  private async load(versionId: string): Promise<ModelAdapter> {
    const version = await this.store.modelVersion.findUnique({
      where: { id: versionId },
      select: { artifact: true },
    });
    if (!version) throw new Error(`model version ${versionId} does not exist`);
    return loadModel(parseModelArtifact(version.artifact));
  }
}
