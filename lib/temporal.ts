// How every Homeostat process reaches Temporal, and how agents are started. Environment:
// TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE (default "default"),
// HOMEOSTAT_TASK_QUEUE (default "homeostat"), HOMEOSTAT_CYCLE_INTERVAL (agent cycle, default 1 minute).
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { AGENT_DEFAULTS } from './agent-defaults.ts';
import type { AgentInput } from './brain/types.ts';
import { durationMs } from './policy/duration.ts';

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

/** The gRPC status code on the error or on the cause the SDK wrapped it in, if there is one. */
export function grpcCode(err: unknown): number | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === 'number') return e.code;
  }
  return undefined;
}

/** gRPC's DEADLINE_EXCEEDED, on the error or the cause the SDK wrapped it in. */
export function isDeadlineExceeded(err: unknown): boolean {
  return grpcCode(err) === 4;
}

export interface AgentOptions {
  taskQueue: string;
  cycleInterval?: string | number;
  /**
   * Delay a new agent's first cycle by a random part of one cycle interval. An agent sleeps one interval
   * after each cycle, so agents started together (a worker reconciling a thousand models) would otherwise
   * wake in the same second, every cycle, for good. Until its first cycle the agent answers no query.
   */
  startJitter?: boolean;
}

export function agentOptionsFromEnv(): AgentOptions {
  return {
    taskQueue: temporalSettings().taskQueue,
    cycleInterval: process.env.HOMEOSTAT_CYCLE_INTERVAL,
  };
}

/** How long a new agent waits before its first cycle: uniform over one cycle interval, or none. */
export function startDelayMs(options: AgentOptions, random: () => number = Math.random): number {
  if (!options.startJitter) return 0;
  return Math.floor(random() * durationMs(options.cycleInterval ?? AGENT_DEFAULTS.cycleInterval));
}

/**
 * Starts the model's agent unless it is already running. Safe to call from several processes at once:
 * the workflow id is the model's, and an existing run is kept.
 */
export async function ensureAgent(client: Client, modelName: string, options: AgentOptions): Promise<string> {
  const input: AgentInput = { modelName };
  if (options.cycleInterval !== undefined) input.cycleInterval = options.cycleInterval;
  const handle = await client.workflow.start(AGENT_WORKFLOW_TYPE, {
    workflowId: agentWorkflowId(modelName),
    taskQueue: options.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    // Applies to a new run only; a running agent keeps its own phase.
    ...(options.startJitter ? { startDelay: startDelayMs(options) } : {}),
  });
  return handle.firstExecutionRunId;
}

/** The agent's workflow type (workflows/agent.ts), as Temporal lists it. */
export const AGENT_WORKFLOW_TYPE = 'agentWorkflow';

/** Workflow id of a model's agent: one long-running workflow per model. */
export function agentWorkflowId(modelName: string): string {
  return `agent:${modelName}`;
}
