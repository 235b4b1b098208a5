// The fleet a benchmark reads: N models written straight into a fresh database with the rows their agents
// would have left, and the timing summaries the fleet benchmarks report (bench/fleet-api.ts, the API
// alone; bench/fleet-page.ts, the dashboard's page in a browser).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Store } from '../lib/db/client.ts';
import type { DatabaseProvider } from '../lib/db/config.ts';
import { writeBenchmarkSection } from './doc-section.ts';

/** The options every fleet benchmark takes (node:util parseArgs): sizes, windows per model, database, --doc. */
export const FLEET_OPTIONS = {
  models: { type: 'string', default: '100,1000' },
  windows: { type: 'string', default: '60' },
  db: { type: 'string', default: 'sqlite' },
  /** Only the docs section again, from the last run's JSON. */
  doc: { type: 'boolean', default: false },
} as const;

/** FLEET_OPTIONS' values, read. */
export const fleetSettings = (values: { models: string; windows: string; db: string }) => ({
  sizes: values.models.split(',').map(Number),
  windows: Number(values.windows),
  provider: values.db as DatabaseProvider,
});

/** Issue 16 item 5: the fleet page with 1,000 models, p95 under this. */
export const GOAL_P95_MS = 1000;

const FEATURES = Array.from({ length: 10 }, (_, i) => `f${i}`);
const START_MS = Date.parse('2026-12-01T00:00:00.000Z');
const MINUTE = 60_000;

/** What the monitor stores for a window, in its shape and about its size (10 features). */
export function windowMetrics(rows: number, correct: number) {
  const test = { test: 'kolmogorov_smirnov', statistic: 0.04, pValue: 0.61, adjustedPValue: 0.9, psi: 0.01 };
  return {
    format: 1,
    task: 'binary',
    classes: ['no', 'yes'],
    rows,
    reference: 'used',
    correct,
    performance: { accuracy: correct / rows, precision: 0.81, recall: 0.77, f1: 0.79, logLoss: 0.41 },
    labels: { labelled: rows, coverage: 1, lagMs: { p50: 61_000, p95: 64_000 } },
    confidence: { mean: 0.74, histogram: Array.from({ length: 10 }, (_, i) => i * 3) },
    outputs: { counts: { no: rows - 20, yes: 20 } },
    system: { latencyMs: { p50: 3.1, p95: 7.4, p99: 11.2 }, failureRate: 0, arrivals: { perMinute: rows } },
    quality: FEATURES.map((feature) => ({
      feature,
      missing: 0,
      invalid: 0,
      outOfRange: 0,
      newCategories: [],
    })),
    drift: {
      features: FEATURES.map((feature) => ({ feature, judged: true, ...test })),
      prediction: test,
      confidence: test,
    },
  };
}

/**
 * N models' rows as their agents would have left them, written in batches: three versions, a deployment
 * revision, `windows` metric windows and decisions each, data-drift suspicions on every tenth model, an
 * open data-quality incident with its fallback on 1 %, a pause on about 1 %. Returns how many models have
 * an open incident and how many are paused.
 */
export async function seedFleet(store: Store, models: number, windows: number) {
  const incidentEvery = 100;
  const pausedEvery = 97;
  for (let m = 0; m < models; m++) {
    const name = `model-${String(m).padStart(5, '0')}`;
    const model = await store.model.create({
      data: {
        name,
        task: 'binary',
        labels: ['no', 'yes'],
        featureSchema: FEATURES.map((f) => ({ name: f, type: 'numeric', nullable: false })),
        createdAt: new Date(START_MS),
      },
    });
    const modelId = model.id;
    const at = (w: number) => new Date(START_MS + (w + 1) * MINUTE);
    await store.modelVersion.createMany({
      data: [1, 2, 3].map((version) => ({
        modelId,
        version,
        status: version === 3 ? 'production' : 'retired',
        artifact: { kind: 'logistic', weights: FEATURES.map(() => 0.1) },
      })),
    });
    await store.deploymentRevision.create({
      data: { modelId, revision: 1, mode: 'serving', reason: 'registered', actor: 'human:bench' },
    });
    await store.metricWindow.createMany({
      data: Array.from({ length: windows }, (_, w) => ({
        modelId,
        seq: w,
        startAt: new Date(START_MS + w * MINUTE),
        endAt: at(w),
        count: 50,
        labelled: 50,
        metrics: windowMetrics(50, 45),
      })),
    });
    await store.decision.createMany({
      data: Array.from({ length: windows }, (_, w) => ({
        idempotencyKey: `${name}-decision-${w}`,
        modelId,
        cycle: w,
        action: 'none',
        rule: 'healthy',
        reason: `window ${w}: no finding`,
        evidence: { window: w },
        alternatives: [],
        workflowId: `agent-${name}`,
        runId: 'run-1',
        createdAt: at(w),
      })),
    });
    const last = windows - 1;
    if (m % incidentEvery === incidentEvery - 1) {
      const incident = await store.incident.create({
        data: {
          modelId,
          status: 'mitigating',
          kind: 'data_quality',
          severity: 'critical',
          summary: 'upstream nulls in f3',
          openedAt: at(last - 3),
        },
      });
      await store.finding.createMany({
        data: [last - 3, last - 2, last - 1, last].map((windowSeq) => ({
          modelId,
          windowSeq,
          kind: 'data_quality',
          severity: 'critical',
          state: 'confirmed',
          evidence: { feature: 'f3', missing: 0.4 },
          createdAt: at(windowSeq),
        })),
      });
      await store.action.create({
        data: {
          idempotencyKey: `${name}-fallback`,
          modelId,
          type: 'fallback',
          actor: 'agent',
          status: 'succeeded',
          reason: 'protect users from the nulls',
          incidentId: incident.id,
          createdAt: at(last - 2),
          completedAt: at(last - 2),
        },
      });
    } else if (m % 10 === 0) {
      // A passing data-drift suspicion now and then: findings that opened no incident.
      await store.finding.create({
        data: {
          modelId,
          windowSeq: last,
          kind: 'data_drift',
          severity: 'warning',
          state: 'suspect',
          evidence: { features: ['f1'] },
          createdAt: at(last),
        },
      });
    }
    await store.action.createMany({
      data: [
        { type: 'alert', reason: 'baseline ready' },
        ...(m % pausedEvery === pausedEvery - 1 ? [{ type: 'pause', reason: 'maintenance' }] : []),
      ].map((a, i) => ({
        idempotencyKey: `${name}-${a.type}`,
        modelId,
        type: a.type,
        actor: a.type === 'pause' ? 'human:bench' : 'agent',
        status: 'succeeded',
        reason: a.reason,
        createdAt: at(last - 10 + i),
      })),
    });
  }
  return { openIncidents: Math.floor(models / incidentEvery), paused: Math.floor(models / pausedEvery) };
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
export const round = (x: number) => Math.round(x * 10) / 10;

/** p50, p95 and the maximum of timings in ms. */
export function summary(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    p50Ms: round(quantile(sorted, 0.5)),
    p95Ms: round(quantile(sorted, 0.95)),
    maxMs: round(sorted.at(-1)!),
  };
}

export async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await run();
  return { ms: performance.now() - start, value };
}

/** When and on what a run measured. */
export const runContext = () => ({
  date: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cpus: os.cpus().length,
  node: process.version,
});

/**
 * Runs the benchmark and writes its JSON to bench/results/`name`.json and its section of
 * docs/benchmarks.md from that JSON; with `fromLastRun` (--doc), only the section again from the JSON.
 */
export async function publishRun<R>(
  name: string,
  fromLastRun: boolean,
  run: () => Promise<R>,
  section: (result: R) => string,
  placement: { before?: string } = {},
): Promise<void> {
  const file = path.join(import.meta.dirname, 'results', `${name}.json`);
  const result: R = fromLastRun ? JSON.parse(readFileSync(file, 'utf8')) : await run();
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  const text = section(result);
  writeBenchmarkSection(text, placement);
  console.log(`wrote ${path.relative(process.cwd(), file)} and docs/benchmarks.md "${text.split('\n')[0]}"`);
}
