// Every registered model has a running agent: the worker starts the missing ones at start and then
// periodically, so a model registered while Temporal was unreachable (the API answered "agent not
// started") gets its agent once Temporal is back, without a restart. Starting is idempotent (the workflow
// id is the model's, an existing run is kept), so several workers may reconcile at once.
import type { Client } from '@temporalio/client';
import type { Store } from '../lib/db/client.ts';
import { logger } from '../lib/log.ts';
import { type AgentOptions, ensureAgent } from '../lib/temporal.ts';

/** HOMEOSTAT_RECONCILE_SECONDS: time between two reconciles (default 30), in milliseconds. */
export function reconcileIntervalFromEnv(): number {
  const raw = process.env.HOMEOSTAT_RECONCILE_SECONDS ?? '30';
  const seconds = Number(raw);
  if (!(seconds > 0)) throw new Error(`HOMEOSTAT_RECONCILE_SECONDS must be a positive number, not "${raw}"`);
  return seconds * 1000;
}

/** Deadline of one model's start: an unreachable Temporal fails the round quickly, the next one retries. */
const START_DEADLINE_MS = 5_000;

/** Starts the agent of every registered model that has none; answers how many models were checked. */
export async function reconcileAgents(client: Client, store: Store, options: AgentOptions): Promise<number> {
  const models = await store.model.findMany({ select: { name: true } });
  for (const { name } of models) {
    await client.withDeadline(Date.now() + START_DEADLINE_MS, () => ensureAgent(client, name, options));
  }
  return models.length;
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
      const agents = await reconcileAgents(client, store, options);
      logger.debug({ agents }, 'agents reconciled');
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
