// All activities of the worker, built around one store. Workflows import only the type.

import type { RecoveryActivities } from '../lib/brain/contracts.ts';
import type { CustomFindingRule } from '../lib/brain/findings/custom.ts';
import type { Store } from '../lib/db/client.ts';
import { createAuditActivities } from './audit.ts';
import { createDeploymentActivities } from './deployment.ts';
import { createEvidenceActivities } from './evidence.ts';
import { createIncidentActivities } from './incidents.ts';
import { createMonitorActivities } from './monitor.ts';
import { createPolicyActivities } from './policy.ts';
import { createRetrainActivities } from './retrain.ts';
import { createWebhookRemedyActivities } from './webhook-remedy.ts';

/** What the worker adds to the core: the user's own finding rules (docs/extending.md). */
export interface Extensions {
  findingRules?: readonly CustomFindingRule[];
}

export function createActivities(store: Store, extensions: Extensions = {}) {
  const retrain = createRetrainActivities(store);
  const recovery: RecoveryActivities = {
    ...createDeploymentActivities(store),
    ...retrain,
    ...createEvidenceActivities(store),
    ...createIncidentActivities(store),
    ...createPolicyActivities(store),
    ...createWebhookRemedyActivities(store),
  };
  // A training on the Python worker: its rows are collected and its candidate registered here.
  const { collectTrainingSet, registerCandidate } = retrain;
  return {
    ...createMonitorActivities(store, { findingRules: extensions.findingRules ?? [] }),
    ...createAuditActivities(store),
    ...recovery,
    collectTrainingSet,
    registerCandidate,
  };
}

export type Activities = ReturnType<typeof createActivities>;
