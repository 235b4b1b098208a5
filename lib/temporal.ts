// How every Homeostat process reaches Temporal, and how agents are started. Environment:
// TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE (default "default"),
// HOMEOSTAT_TASK_QUEUE (default "homeostat"), HOMEOSTAT_CYCLE_INTERVAL (agent cycle, default 1 minute).
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { agentWorkflowId } from '../workflows/messages.ts';
import type { AgentInput } from '../workflows/types.ts';

export const temporalSettings = () => ({
  address: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233',
  namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
  taskQueue: process.env.HOMEOSTAT_TASK_QUEUE ?? 'homeostat',
});

/**
 * A client that connects on first use. The API starts and serves predictions, ingestion and the registry
 * while Temporal is down, and each call reaches Temporal again once it is back. A call to an unreachable
 * Temporal is retried (transient errors) until its deadline: give every call one (`client.withDeadline`).
 */
export function lazyClient(connection: ConnectionOptions = {}): Client {
  const { address, namespace } = temporalSettings();
  return new Client({ connection: Connection.lazy({ address, ...connection }), namespace });
}

/** gRPC's DEADLINE_EXCEEDED, on the error or the cause the SDK wrapped it in. */
export function isDeadlineExceeded(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === 4) return true;
  }
  return false;
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
