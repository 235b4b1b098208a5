// Real Temporal servers for tests, from the binaries the bootstrap installed (never downloaded), and a
// Temporal that is down.
import net from 'node:net';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { AgentState } from '../../lib/brain/types.ts';
import { devServerSearchAttributeArgs } from '../../lib/search-attributes.ts';
import { agentWorkflowId, lazyClient } from '../../lib/temporal.ts';
import { temporalCliPath, temporalTestServerPath } from '../../lib/temporal-binaries.ts';
import { WORKFLOWS_PATH } from '../../worker/worker.ts';
import { statusQuery } from '../../workflows/messages.ts';

/** The full dev server (what users run): updates, queries, continueAsNew exactly as in production. */
export function startDevServer(extraArgs: string[] = []): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      // The agents' search attributes, as a user's dev server registers them (lib/search-attributes.ts).
      extraArgs: ['--log-level', 'error', ...devServerSearchAttributeArgs(), ...extraArgs],
    },
  });
}

/** The time-skipping test server: timers fire as soon as nothing else is pending. */
export function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
  });
}

/** A loopback address where nothing listens (a port the OS handed out, then closed): Temporal is down. */
export async function closedLoopbackAddress(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `127.0.0.1:${port}`;
}

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
export async function waitForCycle(query: () => Promise<AgentState>, cycle: number): Promise<AgentState> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const state = await query().catch(() => null);
    if (state && state.cycle >= cycle) return state;
    // Not faster: queries racing a continueAsNew hand-over hold the test server's time skipping back.
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`agent did not complete cycle ${cycle}`);
}
