// How much one worker process takes on at once: the workflow cache and the task slots and pollers, from
// the environment (docs/operations.md, "Worker tuning", gives the defaults and when to change them; the
// figures behind them are bench:fleet's, docs/benchmarks.md "Fleet"). Every setting left unset keeps the
// Temporal SDK's own default, so an unconfigured worker behaves as the SDK documents.
import type { WorkerOptions } from '@temporalio/worker';

/** The variables, the worker option each sets, and the smallest value the SDK accepts. */
export const WORKER_TUNING_ENV = {
  /** Agents kept in memory between their tasks; an evicted agent replays its run's history on its next task. */
  HOMEOSTAT_WORKER_CACHED_WORKFLOWS: { option: 'maxCachedWorkflows', min: 0 },
  /** Workflow tasks run at once (SDK default 40; at least 2 while the cache is on). */
  HOMEOSTAT_WORKER_WORKFLOW_TASKS: { option: 'maxConcurrentWorkflowTaskExecutions', min: 2 },
  /** Activities run at once (SDK default 100): each holds a database connection while it runs. */
  HOMEOSTAT_WORKER_ACTIVITIES: { option: 'maxConcurrentActivityTaskExecutions', min: 1 },
  /** Long polls for workflow tasks (SDK default min(10, workflow tasks); at least 2). */
  HOMEOSTAT_WORKER_WORKFLOW_POLLERS: { option: 'maxConcurrentWorkflowTaskPolls', min: 2 },
  /** Long polls for activity tasks (SDK default min(10, activities)). */
  HOMEOSTAT_WORKER_ACTIVITY_POLLERS: { option: 'maxConcurrentActivityTaskPolls', min: 1 },
} as const;

type TuningOption = (typeof WORKER_TUNING_ENV)[keyof typeof WORKER_TUNING_ENV]['option'];
export type WorkerTuning = Partial<Pick<WorkerOptions, TuningOption>>;

/**
 * The worker options the environment sets. A value that is not a whole number at or above its minimum
 * stops the worker at start (a typo must not silently fall back to a default).
 */
export function workerTuningFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerTuning {
  const tuning: WorkerTuning = {};
  for (const [name, { option, min }] of Object.entries(WORKER_TUNING_ENV)) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`${name} must be a whole number of at least ${min}, not "${raw}"`);
    }
    tuning[option] = value;
  }
  const { maxConcurrentWorkflowTaskExecutions: tasks, maxConcurrentWorkflowTaskPolls: polls } = tuning;
  if (tasks !== undefined && polls !== undefined && polls > tasks) {
    throw new Error(
      `HOMEOSTAT_WORKER_WORKFLOW_POLLERS (${polls}) cannot exceed HOMEOSTAT_WORKER_WORKFLOW_TASKS (${tasks})`,
    );
  }
  return tuning;
}
