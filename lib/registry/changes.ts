// A change counter per model, bumped whenever this process changes what the gateway serves (a new
// deployment revision, new serving settings). The gateway's cached serving state remembers the count it
// was loaded at and reloads when it moved, so changes made through this process apply to the very next
// request; changes made by another process (the worker's activities) apply when the cache expires.

const generations = new Map<string, number>();

export function servingGeneration(modelName: string): number {
  return generations.get(modelName) ?? 0;
}

export function markServingChanged(modelName: string): void {
  generations.set(modelName, servingGeneration(modelName) + 1);
}
