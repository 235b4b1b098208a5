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
//       one request at a time, each request's round trip minus the adapter's time on the same row;
//   (c) the floor, in the same run: Node's own HTTP server doing the same work without the product around
//       it — parse the body, score the row with the same adapter, commit the same record through the same
//       prediction writer, answer — measured with (a) and (b). The gateway's figures divided by the
//       floor's are what holds across machines; the goal is within 1.5× of the floor. The two are
//       measured in alternating rounds (gateway, floor, floor, gateway, …), so that a change of load on a
//       shared machine falls on both alike instead of on whichever ran second.
// The HTTP clients run in a worker thread, so they do not take CPU from the gateway's event loop.
// Results go to bench/results/gateway.json and, rendered from that JSON, to the "## Gateway" section of
// docs/benchmarks.md.
import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { createApi } from '../api/app.ts';
import { jsonClient } from '../lib/api-client.ts';
import { rotateApiKey } from '../lib/auth/keys.ts';
import { createStore } from '../lib/db/client.ts';
import { type DatabaseProvider, REPO_ROOT } from '../lib/db/config.ts';
import { migrateDatabase } from '../lib/db/migrate.ts';
import { drainPredictionWriters, PredictionWriter } from '../lib/ingest/prediction-writer.ts';
import { loadModel, type ModelAdapter, parseModelArtifact } from '../lib/models/index.ts';
import { creditDefault } from '../lib/sim/demo-models.ts';
import { Random } from '../lib/sim/random.ts';
import { quantiles } from '../lib/stats/descriptive.ts';
import { createEmptyDatabase } from '../test/helpers/db.ts';
import { unreachableTemporal } from '../test/helpers/temporal.ts';
import { writeBenchmarkSection } from './doc-section.ts';

const GOAL_PREDICTIONS_PER_SECOND = 2000;
const GOAL_P99_OVERHEAD_MS = 5;
/** The gateway's throughput and p99 added latency within this factor of the floor's (c). */
const GOAL_FLOOR_RATIO = 1.5;
const TRAINING_ROWS = 2000;
const ROW_POOL = 5000;
const BATCH_ROWS = 100;
const OVERHEAD_SAMPLES = 2000;
const WARMUP_REQUESTS = 500;
/** Rounds the gateway and the floor alternate in (ABBA order), each with its share of the requests. */
const ROUNDS = 4;

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

/** Rounds of one server's load as one result: requests, time and latencies added up. */
function mergeLoads(rounds: LoadResult[]): LoadResult {
  const statuses: Record<string, number> = {};
  for (const r of rounds)
    for (const [k, n] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + n;
  return {
    sent: rounds.reduce((n, r) => n + r.sent, 0),
    ok: rounds.reduce((n, r) => n + r.ok, 0),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    statuses,
    elapsedMs: rounds.reduce((n, r) => n + r.elapsedMs, 0),
    latencies: rounds.flatMap((r) => r.latencies),
  };
}

/**
 * Runs the gateway's and the floor's load in ROUNDS alternating rounds (ABBA: gateway first in even
 * rounds, the floor first in odd ones) and merges each side's rounds.
 */
async function alternate(
  gateway: (round: number) => Promise<LoadResult>,
  floor: (round: number) => Promise<LoadResult>,
): Promise<{ gateway: LoadResult; floor: LoadResult }> {
  const rounds = { gateway: [] as LoadResult[], floor: [] as LoadResult[] };
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      rounds.gateway.push(await gateway(round));
      rounds.floor.push(await floor(round));
    } else {
      rounds.floor.push(await floor(round));
      rounds.gateway.push(await gateway(round));
    }
  }
  return { gateway: mergeLoads(rounds.gateway), floor: mergeLoads(rounds.floor) };
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

// ---- the floor: the same commit behind Node's own HTTP server -----------------------------------

/**
 * What a predict request cannot do without: read and parse the body, score the row, commit it with the
 * gateway's own writer (one INSERT, group commit) and answer. No Express, authentication, validation,
 * routing, metrics or logging: the gateway's cost over this server is what the product adds.
 */
async function startFloorServer(
  store: Awaited<ReturnType<typeof createStore>>,
  ids: { modelId: string; versionId: string },
  adapter: ModelAdapter,
): Promise<Server> {
  const writer = new PredictionWriter(store);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      try {
        const { id, features } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const started = performance.now();
        const [output] = await adapter.predict([features]);
        const latencyMs = performance.now() - started;
        await writer.write([
          {
            id,
            ...ids,
            source: 'gateway',
            features,
            output: output ? { prediction: output.prediction, probabilities: output.probabilities } : null,
            confidence: output?.confidence ?? null,
            latencyMs,
            error: null,
            quality: null,
            shadowOf: null,
            predictedAt: new Date(),
          },
        ]);
        const body = JSON.stringify({ id, ...output });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      } catch (error) {
        res.writeHead(500).end(String(error));
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
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
  // The routes measured here do not use Temporal, but registering the model starts its agent: the client
  // points at a refused loopback port, so the bench never starts agents in a Temporal it did not start
  // (a default client would reach whatever dev server listens on 127.0.0.1:7233, the demo's say).
  const temporal = await unreachableTemporal({ failFast: true });
  const api = createApi({ store, temporal, agentOptions: { taskQueue: 'bench' } });
  const server = await new Promise<Server>((resolve) => {
    const s = api.listen(0, '127.0.0.1', () => resolve(s));
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

    const stored1 = await store.modelVersion.findFirstOrThrow({
      select: { id: true, modelId: true, artifact: true },
    });
    const adapter = loadModel(parseModelArtifact(stored1.artifact));
    const floorServer = await startFloorServer(
      store,
      { modelId: stored1.modelId, versionId: stored1.id },
      adapter,
    );
    /** One load against the gateway or the floor, within `maxMs`. */
    const load = (
      target: 'gateway' | 'floor',
      label: string,
      idPrefix: string,
      batchRows: number,
      concurrency: number,
      maxRequests: number,
      maxMs = settings.maxSeconds * 1000,
    ) =>
      runLoad(`${provider} ${target} ${label}`, {
        ...(target === 'gateway'
          ? { port, path: '/v1/models/credit-default/predict', authorization: ingest }
          : { port: (floorServer.address() as AddressInfo).port, path: '/', authorization: '' }),
        rows,
        idPrefix,
        batchRows,
        concurrency,
        maxRequests,
        maxMs,
      });
    const perRound = Math.ceil(settings.maxRequests / ROUNDS);
    const sequentialPerRound = OVERHEAD_SAMPLES / ROUNDS;

    let single: LoadResult;
    let batches: LoadResult;
    let sequential: LoadResult;
    let floor: { single: LoadResult; sequential: LoadResult; stored: number };
    const stored = { single: 0, batch: 0 };
    // The adapter's own time on each row a sequential round sends (rows[i] for its i-th request).
    const direct: number[] = [];
    try {
      log(`${provider}: warming up (${WARMUP_REQUESTS} requests each)`);
      await load('gateway', 'warm-up', 'warm-', 0, settings.concurrency, WARMUP_REQUESTS);
      await load('floor', 'warm-up', 'floor-warm-', 0, settings.concurrency, WARMUP_REQUESTS);

      log(
        `${provider}: (a) and (c) throughput, ${settings.concurrency} clients, single rows, ${ROUNDS} alternating rounds`,
      );
      const throughput = await alternate(
        (r) =>
          load(
            'gateway',
            `single rows ${r + 1}/${ROUNDS}`,
            `single-${r}-`,
            0,
            settings.concurrency,
            perRound,
            (settings.maxSeconds * 1000) / ROUNDS,
          ),
        (r) =>
          load(
            'floor',
            `single rows ${r + 1}/${ROUNDS}`,
            `floor-single-${r}-`,
            0,
            settings.concurrency,
            perRound,
            (settings.maxSeconds * 1000) / ROUNDS,
          ),
      );
      single = throughput.gateway;
      log(`${provider}: (a) throughput, ${settings.concurrency} clients, batches of ${BATCH_ROWS}`);
      batches = await load(
        'gateway',
        'batches',
        'batch-',
        BATCH_ROWS,
        settings.concurrency,
        Math.ceil(settings.maxRequests / BATCH_ROWS) * 4,
      );

      log(`${provider}: (b) added latency, 1 client, ${OVERHEAD_SAMPLES} sequential requests each`);
      for (let i = 0; i < WARMUP_REQUESTS; i++) await adapter.predict([rows[i % rows.length] as never]);
      for (let i = 0; i < sequentialPerRound; i++) {
        const started = performance.now();
        await adapter.predict([rows[i % rows.length] as never]);
        direct.push(performance.now() - started);
      }
      const latency = await alternate(
        async (r) => {
          timing = true;
          const result = await load(
            'gateway',
            `sequential ${r + 1}/${ROUNDS}`,
            `seq-${r}-`,
            0,
            1,
            sequentialPerRound,
          );
          timing = false;
          return result;
        },
        (r) => load('floor', `sequential ${r + 1}/${ROUNDS}`, `floor-seq-${r}-`, 0, 1, sequentialPerRound),
      );
      sequential = latency.gateway;
      await drainPredictionWriters();
      stored.single = await store.prediction.count({ where: { id: { startsWith: 'single-' } } });
      stored.batch = await store.prediction.count({ where: { id: { startsWith: 'batch-' } } });
      floor = {
        single: throughput.floor,
        sequential: latency.floor,
        stored: await store.prediction.count({ where: { id: { startsWith: 'floor-single-' } } }),
      };
    } finally {
      await new Promise((resolve) => floorServer.close(resolve));
      floorServer.closeAllConnections();
    }
    /** A sequential request's round trip minus the adapter's time on its row. */
    const added = (latencies: number[]) => latencies.map((ms, i) => ms - direct[i % sequentialPerRound]!);
    const overhead = added(sequential.latencies);
    const serverOverhead = added(serverMs);
    const floorPerSecond = Math.round(floor.single.ok / (floor.single.elapsedMs / 1000));
    const floorAdded = percentiles(added(floor.sequential.latencies));
    const gatewayPerSecond = Math.round(single.ok / (single.elapsedMs / 1000));
    const gatewayAdded = percentiles(overhead);

    const result = {
      modelAccuracy: round(accuracy),
      throughput: {
        clients: settings.concurrency,
        requests: single.sent,
        ok: single.ok,
        errors: single.errors,
        statuses: single.statuses,
        seconds: round(single.elapsedMs / 1000),
        predictionsPerSecond: gatewayPerSecond,
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
        addedMs: gatewayAdded,
        serverMs: percentiles(serverMs),
        serverAddedMs: percentiles(serverOverhead),
      },
      floor: {
        predictionsPerSecond: floorPerSecond,
        errors: floor.single.errors + floor.sequential.errors,
        stored: floor.stored,
        latencyMs: percentiles(floor.single.latencies),
        addedMs: floorAdded,
      },
      /** The gateway against the floor: how much slower (throughput) and how much more added p99. */
      ratioToFloor: {
        throughput: round(floorPerSecond / gatewayPerSecond, 2),
        p99AddedLatency: round((gatewayAdded.p99 ?? Infinity) / (floorAdded.p99 ?? Infinity), 2),
      },
    };
    if (
      stored.single !== single.ok ||
      stored.batch !== batches.ok * BATCH_ROWS ||
      floor.stored !== floor.single.ok
    ) {
      throw new Error(
        `stored rows do not match answered predictions: ${JSON.stringify({ stored, floor: floor.stored, ok: [single.ok, batches.ok, floor.single.ok] })}`,
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
    withinFloorRatio: GOAL_FLOOR_RATIO,
  },
  results: Object.fromEntries(
    Object.entries(results).map(([provider, r]) => [
      provider,
      {
        ...r,
        meetsGoals: {
          predictionsPerSecond: r.throughput.predictionsPerSecond >= GOAL_PREDICTIONS_PER_SECOND,
          p99AddedLatency: (r.overhead.addedMs.p99 ?? Infinity) < GOAL_P99_OVERHEAD_MS,
          throughputWithinFloorRatio: r.ratioToFloor.throughput <= GOAL_FLOOR_RATIO,
          p99AddedWithinFloorRatio: r.ratioToFloor.p99AddedLatency <= GOAL_FLOOR_RATIO,
        },
      },
    ]),
  ),
};
const out = path.join(REPO_ROOT, 'bench', 'results', 'gateway.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);

writeBenchmarkSection(renderSection(report));
process.stderr.write(`${renderSection(report)}\n`);

/** The docs section, from the report exactly as written to the JSON. */
function renderSection(r: typeof report): string {
  const rows = Object.entries(r.results);
  const pair = (x: { p50: number | null; p99: number | null }) => `${x.p50} / ${x.p99}`;
  const yes = (ok: boolean) => (ok ? 'met' : '**not met**');
  return `## Gateway: logged predictions per second and added latency

Command: \`${r.command}\` (${r.generatedAt.slice(0, 16).replace('T', ' ')} UTC; ${r.machine.cpus} × ${r.machine.cpu}, Node ${r.machine.node}, load average at the end ${r.machine.loadAverage.join(' ')}). Loopback HTTP clients in a worker thread, each request with an ingest API key; every prediction is committed before it is answered (stored rows are counted against answered requests). Generated from \`bench/results/gateway.json\` of the same run.

The **floor** is Node's own HTTP server doing the same work in the same run — parse the body, score the row with the same adapter, commit the same record through the same writer (one INSERT per group of concurrent requests, each answered after that commit, exactly as the gateway's) — without Express, authentication, validation, routing, metrics or logging. The gateway and the floor are measured in ${ROUNDS} alternating rounds (ABBA), so that a change of load on the shared machine falls on both alike. The ratios to the floor are the figures that hold across machines.

| database | single rows/s (${r.results[rows[0]![0]]?.throughput.clients} clients): gateway · floor · ratio | added p99 (ms): gateway · floor · ratio | latency under load p50 / p99 (ms) | batches of ${BATCH_ROWS}: rows/s | added p50 / p99 (ms) | of which in the server p50 / p99 (ms) | adapter alone p50 / p99 (ms) |
|---|---|---|---|---|---|---|---|
${rows
  .map(
    ([provider, x]) =>
      `| ${provider} | ${x.throughput.predictionsPerSecond} · ${x.floor.predictionsPerSecond} · ${x.ratioToFloor.throughput}× | ${x.overhead.addedMs.p99} · ${x.floor.addedMs.p99} · ${x.ratioToFloor.p99AddedLatency}× | ${pair(x.throughput.latencyMs)} | ${x.batchThroughput.predictionsPerSecond} | ${pair(x.overhead.addedMs)} | ${pair(x.overhead.serverAddedMs)} | ${pair(x.overhead.directMs)} |`,
  )
  .join('\n')}

Goals: within ${r.goals.withinFloorRatio}× of the floor on throughput and on added p99 — ${rows
    .map(
      ([provider, x]) =>
        `${provider}: throughput ${yes(x.meetsGoals.throughputWithinFloorRatio)}, p99 ${yes(x.meetsGoals.p99AddedWithinFloorRatio)}`,
    )
    .join(
      '; ',
    )}. Absolute goals (this machine): ≥ ${r.goals.predictionsPerSecond} predictions/s and added p99 < ${r.goals.p99AddedLatencyMs} ms — ${rows
    .map(
      ([provider, x]) =>
        `${provider}: ${yes(x.meetsGoals.predictionsPerSecond)}, ${yes(x.meetsGoals.p99AddedLatency)}`,
    )
    .join('; ')}.
`;
}
