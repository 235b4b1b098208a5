// Queries and updates of the agent workflow, imported by the workflow and by its callers (API, tests).
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { WebhookRemedyAnswer } from '../lib/brain/contracts.ts';
import type { CycleClock } from '../lib/brain/cycle-clock.ts';
import type {
  AcknowledgeRequest,
  AgentState,
  AgentStatus,
  ApprovalAnswer,
  PauseRequest,
  PolicyChangeRequest,
  RevertActionRequest,
} from '../lib/brain/types.ts';

export const statusQuery = defineQuery<AgentStatus>('status');
/** The grid of the agent's cycles, from which a caller can tell when the next one comes. */
export const cycleClockQuery = defineQuery<CycleClock>('cycleClock');
export const pauseUpdate = defineUpdate<AgentState, [PauseRequest]>('pause');
export const resumeUpdate = defineUpdate<AgentState, [PauseRequest]>('resume');
export const approveUpdate = defineUpdate<AgentState, [ApprovalAnswer]>('approve');
export const rejectUpdate = defineUpdate<AgentState, [ApprovalAnswer]>('reject');
export const acknowledgeUpdate = defineUpdate<AgentState, [AcknowledgeRequest]>('acknowledge');
export const revertUpdate = defineUpdate<AgentState, [RevertActionRequest]>('revert');
export const setPolicyUpdate = defineUpdate<AgentState, [PolicyChangeRequest]>('setPolicy');
/** The user's system reports the result of a `webhook` remedy to the child waiting for it. */
export const webhookRemedyResultUpdate = defineUpdate<WebhookRemedyAnswer, [WebhookRemedyAnswer]>(
  'webhookRemedyResult',
);
