// Real Temporal servers for tests, from the binaries the bootstrap installed (never downloaded), and a
// Temporal that is down.
import './temporal-runtime.ts';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import type { AgentState, AgentStatus } from '../../lib/brain/types.ts';
import type { Store } from '../../lib/db/client.ts';
import { devServerSearchAttributeArgs } from '../../lib/search-attributes.ts';
import { addSearchAttributes } from '../../lib/search-attributes-admin.ts';
import { agentWorkflowId, lazyClient } from '../../lib/temporal.ts';
import { temporalCliPath, temporalTestServerPath } from '../../lib/temporal-binaries.ts';
import { buildWorkflowBundle, createHomeostatWorker } from '../../worker/worker.ts';
import { statusQuery } from '../../workflows/messages.ts';
import { SHARED_DIR_ENV } from '../global-setup.ts';

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

let bundlePath: Promise<string> | undefined;
let bundle: Promise<WorkflowBundle> | undefined;

/**
 * The workflow bundle's file, built once per run (webpack takes seconds of CPU, and a dozen test files and
 * worker processes run workflows): the first to ask builds it into the run's shared directory
 * (test/global-setup.ts), the others read it there. Outside a Vitest run (the benchmarks), once per
 * process. Worker processes take it as HOMEOSTAT_WORKFLOW_BUNDLE.
 */
export function workflowBundlePath(): Promise<string> {
  bundlePath ??= sharedBundle(process.env[SHARED_DIR_ENV] ?? processDir());
  return bundlePath;
}

/** The run's workflow bundle, for workers in this process. */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= workflowBundlePath().then((codePath) => ({ code: fs.readFileSync(codePath, 'utf8') }));
  return bundle;
}

function processDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homeostat-workflows-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function sharedBundle(dir: string): Promise<string> {
  const codePath = path.join(dir, 'workflows.js');
  const failedPath = path.join(dir, 'workflows.failed');
  try {
    // Whoever creates this file builds; 'wx' fails when another test file already did.
    fs.writeFileSync(path.join(dir, 'workflows.building'), String(process.pid), { flag: 'wx' });
  } catch {
    return whenBuilt(codePath, failedPath);
  }
  try {
    // Renamed into place, so a reader sees the whole bundle or none.
    fs.writeFileSync(`${codePath}.tmp`, await buildWorkflowBundle(quietLogger));
    fs.renameSync(`${codePath}.tmp`, codePath);
    return codePath;
  } catch (error) {
    fs.writeFileSync(failedPath, String(error));
    throw error;
  }
}

async function whenBuilt(codePath: string, failedPath: string, ms = 300_000): Promise<string> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (fs.existsSync(codePath)) return codePath;
    if (fs.existsSync(failedPath)) {
      throw new Error(
        `another test file failed to bundle the workflows: ${fs.readFileSync(failedPath, 'utf8')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no workflow bundle at ${codePath} after ${ms} ms`);
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
export function agentStatus(env: TestWorkflowEnvironment, modelName: string): () => Promise<AgentStatus> {
  // A query racing a continueAsNew hand-over can wait for its RPC timeout: bound it (the caller retries).
  return () =>
    env.client.withDeadline(Date.now() + 2_000, () =>
      env.client.workflow.getHandle(agentWorkflowId(modelName)).query(statusQuery),
    );
}

/**
 * Polls the agent's status until `holds`; by the clock, not by attempts: on a loaded CI machine a cycle
 * can take seconds.
 */
async function waitForStatus<S extends AgentState>(
  query: () => Promise<S>,
  holds: (state: S) => boolean,
  what: string,
  ms: number,
): Promise<S> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const state = await query().catch(() => null);
    if (state && holds(state)) return state;
    // Not faster: queries racing a continueAsNew hand-over hold the test server's time skipping back.
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`agent did not ${what}`);
}

/**
 * Waits until the agent has run a cycle: measured a window, or found the window since the last one still
 * open (a model without enough traffic yet), which its status then shows.
 */
export function waitForFirstCycle(query: () => Promise<AgentStatus>, ms = 30_000): Promise<AgentStatus> {
  return waitForStatus(query, (s) => s.cycle > 0 || s.openWindow !== undefined, 'run a cycle', ms);
}

/** Waits until the agent has completed `cycle` cycles. */
export function waitForCycle(
  query: () => Promise<AgentState>,
  cycle: number,
  ms = 30_000,
): Promise<AgentState> {
  return waitForStatus(query, (s) => s.cycle >= cycle, `complete cycle ${cycle}`, ms);
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
