// Real Temporal servers for tests, from the binaries the bootstrap installed (never downloaded), and a
// Temporal that is down.
import './temporal-runtime.ts';
import net from 'node:net';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { AgentState } from '../../lib/brain/types.ts';
import type { Store } from '../../lib/db/client.ts';
import { devServerSearchAttributeArgs } from '../../lib/search-attributes.ts';
import { addSearchAttributes } from '../../lib/search-attributes-admin.ts';
import { agentWorkflowId, lazyClient } from '../../lib/temporal.ts';
import { temporalCliPath, temporalTestServerPath } from '../../lib/temporal-binaries.ts';
import { createHomeostatWorker, WORKFLOWS_PATH } from '../../worker/worker.ts';
import { statusQuery } from '../../workflows/messages.ts';

/**
 * The full dev server (what users run): updates, queries, continueAsNew exactly as in production. With
 * `uiPort`, the Temporal UI too.
 */
export function startDevServer(
  extraArgs: string[] = [],
  { uiPort }: { uiPort?: number } = {},
): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      // The agents' search attributes, as a user's dev server registers them (lib/search-attributes.ts).
      extraArgs: ['--log-level', 'error', ...devServerSearchAttributeArgs(), ...extraArgs],
      ...(uiPort === undefined ? {} : { ui: true, uiPort }),
    },
  });
}

/** The time-skipping test server: timers fire as soon as nothing else is pending. */
export async function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
  });
  // It takes no --search-attribute flag: the agents' attributes are added once it runs.
  await addSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

/** A loopback port the OS handed out, then closed: free for a server to take, or where nothing listens. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A loopback address where nothing listens: Temporal is down. */
export const closedLoopbackAddress = async (): Promise<string> => `127.0.0.1:${await freePort()}`;

/**
 * A client of a Temporal that is down, built as the API builds its own (lib/temporal.ts). `failFast`
 * drops the client's retries of a refused connection, so that tests which are not about Temporal get
 * the API's "Temporal unavailable" answers at once instead of at the end of each call's deadline.
 */
export async function unreachableTemporal({ failFast = false } = {}): Promise<Client> {
  return lazyClient({ address: await closedLoopbackAddress(), ...(failFast ? { interceptors: [] } : {}) });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflow bundle, built once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  return bundle;
}

const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error(message: string, meta?: unknown) {
    console.error(message, meta);
  },
};

/** The state of the model's agent, by query. */
export function agentStatus(env: TestWorkflowEnvironment, modelName: string): () => Promise<AgentState> {
  // A query racing a continueAsNew hand-over can wait for its RPC timeout: bound it (the caller retries).
  return () =>
    env.client.withDeadline(Date.now() + 2_000, () =>
      env.client.workflow.getHandle(agentWorkflowId(modelName)).query(statusQuery),
    );
}

/** Waits until the agent has completed `cycle` cycles; by the clock, not by attempts: on a loaded CI machine a cycle can take seconds. */
export async function waitForCycle(
  query: () => Promise<AgentState>,
  cycle: number,
  ms = 30_000,
): Promise<AgentState> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const state = await query().catch(() => null);
    if (state && state.cycle >= cycle) return state;
    // Not faster: queries racing a continueAsNew hand-over hold the test server's time skipping back.
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`agent did not complete cycle ${cycle}`);
}

/** The ids of the workflows a visibility query (the Temporal UI's filter) finds. */
export async function listWorkflowIds(env: TestWorkflowEnvironment, query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of env.client.workflow.list({ query })) ids.push(execution.workflowId);
  return ids;
}

/** The summaries the workflow gave its activities, timers and children, in history order. */
export function summariesOf(history: temporal.api.history.v1.IHistory): string[] {
  return (history.events ?? []).flatMap((event) => {
    const summary = event.userMetadata?.summary;
    return summary ? [defaultPayloadConverter.fromPayload<string>(summary)] : [];
  });
}

/** A Homeostat worker on `taskQueue`, running until the returned stop() has drained it. */
export async function runWorker(
  env: TestWorkflowEnvironment,
  store: Store,
  taskQueue: string,
): Promise<() => Promise<void>> {
  const worker = await createHomeostatWorker({
    connection: env.nativeConnection,
    taskQueue,
    store,
    workflowBundle: await workflowBundle(),
  });
  const running = worker.run();
  return async () => {
    worker.shutdown();
    await running;
  };
}
