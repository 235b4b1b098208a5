// The closed loop for models people train in Python. The stack runs as users run it — a Temporal dev
// server, the TypeScript worker, the Python training worker and the API as separate processes, SQLite.
// A scikit-learn pipeline and an XGBoost model, fitted by the Python package and exported to ONNX, are
// served through the gateway; a concept drift hits both. Each agent must detect it, have the Python
// worker retrain its pipeline (the policy's retrain.trainer), canary the ONNX candidate, promote it and
// verify the recovery.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonCall } from '../../lib/api-client.ts';
import { rotateApiKey } from '../../lib/auth/keys.ts';
import { REPO_ROOT } from '../../lib/db/config.ts';
import { creditDefault } from '../../lib/sim/demo-models.ts';
import { drive } from '../../lib/sim/drive.ts';
import { findScenario } from '../../lib/sim/scenarios.ts';
import { setUpDemoModel } from '../../lib/sim/setup.ts';
import { generateStream } from '../../lib/sim/stream.ts';
import { eventually } from '../helpers/credit-model.ts';
import type { TestDatabase } from '../helpers/db.ts';
import type { RunningProcess } from '../helpers/processes.ts';
import { type ProcessStack, startProcessStack } from '../helpers/stack.ts';

/** Healthy rows before the drift: enough for the detector's baseline. */
const ONSET = 1500;
const RATE = 100;
const run = promisify(execFile);
const LOG_DIR = path.join(REPO_ROOT, 'test-output', 'python-trainer');

let stack: ProcessStack;
let db: TestDatabase;
let call: JsonCall;
let python: RunningProcess;
let worker: RunningProcess;

beforeAll(async () => {
  stack = await startProcessStack('python-trainer-test', { HOMEOSTAT_SERVING_CACHE_MS: '200' });
  ({ db, call } = stack);
  worker = stack.startWorker();
  python = stack.startPythonWorker();
  // Bundling the workflows takes a while on a loaded machine.
  await Promise.all([
    worker.waitForLog('worker started', 180_000),
    python.waitForLog('python worker started', 180_000),
  ]);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

/**
 * The concept drift's incident closes as recovered by a candidate that the Python worker trained: an ONNX
 * model registered with its lineage, reference profile and held-out comparison, canaried, then promoted.
 */
async function recovers(modelId: string, productionId: string, pipeline: string) {
  // Incidents before the drift may close without a repair: the model serves a few points below its
  // held-out accuracy from the start, so an alert may clear, or a retrain on the first windows' rows be
  // rejected as no better and the level re-baselined. The one to judge is the drift's: the incident that
  // a promoted retrain closed (or that went to a human).
  const closed = await eventually(
    () =>
      db.store.incident.findFirst({
        where: {
          modelId,
          status: { in: ['recovered', 'escalated'] },
          actions: { some: { type: 'retrain', status: 'succeeded' } },
        },
      }),
    420_000,
  );
  expect(closed.status).toBe('recovered');

  // Retrained versions descend from the first production (a second retrain from the first one).
  const retrained = await db.store.modelVersion.findMany({
    where: { modelId, parentVersionId: { not: null } },
  });
  expect(retrained.some((v) => v.parentVersionId === productionId)).toBe(true);
  const revisions = await db.store.deploymentRevision.findMany({
    where: { modelId },
    orderBy: { revision: 'asc' },
  });
  const serving = retrained.find((v) => v.id === revisions.at(-1)!.productionVersionId);
  expect(serving, 'production is a retrained candidate').toBeDefined();
  const candidate = serving!;
  expect((candidate.artifact as { kind: string }).kind).toBe('onnx');
  expect(candidate.referenceStats).not.toBeNull();
  const metrics = candidate.metrics as Record<string, number>;
  expect(metrics.holdoutCandidate).toBeGreaterThan(metrics.holdoutProduction!);
  // Trained by the Python worker: its log says so (production is ONNX, which no built-in trainer makes).
  const trained = python
    .output()
    .split('\n')
    .filter((line) => line.includes('"msg": "trained"') && line.includes(`"pipeline": "${pipeline}"`));
  expect(trained.length).toBeGreaterThanOrEqual(1);
  // Canaried, then promoted; the incident's last retrain succeeded, so its verification found it recovered.
  expect(revisions.some((r) => r.canaryVersionId === candidate.id)).toBe(true);
  const retrains = await db.store.action.findMany({
    where: { modelId, type: 'retrain' },
    orderBy: { createdAt: 'asc' },
  });
  expect(retrains.at(-1)!.status).toBe('succeeded');
}

/** The processes' output, written to test-output/ for whoever reads a failure; where it is. */
function processLogs(): string {
  mkdirSync(LOG_DIR, { recursive: true });
  const files = { worker, api: stack.api, python };
  for (const [name, process] of Object.entries(files)) {
    writeFileSync(path.join(LOG_DIR, `${name}.log`), process.output());
  }
  return `process logs in ${LOG_DIR}`;
}

/** Runs a step; on failure, prints the processes' logs with the error. */
async function logFailure<T>(step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (error) {
    console.error(processLogs());
    throw error;
  }
}

/** What the agent did, for whoever reads a failure. */
async function story(modelId: string): Promise<string> {
  const [decisions, actions, incidents] = await Promise.all([
    db.store.decision.findMany({ where: { modelId }, orderBy: { cycle: 'asc' } }),
    db.store.action.findMany({ where: { modelId }, orderBy: { createdAt: 'asc' } }),
    db.store.incident.findMany({ where: { modelId } }),
  ]);
  return [
    ...decisions
      .filter((d) => d.rule !== 'healthy')
      .map((d) => `decision ${d.cycle} ${d.rule} ${d.action}: ${d.reason}`),
    ...actions.map((a) => `action ${a.type} ${a.status} ${a.actor}: ${a.reason}`),
    ...incidents.map((i) => `incident ${i.kind} ${i.status}: ${JSON.stringify(i.evidence)}`.slice(0, 3000)),
  ].join('\n');
}

describe('models trained in Python, retrained by the Python worker', () => {
  // Both at once: each waits mostly on its traffic's pace and the agent's one-second cycles, and they
  // share nothing but the stack (their own model, stream and seed).
  it.concurrent.each([
    { pipeline: 'sklearn-gradient-boosting', name: 'credit-sklearn', seed: 21 },
    { pipeline: 'xgboost', name: 'credit-xgboost', seed: 22 },
  ])(
    '$pipeline: served, drift detected, retrained in Python, canaried, promoted, verified',
    {
      timeout: 480_000,
    },
    async ({ pipeline, name, seed }) => {
      const setup = await logFailure(
        setUpDemoModel(call, creditDefault, {
          name,
          rows: 3000,
          pythonPipeline: pipeline,
          policy: {
            window: { minRows: 50 },
            // On a loaded machine (CI, other tests) ONNX inference in the gateway slows from ~3 ms to
            // ~100 ms at p95 and the agent rightly falls back for latency, before the drift. Latency is
            // not what this test is about: only a ten-second slowdown counts as one here.
            detection: { minEffect: { latencyIncreaseMs: 10_000 } },
            // A retrain rejected before the drift (above) must not hold the drift's own retrain back: under
            // the default hour's cooldown the drift's incident takes the fallback and then, protected,
            // promotes its retrain without a canary. That early retrain runs longer than 5 s, and no
            // second incident opens while it does, so the drift's retrain is free.
            cooldowns: { retrain: '5 seconds' },
            retrain: {
              trainer: `python:${pipeline}`,
              // Enough held-out rows (a third of them) for the candidate's gain to be significant.
              minRows: 1200,
              promotion: 'canary',
              // The canary's looks come once a cycle (every second here) from canaryMinRows on: enough rows
              // at the first look for a candidate better by a few points to show it within the looks.
              canaryShare: 0.3,
              canaryMinRows: 400,
              maxWait: '10 minutes',
            },
            // Recovery is judged against the old world's accuracy (~0.88 on the windows before the drift); the
            // drifted world's best is a little lower (the retrained models score 0.86–0.87 on held-out rows),
            // so the default tolerance of 0.02 sits on the edge: one run in three fell short by 0.01. With
            // 0.04 the margin is 0.02–0.03, which the point estimate decides on after 4 × minRows rows: at
            // 150 (600 rows, sd 0.015) a candidate that scored 0.864 held out measured 0.833 on 640 rows and
            // was not_recovered; at 400 (1,600 rows, sd 0.009) the margin is over two standard deviations.
            verification: { minRows: 400, maxWait: '10 minutes', tolerance: 0.04 },
          },
        }),
      );
      const model = await db.store.model.findUniqueOrThrow({ where: { name } });
      const production = await db.store.modelVersion.findUniqueOrThrow({
        where: { modelId_version: { modelId: model.id, version: setup.production! } },
      });
      // Registered like any version: an ONNX artifact with its reference profile.
      expect((production.artifact as { kind: string }).kind).toBe('onnx');
      expect(production.referenceStats).not.toBeNull();

      const stop = new AbortController();
      const scenario = { ...findScenario('concept-drift')!, onset: ONSET };
      const traffic = drive({
        call,
        modelName: name,
        events: generateStream({ model: creditDefault, scenario, seed, count: 200_000 })[Symbol.iterator](),
        serve: 'gateway',
        ratePerSecond: RATE,
        labelDelayMs: 200,
        idPrefix: name,
        signal: stop.signal,
        tickMs: 250,
      });
      try {
        await recovers(model.id, production.id, pipeline);
      } catch (error) {
        console.error(`${name}:\n${await story(model.id)}\n${processLogs()}`);
        throw error;
      } finally {
        stop.abort();
        await traffic;
      }
    },
  );

  it('examples/sklearn-pipeline registers, deploys and names its Python trainer', {
    timeout: 300_000,
  }, async () => {
    const name = 'credit-example';
    const key = await rotateApiKey(db.store, 'example-admin', 'admin');
    await logFailure(
      run(
        'npm',
        ['run', '--silent', 'example:sklearn', '--', '--no-drift', '--name', name, '--api', stack.url],
        {
          cwd: REPO_ROOT,
          env: { ...process.env, HOMEOSTAT_API_KEY: key },
        },
      ),
    );
    const deployment = await call('GET', `/v1/models/${name}/deployment`);
    expect(deployment.status).toBe(200);
    const model = await db.store.model.findUniqueOrThrow({ where: { name } });
    const versions = await db.store.modelVersion.findMany({ where: { modelId: model.id } });
    expect(versions.map((v) => (v.artifact as { kind: string }).kind)).toEqual(['onnx', 'onnx']);
    const policy = await db.store.policyVersion.findFirstOrThrow({
      where: { modelId: model.id },
      orderBy: { version: 'desc' },
    });
    expect(policy.document).toMatchObject({ retrain: { trainer: 'python:sklearn-gradient-boosting' } });
  });
});
