// The stack as users run it, for integration tests: a Temporal dev server, SQLite, the API as its own
// process, and workers started (and killed) by the test.

import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { type JsonCall, jsonClient } from '../../lib/api-client.ts';
import { type DatabaseProvider, REPO_ROOT } from '../../lib/db/config.ts';
import { pythonExecutable } from '../../lib/models/python-fit.ts';
import { WORKFLOW_BUNDLE_ENV } from '../../worker/workflow-bundle.ts';
import { authHeader } from './api.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { type RunningProcess, startEntryPoint, startProcess } from './processes.ts';
import { startDevServer, workflowBundlePath } from './temporal.ts';

export interface ProcessStack {
  env: TestWorkflowEnvironment;
  db: TestDatabase;
  /** The API, with an admin key. */
  call: JsonCall;
  api: RunningProcess;
  /** Where the API listens. */
  url: string;
  /** Another API process on the same Temporal and database, and where it listens. */
  startApi(): Promise<{ api: RunningProcess; url: string }>;
  startWorker(): RunningProcess;
  /** The Python training worker (python/homeostat_trainer), as `npm run worker:python` starts it. */
  startPythonWorker(): RunningProcess;
  /** Kills every process and drops the server and database. */
  stop(): Promise<void>;
}

/**
 * `extraEnv` goes to every process; `apiEnv` to the APIs only (say, a Temporal they cannot reach).
 * `provider` is the database every process shares (the test's PostgreSQL for 'postgresql').
 */
export async function startProcessStack(
  taskQueue: string,
  extraEnv: Record<string, string> = {},
  apiEnv: Record<string, string> = {},
  provider: DatabaseProvider = 'sqlite',
) {
  const [env, db, bundle] = await Promise.all([
    startDevServer(),
    createTestDatabase(provider),
    // Workers run the run's one bundle instead of each bundling at start.
    workflowBundlePath(),
  ]);
  const running: RunningProcess[] = [];
  const processEnv = {
    TEMPORAL_ADDRESS: env.address,
    DATABASE_URL: provider === 'sqlite' ? `file:${db.config.url}` : db.config.url,
    HOMEOSTAT_TASK_QUEUE: taskQueue,
    HOMEOSTAT_CYCLE_INTERVAL: '1 second',
    PORT: '0',
    ...extraEnv,
  };
  const start = (entry: string, env: Record<string, string> = processEnv) => {
    const child = startEntryPoint(entry, env);
    running.push(child);
    return child;
  };
  const startApi = async () => {
    const api = start('api/server.ts', { ...processEnv, ...apiEnv });
    return { api, url: String((await api.waitForLog('api listening')).url) };
  };
  const { api, url } = await startApi();
  const call = jsonClient(url, await authHeader(db.store));
  return {
    env,
    db,
    call,
    api,
    url,
    startApi,
    startWorker: () => start('worker/main.ts', { ...processEnv, [WORKFLOW_BUNDLE_ENV]: bundle }),
    startPythonWorker() {
      const child = startProcess('homeostat_trainer', pythonExecutable(), ['-m', 'homeostat_trainer'], {
        cwd: path.join(REPO_ROOT, 'python'),
        env: processEnv,
      });
      running.push(child);
      return child;
    },
    async stop() {
      await Promise.all(running.map((p) => p.stop('SIGKILL')));
      await Promise.all([env.teardown(), db.drop()]);
    },
  } satisfies ProcessStack;
}
