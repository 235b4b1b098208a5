// Builds the Homeostat worker: the agent workflows and their activities on one task queue.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BundleOptions,
  bundleWorkflowCode,
  type NativeConnection,
  Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import { createActivities, type Extensions } from '../activities/index.ts';
import type { Store } from '../lib/db/client.ts';
import { type WorkerTuning, workerTuningFromEnv } from './tuning.ts';

export const WORKFLOWS_PATH = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'workflows',
  'index.ts',
);

/** The workflows bundled as a worker runs them (webpack: seconds of CPU); `npm run worker:bundle` writes it. */
export async function buildWorkflowBundle(logger?: BundleOptions['logger']): Promise<string> {
  return (await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, ...(logger ? { logger } : {}) })).code;
}

export interface HomeostatWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  store: Store;
  /** A prebuilt bundle (tests build it once); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  /** Cache and concurrency; by default from the environment (tuning.ts). */
  tuning?: WorkerTuning;
  /** The user's own finding rules and remedies (docs/extending.md). */
  extensions?: Extensions;
}

export function createHomeostatWorker(options: HomeostatWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    activities: createActivities(options.store, options.extensions),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH }),
    shutdownGraceTime: options.shutdownGraceTime ?? '10 seconds',
    ...(options.tuning ?? workerTuningFromEnv()),
  });
}
