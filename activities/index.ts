// All activities of the worker, built around one store. Workflows import only the type.
import type { Store } from '../lib/db/client.ts';
import { createAuditActivities } from './audit.ts';
import { createMonitorActivities } from './monitor.ts';

export function createActivities(store: Store) {
  return { ...createMonitorActivities(store), ...createAuditActivities(store) };
}

export type Activities = ReturnType<typeof createActivities>;
