// A prebuilt workflow bundle for the worker process (`npm run worker:bundle` writes one): read from the
// environment here, apart from worker.ts, so that reading it does not load the Temporal SDK.
import fs from 'node:fs';

export const WORKFLOW_BUNDLE_ENV = 'HOMEOSTAT_WORKFLOW_BUNDLE';

/**
 * HOMEOSTAT_WORKFLOW_BUNDLE: the path of a bundle built from this same version, which the worker then runs
 * instead of bundling at start (seconds of CPU). A path with no file stops the worker at start.
 */
export function workflowBundleFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): { codePath: string } | undefined {
  const codePath = env[WORKFLOW_BUNDLE_ENV]?.trim();
  if (!codePath) return undefined;
  if (!fs.existsSync(codePath)) throw new Error(`${WORKFLOW_BUNDLE_ENV}: no file at ${codePath}`);
  return { codePath };
}
