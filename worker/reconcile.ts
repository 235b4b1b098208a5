// Every registered model has a running agent: the worker starts the missing ones at start and then
// periodically, so a model registered while Temporal was unreachable (the API answered "agent not
// started") gets its agent once Temporal is back, without a restart. Starting is idempotent (the workflow
// id is the model's, an existing run is kept), so several workers may reconcile at once.
import type { Client } from '@temporalio/client';
import type { Store } from '../lib/db/client.ts';
import { logger } from '../lib/log.ts';
import { AGENT_WORKFLOW_TYPE, type AgentOptions, agentWorkflowId, ensureAgent } from '../lib/temporal.ts';

/** HOMEOSTAT_RECONCILE_SECONDS: time between two reconciles (default 30), in milliseconds. */
export function reconcileIntervalFromEnv(): number {
  const raw = process.env.HOMEOSTAT_RECONCILE_SECONDS ?? '30';
  const seconds = Number(raw);
  if (!(seconds > 0)) throw new Error(`HOMEOSTAT_RECONCILE_SECONDS must be a positive number, not "${raw}"`);
  return seconds * 1000;
}

/** Deadline of one model's start: an unreachable Temporal fails the round quickly, the next one retries. */
const START_DEADLINE_MS = 5_000;

/**
 * Whether a round that starts `count` agents spreads their first cycles over one interval
 * (lib/temporal.ts startJitter): a herd of agents — a first deploy over registered models, a Temporal
 * that lost its state — would otherwise cycle in step for good. A single agent (a model registered while
 * Temporal was down) starts at once, as the API starts a newly registered model's agent: a delayed agent
 * answers no status query until its first cycle. HOMEOSTAT_START_JITTER=0 turns the spread off.
 */
export function spreadsStarts(count: number, env: NodeJS.ProcessEnv = process.env): boolean {
  return count > 1 && env.HOMEOSTAT_START_JITTER !== '0';
}

/** Deadline of listing the running agents (every page). */
const LIST_DEADLINE_MS = 10_000;

/**
 * Workflow ids of the agents running on the task queue, in one paged visibility query, or null when the
 * query fails. Visibility lags a start by a moment: an agent it misses is only started again, which
 * keeps the running one.
 */
async function runningAgentIds(client: Client, taskQueue: string): Promise<Set<string> | null> {
  try {
    return await client.withDeadline(Date.now() + LIST_DEADLINE_MS, async () => {
      const ids = new Set<string>();
      const query = `WorkflowType = '${AGENT_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'`;
      for await (const workflow of client.workflow.list({ query })) ids.add(workflow.workflowId);
      return ids;
    });
  } catch (err) {
    logger.debug({ err }, 'listing running agents failed; starting every model the slow way');
    return null;
  }
}

/**
 * Starts the agent of every registered model that has none; answers how many agents it started. The
 * running agents are listed first, so that a round costs one query rather than a start call per model
 * (a thousand models every 30 s would otherwise be as many calls to Temporal as their agents' cycles).
 */
export async function reconcileAgents(client: Client, store: Store, options: AgentOptions): Promise<number> {
  const models = await store.model.findMany({ select: { name: true } });
  const running = await runningAgentIds(client, options.taskQueue);
  const missing = models.filter(({ name }) => !running?.has(agentWorkflowId(name)));
  const start = { ...options, startJitter: spreadsStarts(missing.length) };
  for (const { name } of missing) {
    await client.withDeadline(Date.now() + START_DEADLINE_MS, () => ensureAgent(client, name, start));
  }
  return missing.length;
}

export interface Reconciler {
  /** Resolves once the first round ended (whether it reached Temporal or not). */
  firstRound: Promise<void>;
  stop(): void;
}

/** Reconciles now and then every `intervalMs`; a failed round is logged, and the next one tries again. */
export function startReconciler(
  client: Client,
  store: Store,
  options: AgentOptions,
  intervalMs: number,
): Reconciler {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const round = async () => {
    try {
      const started = await reconcileAgents(client, store, options);
      logger.debug({ started }, 'agents reconciled');
    } catch (err) {
      logger.warn({ err }, 'agent reconcile failed; retrying at the next round');
    }
    // The next round is scheduled when this one ended, so that slow rounds never overlap.
    if (!stopped) timer = setTimeout(round, intervalMs);
  };
  return {
    firstRound: round(),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
