// Fleet benchmark: `npm run bench:fleet [-- --models 100,1000 --minutes 5 --interval 60 --rows 50
// --incidents 0.01 --sample 100 --db sqlite]`.
//
// For each fleet size N it runs the stack as a user would — a Temporal dev server (in memory), a fresh
// database, the API and one worker as their own processes (worker/main.ts, api/server.ts) — registers N
// credit-default models through the API (each registration starts the model's agent), and for `--minutes` sends every model a batch of `--rows` logged
// predictions per cycle interval (paced over the interval, model after model) and, one interval later,
// their labels. A share `--incidents` of the models (every 1/share-th) get the upstream-nulls scenario
// (a data-quality incident) from their fourth batch on.
//
// The clock: one cycle interval (`--interval` seconds, HOMEOSTAT_CYCLE_INTERVAL) stands for one minute of
// the product's time; at the default 60 the clock is real. A shorter interval is N × 60 / interval
// models' worth of cycles. Rows per model-day count one cycle as one minute (1,440 a day).
//
// Measured per N: cycle lag (a cycle's first activity scheduled minus the end of the sleep it was due
// at) and workflow-task latency from the histories of `--sample` agents spread over the fleet; events and
// bytes per cycle, and so the cycles until the server suggests continue-as-new; worker, API and dev-server
// RSS and CPU from /proc every 5 s; database rows and bytes per table; GET /v1/fleet (the dashboard
// fleet page's data) with N models; warnings the worker logged. Results go to bench/results/fleet.json
// after each N (a run that dies later keeps the earlier ones) and, rendered from that JSON, to the
// "## Fleet" section of docs/benchmarks.md. Progress goes to stderr every 30 s.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type JsonCall, jsonClient } from '../lib/api-client.ts';
import type { DatabaseProvider } from '../lib/db/config.ts';
import { creditDefault } from '../lib/sim/demo-models.ts';
import { oracleScorer } from '../lib/sim/drive.ts';
import { findScenario } from '../lib/sim/scenarios.ts';
import { demoLabels } from '../lib/sim/setup.ts';
import { generateStream, type SimEvent } from '../lib/sim/stream.ts';
import { agentWorkflowId } from '../lib/temporal.ts';
import { temporalCliPath } from '../lib/temporal-binaries.ts';
import { authHeader } from '../test/helpers/api.ts';
import { createTestDatabase, type TestDatabase } from '../test/helpers/db.ts';
import { type RunningProcess, startEntryPoint } from '../test/helpers/processes.ts';
import { startDevServer } from '../test/helpers/temporal.ts';
import { writeBenchmarkSection } from './doc-section.ts';
import { databaseFootprint } from './fleet-database.ts';
import { type HistoryFigures, historyFigures } from './fleet-history.ts';
import { findProcess, watchProcess } from './fleet-probe.ts';
import { type FleetResults, type FleetRunResult, renderFleetSection } from './fleet-report.ts';

const RESULTS = path.join(import.meta.dirname, 'results', 'fleet.json');
const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: '100,1000' },
    minutes: { type: 'string', default: '5' },
    interval: { type: 'string', default: '60' },
    rows: { type: 'string', default: '50' },
    incidents: { type: 'string', default: '0.01' },
    sample: { type: 'string', default: '100' },
    db: { type: 'string', default: 'sqlite' },
    /** Only render the docs section from the committed bench/results/fleet.json. */
    render: { type: 'boolean', default: false },
  },
});
const settings = {
  sizes: args.models.split(',').map(Number),
  minutes: Number(args.minutes),
  intervalSeconds: Number(args.interval),
  rowsPerCycle: Number(args.rows),
  incidentShare: Number(args.incidents),
  historySample: Number(args.sample),
  db: args.db as DatabaseProvider,
};
const INTERVAL_MS = settings.intervalSeconds * 1000;
/** Batches before an incident model's scenario begins: the detector learns healthy traffic first. */
const HEALTHY_BATCHES = 3;
/** Requests in flight at once while registering and sending traffic. */
const CONCURRENCY = 16;
const SCENARIO = findScenario('upstream-nulls')!;
const score = oracleScorer(creditDefault);

const log = (line: string) =>
  process.stderr.write(`[bench:fleet ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
};
const spread = (xs: number[]) => ({
  n: xs.length,
  p50: quantile(xs, 0.5),
  p99: quantile(xs, 0.99),
  max: quantile(xs, 1),
});

/** Runs `task` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, task: (item: T, index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await task(items[i]!, i);
      }
    }),
  );
}

interface Traffic {
  batches: number;
  rows: number;
  failed: Record<string, number>;
}

/** One model's stream of logged predictions, and the labels owed for its last batch. */
function modelStream(index: number, incident: boolean, batches: number) {
  const scenario = incident
    ? { ...SCENARIO, onset: settings.rowsPerCycle * HEALTHY_BATCHES }
    : findScenario('steady')!;
  const events = generateStream({
    model: creditDefault,
    scenario,
    seed: index + 1,
    count: settings.rowsPerCycle * (batches + 2),
  })[Symbol.iterator]();
  let owed: SimEvent[] = [];
  return {
    next(): { predictions: unknown[]; labels: unknown[] } {
      const labels = owed
        .filter((e) => e.label !== null && !e.failed)
        .map((e) => ({ predictionId: e.predictionId, label: String(e.label) }));
      owed = [];
      for (let k = 0; k < settings.rowsPerCycle; k++) {
        const e = events.next();
        if (e.done) break;
        owed.push(e.value);
      }
      const predictions = owed.map((e) =>
        e.failed
          ? { id: e.predictionId, features: e.features, error: 'inference failed', latencyMs: e.latencyMs }
          : { id: e.predictionId, features: e.features, ...score(e.features), latencyMs: e.latencyMs },
      );
      return { predictions, labels };
    },
  };
}

/** Sends each model its batch once per interval, paced model after model, until `until`. */
async function sendTraffic(call: JsonCall, names: string[], incidents: Set<number>, until: number) {
  const traffic: Traffic = { batches: 0, rows: 0, failed: {} };
  const batches = Math.ceil((until - Date.now()) / INTERVAL_MS) + 1;
  const streams = names.map((_, i) => modelStream(i, incidents.has(i), batches));
  const fail = (what: string) => {
    traffic.failed[what] = (traffic.failed[what] ?? 0) + 1;
  };
  const start = Date.now();
  for (let round = 0; Date.now() < until; round++) {
    await pool(names, CONCURRENCY, async (name, i) => {
      const at = start + round * INTERVAL_MS + (i * INTERVAL_MS) / names.length;
      if (at > until) return;
      await sleep(at - Date.now());
      const { predictions, labels } = streams[i]!.next();
      const base = `/v1/models/${encodeURIComponent(name)}`;
      if (labels.length) {
        const res = await call('POST', `${base}/labels`, { labels }).catch(() => ({ status: 0 }));
        if (res.status !== 202) fail(`labels ${res.status}`);
      }
      const res = await call('POST', `${base}/predictions`, { predictions }).catch(() => ({ status: 0 }));
      if (res.status === 202) {
        traffic.batches++;
        traffic.rows += predictions.length;
      } else fail(`predictions ${res.status}`);
    });
  }
  return traffic;
}

/** Warnings and errors the process logged, by message, most frequent first. */
function loggedProblems(output: string) {
  const counts = new Map<string, number>();
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as {
        level?: number | string;
        msg?: string;
        error?: unknown;
        err?: unknown;
      };
      const level = typeof entry.level === 'number' ? entry.level : 40;
      if (level < 40) continue;
      const detail = JSON.stringify(entry.error ?? entry.err ?? '').slice(0, 120);
      const key = `${entry.msg ?? '?'}${detail !== '""' ? `: ${detail}` : ''}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    } catch {
      // not a log line
    }
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([message, count]) => ({ message, count }));
}

/**
 * The task queue's backlog as the server reports it (`temporal task-queue describe`): a workflow backlog
 * that grows while the worker idles says the server, not the worker, holds the fleet back.
 */
function taskQueueStats(address: string, taskQueue: string): Promise<unknown> {
  return new Promise((resolve) => {
    execFile(
      temporalCliPath(),
      ['task-queue', 'describe', '--address', address, '--task-queue', taskQueue, '-o', 'json'],
      { timeout: 30_000 },
      (error, stdout) => {
        if (error) return resolve({ error: String(error).slice(0, 200) });
        try {
          resolve((JSON.parse(stdout) as { stats?: unknown }).stats ?? null);
        } catch {
          resolve({ error: 'unreadable answer' });
        }
      },
    );
  });
}

async function measureFleetPage(call: JsonCall) {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const res = await call('GET', '/v1/fleet');
    times.push(performance.now() - t0);
    bytes = JSON.stringify(res.body).length;
    if (res.status !== 200) return { error: `GET /v1/fleet answered ${res.status}` };
  }
  return { p50Ms: quantile(times, 0.5), maxMs: quantile(times, 1), bytes };
}

function summariseHistories(figures: HistoryFigures[]) {
  const all = (pick: (f: HistoryFigures) => number[]) => figures.flatMap(pick);
  const cycles = figures.reduce((n, f) => n + f.cycles, 0);
  const events = figures.reduce((n, f) => n + f.events, 0);
  const bytes = figures.reduce((n, f) => n + f.bytes, 0);
  const eventsPerCycle = cycles ? events / cycles : null;
  const bytesPerCycle = cycles ? bytes / cycles : null;
  return {
    agents: figures.length,
    cycles,
    cycleLagMs: spread(all((f) => f.cycleLagMs)),
    cycleActivityScheduleToStartMs: spread(all((f) => f.activityScheduleToStartMs)),
    workflowTaskWaitMs: spread(all((f) => f.workflowTaskWaitMs)),
    workflowTaskRunMs: spread(all((f) => f.workflowTaskRunMs)),
    eventsPerCycle: eventsPerCycle && Number(eventsPerCycle.toFixed(1)),
    bytesPerCycle: bytesPerCycle && Math.round(bytesPerCycle),
    carriedStateBytes: spread(figures.map((f) => f.inputBytes)),
    largestHistory: {
      events: Math.max(...figures.map((f) => f.events)),
      bytes: Math.max(...figures.map((f) => f.bytes)),
    },
    continueAsNewSuggested: figures.filter((f) => f.continueAsNewSuggestedAt !== null).length,
    startDelayMs: spread(figures.map((f) => f.startDelayMs)),
  };
}

async function runFleet(n: number) {
  const started = Date.now();
  log(`N=${n}: starting the dev server, a ${settings.db} database, the API and the worker`);
  const [env, db]: [Awaited<ReturnType<typeof startDevServer>>, TestDatabase] = await Promise.all([
    startDevServer(),
    createTestDatabase(settings.db),
  ]);
  const port = env.address.split(':').at(-1)!;
  const processEnv = {
    TEMPORAL_ADDRESS: env.address,
    DATABASE_URL: settings.db === 'sqlite' ? `file:${db.config.url}` : db.config.url,
    HOMEOSTAT_TASK_QUEUE: `fleet-${n}`,
    HOMEOSTAT_CYCLE_INTERVAL: `${settings.intervalSeconds} seconds`,
    PORT: '0',
  };
  const processes: RunningProcess[] = [];
  try {
    const api = startEntryPoint('api/server.ts', processEnv);
    processes.push(api);
    // Warnings only: a line per activity would grow this process's copy of the output for nothing.
    const worker = startEntryPoint('worker/main.ts', { ...processEnv, LOG_LEVEL: 'warn' });
    processes.push(worker);
    const call = jsonClient(String((await api.waitForLog('api listening')).url), await authHeader(db.store));
    const devPid = findProcess(['start-dev', port]) ?? findProcess(['start-dev', '--port', port]);
    const watched: Record<string, ReturnType<typeof watchProcess>> = {
      worker: watchProcess(worker.child.pid!),
      api: watchProcess(api.child.pid!),
    };
    if (devPid) watched.devServer = watchProcess(devPid);
    else log('the dev server process was not found: its memory and CPU are not measured');

    const names = Array.from({ length: n }, (_, i) => `fleet-${String(i).padStart(5, '0')}`);
    const every = Math.max(1, Math.round(1 / settings.incidentShare));
    const incidents = new Set(
      names.map((_, i) => i).filter((i) => settings.incidentShare > 0 && i % every === every - 1),
    );
    const registerStart = Date.now();
    let registered = 0;
    await pool(names, 8, async (name) => {
      const res = await call('POST', '/v1/models', {
        name,
        task: creditDefault.task,
        labels: demoLabels(creditDefault),
        featureSchema: creditDefault.schema,
      });
      if (res.status !== 201 && res.status !== 202)
        throw new Error(`registering ${name}: ${res.status} ${JSON.stringify(res.body)}`);
      if (++registered % 100 === 0) log(`N=${n}: registered ${registered} models`);
    });
    const registerSeconds = (Date.now() - registerStart) / 1000;
    log(
      `N=${n}: ${n} models registered in ${registerSeconds.toFixed(0)} s; traffic for ${settings.minutes} min`,
    );

    const trafficStart = Date.now();
    const until = trafficStart + settings.minutes * 60_000;
    // Usage counts from one interval in: every agent has had its first cycle (a start delay is at most one).
    const measureFrom = trafficStart + INTERVAL_MS;
    let cyclesAtMeasureFrom = 0;
    const startCount = setTimeout(async () => {
      cyclesAtMeasureFrom = await db.store.metricWindow.count();
    }, measureFrom - Date.now());
    const loads: number[] = [];
    const progress = setInterval(async () => {
      loads.push(os.loadavg()[0]!);
      const cycles = await db.store.metricWindow.count().catch(() => -1);
      const w = watched.worker!.latest();
      const d = watched.devServer?.latest();
      log(
        `N=${n}: ${((Date.now() - trafficStart) / 1000).toFixed(0)} s; ${cycles} cycles recorded (${(cycles / n).toFixed(1)} per agent); worker ${w ? `${Math.round(w.rssBytes / 2 ** 20)} MB, ${w.cpuSeconds.toFixed(0)} cpu-s` : 'GONE'}; dev server ${d ? `${Math.round(d.rssBytes / 2 ** 20)} MB, ${d.cpuSeconds.toFixed(0)} cpu-s` : '?'}`,
      );
    }, 30_000);
    const traffic = await sendTraffic(call, names, incidents, until);
    // Longer than asked when the sender itself falls behind (its batches are paced, not dropped).
    const trafficMinutes = Number(((Date.now() - trafficStart) / 60_000).toFixed(1));
    clearInterval(progress);
    clearTimeout(startCount);
    const cyclesInWindow = (await db.store.metricWindow.count()) - cyclesAtMeasureFrom;
    const workerDied = !watched.worker!.alive();
    const taskQueue = await taskQueueStats(env.address, processEnv.HOMEOSTAT_TASK_QUEUE);
    const usage = Object.fromEntries(Object.entries(watched).map(([k, w]) => [k, w.usage(measureFrom)]));
    for (const w of Object.values(watched)) w.stop();

    log(`N=${n}: traffic done (${traffic.batches} batches); timing GET /v1/fleet and reading histories`);
    const fleetPage = await measureFleetPage(call);
    const sampled = names
      .filter((_, i) => i % Math.max(1, Math.floor(n / settings.historySample)) === 0)
      .slice(0, settings.historySample);
    const figures: HistoryFigures[] = [];
    await pool(sampled, 4, async (name) => {
      const history = await env.client.workflow.getHandle(agentWorkflowId(name)).fetchHistory();
      figures.push(historyFigures(history, INTERVAL_MS));
    });
    const histories = summariseHistories(figures);
    const cyclesRecorded = await db.store.metricWindow.count();
    const incidentRows = await db.store.incident.findMany({ select: { kind: true, status: true } });
    const database = await databaseFootprint(db.store, settings.db);
    const cyclesPerModel = cyclesRecorded / n;
    const modelDays = (n * cyclesPerModel) / 1440;
    const result = {
      models: n,
      intervalSeconds: settings.intervalSeconds,
      agentCyclesPerSecondDue: Number((n / settings.intervalSeconds).toFixed(2)),
      equivalentModelsAtOneMinute: Math.round((n * 60) / settings.intervalSeconds),
      registerSeconds: Math.round(registerSeconds),
      trafficMinutes,
      traffic,
      incidentModels: incidents.size,
      incidents: incidentRows.reduce<Record<string, number>>((acc, r) => {
        const key = `${r.kind}:${r.status}`;
        acc[key] = (acc[key] ?? 0) + 1;
        return acc;
      }, {}),
      cyclesRecorded,
      cyclesPerAgent: Number(cyclesPerModel.toFixed(2)),
      cyclesPerAgentDue: Number(((Date.now() - trafficStart) / INTERVAL_MS).toFixed(2)),
      histories,
      continueAsNewEveryCycles:
        histories.eventsPerCycle && histories.bytesPerCycle
          ? Math.floor(Math.min(4096 / histories.eventsPerCycle, (4 * 2 ** 20) / histories.bytesPerCycle))
          : null,
      usage,
      /** Cycles recorded while usage was measured, and each process's CPU per such cycle. */
      cyclesInUsageWindow: cyclesInWindow,
      cpuMsPerCycle: Object.fromEntries(
        Object.entries(usage).map(([k, u]) => [
          k,
          u && cyclesInWindow ? Math.round((u.cpuSeconds * 1000) / cyclesInWindow) : null,
        ]),
      ),
      /** The machine's 1-minute load average, sampled every 30 s during the traffic. */
      machineLoad: {
        mean: Number((loads.reduce((a, b) => a + b, 0) / Math.max(1, loads.length)).toFixed(1)),
        max: Number(Math.max(0, ...loads).toFixed(1)),
      },
      workerDied,
      taskQueue,
      workerExit: workerDied
        ? { code: worker.child.exitCode, signal: worker.child.signalCode, tail: worker.output().slice(-2000) }
        : null,
      workerProblems: loggedProblems(worker.output()),
      apiProblems: loggedProblems(api.output()),
      fleetPage,
      database: {
        ...database,
        perModelDay: Object.fromEntries(
          database.tables.map((t) => [
            t.name,
            {
              rows: Math.round(t.rows / modelDays),
              bytes: t.bytes === null ? null : Math.round(t.bytes / modelDays),
            },
          ]),
        ),
        bytesPerModelDay: Math.round(database.totalBytes / modelDays),
      },
      seconds: Math.round((Date.now() - started) / 1000),
    };
    log(
      `N=${n}: lag p50 ${histories.cycleLagMs.p50} ms p99 ${histories.cycleLagMs.p99} ms; ${result.cyclesPerAgent} of ${result.cyclesPerAgentDue} cycles per agent; worker ${usage.worker?.peakRssMb} MB peak, ${usage.worker?.cpuCores} cores`,
    );
    return result;
  } finally {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await Promise.all([env.teardown(), db.drop()]);
  }
}

const previous: Partial<FleetResults> = fs.existsSync(RESULTS)
  ? JSON.parse(fs.readFileSync(RESULTS, 'utf8'))
  : {};
const runs: FleetRunResult[] = [];
const save = () => {
  // Runs of other sizes from an earlier invocation stay; this invocation's replace theirs.
  const kept = (previous.runs ?? []).filter((r) => !runs.some((x) => x.models === r.models));
  const all = [...kept, ...runs].sort((a, b) => a.models - b.models);
  const results: FleetResults = {
    generatedAt: new Date().toISOString(),
    settings: {
      ...settings,
      sizes: all.map((r) => r.models),
      healthyBatches: HEALTHY_BATCHES,
      scenario: SCENARIO.id,
    },
    machine: { cores: os.cpus().length, loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))) },
    runs: all,
  };
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  return results;
};
if (args.render) {
  writeBenchmarkSection(renderFleetSection(previous as FleetResults));
  process.exit(0);
}
for (const n of settings.sizes) {
  try {
    runs.push(await runFleet(n));
  } catch (error) {
    log(`N=${n}: the run failed: ${String(error)}`);
    process.exitCode = 1;
  }
  save();
}
writeBenchmarkSection(renderFleetSection(save()));
log('wrote bench/results/fleet.json and the "## Fleet" section of docs/benchmarks.md');
process.exit(process.exitCode ?? 0);
