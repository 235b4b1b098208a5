// Shared lookups for routes under /v1/models/:model.
import type { Store } from '../lib/db/client.ts';
import { HttpError } from './errors.ts';

export async function findModelOr404(store: Store, name: string) {
  const model = await store.model.findUnique({ where: { name } });
  if (!model) throw new HttpError(404, 'model_not_found', `model "${name}" is not registered`);
  return model;
}
