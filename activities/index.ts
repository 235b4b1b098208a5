// All activities of the worker, built around one store. Workflows import only the type.
import type { Store } from '../lib/db/client.ts';
import { createAuditActivities } from './audit.ts';
import type { RecoveryActivities } from './contracts.ts';
import { createDeploymentActivities } from './deployment.ts';
import { createEvidenceActivities } from './evidence.ts';
import { createIncidentActivities } from './incidents.ts';
import { createMonitorActivities } from './monitor.ts';
import { createPolicyActivities } from './policy.ts';
import { createRetrainActivities } from './retrain.ts';

export function createActivities(store: Store) {
  const recovery: RecoveryActivities = {
    ...createDeploymentActivities(store),
    ...createRetrainActivities(store),
    ...createEvidenceActivities(store),
    ...createIncidentActivities(store),
    ...createPolicyActivities(store),
  };
  return { ...createMonitorActivities(store), ...createAuditActivities(store), ...recovery };
}

export type Activities = ReturnType<typeof createActivities>;
