// The API's response shapes, defined once by the API and imported here as types only.

import type { AgentStatus } from '../../lib/brain/types.ts';
import type { Policy } from '../../lib/policy/policy.ts';

export type {
  ActionsResponse,
  ActionView,
  Baseline,
  DecisionsResponse,
  DecisionView,
  DriftCell,
  DriftResponse,
  FindingView,
  FleetEntry,
  FleetModelResponse,
  FleetResponse,
  IncidentDetail,
  IncidentsResponse,
  IncidentView,
  TimelineEntry,
  TimelineStage,
  WindowPoint,
  WindowsResponse,
} from '../../api/routes/history.ts';
export type { AgentState, Health, PendingApproval, RemedyAttempt } from '../../lib/brain/types.ts';
export type { ReferenceProfile } from '../../lib/monitor/reference.ts';
export type { Policy } from '../../lib/policy/policy.ts';

/** GET /v1/models/:model/agent (api/routes/agents.ts): the agent workflow's own status query. */
export interface AgentResponse {
  agent: AgentStatus & { workflowId: string };
}

/** GET /v1/models (api/routes/models.ts). */
export interface ModelsResponse {
  models: { name: string; task: string; createdAt: string }[];
  nextCursor: string | null;
}

// api/routes/registry.ts builds its answers with presenter functions that it does not export as types;
// these mirror them (presentSummary, presentVersion, revisionPresenter).

/** GET /v1/models/:model/versions: newest first, without artifacts. */
export interface VersionSummary {
  id: string;
  version: number;
  status: string;
  /** Validation metrics: numbers, and a few words such as the task and the averaging. */
  metrics: Record<string, unknown> | null;
  trainingWindow: { from: string; to: string } | null;
  parentVersion: number | null;
  incidentId: string | null;
  createdAt: string;
}
export interface VersionsResponse {
  versions: VersionSummary[];
}

/** GET /v1/models/:model/versions/:version. */
export interface VersionResponse {
  version: VersionSummary & { kind: string | null; referenceStats: unknown; artifact: unknown };
}

export interface VersionRef {
  id: string;
  version: number;
}

/** Each of GET /v1/models/:model/revisions (newest, the current one, first). */
export interface Revision {
  revision: number;
  mode: string;
  production: VersionRef | null;
  fallback: VersionRef | null;
  canary: (VersionRef & { share: number | null }) | null;
  shadow: VersionRef | null;
  /** The segments the fallback serves while production serves the rest. */
  fallbackSegments?: string[];
  restoredFrom: number | null;
  reason: string;
  actor: string;
  createdAt: string;
}
export interface RevisionsResponse {
  revisions: Revision[];
}

/** GET /v1/models/:model/policy: the active policy, its version (0: the defaults) and earlier versions. */
export interface PolicyResponse {
  version: number;
  policy: Policy;
  history?: { version: number; actor?: string; reason?: string; createdAt?: string }[];
}
