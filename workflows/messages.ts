// Queries and updates of the agent workflow, imported by the workflow and by its callers (API, tests).
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { AgentState, PauseRequest } from './types.ts';

export const statusQuery = defineQuery<AgentState>('status');
export const pauseUpdate = defineUpdate<AgentState, [PauseRequest]>('pause');
export const resumeUpdate = defineUpdate<AgentState, [PauseRequest]>('resume');

/** Workflow id of a model's agent: one long-running workflow per model. */
export function agentWorkflowId(modelName: string): string {
  return `agent:${modelName}`;
}
