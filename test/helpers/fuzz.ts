// Schemathesis against a running Homeostat API: the real Express app on SQLite or PostgreSQL, a Temporal
// dev server and a worker (so agent routes answer from a live agent), fuzzed over HTTP from the OpenAPI document the
// app serves. Shared by test/integration/fuzz.test.ts (short, seeded) and bench/fuzz.ts (longer).
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { rateLimitsFromEnv } from '../../api/rate-limit.ts';
import { rotateApiKey } from '../../lib/auth/keys.ts';
import type { Store } from '../../lib/db/client.ts';
import { type DatabaseProvider, REPO_ROOT } from '../../lib/db/config.ts';
import { schemathesisPath } from '../../lib/temporal-binaries.ts';
import { createHomeostatWorker } from '../../worker/worker.ts';
import { startTestApi, type TestApi } from './api.ts';
import { creditData, registerCreditModel } from './credit-model.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { startDevServer, workflowBundle } from './temporal.ts';

export interface FuzzTarget {
  api: TestApi;
  db: TestDatabase;
  /** "Authorization: Bearer …" of an admin key: every operation is reachable. */
  authorization: string;
  /** Real values of each path parameter, which the fuzzer draws half the time (see fuzzConfig). */
  realIds: RealIds;
  close(): Promise<void>;
}

/** Per path parameter of the document, values that name something the harness seeded. */
export type RealIds = Record<'model' | 'id' | 'version' | 'revision' | 'name', (string | number)[]>;

const TASK_QUEUE = 'fuzz';
/** The model the harness registers, trains, deploys and gives an incident. */
export const SEEDED_MODEL = 'credit';
/** Its versions: 1 in production, 2 registered and deployed nowhere (so its status may be changed by hand). */
const SEEDED_VERSIONS = [1, 2];
const SPARE_KEY = 'fuzz-spare';
/** The checks' settings and the few rules a static document cannot state (each explained there). */
export const SCHEMATHESIS_CONFIG = path.join(REPO_ROOT, 'test', 'fuzz', 'schemathesis.toml');

export async function startFuzzTarget(provider: DatabaseProvider = 'sqlite'): Promise<FuzzTarget> {
  const [env, db]: [TestWorkflowEnvironment, TestDatabase] = await Promise.all([
    startDevServer(),
    createTestDatabase(provider),
  ]);
  const worker: Worker = await createHomeostatWorker({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    store: db.store,
    workflowBundle: await workflowBundle(),
  });
  const workerRun = worker.run();
  // The fuzzer sends thousands of requests from one address, many refused on purpose: neither limit
  // may turn its answers into 429s (the limits have their own tests).
  const limits = rateLimitsFromEnv({ HOMEOSTAT_RATE_LIMIT: '0', HOMEOSTAT_REFUSED_LIMIT: '0' });
  // A long cycle: agents of fuzzed models idle instead of loading two shared cores with monitor turns.
  const api = await startTestApi(
    db.store,
    env.client,
    { taskQueue: TASK_QUEUE, cycleInterval: '1 hour' },
    limits,
  );
  // A key of its own: authHeader would re-key the one api.call uses.
  const authorization = `Bearer ${await rotateApiKey(db.store, 'fuzz-admin', 'admin')}`;
  await seedDeployedModel(api);
  const incidentId = await seedIncident(db.store, SEEDED_MODEL);
  // A key the fuzzer may revoke (DELETE /v1/keys/{name}): never its own.
  await rotateApiKey(db.store, SPARE_KEY, 'viewer');
  const { id: modelId } = await db.store.model.findUniqueOrThrow({ where: { name: SEEDED_MODEL } });
  const revisions = await db.store.deploymentRevision.findMany({
    where: { modelId },
    select: { revision: true },
  });
  return {
    api,
    db,
    authorization,
    realIds: {
      model: [SEEDED_MODEL],
      id: [incidentId],
      version: SEEDED_VERSIONS,
      revision: revisions.map((r) => r.revision),
      name: [SPARE_KEY],
    },
    async close() {
      await api.close();
      worker.shutdown();
      await workerRun;
      await Promise.all([env.teardown(), db.drop()]);
    },
  };
}

/**
 * One model with a trained version in production, a second version deployed nowhere and several
 * revisions, so that deep routes have real versions and revisions to name from the first request on (the
 * fuzzer's own registrations rarely carry a trainable data set).
 */
async function seedDeployedModel(api: TestApi): Promise<void> {
  await registerCreditModel(api.call, SEEDED_MODEL);
  for (const seed of SEEDED_VERSIONS) {
    const trained = await api.call('POST', `/v1/models/${SEEDED_MODEL}/versions`, {
      train: { trainer: 'logistic-regression', options: { steps: 50 } },
      data: creditData(200, seed),
    });
    if (trained.status !== 201) throw new Error(`seeding a version: ${JSON.stringify(trained.body)}`);
  }
  for (const change of [{ production: 1 }, { mode: 'disabled' }, { mode: 'serving' }]) {
    const res = await api.call('POST', `/v1/models/${SEEDED_MODEL}/deployment`, {
      ...change,
      reason: 'fuzz seed',
    });
    if (res.status !== 201) throw new Error(`seeding a deployment: ${JSON.stringify(res.body)}`);
  }
}

/**
 * A recovered incident with the decision that opened it, as the agent's recordCycle writes them (an idle
 * agent of a fuzzed model opens none): the incidents listing's OpenAPI link then hands the fuzzer a real
 * incident id for GET /v1/incidents/{id}, whose timeline joins the decision.
 */
async function seedIncident(store: Store, modelName: string): Promise<string> {
  const { id: modelId } = await store.model.findUniqueOrThrow({ where: { name: modelName } });
  const incident = await store.incident.create({
    data: {
      modelId,
      status: 'recovered',
      kind: 'concept_drift',
      severity: 'high',
      summary: 'accuracy 0.71 is 0.15 below the baseline 0.86 while the inputs are stable',
      closedAt: new Date(),
    },
  });
  await store.decision.create({
    data: {
      idempotencyKey: `fuzz-seed:${incident.id}`,
      modelId,
      cycle: 1,
      action: 'retrain',
      rule: 'performance-degraded-retrain',
      reason: incident.summary,
      evidence: {},
      alternatives: [],
      incidentId: incident.id,
      workflowId: `agent:${modelName}`,
      runId: 'fuzz-seed',
    },
  });
  return incident.id;
}

/** Share of generated requests whose path parameter is a real value rather than a generated one. */
const REAL_ID_PROBABILITY = 0.5;

/**
 * The run's configuration file: the committed settings plus a dictionary per path parameter of the
 * values the harness seeded. Links alone reach a deep route only when the stateful phase happens to
 * walk there from a created resource; with the dictionaries, every phase sends real ids half the time,
 * so the deep routes answer from the state they exist for, not only 404.
 */
function fuzzConfig(realIds: RealIds, dir: string): string {
  const toml = (value: string | number) =>
    typeof value === 'number' ? String(value) : JSON.stringify(value);
  const lines = ['', '# Added by test/helpers/fuzz.ts for this run: the seeded ids.', '[dictionaries]'];
  for (const [parameter, values] of Object.entries(realIds)) {
    lines.push(`real-${parameter} = { values = [${values.map(toml).join(', ')}] }`);
  }
  lines.push('', '[parameters]');
  for (const parameter of Object.keys(realIds)) {
    lines.push(
      `"path.${parameter}" = { dictionary = "real-${parameter}", probability = ${REAL_ID_PROBABILITY} }`,
    );
  }
  const file = path.join(dir, 'schemathesis.toml');
  fs.writeFileSync(file, `${fs.readFileSync(SCHEMATHESIS_CONFIG, 'utf8')}${lines.join('\n')}\n`);
  return file;
}

export interface FuzzOptions {
  maxExamples: number;
  seed: number;
  /** Schemathesis's phases: examples, coverage, fuzzing, stateful. */
  phases: string[];
  /** Concurrent Schemathesis workers. */
  workers: number;
}

/**
 * The suite's run (test/integration/fuzz.test.ts): every phase, test cases per operation and phase bounded
 * and seeded so that CI gets the same run each time. One Schemathesis worker: with more, Hypothesis's
 * lambda parsing raced in threads on Python 3.11 ("AST constructor recursion depth mismatch").
 */
export const CI_FUZZ: FuzzOptions = {
  maxExamples: 15,
  seed: 1,
  phases: ['examples', 'coverage', 'fuzzing', 'stateful'],
  workers: 1,
};

/** Per check: how many responses it judged and how many it failed. */
export type CheckCounts = Record<string, { passed: number; failed: number }>;

export interface FuzzResult {
  version: string;
  /** The command line, with the key replaced by a placeholder. */
  command: string;
  exitCode: number;
  operations: { total: number; tested: number };
  /** Test cases Schemathesis generated and sent. */
  cases: number;
  checks: CheckCounts;
  failures: { operation: string; check: string; message: string }[];
  errors: string[];
  seconds: number;
  /** What the CLI printed (its summary names each failure with a curl line to reproduce it). */
  output: string;
}

/** Schemathesis's CLI, or an error that says how to install it: a missing fuzzer is a failure, never a skip. */
export function schemathesisCli(): string {
  try {
    return schemathesisPath();
  } catch (error) {
    throw new Error(
      `Schemathesis is not installed (${(error as Error).message}). Install it with "bash scripts/bootstrap.sh --fuzz" ` +
        '(the test command bootstraps with --test, which implies --fuzz).',
    );
  }
}

export async function runSchemathesis(target: FuzzTarget, options: FuzzOptions): Promise<FuzzResult> {
  const cli = schemathesisCli();
  const { stdout: versionLine } = await promisify(execFile)(cli, ['--version']);
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'homeostat-fuzz-'));
  const reportPath = path.join(reportDir, 'report.ndjson');
  const config = fuzzConfig(target.realIds, reportDir);
  const args = (url: string, authorization: string, report: string, configFile: string) => [
    '--config-file',
    configFile,
    'run',
    `${url}/openapi.json`,
    '--checks',
    'all',
    '--phases',
    options.phases.join(','),
    '--max-examples',
    String(options.maxExamples),
    '--seed',
    String(options.seed),
    '--workers',
    String(options.workers),
    '--header',
    `Authorization:${authorization}`,
    '--request-timeout',
    '30',
    '--report',
    'ndjson',
    '--report-ndjson-path',
    report,
    '--no-color',
  ];
  const started = Date.now();
  const child = spawn(cli, args(target.api.url, target.authorization, reportPath, config), {
    cwd: REPO_ROOT,
    env: { ...process.env, SCHEMATHESIS_TELEMETRY: 'false', NO_COLOR: '1' },
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const exitCode = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const events = fs.existsSync(reportPath)
    ? fs
        .readFileSync(reportPath, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line))
    : [];
  fs.rmSync(reportDir, { recursive: true, force: true });
  return {
    version: versionLine.trim().replace(/^.*version /, ''),
    // Without what changes from run to run (the port, the key, the temporary report).
    command: [
      'schemathesis',
      ...args(
        'http://127.0.0.1:<port>',
        'Bearer <admin key>',
        '<report.ndjson>',
        `<${path.relative(REPO_ROOT, SCHEMATHESIS_CONFIG)} and the seeded ids>`,
      ),
    ].join(' '),
    exitCode,
    ...summarise(events),
    seconds: (Date.now() - started) / 1000,
    output,
  };
}

interface ScenarioFinished {
  phase: string;
  recorder?: {
    label: string;
    cases?: Record<string, unknown>;
    checks?: Record<
      string,
      { name: string; status: string; failure_info?: { failure?: { title?: string; message?: string } } }[]
    >;
  };
}

/** The counts of Schemathesis's NDJSON event stream (one event a line, keyed by its kind). */
function summarise(
  events: Record<string, unknown>[],
): Pick<FuzzResult, 'operations' | 'cases' | 'checks' | 'failures' | 'errors'> {
  const checks: CheckCounts = {};
  const failures: FuzzResult['failures'] = [];
  const errors: string[] = [];
  const tested = new Set<string>();
  let total = 0;
  let cases = 0;
  for (const event of events) {
    const loading = event.LoadingFinished as { statistic: { operations: { total: number } } } | undefined;
    if (loading) total = loading.statistic.operations.total;
    const error = event.NonFatalError as
      | { label: string; value: { type: string; message: string } }
      | undefined;
    if (error) errors.push(`${error.label}: ${error.value.type}: ${error.value.message}`);
    const scenario = event.ScenarioFinished as ScenarioFinished | undefined;
    if (!scenario?.recorder) continue;
    const { label, cases: recorded = {}, checks: judged = {} } = scenario.recorder;
    // A stateful scenario is labelled by its phase, not by an operation.
    if (scenario.phase !== 'stateful' && Object.keys(recorded).length > 0) tested.add(label);
    cases += Object.keys(recorded).length;
    for (const results of Object.values(judged)) {
      for (const check of results) {
        checks[check.name] ??= { passed: 0, failed: 0 };
        const count = checks[check.name]!;
        if (check.status === 'success') count.passed += 1;
        else {
          count.failed += 1;
          const failure = check.failure_info?.failure;
          failures.push({
            operation: label,
            check: check.name,
            message: failure?.title ?? failure?.message ?? '',
          });
        }
      }
    }
  }
  return { operations: { total, tested: tested.size }, cases, checks, failures, errors };
}
