// The API's response shapes, defined once by the API and imported here as types only.
import type { AgentState } from '../../workflows/types.ts';

export type {
  ActionsResponse,
  ActionView,
  Baseline,
  DecisionsResponse,
  DecisionView,
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
export type { AgentState, Health } from '../../workflows/types.ts';

/** GET /v1/models/:model/agent (api/routes/agents.ts): the agent workflow's own status query. */
export interface AgentResponse {
  agent: AgentState & { workflowId: string };
}

/** GET /v1/models (api/routes/models.ts). */
export interface ModelsResponse {
  models: { name: string; task: string; createdAt: string }[];
}
