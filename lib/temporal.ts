// How every Homeostat process reaches Temporal, and how agents are started. Environment:
// TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE (default "default"),
// HOMEOSTAT_TASK_QUEUE (default "homeostat"), HOMEOSTAT_CYCLE_INTERVAL (agent cycle, default 1 minute).
import { Client, Connection } from '@temporalio/client';
import { agentWorkflowId } from '../workflows/messages.ts';
import type { AgentInput } from '../workflows/types.ts';

export const temporalSettings = () => ({
  address: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233',
  namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
  taskQueue: process.env.HOMEOSTAT_TASK_QUEUE ?? 'homeostat',
});

export async function connectClient(): Promise<Client> {
  const { address, namespace } = temporalSettings();
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace });
}

export interface AgentOptions {
  taskQueue: string;
  cycleInterval?: string | number;
}

export function agentOptionsFromEnv(): AgentOptions {
  return {
    taskQueue: temporalSettings().taskQueue,
    cycleInterval: process.env.HOMEOSTAT_CYCLE_INTERVAL,
  };
}

/**
 * Starts the model's agent unless it is already running. Safe to call from several processes at once:
 * the workflow id is the model's, and an existing run is kept.
 */
export async function ensureAgent(client: Client, modelName: string, options: AgentOptions): Promise<string> {
  const input: AgentInput = { modelName };
  if (options.cycleInterval !== undefined) input.cycleInterval = options.cycleInterval;
  const handle = await client.workflow.start('agentWorkflow', {
    workflowId: agentWorkflowId(modelName),
    taskQueue: options.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return handle.firstExecutionRunId;
}
