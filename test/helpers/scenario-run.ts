// Runs one simulator scenario end to end against the real system: a time-skipping Temporal server with
// the real worker and activities, a real SQLite store, and the real API in-process. The scenario's
// traffic goes through the inference gateway (so the deployed version scores it, and a rollback or a
// promotion really changes what serves) and its labels through the label endpoint, one simulated minute
// per agent cycle. What the agent made of it is read back from the store and the agent's own state.
// The scenario workflow tests and bench/recovery.ts share this harness.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createDeploymentActivities } from '../../activities/deployment.ts';
import { verifyWebhookSignature } from '../../activities/incidents.ts';
import type { JsonCall } from '../../lib/api-client.ts';
import type { DeploymentFacts } from '../../lib/brain/contracts.ts';
import { lookLeadMs, msToNextCycle } from '../../lib/brain/cycle-clock.ts';
import type { AgentState, VerificationBaseline, WindowSummary } from '../../lib/brain/types.ts';
import type { FeatureRow, FeatureSchema } from '../../lib/domain.ts';
import { loadModel, type ModelAdapter, parseModelArtifact } from '../../lib/models/index.ts';
import type { PolicyInput } from '../../lib/policy/policy.ts';
import { ROUTING_SECRET_NAME } from '../../lib/registry/routing-secret.ts';
import { storedSegments } from '../../lib/segments/definition.ts';
import { segmentsOf } from '../../lib/segments/segment.ts';
import { creditDefault, type DemoModel, demand } from '../../lib/sim/demo-models.ts';
import { Random } from '../../lib/sim/random.ts';
import { scenarioTrainer, withinRecoveryTolerance } from '../../lib/sim/recovery-goal.ts';
import type { ExpectedResponse, Scenario } from '../../lib/sim/scenarios.ts';
import { referenceData } from '../../lib/sim/setup.ts';
import { generateStream, type SimEvent } from '../../lib/sim/stream.ts';
import { agentWorkflowId } from '../../lib/temporal.ts';
import { createHomeostatWorker } from '../../worker/worker.ts';
import { cycleClockQuery, statusQuery } from '../../workflows/messages.ts';
import { startTestApi, type TestApi } from './api.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { startTimeSkippingServer, workflowBundle } from './temporal.ts';
import { registerTrainedOnce } from './trained-once.ts';

/** One simulated minute per agent cycle: the default cycle, so cooldowns and maxWaits keep their meaning. */
export const CYCLE_MS = 60_000;
const CYCLE = '1 minute';
export const TASK_QUEUE = 'scenarios';
/**
 * Rows per gateway request. A batch shares one latency and one failure, so small batches keep the
 * measured failure rate close to the model server's and give the latency percentiles many samples.
 */
const BATCH_ROWS = 10;
export const WEBHOOK_SECRET = 'scenario-webhook-secret';

/**
 * Evidence sizes for windows of ≈ 200 rows; everything else (detection, ladders, cooldowns, budgets,
 * tolerance 0.02) keeps its default. docs/failure-scenarios.md explains each:
 * - retrain.minRows 600 (default 300): the candidate must beat production significantly on the held-out
 *   30 %, and a few points of accuracy on 90 rows is not significant;
 * - retrain.canaryMinRows 60 (default 100): the canary's 20 % share gets ≈ 40 labelled rows a window;
 * - verification.minRows 600 (default 200): "within 0.02 of the baseline" is judged on the point
 *   estimate, whose standard error on 200 rows (≈ 0.025) is larger than the tolerance itself.
 */
export const SCENARIO_POLICY: PolicyInput = {
  retrain: { minRows: 600, canaryMinRows: 60 },
  verification: { minRows: 600 },
};

export const REMEDIES = ['rollback', 'retrain', 'fallback', 'disable', 'webhook'] as const;
const MODELS: Record<string, DemoModel> = { 'credit-default': creditDefault, demand };

/** Per-scenario pacing; see planFor for the defaults. */
export interface ScenarioPlan {
  /** Healthy windows before the onset: the detector's baseline. */
  warmupWindows: number;
  /** Mean predictions per window (per simulated minute) of healthy traffic. */
  rowsPerWindow: number;
  /** Windows from the onset on, at most; the run ends earlier once the outcome is settled. */
  maxWindows: number;
  /**
   * Windows the failure lasts when the harness ends it (an upstream that gets fixed, a model server
   * that stops failing); absent: the scenario's own duration, or to the end.
   */
  durationWindows?: number;
  /** Windows to keep driving after the incident closed (or was acknowledged), to see nothing else opens. */
  settleWindows: number;
}

/** What the harness changes where the simulated transform cannot reach a real gateway. */
function defaultPlan(scenario: Scenario): ScenarioPlan {
  // 36 windows after the onset: the gradual shift takes 15 to reach its full extent, then labels and a retrain.
  const base: ScenarioPlan = { warmupWindows: 6, rowsPerWindow: 200, maxWindows: 36, settleWindows: 2 };
  const protective = scenario.expected.response === 'fallback' || scenario.expected.response === 'disable';
  // A protective remedy holds until the cause is gone: the cause must end for the incident to recover.
  // Not a segment's route: it is the segment's remedy, verified while the cause lasts.
  if (protective && scenario.duration === undefined && scenario.expected.finding !== 'segment')
    return { ...base, durationWindows: 4 };
  // Room for two retrains, each with its canary and verification: a retrain that improved but fell
  // short earns a second one on more rows (decide's retrain-again-on-more-rows).
  if (scenario.expected.response === 'retrain') return { ...base, maxWindows: 60 };
  return base;
}

export function planFor(scenario: Scenario, overrides: Partial<ScenarioPlan> = {}): ScenarioPlan {
  return { ...defaultPlan(scenario), ...overrides };
}

// ---------------------------------------------------------------- the environment

interface Delivery {
  body: Record<string, unknown>;
  verified: boolean;
  deliveryKey: string | null;
}

/** A local escalation receiver: keeps every delivery and whether its signature verifies. */
export interface WebhookReceiver {
  url: string;
  deliveries: Delivery[];
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

function readBody(req: import('node:http').IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => resolve(text));
  });
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const deliveries: Delivery[] = [];
  const server = createServer(async (req, res) => {
    const text = await readBody(req);
    deliveries.push({
      body: JSON.parse(text),
      verified: verifyWebhookSignature(text, req.headers['x-homeostat-signature'] as string, secret),
      deliveryKey: (req.headers['x-homeostat-delivery'] as string | undefined) ?? null,
    });
    res.writeHead(204).end();
  });
  const url = `${await listen(server)}/escalations`;
  return { url, deliveries, close: () => closeServer(server) };
}

export interface ScenarioEnv {
  env: TestWorkflowEnvironment;
  db: TestDatabase;
  api: TestApi;
  webhook: WebhookReceiver;
  worker: Worker;
  close(): Promise<void>;
}

/**
 * A time-skipping server, store, worker, API and webhook receiver. Give each scenario run its own (see
 * runIsolated): the server's clock runs ahead of the store's by every skipped minute, and decide compares
 * a revision's time (the store's clock) with the incident's (workflow time), so after a few scenarios in
 * one server no deployment change looks recent any more.
 */
export async function startScenarioEnv(): Promise<ScenarioEnv> {
  process.env.HOMEOSTAT_WEBHOOK_SECRET = WEBHOOK_SECRET;
  const [env, db, bundle, webhook] = await Promise.all([
    startTimeSkippingServer(),
    createTestDatabase('sqlite'),
    workflowBundle(),
    startWebhookReceiver(WEBHOOK_SECRET),
  ]);
  // A fixed key of the canary split, stored where the gateway looks for one: which rows a canary serves
  // is then the same on every run of a scenario, so a canary near its threshold ends the same way each
  // time instead of by the draw of a key.
  await db.store.serverSecret.create({
    data: { name: ROUTING_SECRET_NAME, value: 'scenario-harness-canary-routing-key-0001' },
  });
  const worker = await createHomeostatWorker({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    store: db.store,
    workflowBundle: bundle,
  });
  const running = worker.run();
  const api = await startTestApi(db.store, env.client, { taskQueue: TASK_QUEUE, cycleInterval: CYCLE });
  return {
    env,
    db,
    api,
    webhook,
    worker,
    async close() {
      await api.close();
      worker.shutdown();
      await running.catch(() => undefined);
      await Promise.all([env.teardown(), db.drop(), webhook.close()]);
    },
  };
}

// ---------------------------------------------------------------- a model server the harness controls

/**
 * A user's HTTP model server in front of a real trained model: it answers with that model's predictions
 * after `delayMs`, and fails a share of requests (HTTP 500) while `failureRate` is above zero. Tests
 * switch both while the scenario runs, as a bad deploy or a broken GPU node would.
 */
export interface ProxyModelServer {
  url: string;
  delayMs: number;
  failureRate: number;
  close(): Promise<void>;
}

export async function startProxyModelServer(
  adapter: ModelAdapter,
  options: { delayMs: number; seed: number },
): Promise<ProxyModelServer> {
  const rng = new Random(options.seed);
  const state = { delayMs: options.delayMs, failureRate: 0 };
  const server = createServer(async (req, res) => {
    const { rows } = JSON.parse(await readBody(req)) as { rows: FeatureRow[] };
    await new Promise((r) => setTimeout(r, state.delayMs));
    if (rng.bernoulli(state.failureRate)) {
      res.writeHead(500).end('model server error: worker process crashed');
      return;
    }
    const outputs = await adapter.predict(rows);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ outputs }));
  });
  const url = await listen(server);
  return Object.assign(state, { url, close: () => closeServer(server) });
}

// ---------------------------------------------------------------- running a scenario

export interface RecordedAction {
  type: string;
  actor: string;
  status: string;
  reason: string;
  incidentId: string | null;
  beforeRevision: number | null;
  afterRevision: number | null;
  detail: unknown;
}

export interface AttemptRecord {
  action: string;
  rule: string | null;
  /** What the remedy's workflow did: applied, rejected (a candidate that did not win) or failed. */
  result: string | null;
  outcome: 'recovered' | 'not_recovered' | 'protected' | 'rejected' | 'failed' | 'pending';
  detail: string;
}

export interface TimelineEntry {
  cycle: number;
  /** The harness window whose traffic the cycle measured. */
  window: number | null;
  rows: number;
  labelled: number;
  accuracy: number | null;
  latencyP95Ms: number | null;
  failureRate: number | null;
  findings: string[];
  action: string;
  rule: string;
  reason: string;
}

export interface ScenarioRunResult {
  scenario: string;
  seed: number;
  model: string;
  expected: { finding: string; response: ExpectedResponse };
  plan: ScenarioPlan;
  /** Windows (agent cycles of traffic) the harness drove. */
  windows: number;
  /** The agent cycle that measured the first affected traffic. */
  injectedAtCycle: number;
  /** First confirmed finding from the injection on. */
  firstConfirmed: { kind: string; cycle: number } | null;
  /** First decision that acted: a remedy, or an escalation. */
  firstAction: { action: string; rule: string; cycle: number } | null;
  /** What the agent did about it, in the vocabulary of `expected.response`. */
  response: ExpectedResponse;
  /** Incidents opened from the injection on (the first one is `incident`). */
  incidents: number;
  /** Incidents opened before the injection: false alarms on healthy traffic. */
  warmupIncidents: number;
  incident: { id: string; kind: string; status: string; closed: boolean } | null;
  /** The incident's remedies in order, from their audit rows and the incident's steps. */
  attempts: AttemptRecord[];
  /** Windows and simulated minutes from the injection to the first confirmed finding and to recovery. */
  detectionWindows: number | null;
  recoveryWindows: number | null;
  detectionMinutes: number | null;
  recoveryMinutes: number | null;
  baseline: VerificationBaseline | null;
  /** The verified value after recovery, and whether it is within the policy tolerance of the baseline. */
  recoveredValue: number | null;
  withinTolerance: boolean | null;
  escalations: { delivered: number; verified: number };
  acknowledged: boolean;
  actions: RecordedAction[];
  /** Per cycle: what the window held, what detect found, what decide chose. */
  timeline: TimelineEntry[];
  /** Errors the gateway answered (model server failures, a disabled model), by status. */
  gatewayErrors: Record<string, number>;
  /** The versions the run deployed first: production (v1, or the model server in front of it) and fallback. */
  versions: { production: number; fallback: number };
  /** The deployment when the run ended. */
  deployment: DeploymentFacts;
  /** Every deployment revision, with when it was written (the store's clock, epoch ms). */
  revisions: { revision: number; createdAt: number; fallbackSegments: string[] }[];
  /**
   * Of a model with segments, every prediction the gateway answered: when it arrived (epoch ms), the
   * segments its row belongs to, and the version that answered it. Empty for a model without segments.
   */
  served: { at: number; segments: string[]; version: number | null }[];
  history: History;
  workflowId: string;
  /** Every child workflow the agent started (and theirs: a retrain's canary or shadow), in start order. */
  children: ChildRun[];
}

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

export interface ChildRun {
  workflowId: string;
  /** The workflow function: rollbackWorkflow, retrainWorkflow, canaryWorkflow, verifyWorkflow… */
  type: string;
  history: History;
}

/** The children a history started, then theirs, depth first: each with its own history. */
async function childRuns(senv: ScenarioEnv, history: History): Promise<ChildRun[]> {
  const runs: ChildRun[] = [];
  for (const event of history.events ?? []) {
    const started = event.startChildWorkflowExecutionInitiatedEventAttributes;
    if (!started?.workflowId) continue;
    const child = await senv.env.client.workflow.getHandle(started.workflowId).fetchHistory();
    runs.push({ workflowId: started.workflowId, type: started.workflowType?.name ?? '?', history: child });
    runs.push(...(await childRuns(senv, child)));
  }
  return runs;
}

/** A policy over another, section by section: a test's `retrain.promotion` keeps the scenario's minRows. */
function withSections(base: PolicyInput, over: PolicyInput = {}): PolicyInput {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const under = merged[key];
    const both = [under, value].every((x) => typeof x === 'object' && x !== null && !Array.isArray(x));
    merged[key] = both ? { ...(under as object), ...(value as object) } : value;
  }
  return merged as PolicyInput;
}

/** What the operator hook sees after each cycle, and how it acts: through the API, as a person would. */
export interface OperatorTurn {
  state: AgentState;
  /** The harness window whose traffic the cycle measured. */
  window: number;
  call: JsonCall;
  /** The model's own API path: path('/agent/approve') is /v1/models/<model>/agent/approve. */
  path(p: string): string;
}

export interface RunOptions {
  seed: number;
  plan?: Partial<ScenarioPlan>;
  /** Progress lines (the bench prints them on stderr). */
  log?: (line: string) => void;
  /** Extra policy fields over SCENARIO_POLICY. */
  policy?: PolicyInput;
  /**
   * Whether the on-call engineer acknowledges an escalation through the API (the default). A differential
   * run against the backtest has nobody answer: a backtest has no human acts.
   */
  acknowledge?: boolean;
  /** Plays an operator after every cycle (after the harness's own acknowledgement of an escalation). */
  operator?: (turn: OperatorTurn) => Promise<void>;
}

/** Waits by the clock, not by attempts: on a loaded machine a cycle can take seconds. */
async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check().catch(() => null);
    if (value) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function expectStatus(call: JsonCall, method: string, path: string, body: unknown, ok: number[]) {
  const res = await call(method, path, body);
  if (!ok.includes(res.status))
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** How long the agent may stay busy between two windows before the run fails as stalled. */
const QUIET_MS = 120_000;

/**
 * The work the workflow (or a child of it) is doing now: a workflow task or an activity's first attempt.
 * A retried activity is not in it: it waits for its backoff in workflow time, which only time passing ends.
 */
async function pendingWork(senv: ScenarioEnv, workflowId: string): Promise<string[]> {
  // Bounded: a describe that waits on a stuck server must not hang the check that reports it.
  const { raw } = await senv.env.client.withDeadline(Date.now() + 5_000, () =>
    senv.env.client.workflow.getHandle(workflowId).describe(),
  );
  const work: string[] = [];
  if (raw.pendingWorkflowTask) work.push(`${workflowId}: a workflow task`);
  for (const a of raw.pendingActivities ?? []) {
    if ((a.attempt ?? 1) <= 1) work.push(`${workflowId}: activity ${a.activityType?.name ?? '?'}`);
  }
  for (const child of raw.pendingChildren ?? []) {
    if (child.workflowId) work.push(...(await pendingWork(senv, child.workflowId)));
  }
  return work;
}

/** How long a simulated minute may take before the run looks for what holds time back. */
const SLOW_MINUTE_MS = 15_000;

/** Workflow tasks that failed in the workflow or a running child of it: a bug, never an outcome. */
async function failedWorkflowTasks(senv: ScenarioEnv, workflowId: string): Promise<string[]> {
  const handle = senv.env.client.workflow.getHandle(workflowId);
  const [history, { raw }] = await Promise.all([handle.fetchHistory(), handle.describe()]);
  const failed = (history.events ?? []).flatMap((e) => {
    const failure = e.workflowTaskFailedEventAttributes?.failure;
    return failure ? [`${workflowId}: a workflow task failed: ${failure.message}`] : [];
  });
  for (const child of raw.pendingChildren ?? []) {
    if (child.workflowId) failed.push(...(await failedWorkflowTasks(senv, child.workflowId)));
  }
  return failed;
}

async function busy(senv: ScenarioEnv, workflowId: string): Promise<boolean> {
  return (await pendingWork(senv, workflowId)).length > 0;
}

function labelOf(model: DemoModel, label: number): string | number {
  return model.task === 'regression' ? label : String(label);
}

/** The scenario's response as the agent chose it: the first remedy or escalation, else alert or none. */
function responseOf(first: ScenarioRunResult['firstAction'], alerted: boolean): ExpectedResponse {
  if (first) return first.rule.endsWith('-escalate') ? 'escalate' : (first.action as ExpectedResponse);
  return alerted ? 'alert' : 'none';
}

/** Runs one scenario in an environment of its own, closed afterwards. */
export async function runIsolated(scenario: Scenario, options: RunOptions): Promise<ScenarioRunResult> {
  const senv = await startScenarioEnv();
  try {
    return await runScenario(senv, scenario, options);
  } finally {
    await senv.close();
  }
}

export async function runScenario(
  senv: ScenarioEnv,
  scenario: Scenario,
  options: RunOptions,
): Promise<ScenarioRunResult> {
  const servers: ProxyModelServer[] = [];
  try {
    return await drive(senv, scenario, options, servers);
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
}

/** The model a run of the scenario registers and drives. */
export function modelNameOf(scenario: Scenario, seed: number): string {
  return `${scenario.id}-${seed}`.slice(0, 60);
}

/** The run itself; the model servers it starts go into `servers`, which the caller closes. */
async function drive(
  senv: ScenarioEnv,
  scenario: Scenario,
  options: RunOptions,
  servers: ProxyModelServer[],
): Promise<ScenarioRunResult> {
  const { seed } = options;
  const log = options.log ?? (() => undefined);
  const plan = planFor(scenario, options.plan);
  const model = MODELS[scenario.models[0]!]!;
  const name = modelNameOf(scenario, seed);
  const { call } = senv.api;
  const store = senv.db.store;
  const path = (p: string) => `/v1/models/${name}${p}`;

  // 1. The model, its production and fallback versions, and the agent's policy.
  await expectStatus(
    call,
    'POST',
    '/v1/models',
    {
      name,
      task: model.task,
      featureSchema: model.schema,
      ...(model.task === 'regression' ? {} : { labels: ['0', '1'] }),
    },
    [201],
  );
  if (scenario.segments)
    await expectStatus(call, 'PUT', path('/segments'), { segments: scenario.segments }, [200]);
  // Through the API the first time a run of this file trains it; the same model for later runs
  // (test/helpers/trained-once.ts).
  const train = (n: number, dataSeed: number) =>
    registerTrainedOnce(
      store,
      name,
      // The segments too: the version's reference profile has each segment's own reference.
      `${scenario.models[0]} rows ${n} seed ${dataSeed}, ${scenarioTrainer(model)}, segments ${JSON.stringify(scenario.segments ?? [])}`,
      async () =>
        (
          await expectStatus(
            call,
            'POST',
            path('/versions'),
            { train: { trainer: scenarioTrainer(model) }, data: referenceData(model, n, dataSeed) },
            [201],
          )
        ).version as { id: string },
    );
  const v1 = await train(2000, seed * 7 + 1);
  // The fallback: a simpler model (fewer rows) that is good enough to serve while production is shielded.
  const fallback = await train(300, seed * 7 + 2);
  const external = async (delayMs: number) => {
    const server = await startProxyModelServer(loadModel(parseModelArtifact(v1.artifact)), {
      delayMs,
      seed: seed + servers.length,
    });
    servers.push(server);
    const artifact = { kind: 'http', task: model.task, url: server.url, timeoutMs: 10_000 };
    const version = (await expectStatus(call, 'POST', path('/versions'), { artifact }, [201])).version;
    return { server, version: version.version as number };
  };
  const t = scenario.transform;
  // Serving problems need a real model server: production is v1 behind one in the latency and failure
  // scenarios (an in-process model neither slows down nor fails), with the demo model's median latency.
  // Elsewhere production is v1 itself: only a built-in model can be retrained.
  const baseDelayMs = model.latency.medianMs;
  const production = t.latencyFactor || t.failureRate ? await external(baseDelayMs) : null;
  await expectStatus(
    call,
    'POST',
    path('/deployment'),
    {
      production: production?.version ?? v1.version,
      fallback: fallback.version,
      reason: 'scenario: first deployment',
    },
    [201],
  );
  const agent = senv.env.client.workflow.getHandle(agentWorkflowId(name));
  const query = () =>
    senv.env.client.withDeadline(Date.now() + 2_000, () =>
      senv.env.client.workflow.getHandle(agent.workflowId).query(statusQuery),
    );
  await until('the agent', () => query());
  const policySet = await call('PUT', path('/agent/policy'), {
    reason: 'scenario: test-sized evidence thresholds',
    policy: { ...withSections(SCENARIO_POLICY, options.policy), escalationWebhook: senv.webhook.url },
  });
  // 202: accepted but not finished within the API's wait; 503 control_pending: sent, but the agent did not
  // accept it within that wait (a loaded machine), and Temporal keeps it for the agent, as the API says:
  // read the agent's state. Either way the traffic must not start before the agent runs on this policy,
  // so wait for it to show the stored version. Anything else (agent_unresponsive: nothing was sent) fails.
  const pending = (policySet.body as { error?: { code?: string } } | null)?.error?.code === 'control_pending';
  if (![200, 202].includes(policySet.status) && !(policySet.status === 503 && pending))
    throw new Error(`PUT ${path('/agent/policy')}: ${policySet.status} ${JSON.stringify(policySet.body)}`);
  await until('the scenario policy in force', async () => ((await query()).policy?.version ?? 0) >= 1);

  // 2. The stream: one simulated minute of events per window, labels in the window they come back in.
  const onsetEvent = plan.warmupWindows * plan.rowsPerWindow;
  const durationEvents =
    plan.durationWindows !== undefined ? plan.durationWindows * plan.rowsPerWindow : scenario.duration;
  const shaped: Scenario = { ...scenario, onset: onsetEvent, duration: durationEvents };
  const totalWindows = plan.warmupWindows + plan.maxWindows;
  const startMs = Date.parse('2026-01-01T00:00:00Z');
  const events = [
    ...generateStream({
      model,
      scenario: shaped,
      seed,
      count: Math.ceil(totalWindows * plan.rowsPerWindow * (t.rateFactor ?? 1)),
      startTime: new Date(startMs).toISOString(),
      ratePerSecond: plan.rowsPerWindow / 60,
    }),
  ];
  const windowOf = (iso: string) => Math.floor((Date.parse(iso) - startMs) / CYCLE_MS);
  const byWindow = new Map<number, SimEvent[]>();
  for (const e of events) byWindow.set(windowOf(e.ts), [...(byWindow.get(windowOf(e.ts)) ?? []), e]);
  // A pause begins in the window of the last event before it; anything else in the onset event's window.
  const onsetWindow = windowOf(events[t.pauseSeconds ? onsetEvent - 1 : onsetEvent]!.ts);
  const endWindow =
    durationEvents !== undefined && events[onsetEvent + durationEvents]
      ? windowOf(events[onsetEvent + durationEvents]!.ts)
      : Number.POSITIVE_INFINITY;
  const pendingLabels = new Map<number, { predictionId: string; label: string | number }[]>();
  const gatewayErrors: Record<string, number> = {};

  /** Sends a window's predictions through the gateway in small batches, as a client would. */
  async function serve(rows: SimEvent[]) {
    const batches: SimEvent[][] = [];
    for (let i = 0; i < rows.length; i += BATCH_ROWS) batches.push(rows.slice(i, i + BATCH_ROWS));
    const send = async (batch: SimEvent[]) => {
      const res = await call('POST', path('/predict'), {
        rows: batch.map((e) => ({ id: e.predictionId, features: e.features })),
      });
      if (res.status !== 200) {
        gatewayErrors[res.status] = (gatewayErrors[res.status] ?? 0) + batch.length;
        // A failed prediction is stored with its error (502) and takes no label; a refused one is not stored.
        return;
      }
      for (const e of batch) {
        if (e.label === null || e.labelTs === null) continue;
        const w = windowOf(e.labelTs);
        pendingLabels.set(w, [
          ...(pendingLabels.get(w) ?? []),
          { predictionId: e.predictionId, label: labelOf(model, e.label) },
        ]);
      }
    };
    // One request at a time: the API, the worker and the model servers share this process, and
    // concurrent requests would measure each other's event-loop waits as model latency.
    for (const batch of batches) await send(batch);
  }

  async function sendLabels(window: number) {
    // Labels due in earlier windows whose prediction was sent late (none in practice) go now too.
    const due = [...pendingLabels.entries()].filter(([w]) => w <= window);
    for (const [w, labels] of due) {
      pendingLabels.delete(w);
      for (let i = 0; i < labels.length; i += 500) {
        await expectStatus(call, 'POST', path('/labels'), { labels: labels.slice(i, i + 500) }, [202]);
      }
    }
  }

  // 3. Drive: a window's traffic, then the agent's next cycle, until the outcome is settled.
  let state: AgentState = await query();
  let injectedAtCycle = -1;
  let settledAt: number | null = null;
  let acknowledged = false;
  let baseline: VerificationBaseline | null = null;
  let incidentId: string | null = null;
  let windows = 0;
  /** The window whose traffic each cycle measured (a remedy's outcome can wake an extra cycle). */
  const windowOfCycle = new Map<number, number>();
  let recoveredWindow: number | null = null;
  // A remedy the last cycle started runs before the next minute's traffic, as it would within the minute.
  // A remedy waiting on time (a timer, a retry's backoff) is quiet; only work that should be running
  // counts, and work still running after two minutes is a stall: the run fails and says what is stuck.
  const stalled = async (what: string) => {
    const pending = await pendingWork(senv, agent.workflowId).catch((e) => [`(describe failed: ${e})`]);
    return new Error(
      `${name}: ${what} for ${QUIET_MS / 1000} s at window ${windows}; pending: ${pending.join('; ') || 'nothing'}`,
    );
  };
  const quiet = () =>
    until('a quiet agent', async () => !(await busy(senv, agent.workflowId)), QUIET_MS).catch(async () => {
      throw await stalled('the agent stayed busy');
    });
  /**
   * Skips `ms` of workflow time. The time-skipping server cannot skip past a workflow task that keeps
   * failing (time then runs at wall-clock speed, and describe shows no pending task): a skip that is slow
   * to pass is checked for failed workflow tasks, and the run fails on the first, saying which and why.
   */
  const skip = async (ms: number) => {
    const passed = senv.env.sleep(ms).then(() => true);
    for (let waited = 0; ; waited += SLOW_MINUTE_MS) {
      const wait = new Promise<false>((resolve) => setTimeout(() => resolve(false), SLOW_MINUTE_MS));
      if (await Promise.race([passed, wait])) return;
      const failed = await failedWorkflowTasks(senv, agent.workflowId);
      if (failed.length > 0)
        throw new Error(`${name}: time stopped at window ${windows}: ${failed.join('; ')}`);
      if (waited >= QUIET_MS) throw await stalled('a simulated minute did not pass');
    }
  };
  const clock = await agent.query(cycleClockQuery);
  /**
   * The rest of the simulated minute, to the agent's next cycle. Workflow time runs at wall-clock speed
   * while the harness sends traffic, so the skip ends on the cycle's grid rather than a fixed minute on.
   * The remedies' looks just before it (lib/brain/cycle-clock.ts) are let finish first: the cycle then
   * takes their answers before the window, as the backtest does, however slow the machine.
   */
  const minutePasses = async () => {
    const toLook = msToNextCycle(clock, await senv.env.currentTimeMs()) - lookLeadMs(clock);
    if (toLook > 0) {
      await skip(toLook);
      await quiet();
    }
    await skip(msToNextCycle(clock, await senv.env.currentTimeMs()));
  };
  for (let w = 0; w < totalWindows; w++) {
    await quiet();
    if (w === onsetWindow) {
      injectedAtCycle = state.cycle;
      log(`${name}: onset at cycle ${injectedAtCycle}`);
      if (t.latencyFactor && production) {
        // The regression comes with a deployment: a slower build of the same model goes out at the onset.
        const slow = await external(baseDelayMs * t.latencyFactor);
        await expectStatus(
          call,
          'POST',
          path('/deployment'),
          { production: slow.version, reason: 'release 2.4.1 of the model server' },
          [201],
        );
      }
    }
    if (production && t.failureRate !== undefined) {
      production.server.failureRate = w >= onsetWindow && w < endWindow ? t.failureRate : 0;
    }
    await serve(byWindow.get(w) ?? []);
    await sendLabels(w);
    await quiet();
    const measured = state.cycle;
    await minutePasses();
    state = await until('the next cycle', async () => {
      const s = await query();
      return s.cycle > measured ? s : null;
    });
    for (let c = measured; c < state.cycle; c++) windowOfCycle.set(c, w);
    windows++;
    if (state.openIncident && state.openIncident.openedAtCycle >= injectedAtCycle && injectedAtCycle >= 0) {
      incidentId ??= state.openIncident.id;
      if (state.openIncident.id === incidentId) baseline = state.openIncident.baseline ?? baseline;
    }
    // An escalated incident is a human's: acknowledge it through the API, as the on-call engineer would
    // once paged, so after the escalation is delivered and audited (the agent's state says escalated
    // before its escalation activity has sent the page).
    if (state.openIncident?.status === 'escalated' && !acknowledged && options.acknowledge !== false) {
      const escalated = state.openIncident.id;
      await until('the escalation audited', () =>
        store.action.findFirst({ where: { incidentId: escalated, type: 'escalate' } }),
      );
      await expectStatus(
        call,
        'POST',
        path('/agent/acknowledge'),
        { reason: 'on it: paging the upstream team', actor: 'on-call', incidentId: state.openIncident.id },
        [200],
      );
      acknowledged = true;
      state = await query();
    }
    if (options.operator) {
      await options.operator({ state, window: w, call, path });
      state = await query();
    }
    const incident = incidentId ? await store.incident.findUnique({ where: { id: incidentId } }) : null;
    if (incident?.closedAt && settledAt === null) {
      const acted = await store.action.count({
        where: { incidentId: incident.id, type: { in: [...REMEDIES, 'escalate'] } },
      });
      if (acted === 0 && (REMEDIES as readonly string[]).includes(scenario.expected.response)) {
        // It cleared before the agent acted on it; the failure goes on, so follow the next incident.
        incidentId = null;
        baseline = null;
      } else {
        settledAt = w;
        if (incident.status === 'recovered') recoveredWindow = w;
      }
    }
    if (settledAt !== null && w - settledAt >= plan.settleWindows) break;
    // Nothing is expected and nothing happened: the windows after the onset are all it takes.
    if (scenario.expected.response === 'none' && w >= onsetWindow + plan.settleWindows + 4) {
      if (scenario.duration === undefined || w >= endWindow + plan.settleWindows) break;
    }
  }
  log(`${name}: drove ${windows} windows`);

  // 4. Read back what happened.
  const result = await collect({
    senv,
    name,
    scenario,
    seed,
    plan,
    windows,
    injectedAtCycle,
    onsetWindow,
    windowOfCycle,
    recoveredWindow,
    baseline,
    acknowledged,
    gatewayErrors,
    versions: { production: production?.version ?? v1.version, fallback: fallback.version },
  });
  return result;
}

interface CollectInput {
  senv: ScenarioEnv;
  name: string;
  scenario: Scenario;
  seed: number;
  plan: ScenarioPlan;
  windows: number;
  injectedAtCycle: number;
  onsetWindow: number;
  windowOfCycle: Map<number, number>;
  recoveredWindow: number | null;
  baseline: VerificationBaseline | null;
  acknowledged: boolean;
  gatewayErrors: Record<string, number>;
  versions: ScenarioRunResult['versions'];
}

interface IncidentStepRecord {
  key: string;
  summary: string;
  detail?: Record<string, unknown>;
}

/** The steps the agent recorded on an incident (its evidence), in order. */
function stepsOf(incident: { evidence: unknown } | null): IncidentStepRecord[] {
  return ((incident?.evidence as { steps?: IncidentStepRecord[] } | null)?.steps ??
    []) as IncidentStepRecord[];
}

/** An incident's remedies in order, from their audit rows and the incident's steps. */
export function attemptsOf(
  actions: { type: string; incidentId: string | null; detail: unknown }[],
  incident: { id: string; evidence: unknown },
): AttemptRecord[] {
  const steps = stepsOf(incident);
  const step = (key: string) => steps.find((s) => s.key === key);
  return actions
    .filter((a) => a.incidentId === incident.id && (REMEDIES as readonly string[]).includes(a.type))
    .map((a) => {
      const detail = (a.detail ?? {}) as {
        attempt?: number;
        rule?: string;
        outcome?: string;
        result?: string;
      };
      const n = detail.attempt ?? -1;
      const result = detail.outcome ?? null;
      const ended = step(`${n}:recovered`) ?? step(`${n}:outcome`);
      // The agent's own word when its step carries it; otherwise what the step and the result imply.
      const stated = ended?.detail?.outcome as AttemptRecord['outcome'] | undefined;
      const outcome: AttemptRecord['outcome'] =
        stated ??
        (step(`${n}:recovered`)
          ? 'recovered'
          : !ended
            ? 'pending'
            : result === 'rejected' || result === 'failed'
              ? result
              : 'not_recovered');
      return { action: a.type, rule: detail.rule ?? null, result, outcome, detail: ended?.summary ?? '' };
    });
}

/** What answered each prediction of a model with segments, by the segments of its row (ScenarioRunResult.served). */
async function servedRows(
  store: ScenarioEnv['db']['store'],
  model: { id: string; segments: unknown; featureSchema: unknown },
): Promise<ScenarioRunResult['served']> {
  const segments = storedSegments(model.segments, model.featureSchema as FeatureSchema);
  if (segments.length === 0) return [];
  const [predictions, versions] = await Promise.all([
    store.prediction.findMany({
      where: { modelId: model.id, source: { not: 'shadow' } },
      select: { receivedAt: true, features: true, versionId: true },
      orderBy: { receivedAt: 'asc' },
    }),
    store.modelVersion.findMany({ where: { modelId: model.id }, select: { id: true, version: true } }),
  ]);
  const number = new Map(versions.map((v) => [v.id, v.version]));
  return predictions.map((p) => ({
    at: p.receivedAt.getTime(),
    segments: segmentsOf(p.features as FeatureRow, segments),
    version: p.versionId ? (number.get(p.versionId) ?? null) : null,
  }));
}

async function collect(input: CollectInput): Promise<ScenarioRunResult> {
  const { senv, name, scenario, injectedAtCycle } = input;
  const store = senv.db.store;
  const modelRow = await store.model.findUniqueOrThrow({ where: { name } });
  const where = { modelId: modelRow.id };
  const [allFindings, decisions, incidents, actions, revisions, windows] = await Promise.all([
    store.finding.findMany({ where, orderBy: { windowSeq: 'asc' } }),
    store.decision.findMany({ where, orderBy: { cycle: 'asc' } }),
    store.incident.findMany({ where, orderBy: { openedAt: 'asc' } }),
    store.action.findMany({ where, orderBy: { createdAt: 'asc' } }),
    store.deploymentRevision.findMany({
      where,
      select: { id: true, revision: true, createdAt: true, fallbackSegments: true },
      orderBy: { revision: 'asc' },
    }),
    store.metricWindow.findMany({ where, orderBy: { seq: 'asc' }, select: { seq: true, metrics: true } }),
  ]);
  const findings = allFindings.filter((f) => f.state === 'confirmed');
  const round = (x: number | null | undefined, digits: number) =>
    x === null || x === undefined ? null : Number(x.toFixed(digits));
  const timeline: TimelineEntry[] = decisions.map((d) => {
    const summary = (windows.find((w) => w.seq === d.cycle)?.metrics as { summary?: WindowSummary } | null)
      ?.summary;
    return {
      cycle: d.cycle,
      window: input.windowOfCycle.get(d.cycle) ?? null,
      rows: summary?.count ?? 0,
      labelled: summary?.labelled ?? 0,
      accuracy: round(summary?.accuracy, 3),
      latencyP95Ms: round(summary?.latencyP95Ms, 1),
      failureRate: round(summary?.failureRate, 3),
      findings: allFindings
        .filter((f) => f.windowSeq === d.cycle)
        .map((f) => {
          const summary = (f.evidence as { summary?: string } | null)?.summary;
          return `${f.kind}:${f.state}${f.state === 'confirmed' && summary ? ` (${summary})` : ''}`;
        }),
      action: d.action,
      rule: d.rule,
      reason: d.reason,
    };
  });
  const revisionNumber = new Map(revisions.map((r) => [r.id, r.revision]));
  const served = await servedRows(store, modelRow);
  const confirmed = findings.find((f) => f.windowSeq >= injectedAtCycle);
  const acting = decisions.find(
    (d) =>
      d.cycle >= injectedAtCycle &&
      ((REMEDIES as readonly string[]).includes(d.action) || d.rule.endsWith('-escalate')),
  );
  // Incidents are opened by the decision of the cycle that confirms them: count them by that cycle.
  const openingDecisions = decisions.filter((d) => d.incidentId !== null);
  const firstCycleOf = (id: string) => openingDecisions.find((d) => d.incidentId === id)?.cycle ?? -1;
  const after = incidents.filter((i) => firstCycleOf(i.id) >= injectedAtCycle);
  // The incident the agent acted on (a remedy or an escalation), else the first one.
  const actedOn = new Set(
    actions.filter((a) => [...REMEDIES, 'escalate'].includes(a.type)).map((a) => a.incidentId),
  );
  const incident = after.find((i) => actedOn.has(i.id)) ?? after[0] ?? null;
  const attempts = incident ? attemptsOf(actions, incident) : [];
  const steps = stepsOf(incident);
  const recoveredStep = steps.find((s) => s.key.endsWith(':recovered'));
  const verdict = recoveredStep?.detail?.verdict as { value?: number | null; baseline?: number } | undefined;
  const recoveredValue = verdict?.value ?? null;
  const baseline = input.baseline;
  const withinTolerance =
    baseline && recoveredValue !== null ? withinRecoveryTolerance(baseline, recoveredValue) : null;
  const deployment = await createDeploymentActivities(store).describeDeployment({ modelName: name });
  const history = await senv.env.client.workflow.getHandle(agentWorkflowId(name)).fetchHistory();
  const children = await childRuns(senv, history);
  await senv.env.client.workflow
    .getHandle(agentWorkflowId(name))
    .terminate('scenario finished')
    .catch(() => undefined);
  const firstAction = acting ? { action: acting.action, rule: acting.rule, cycle: acting.cycle } : null;
  const alerted = decisions.some((d) => d.cycle >= injectedAtCycle && d.action === 'alert');
  const sinceOnset = (w: number | undefined | null) =>
    w === undefined || w === null ? null : w - input.onsetWindow + 1;
  const detectionWindows = sinceOnset(confirmed ? input.windowOfCycle.get(confirmed.windowSeq) : null);
  const recoveryWindows = sinceOnset(input.recoveredWindow);
  return {
    scenario: scenario.id,
    seed: input.seed,
    model: scenario.models[0]!,
    expected: { finding: scenario.expected.finding, response: scenario.expected.response },
    plan: input.plan,
    windows: input.windows,
    injectedAtCycle,
    firstConfirmed: confirmed ? { kind: confirmed.kind, cycle: confirmed.windowSeq } : null,
    firstAction,
    response: responseOf(firstAction, alerted),
    incidents: after.length,
    warmupIncidents: incidents.length - after.length,
    incident: incident
      ? { id: incident.id, kind: incident.kind, status: incident.status, closed: incident.closedAt !== null }
      : null,
    attempts,
    detectionWindows,
    recoveryWindows,
    detectionMinutes: detectionWindows === null ? null : (detectionWindows * CYCLE_MS) / 60_000,
    recoveryMinutes: recoveryWindows === null ? null : (recoveryWindows * CYCLE_MS) / 60_000,
    baseline,
    recoveredValue,
    withinTolerance,
    escalations: {
      delivered: senv.webhook.deliveries.filter((d) => d.body.model === name).length,
      verified: senv.webhook.deliveries.filter((d) => d.body.model === name && d.verified).length,
    },
    acknowledged: input.acknowledged,
    actions: actions.map((a) => ({
      type: a.type,
      actor: a.actor,
      status: a.status,
      reason: a.reason,
      incidentId: a.incidentId,
      beforeRevision: a.beforeRevisionId ? (revisionNumber.get(a.beforeRevisionId) ?? null) : null,
      afterRevision: a.afterRevisionId ? (revisionNumber.get(a.afterRevisionId) ?? null) : null,
      detail: a.detail,
    })),
    timeline,
    gatewayErrors: input.gatewayErrors,
    versions: input.versions,
    deployment,
    revisions: revisions.map((r) => ({
      revision: r.revision,
      createdAt: r.createdAt.getTime(),
      fallbackSegments: (r.fallbackSegments as string[] | null) ?? [],
    })),
    served,
    history,
    workflowId: agentWorkflowId(name),
    children,
  };
}

/** A run as text, one line per cycle then the remedies and actions: for failure messages and logs. */
export function describeRun(r: ScenarioRunResult): string {
  const cycles = r.timeline.map(
    (e) =>
      `  cycle ${e.cycle} (window ${e.window ?? '-'}): ${e.rows} rows, ${e.labelled} labelled, accuracy ${e.accuracy ?? '-'}, p95 ${e.latencyP95Ms ?? '-'} ms, failures ${e.failureRate ?? '-'}; ${e.findings.join(' ') || 'no finding'} → ${e.action} (${e.rule})`,
  );
  const attempts = r.attempts.map(
    (a) => `  ${a.action} [${a.rule}] ${a.result ?? '-'} → ${a.outcome}: ${a.detail}`,
  );
  const actions = r.actions.map(
    (a) =>
      `  ${a.type} by ${a.actor}: ${a.status}, revision ${a.beforeRevision ?? '-'} → ${a.afterRevision ?? '-'}`,
  );
  return [
    `${r.scenario} seed ${r.seed}: onset at cycle ${r.injectedAtCycle}; response ${r.response} (expected ${r.expected.response}); incident ${r.incident?.kind ?? '-'} ${r.incident?.status ?? 'none'}`,
    ...cycles,
    'attempts:',
    ...attempts,
    'actions:',
    ...actions,
  ].join('\n');
}
