// The "## Fleet" section of docs/benchmarks.md, rendered from bench/results/fleet.json (bench/fleet.ts
// writes both; `npm run bench:fleet -- --render` renders the section again from the JSON alone).

interface Spread {
  n: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}
interface Usage {
  peakRssMb: number;
  lastRssMb: number;
  cpuCores: number;
  peakCpuCores: number;
}
export interface FleetRunResult {
  models: number;
  intervalSeconds: number;
  agentCyclesPerSecondDue: number;
  equivalentModelsAtOneMinute: number;
  registerSeconds: number;
  trafficMinutes: number;
  traffic: { batches: number; rows: number; failed: Record<string, number> };
  incidentModels: number;
  incidents: Record<string, number>;
  cyclesPerAgent: number;
  cyclesPerAgentDue: number;
  histories: {
    agents: number;
    cycleLagMs: Spread;
    workflowTaskWaitMs: Spread;
    workflowTaskRunMs: Spread;
    cycleActivityScheduleToStartMs: Spread;
    eventsPerCycle: number | null;
    bytesPerCycle: number | null;
    carriedStateBytes: Spread;
    startDelayMs: Spread;
    largestHistory: { events: number; bytes: number };
  };
  continueAsNewEveryCycles: number | null;
  usage: Record<string, Usage | null>;
  cpuMsPerCycle?: Record<string, number | null>;
  machineLoad?: { mean: number; max: number };
  /** As `temporal task-queue describe` reports it. */
  taskQueue?: unknown;
  workerDied: boolean;
  workerExit: { code: number | null; signal: string | null; tail: string } | null;
  workerProblems: { message: string; count: number }[];
  fleetPage: { p50Ms?: number | null; maxMs?: number | null; bytes?: number; error?: string };
  database: {
    tables: { name: string; rows: number; bytes: number | null }[];
    perModelDay: Record<string, { rows: number; bytes: number | null }>;
    bytesPerModelDay: number;
  };
}
interface QueueStats {
  taskQueueType: string;
  approximateBacklogCount: number;
  approximateBacklogAge: string;
}
export interface FleetResults {
  generatedAt: string;
  settings: {
    sizes: number[];
    minutes: number;
    intervalSeconds: number;
    rowsPerCycle: number;
    incidentShare: number;
    db: string;
    healthyBatches: number;
    scenario: string;
  };
  machine: { cores: number; loadAverage: number[] };
  runs: FleetRunResult[];
}

const s = (x: Spread) => `${x.p50 ?? '–'} / ${x.p99 ?? '–'}`;
const mb = (bytes: number | null) => (bytes === null ? '–' : `${(bytes / 2 ** 20).toFixed(1)} MB`);
const use = (u: Usage | null | undefined) =>
  u ? `${u.peakRssMb} MB · ${u.cpuCores} (${u.peakCpuCores})` : '–';

/** Tables of a model's setup and of access, not of its days: no rows per model-day. */
const PER_MODEL_TABLES = new Set([
  'Model',
  'ModelVersion',
  'DeploymentRevision',
  'PolicyVersion',
  'ApiKey',
  'ServerSecret',
]);
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} kB`;
const perCycle = (r: FleetRunResult, process: string) => r.cpuMsPerCycle?.[process] ?? '–';

/** Mean cores the worker, the dev server and the API used together over the measured window. */
function stackCores(r: FleetRunResult): number | null {
  const used = ['worker', 'devServer', 'api'].map((p) => r.usage[p]?.cpuCores);
  return used.every((c) => c !== undefined) ? Number(used.reduce((a, b) => a! + b!, 0)!.toFixed(2)) : null;
}

/** CPU ms one cycle costs the stack (worker, dev server, API with the cycle's ingestion), where measured. */
function stackMsPerCycle(r: FleetRunResult): number | null {
  const ms = ['worker', 'devServer', 'api'].map((p) => r.cpuMsPerCycle?.[p]);
  return ms.every((m) => typeof m === 'number') ? ms.reduce((a, b) => a! + b!, 0)! : null;
}

/**
 * A fleet kept up when its agents ran the cycles that fell due (all but the one an agent's start delay
 * can cost) and no cycle started later than a tenth of an interval after it was due, at p99.
 */
export function keptUp(r: FleetRunResult): boolean {
  const lagOk = (r.histories.cycleLagMs.p99 ?? Number.POSITIVE_INFINITY) < (r.intervalSeconds * 1000) / 10;
  return !r.workerDied && lagOk && r.cyclesPerAgent >= r.cyclesPerAgentDue - 1.5;
}

function verdict(r: FleetRunResult): string {
  // One line per message: the error's detail (a deadline's exact seconds) varies from one to the next.
  const byMessage = new Map<string, number>();
  for (const p of r.workerProblems) {
    const message = p.message.split(': {')[0]!;
    byMessage.set(message, (byMessage.get(message) ?? 0) + p.count);
  }
  const problems = [...byMessage]
    .slice(0, 3)
    .map(([message, count]) => `${count} × "${message.replaceAll('|', '\\|')}"`)
    .join('; ');
  const failed = Object.entries(r.traffic.failed)
    .map(([what, n]) => `${n} × ${what}`)
    .join(', ');
  const parts = [
    `**N = ${r.models}** (${r.agentCyclesPerSecondDue} cycles/s due): ${keptUp(r) ? 'kept up' : '**fell behind**'}`,
    `${r.cyclesPerAgent} of ${r.cyclesPerAgentDue} intervals run per agent`,
    `cycle lag p99 ${r.histories.cycleLagMs.p99 ?? '–'} ms`,
  ];
  const backlog = Array.isArray(r.taskQueue)
    ? (r.taskQueue as QueueStats[]).find((t) => t.taskQueueType === 'workflow')
    : undefined;
  if (backlog?.approximateBacklogCount)
    parts.push(
      `workflow tasks waiting on the server at the end: ${backlog.approximateBacklogCount} (oldest ${backlog.approximateBacklogAge.replace(/\.\d+s$/, 's')})`,
    );
  const received = stackCores(r);
  if (received !== null) parts.push(`the stack's processes got ${received} cores between them`);
  if (r.workerDied)
    parts.push(
      `**the worker died** (exit ${r.workerExit?.code ?? '–'}, signal ${r.workerExit?.signal ?? '–'})`,
    );
  if (failed) parts.push(`ingest failures: ${failed}`);
  if (problems) parts.push(`worker warnings: ${problems}`);
  return `- ${parts.join('; ')}.`;
}

/** How the runs' agents delayed their first cycle (Temporal's startDelay, lib/temporal.ts). */
function startDelays(runs: FleetRunResult[]): string {
  const delayed = runs.filter((r) => (r.histories.startDelayMs.max ?? 0) > 0);
  if (delayed.length === 0) return 'no start delay: first cycles follow the registrations';
  return `first cycles delayed by the start jitter: ${delayed
    .map(
      (r) =>
        `N = ${r.models} p50 ${((r.histories.startDelayMs.p50 ?? 0) / 1000).toFixed(0)} s, max ${((r.histories.startDelayMs.max ?? 0) / 1000).toFixed(0)} s`,
    )
    .join('; ')}`;
}

/** The cores a fleet needs at one-minute cycles, from the measured CPU per cycle. */
function capacity(runs: FleetRunResult[]): string {
  const measured = runs.filter((r) => stackMsPerCycle(r) !== null);
  if (measured.length === 0) return '';
  const lines = measured.map((r) => {
    const ms = stackMsPerCycle(r)!;
    const cores = (n: number) => ((n / 60) * (ms / 1000)).toFixed(2);
    return `- At N = ${r.models}: one cycle cost ${ms} ms of CPU across the stack (worker ${r.cpuMsPerCycle!.worker}, dev server ${r.cpuMsPerCycle!.devServer}, API ${r.cpuMsPerCycle!.api} with the cycle's batch of traffic). At one-minute cycles 100 models need ${cores(100)} cores, 1,000 need ${cores(1000)}, 5,000 need ${cores(5000)}; the stack got ${stackCores(r) ?? '–'} cores during the run, with the machine's load average at ${r.machineLoad ? `${r.machineLoad.mean} (max ${r.machineLoad.max})` : '–'}.`;
  });
  return `\n${lines.join('\n')}\n`;
}

export function renderFleetSection(results: FleetResults): string {
  const { settings, runs, machine } = results;
  const largest = runs.at(-1);
  const perDay = largest
    ? largest.database.tables
        .filter((t) => t.rows > 0 && !PER_MODEL_TABLES.has(t.name) && largest.database.perModelDay[t.name])
        .map((t) => {
          const d = largest.database.perModelDay[t.name]!;
          return `| ${t.name} | ${d.rows.toLocaleString('en')} | ${mb(d.bytes)} |`;
        })
    : [];
  return `## Fleet

Command: \`npm run bench:fleet -- --models ${runs.map((r) => r.models).join(',')} --minutes ${settings.minutes} --interval ${settings.intervalSeconds} --rows ${settings.rowsPerCycle}\`
(${results.generatedAt.slice(0, 16).replace('T', ' ')} UTC, ${settings.db}; generated from
\`bench/results/fleet.json\` of the same run). The stack as a user runs it: a Temporal dev server in memory,
a fresh ${settings.db} database, the API and one worker as their own processes. N credit-default models are
registered through the API (each registration starts its agent; ${startDelays(runs)}); for ${settings.minutes} minutes every model gets a batch of ${settings.rowsPerCycle} logged
predictions per cycle interval (paced model after model) and their labels one interval later;
${(settings.incidentShare * 100).toFixed(0)} % of the models get the upstream-nulls scenario (a data-quality
incident) from their fourth batch on. The clock is ${settings.intervalSeconds === 60 ? 'real: one cycle a minute' : `compressed: one cycle every ${settings.intervalSeconds} s stands for one minute`}.
Cycle lag is when a cycle's first activity was scheduled minus when its sleep ended (its due time);
workflow-task wait is scheduled → started, run is started → completed; both from the histories of up to
100 agents spread over the fleet. CPU is in cores (1 = one core busy) over the run after the first interval
(busiest 5 s in brackets). The fleet page time is \`GET /v1/fleet\` (the data the dashboard's fleet page
loads), not the browser's render.

**Caveat: contention.** The machine has ${machine.cores} cores shared with other engineers' builds and
tests; the load average at the end of the run was ${machine.loadAverage.join(' / ')}. Latencies and CPU
shares are therefore upper bounds for this hardware, and one run per size is not a distribution.

| N | cycles/s due | intervals run / due per agent | cycle lag p50 / p99 (ms) | workflow task wait p50 / p99 (ms) | workflow task run p50 / p99 (ms) | worker RSS · CPU | dev server RSS · CPU | API RSS · CPU | GET /v1/fleet p50 (ms) |
|---|---|---|---|---|---|---|---|---|---|
${runs
  .map(
    (r) =>
      `| ${r.models} | ${r.agentCyclesPerSecondDue} | ${r.cyclesPerAgent} / ${r.cyclesPerAgentDue} | ${s(r.histories.cycleLagMs)} | ${s(r.histories.workflowTaskWaitMs)} | ${s(r.histories.workflowTaskRunMs)} | ${use(r.usage.worker)} | ${use(r.usage.devServer)} | ${use(r.usage.api)} | ${r.fleetPage.error ?? `${r.fleetPage.p50Ms} (${((r.fleetPage.bytes ?? 0) / 1024).toFixed(0)} kB)`} |`,
  )
  .join('\n')}

CPU time per cycle is the figure contention changes least (a starved process takes longer, not more CPU):
the processes' CPU seconds over the measured window divided by the cycles recorded in it (traffic
ingestion included in the API's).

| N | machine load (mean / max) | worker CPU ms per cycle | dev server CPU ms per cycle | API CPU ms per cycle | cycles per second one core of worker and server together would run |
|---|---|---|---|---|---|
${runs
  .map((r) => {
    const w = r.cpuMsPerCycle?.worker;
    const d = r.cpuMsPerCycle?.devServer;
    const capacity = w && d ? (1000 / (w + d)).toFixed(0) : '–';
    return `| ${r.models} | ${r.machineLoad ? `${r.machineLoad.mean} / ${r.machineLoad.max}` : '–'} | ${perCycle(r, 'worker')} | ${perCycle(r, 'devServer')} | ${perCycle(r, 'api')} | ${capacity} |`;
  })
  .join('\n')}

| N | events per cycle | history bytes per cycle | continue-as-new suggested every | carried state (bytes, p50 / max) | largest history read | incidents opened | database per model-day |
|---|---|---|---|---|---|---|---|
${runs
  .map(
    (r) =>
      `| ${r.models} | ${r.histories.eventsPerCycle ?? '–'} | ${r.histories.bytesPerCycle ?? '–'} | ${r.continueAsNewEveryCycles ?? '–'} cycles | ${r.histories.carriedStateBytes.p50} / ${r.histories.carriedStateBytes.max} | ${r.histories.largestHistory.events} events, ${kb(r.histories.largestHistory.bytes)} | ${
        Object.entries(r.incidents)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ') || 'none'
      } (${r.incidentModels} injected) | ${mb(r.database.bytesPerModelDay)} |`,
  )
  .join('\n')}

The server suggests continue-as-new at 4,096 events or 4 MB of history (the dev server's and a cluster's
default); "every" is that threshold over the events and bytes a cycle adds. The agent continues as new on
the suggestion (workflows/agent.ts), or after \`maxCyclesPerRun\` cycles (lib/agent-defaults.ts), whichever
comes first, once no remedy is in flight.

Database rows and bytes per model-day at N = ${largest?.models ?? '–'} (one cycle = one minute, 1,440 a day;
${settings.rowsPerCycle} predictions per model-minute: traffic tables scale with traffic, the agent's with cycles):

| table | rows per model-day | bytes per model-day |
|---|---|---|
${perDay.join('\n')}

What the runs show:
${runs.map(verdict).join('\n')}
${capacity(runs)}
**What breaks first, on the dev server.** ${
    runs.some((r) => r.workerDied)
      ? 'A worker died (see above).'
      : "Nothing died: no process exited, and memory stayed far from the machine's (peak RSS in the first table)."
  } What gave way is time: a cycle costs the stack tens of
milliseconds of CPU in three processes, and when the cores they get fall short of the cycles due, the
work queues — at the dev server first, whose persistence is one SQLite database on one history shard:
its writes time out ("Update workflow execution operation failed … context deadline exceeded", over and over
in the dev server's log during the N = 1,000 run), workflow tasks wait on the task queue, the waits pass the 10 s
workflow-task timeout and the retried tasks add to the queue. Cycle lag then grows without bound, and
with it the agents' view of traffic: a window measured minutes late, or a batch the starved traffic
sender had not yet delivered, reads as traffic stopping (the \`stale_data\` incidents above are that, not
the injected data-quality incident, which needs three healthy windows first). GET /v1/fleet builds every
model's entry on each call; its time and size grow with N (item 5 of issue 16 pages it).

**What a production cluster changes.** A Temporal cluster spreads workflows over many history shards
(512 or more, against the dev server's one) on PostgreSQL, MySQL or Cassandra persistence, partitions the
task queue across matching hosts, and runs frontend, history and matching on their own machines: the
dev server's share of each cycle's CPU leaves the worker's machine, and its single-writer ceiling goes. On
the worker side, agents scale out by workers on the same task queue, each caching the agents it serves
(docs/operations.md, "Running a large fleet"); the Homeostat database belongs on PostgreSQL (SQLite
serialises every write the activities and the gateway make). The per-cycle CPU above is what to size
from: workers' cores ≈ (N / 60) × worker ms per cycle / 1000, with headroom for remedies and replays.
`;
}
