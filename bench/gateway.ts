// Gateway benchmark: `npm run bench:gateway [-- --requests 20000 --seconds 20 --concurrency 32
// --providers sqlite,postgresql]`.
//
// For each database it starts the API in this process on a fresh database (a temporary SQLite file, a
// temporary PostgreSQL database on TEST_POSTGRES_URL, by default 127.0.0.1:5432), registers the
// credit-default demo model with a logistic regression trained through the API, deploys it, and measures
//   (a) logged predictions per second through POST /predict: concurrent keep-alive HTTP clients on
//       loopback, bounded by a request count and a time limit, every prediction stored (the count of
//       stored rows is checked against the successful requests), plus the same with batches of 100 rows;
//   (b) the latency the gateway adds over calling the model adapter directly in this process: one client,
//       one request at a time, each request's round trip minus the adapter's time on the same row.
// The HTTP clients run in a worker thread, so they do not take CPU from the gateway's event loop.
// Results go to bench/results/gateway.json and a markdown table on stdout.
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Client } from '@temporalio/client';
import { createApp } from '../api/app.ts';
import { jsonClient } from '../lib/api-client.ts';
import { rotateApiKey } from '../lib/auth/keys.ts';
import { createStore } from '../lib/db/client.ts';
import { type DatabaseProvider, REPO_ROOT } from '../lib/db/config.ts';
import { migrateDatabase } from '../lib/db/migrate.ts';
import { drainPredictionWriters } from '../lib/ingest/prediction-writer.ts';
import { loadModel, parseModelArtifact } from '../lib/models/index.ts';
import { creditDefault } from '../lib/sim/demo-models.ts';
import { Random } from '../lib/sim/random.ts';
import { quantiles } from '../lib/stats/descriptive.ts';
import { createEmptyDatabase } from '../test/helpers/db.ts';

const GOAL_PREDICTIONS_PER_SECOND = 2000;
const GOAL_P99_OVERHEAD_MS = 5;
const TRAINING_ROWS = 2000;
const ROW_POOL = 5000;
const BATCH_ROWS = 100;
const OVERHEAD_SAMPLES = 2000;
const WARMUP_REQUESTS = 500;

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '32' },
    providers: { type: 'string', default: 'sqlite,postgresql' },
  },
});
const settings = {
  maxRequests: Number(args.requests),
  maxSeconds: Number(args.seconds),
  concurrency: Number(args.concurrency),
  providers: args.providers.split(',') as DatabaseProvider[],
};

const log = (line: string) => process.stderr.write(`[bench:gateway] ${line}\n`);

// ---- the load generator, in a worker thread (plain JavaScript, so it needs no TypeScript loader) ----

const CLIENT_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { port, path, rows, idPrefix, batchRows, concurrency, maxRequests, maxMs, authorization } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
function send(body) {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - started }));
      },
    );
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end(body);
  });
}
function body(i) {
  if (batchRows === 0) return JSON.stringify({ id: idPrefix + i, features: rows[i % rows.length] });
  const batch = [];
  for (let k = 0; k < batchRows; k++) {
    const n = i * batchRows + k;
    batch.push({ id: idPrefix + n, features: rows[n % rows.length] });
  }
  return JSON.stringify({ rows: batch });
}
(async () => {
  const latencies = new Float64Array(maxRequests);
  let next = 0, done = 0, ok = 0, errors = 0;
  const statuses = {};
  const started = performance.now();
  const deadline = started + maxMs;
  const progress = setInterval(() => parentPort.postMessage({ type: 'progress', done, ok, ms: performance.now() - started }), 1000);
  async function loop() {
    while (next < maxRequests && performance.now() < deadline) {
      const i = next++;
      const { status, ms } = await send(body(i));
      latencies[i] = ms;
      done++;
      if (status === 200) ok++; else { errors++; statuses[status] = (statuses[status] || 0) + 1; }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, loop));
  clearInterval(progress);
  const elapsedMs = performance.now() - started;
  agent.destroy();
  parentPort.postMessage({ type: 'done', sent: next, done, ok, errors, statuses, elapsedMs, latencies: Array.from(latencies.subarray(0, next)) });
})();
`;

interface LoadResult {
  sent: number;
  ok: number;
  errors: number;
  statuses: Record<string, number>;
  elapsedMs: number;
  latencies: number[];
}

function runLoad(
  label: string,
  workerData: {
    port: number;
    path: string;
    rows: unknown[];
    idPrefix: string;
    batchRows: number;
    concurrency: number;
    maxRequests: number;
    maxMs: number;
    /** An ingest key: what a serving client sends on every request. */
    authorization: string;
  },
): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(CLIENT_SOURCE, { eval: true, workerData });
    worker.on('message', (message) => {
      if (message.type === 'progress') {
        const rate = (message.ok * Math.max(1, workerData.batchRows)) / (message.ms / 1000);
        log(`  ${label}: ${message.done} requests, ${Math.round(rate)} predictions/s`);
      } else {
        resolve(message as LoadResult);
        void worker.terminate();
      }
    });
    worker.on('error', reject);
  });
}

// ---- one database -------------------------------------------------------------------------------

function percentiles(values: number[]) {
  if (values.length === 0) return { p50: null, p99: null };
  const [p50, p99] = quantiles(values, [0.5, 0.99]);
  return { p50: round(p50!), p99: round(p99!) };
}

function round(x: number, digits = 3): number {
  return Number(x.toFixed(digits));
}

async function benchmark(provider: DatabaseProvider, rows: Record<string, unknown>[]) {
  const empty = await createEmptyDatabase(provider);
  await migrateDatabase(empty.config);
  const store = await createStore(empty.config);
  // A lazy Temporal client that never connects: the routes measured here do not use Temporal.
  const app = createApp({ store, temporal: new Client(), agentOptions: { taskQueue: 'bench' } });
  const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  server.keepAliveTimeout = 60_000;
  // While `timing`, each request's time in the server: from its headers' arrival to the answer's hand-off
  // to the socket. It excludes the client and the loopback, which the round trips include.
  const serverMs: number[] = [];
  let timing = false;
  server.prependListener('request', (_req, res) => {
    if (!timing) return;
    const started = performance.now();
    res.once('finish', () => serverMs.push(performance.now() - started));
  });
  const port = (server.address() as AddressInfo).port;
  const admin = `Bearer ${await rotateApiKey(store, 'bench-admin', 'admin')}`;
  const ingest = `Bearer ${await rotateApiKey(store, 'bench-ingest', 'ingest')}`;
  const call = jsonClient(`http://127.0.0.1:${port}`, { authorization: admin });
  try {
    log(
      `${provider}: registering credit-default and training a logistic regression on ${TRAINING_ROWS} rows`,
    );
    const rng = new Random(2026);
    const training = Array.from({ length: TRAINING_ROWS }, () => creditDefault.sampleRow(rng));
    const labels = training.map((row) => creditDefault.label(row, rng));
    const model = await call('POST', '/v1/models', {
      name: 'credit-default',
      task: 'binary',
      featureSchema: creditDefault.schema,
      labels: ['0', '1'],
    });
    if (model.status !== 201) throw new Error(`model registration: ${JSON.stringify(model.body)}`);
    const version = await call('POST', '/v1/models/credit-default/versions', {
      train: { trainer: 'logistic-regression' },
      data: { rows: training, labels },
    });
    if (version.status !== 201) throw new Error(`version registration: ${JSON.stringify(version.body)}`);
    const deployed = await call('POST', '/v1/models/credit-default/deployment', {
      production: 1,
      reason: 'bench',
    });
    if (deployed.status !== 201) throw new Error(`deployment: ${JSON.stringify(deployed.body)}`);
    const accuracy = version.body.version.metrics.accuracy as number;

    const load = (
      label: string,
      idPrefix: string,
      batchRows: number,
      concurrency: number,
      maxRequests: number,
    ) =>
      runLoad(`${provider} ${label}`, {
        port,
        path: '/v1/models/credit-default/predict',
        rows,
        idPrefix,
        batchRows,
        concurrency,
        maxRequests,
        maxMs: settings.maxSeconds * 1000,
        authorization: ingest,
      });

    log(`${provider}: warming up (${WARMUP_REQUESTS} requests)`);
    await load('warm-up', 'warm-', 0, settings.concurrency, WARMUP_REQUESTS);

    log(`${provider}: (a) throughput, ${settings.concurrency} clients, single rows`);
    const single = await load('single rows', 'single-', 0, settings.concurrency, settings.maxRequests);
    log(`${provider}: (a) throughput, ${settings.concurrency} clients, batches of ${BATCH_ROWS}`);
    const batches = await load(
      'batches',
      'batch-',
      BATCH_ROWS,
      settings.concurrency,
      Math.ceil(settings.maxRequests / BATCH_ROWS) * 4,
    );
    await drainPredictionWriters();
    const stored = {
      single: await store.prediction.count({ where: { id: { startsWith: 'single-' } } }),
      batch: await store.prediction.count({ where: { id: { startsWith: 'batch-' } } }),
    };

    log(`${provider}: (b) added latency, 1 client, ${OVERHEAD_SAMPLES} sequential requests`);
    const artifact = parseModelArtifact(
      (await store.modelVersion.findFirstOrThrow({ select: { artifact: true } })).artifact,
    );
    const adapter = loadModel(artifact);
    for (let i = 0; i < WARMUP_REQUESTS; i++) await adapter.predict([rows[i % rows.length] as never]);
    const direct: number[] = [];
    for (let i = 0; i < OVERHEAD_SAMPLES; i++) {
      const started = performance.now();
      await adapter.predict([rows[i % rows.length] as never]);
      direct.push(performance.now() - started);
    }
    timing = true;
    const sequential = await load('sequential', 'seq-', 0, 1, OVERHEAD_SAMPLES);
    timing = false;
    const overhead = sequential.latencies.map((ms, i) => ms - direct[i]!);
    const serverOverhead = serverMs.map((ms, i) => ms - direct[i]!);

    const result = {
      modelAccuracy: round(accuracy),
      throughput: {
        clients: settings.concurrency,
        requests: single.sent,
        ok: single.ok,
        errors: single.errors,
        statuses: single.statuses,
        seconds: round(single.elapsedMs / 1000),
        predictionsPerSecond: Math.round(single.ok / (single.elapsedMs / 1000)),
        stored: stored.single,
        latencyMs: percentiles(single.latencies),
      },
      batchThroughput: {
        clients: settings.concurrency,
        rowsPerRequest: BATCH_ROWS,
        requests: batches.sent,
        errors: batches.errors,
        seconds: round(batches.elapsedMs / 1000),
        predictionsPerSecond: Math.round((batches.ok * BATCH_ROWS) / (batches.elapsedMs / 1000)),
        stored: stored.batch,
        latencyMs: percentiles(batches.latencies),
      },
      overhead: {
        samples: sequential.sent,
        errors: sequential.errors,
        gatewayMs: percentiles(sequential.latencies),
        directMs: percentiles(direct),
        addedMs: percentiles(overhead),
        serverMs: percentiles(serverMs),
        serverAddedMs: percentiles(serverOverhead),
      },
    };
    if (stored.single !== single.ok || stored.batch !== batches.ok * BATCH_ROWS) {
      throw new Error(
        `stored rows do not match answered predictions: ${JSON.stringify({ stored, single, batches })}`,
      );
    }
    return result;
  } finally {
    await new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await drainPredictionWriters();
    await store.$disconnect();
    await empty.drop();
  }
}

// ---- main ---------------------------------------------------------------------------------------

const pool = new Random(7);
const rows = Array.from({ length: ROW_POOL }, () => creditDefault.sampleRow(pool));
const results: Record<string, Awaited<ReturnType<typeof benchmark>>> = {};
for (const provider of settings.providers) {
  results[provider] = await benchmark(provider, rows);
  log(`${provider}: ${JSON.stringify(results[provider])}`);
}

const cpus = os.cpus();
const report = {
  generatedAt: new Date().toISOString(),
  command: `npm run bench:gateway -- --requests ${settings.maxRequests} --seconds ${settings.maxSeconds} --concurrency ${settings.concurrency} --providers ${settings.providers.join(',')}`,
  machine: {
    cpu: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    /** 1, 5 and 15 minute load averages when the benchmark ended: other work on the machine. */
    loadAverage: os.loadavg().map((x) => round(x, 2)),
  },
  goals: {
    predictionsPerSecond: GOAL_PREDICTIONS_PER_SECOND,
    p99AddedLatencyMs: GOAL_P99_OVERHEAD_MS,
  },
  results: Object.fromEntries(
    Object.entries(results).map(([provider, r]) => [
      provider,
      {
        ...r,
        meetsGoals: {
          predictionsPerSecond: r.throughput.predictionsPerSecond >= GOAL_PREDICTIONS_PER_SECOND,
          p99AddedLatency: (r.overhead.addedMs.p99 ?? Infinity) < GOAL_P99_OVERHEAD_MS,
        },
      },
    ]),
  ),
};
const out = path.join(REPO_ROOT, 'bench', 'results', 'gateway.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);

const table = [
  '| database | logged predictions/s (single rows, ' +
    `${settings.concurrency} clients) | latency p50 / p99 under load (ms) | logged predictions/s (batches of ${BATCH_ROWS}) | ` +
    'added latency p50 / p99 (ms) | of which in the server p50 / p99 (ms) | gateway p50 / p99, 1 client (ms) | adapter alone p50 / p99 (ms) |',
  '|---|---|---|---|---|---|---|---|',
  ...Object.entries(results).map(
    ([provider, r]) =>
      `| ${provider} | ${r.throughput.predictionsPerSecond} | ${r.throughput.latencyMs.p50} / ${r.throughput.latencyMs.p99} | ` +
      `${r.batchThroughput.predictionsPerSecond} | ${r.overhead.addedMs.p50} / ${r.overhead.addedMs.p99} | ` +
      `${r.overhead.serverAddedMs.p50} / ${r.overhead.serverAddedMs.p99} | ` +
      `${r.overhead.gatewayMs.p50} / ${r.overhead.gatewayMs.p99} | ${r.overhead.directMs.p50} / ${r.overhead.directMs.p99} |`,
  ),
];
console.log(table.join('\n'));
console.log(
  `\ngoals: ≥ ${GOAL_PREDICTIONS_PER_SECOND} logged predictions/s, added p99 < ${GOAL_P99_OVERHEAD_MS} ms · ${report.machine.cpus} × ${report.machine.cpu}, load average ${report.machine.loadAverage.join(' ')}, Node ${process.version} · written to ${path.relative(REPO_ROOT, out)}`,
);
