'use client';
import type { AgentResponse, AgentState } from '../lib/types';
import { agentPath, OperatorForm, operatorRequest } from './OperatorForm';

/** Pause or resume the model's agent (a workflow update, audited). */
export function AgentControls({
  model,
  paused,
  onChanged,
}: {
  model: string;
  paused: boolean;
  onChanged: (agent: AgentState) => void;
}) {
  return (
    <OperatorForm
      label={paused ? 'Resume agent' : 'Pause agent'}
      secondary={!paused}
      help={
        paused
          ? 'The agent is paused: it neither measures nor acts. Resuming runs a cycle at once.'
          : 'Pausing stops the agent’s loop (no measuring, no actions) until someone resumes it.'
      }
      placeholder={paused ? 'e.g. upstream fix deployed' : 'e.g. investigating a feature pipeline'}
      submit={async (body) => {
        const { agent } = await operatorRequest<AgentResponse>(
          agentPath(model, paused ? 'resume' : 'pause'),
          body,
        );
        onChanged(agent);
        return agent.paused ? 'The agent is paused.' : 'The agent is running again.';
      }}
    />
  );
}
