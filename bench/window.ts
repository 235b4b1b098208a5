// Window metrics at any size: the monitor activity (activities/monitor.ts) measures one window of
// 100,000, 1,000,000 and 10,000,000 predictions × 20 features of mixed types (a binary classifier with
// probabilities, 60 % labelled; lib/bench/window-rows.ts) read in keyset pages from a real SQLite store,
// against a reference profile built from 20,000 rows. Baseline in the same run: the 100,000-row window
// read whole into memory and measured as one page, as the monitor did before it paged. Goal (issue 16):
// memory flat from 1 M to 10 M rows (FLAT_FROM_ROWS, FLAT_LIMIT).
//
// Each size is seeded by one child process (batched raw inserts in transactions) and measured by a fresh
// one, so that each peak RSS is that of the measurement alone (it includes the process's own ~150 MB of
// Node, Prisma and the activity code, reported as "idle RSS").
//
//   node --import tsx bench/window.ts [--sizes 100000,1000000,10000000] [--databases DIR]
//
// --databases keeps each size's database in DIR (window-<rows>.db, with its seeding figures beside it in
// window-<rows>.db.seed.json) and reuses it in later runs: seeding 10,000,000 rows takes longer than
// measuring them. The measurement deletes the window it stored before, so a database measures alike
// every time; the table marks seeding figures of an earlier run.
//
// Writes bench/results/window.json and the "Window metrics" section of docs/benchmarks.md from it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createMonitorActivities, MONITOR_DEFAULTS } from '../activities/monitor.ts';
import { WINDOW_SCHEMA, WINDOW_START_MS, windowReference, windowRows } from '../lib/bench/window-rows.ts';
import { createStore, type Store } from '../lib/db/client.ts';
import { migrateDatabase } from '../lib/db/migrate.ts';
import type { RawOutput, ReferenceProfile, WindowPrediction } from '../lib/monitor/index.ts';
import { measureWindow } from '../lib/monitor/measure.ts';
import { Random } from '../lib/sim/random.ts';
import { writeBenchmarkSection } from './doc-section.ts';

const DEFAULT_SIZES = [100_000, 1_000_000, 10_000_000];
const BASELINE_ROWS = 100_000;
const REFERENCE_ROWS = 20_000;
const SEED = 20_261_126;
const MODEL = 'window-bench';
/** Rows per insert transaction when seeding. */
const SEED_BATCH = 50_000;
/**
 * "Memory flat" (issue 16: `bench:window` "at 1 M and 10 M rows with memory flat"): the paged
 * measurement's peak RSS at FLAT_TO_ROWS is at most FLAT_LIMIT × its peak RSS at FLAT_FROM_ROWS, both of
 * the same run, each measured by a fresh process. Peak RSS rather than the live heap, because it is what
 * the worker's host must have, garbage included; a ratio rather than megabytes, because it holds across
 * machines and Node versions.
 */
const FLAT_FROM_ROWS = 1_000_000;
const FLAT_TO_ROWS = 10_000_000;
const FLAT_LIMIT = 1.1;

const sqliteTime = (d: Date) => d.toISOString().replace('Z', '+00:00');
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);
const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);

/** Creates the store with the model, its deployed version and its reference; then `rows` predictions. */
async function seed(file: string, rows: number): Promise<object> {
  const started = performance.now();
  const config = { provider: 'sqlite' as const, url: file };
  await migrateDatabase(config);
  const store = await createStore(config);
  const rng = new Random(SEED);
  const referenceRows = [...windowRows(rng, REFERENCE_ROWS, 0)];
  const reference = windowReference(referenceRows);
  // Created before the window's first row: the first window starts at the model's creation.
  const model = await store.model.create({
    data: {
      name: MODEL,
      task: 'binary',
      featureSchema: WINDOW_SCHEMA as object,
      labels: ['0', '1'],
      createdAt: new Date(WINDOW_START_MS),
    },
  });
  const version = await store.modelVersion.create({
    data: {
      modelId: model.id,
      version: 1,
      status: 'production',
      artifact: {},
      referenceStats: reference as object,
    },
  });
  await store.deploymentRevision.create({
    data: {
      modelId: model.id,
      revision: 1,
      mode: 'serving',
      productionVersionId: version.id,
      reason: 'bench',
      actor: 'human:bench',
    },
  });
  await store.$disconnect();

  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insertPrediction = db.prepare(
    `INSERT INTO "Prediction" (id, modelId, versionId, source, features, output, confidence, latencyMs, error, predictedAt, receivedAt)
     VALUES (?, ?, ?, 'gateway', ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertLabel = db.prepare(
    `INSERT INTO "Label" (id, modelId, predictionId, value, observedAt, receivedAt) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const insertBatch = db.transaction((batch: WindowPrediction[]) => {
    for (const p of batch) {
      const receivedAt = sqliteTime(p.receivedAt);
      insertPrediction.run(
        p.id,
        model.id,
        version.id,
        JSON.stringify(p.features),
        p.output === null ? null : JSON.stringify(p.output),
        p.confidence,
        p.latencyMs,
        p.error,
        sqliteTime(p.predictedAt),
        receivedAt,
      );
      if (p.label) {
        const observedAt = sqliteTime(p.label.observedAt);
        insertLabel.run(`l${p.id}`, model.id, p.id, JSON.stringify(p.label.value), observedAt, observedAt);
      }
    }
  });
  let batch: WindowPrediction[] = [];
  let last = new Date(WINDOW_START_MS);
  for (const row of windowRows(rng, rows, 1)) {
    batch.push(row);
    last = row.receivedAt;
    if (batch.length === SEED_BATCH) {
      insertBatch(batch);
      batch = [];
    }
  }
  insertBatch(batch);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return {
    seedSeconds: round((performance.now() - started) / 1000),
    lastArrival: last.toISOString(),
    databaseMb: Math.round(statSync(file).size / 2 ** 20),
  };
}

/** Measures window 0 through the monitor activity (paged), or read whole and measured as one page. */
async function measure(file: string, mode: 'paged' | 'whole', lastArrival: Date): Promise<object> {
  const store = await createStore({ provider: 'sqlite', url: file });
  const model = await store.model.findUniqueOrThrow({ where: { name: MODEL } });
  await store.metricWindow.deleteMany({ where: { modelId: model.id } });
  const endAt = new Date(lastArrival.getTime() + 1000);
  const idleRssMb = rssMb();
  const started = performance.now();
  const summary =
    mode === 'paged'
      ? await createMonitorActivities(store, { now: () => endAt }).monitorWindow({ modelName: MODEL, seq: 0 })
      : await measureWhole(store, model, endAt);
  const seconds = (performance.now() - started) / 1000;
  await store.$disconnect();
  return {
    mode,
    seconds: round(seconds),
    rowsPerSecond: Math.round(summary.count / seconds),
    idleRssMb,
    peakRssMb: peakRssMb(),
    count: summary.count,
    labelled: summary.labelled,
    accuracy: summary.accuracy,
    latencyP95Ms: summary.latencyP95Ms,
  };
}

/**
 * The monitor before it paged: every prediction and label of the window in memory at once. Its query
 * loaded the relations (a prediction's label, a label's prediction), which Prisma reads with one bound
 * parameter per row; SQLite refuses that at 100,000 rows ("too many SQL variables"), so here the two
 * tables are read whole and joined in memory instead.
 */
async function measureWhole(store: Store, model: { id: string; createdAt: Date }, endAt: Date) {
  const window = { modelId: model.id, receivedAt: { gt: model.createdAt, lte: endAt } };
  const version = await store.modelVersion.findFirstOrThrow({ where: { modelId: model.id } });
  const [predictions, labels] = await Promise.all([
    store.prediction.findMany({ where: window, select: PREDICTION_FIELDS }),
    store.label.findMany({
      where: window,
      select: { predictionId: true, value: true, observedAt: true, receivedAt: true },
    }),
  ]);
  const labelOf = new Map(labels.map((l) => [l.predictionId, l]));
  const rows = predictions.map(
    (p): WindowPrediction => ({
      ...p,
      features: p.features as WindowPrediction['features'],
      output: p.output as RawOutput | null,
      label: null,
    }),
  );
  const withLabel = (p: WindowPrediction, label: { value: unknown; observedAt: Date } | undefined) => ({
    ...p,
    label: label ? { value: label.value as string, observedAt: label.observedAt } : null,
  });
  const rowOf = new Map(rows.map((p) => [p.id, p]));
  return measureWindow({
    seq: 0,
    schema: WINDOW_SCHEMA,
    task: 'binary',
    labels: ['0', '1'],
    reference: version.referenceStats as unknown as ReferenceProfile,
    arrivals: rows.map((p) => withLabel(p, labelOf.get(p.id))),
    labelledInWindow: labels.flatMap((l) => {
      const p = rowOf.get(l.predictionId);
      return p ? [withLabel(p, l)] : [];
    }),
    previousArrival: null,
    startAt: model.createdAt,
    endAt,
    minRows: 30,
  }).summary;
}

/** What the monitor read of a prediction through Prisma before its pages became one SQL join each. */
const PREDICTION_FIELDS = {
  id: true,
  features: true,
  output: true,
  confidence: true,
  latencyMs: true,
  error: true,
  predictedAt: true,
  receivedAt: true,
} as const;

const round = (x: number, digits = 1) => Number(x.toFixed(digits));

/**
 * Runs this file in a fresh process with `args` (and Node `flags`) and returns the JSON line it prints
 * last, and its standard output.
 */
function child(args: string[], flags: string[] = []): { result: Record<string, unknown>; out: string } {
  const out = execFileSync(process.execPath, [...flags, '--import', 'tsx', import.meta.filename, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 2 ** 26,
  });
  // The result is the last JSON line: --trace-gc may print after it, while the process exits.
  const last = out
    .trim()
    .split('\n')
    .findLast((line) => line.startsWith('{'));
  return { result: JSON.parse(last!), out };
}

/**
 * The V8 heap over a measurement, from its --trace-gc lines ("Mark-Compact 123.5 (151.6) -> 26.4 (99.4)
 * MB"): the most the heap kept after a full collection ("live": what the process holds) and the most it
 * had committed before one (garbage included, the heap's share of the peak RSS). A growing peak with a
 * flat live heap is garbage collected later, not memory kept.
 */
function heapFromGcTrace(out: string): { liveHeapMb: number; peakHeapMb: number; fullGcs: number } {
  let live = 0;
  let peak = 0;
  let fullGcs = 0;
  for (const m of out.matchAll(/Mark-Compact(?: \(reduce\))? [\d.]+ \(([\d.]+)\) -> ([\d.]+) \(/g)) {
    fullGcs++;
    peak = Math.max(peak, Number(m[1]));
    live = Math.max(live, Number(m[2]));
  }
  return { liveHeapMb: Math.round(live), peakHeapMb: Math.round(peak), fullGcs };
}

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

async function main(): Promise<void> {
  const role = argument('--child');
  const file = argument('--db');
  if (role === 'seed') {
    console.log(JSON.stringify(await seed(file!, Number(argument('--rows')))));
    return;
  }
  if (role === 'paged' || role === 'whole') {
    console.log(JSON.stringify(await measure(file!, role, new Date(argument('--last')!))));
    return;
  }

  const out = path.join(import.meta.dirname, 'results', 'window.json');
  if (process.argv.includes('--render')) {
    // The docs section again from the last run's JSON (after a change of wording, not of numbers).
    writeBenchmarkSection(renderSection(JSON.parse(readFileSync(out, 'utf8'))), {
      before: '## Detection (issue 4)',
    });
    return;
  }
  const sizesArgument = argument('--sizes');
  const sizes = (sizesArgument ?? DEFAULT_SIZES.join(',')).split(',').map(Number);
  const started = performance.now();
  const results: Record<string, unknown>[] = [];
  const kept = argument('--databases');
  if (kept) mkdirSync(kept, { recursive: true });
  for (const rows of sizes) {
    const dir = kept ?? mkdtempSync(path.join(os.tmpdir(), 'homeostat-window-bench-'));
    const db = path.join(dir, kept ? `window-${rows}.db` : 'window.db');
    const seedFile = `${db}.seed.json`;
    try {
      let seeded: Record<string, unknown>;
      if (existsSync(seedFile)) {
        console.error(`reusing ${db}, seeded by an earlier run`);
        seeded = { ...JSON.parse(readFileSync(seedFile, 'utf8')), seededEarlier: true };
      } else {
        // A database without its seeding figures was left half-seeded: seeded again from nothing.
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${db}${suffix}`, { force: true });
        console.error(`seeding ${rows.toLocaleString('en')} rows…`);
        seeded = child(['--child', 'seed', '--db', db, '--rows', String(rows)]).result;
        if (kept) writeFileSync(seedFile, JSON.stringify(seeded));
      }
      const last = String(seeded.lastArrival);
      const modes = rows === BASELINE_ROWS ? ['whole', 'paged'] : ['paged'];
      for (const mode of modes) {
        console.error(`measuring ${rows.toLocaleString('en')} rows, ${mode}…`);
        const { result, out } = child(['--child', mode, '--db', db, '--last', last], ['--trace-gc']);
        const measured = { ...result, ...heapFromGcTrace(out) };
        console.error(JSON.stringify(measured));
        results.push({ rows, ...seeded, ...measured });
      }
    } finally {
      if (!kept) rmSync(dir, { recursive: true, force: true });
    }
  }

  const result = {
    command: `npm run bench:window${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    commit: measuredCommit(),
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    seconds: Math.round((performance.now() - started) / 1000),
    features: { numeric: 10, categorical: 6, boolean: 4 },
    referenceRows: REFERENCE_ROWS,
    pageSize: MONITOR_DEFAULTS.pageSize,
    exactValues: 16_384,
    results,
  };
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  writeBenchmarkSection(renderSection(result), { before: '## Detection (issue 4)' });
  console.error(`wrote ${path.relative(process.cwd(), out)} and docs/benchmarks.md`);
}

/** The commit measured (with "+changes" when the tree differs from it); null outside a git checkout. */
function measuredCommit(): string | null {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain') ? '+changes' : ''}`;
  } catch {
    return null;
  }
}

function renderSection(result: {
  command: string;
  commit?: string | null;
  date: string;
  node: string;
  cpu: string;
  seconds: number;
  pageSize: number;
  results: Record<string, unknown>[];
}): string {
  const lines = [
    '## Window metrics',
    '',
    `Command: \`${result.command}\` (${result.commit ? `commit ${result.commit}, ` : ''}${result.cpu}, Node ${result.node}, ${result.date.slice(0, 10)}, ${result.seconds} s). One window of`,
    '20 mixed features (10 numeric, 6 categorical, 4 boolean; a binary classifier with probabilities, 60 %',
    'labelled) against a reference profile of 20,000 rows, measured by the monitor activity from a SQLite',
    `store in keyset pages of ${result.pageSize.toLocaleString('en')} rows ("paged"; each page one SQL query joining predictions with their`,
    'labels), each size in a fresh process; "whole" is the 100,000-row',
    'window read into memory at once and measured as one page, as the monitor did before it paged. Peak RSS',
    "is the measuring process's, idle RSS the same process before it read the window; live heap is the most",
    'the V8 heap held after a full collection during the measurement and heap peak the most it had committed',
    "before one (from the process's --trace-gc lines; full GCs counts them). Seeding is batched",
    'raw inserts, 50,000 rows per transaction. Metrics are exact up to 16,384 values per numeric stream and',
    'sketched beyond (docs/agent-logic.md, "Windows of any size").',
    '',
    '| rows | read | time | rows/s | peak RSS | idle RSS | live heap | heap peak | full GCs | seeding | database |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const paged = result.results.filter((r) => r.mode === 'paged');
  const smallest = paged[0]!;
  const largest = paged.at(-1)!;
  const from = paged.find((r) => r.rows === FLAT_FROM_ROWS);
  const to = paged.find((r) => r.rows === FLAT_TO_ROWS);
  for (const r of result.results) {
    lines.push(
      `| ${Number(r.rows).toLocaleString('en')} | ${r.mode} | ${r.seconds} s | ${Number(r.rowsPerSecond).toLocaleString('en')} | ${r.peakRssMb} MB | ${r.idleRssMb} MB | ${r.liveHeapMb} MB | ${r.peakHeapMb} MB | ${r.fullGcs} | ${r.seedSeconds} s${r.seededEarlier ? ' (earlier run)' : ''} | ${Number(r.databaseMb).toLocaleString('en')} MB |`,
    );
  }
  const count = (n: unknown) => Number(n).toLocaleString('en');
  const growth = (a: Record<string, unknown>, b: Record<string, unknown>, digits = 2) =>
    `${a.peakRssMb} MB at ${count(a.rows)} rows and ${b.peakRssMb} MB at ${count(b.rows)} (×${ratio(b.peakRssMb, a.peakRssMb, digits)} for ×${Number(b.rows) / Number(a.rows)} the rows)`;
  const verdict =
    from && to
      ? `${growth(from, to, 3)}: ${Number(to.peakRssMb) / Number(from.peakRssMb) <= FLAT_LIMIT ? 'met' : '**not met**'}`
      : `not judged, the run measured no paged window of ${from ? count(FLAT_TO_ROWS) : count(FLAT_FROM_ROWS)} rows`;
  lines.push(
    '',
    `Goal, memory flat (issue 16: "at 1 M and 10 M rows with memory flat"), judged here as: the paged peak RSS`,
    `at ${count(FLAT_TO_ROWS)} rows at most ${FLAT_LIMIT} × the paged peak RSS at ${count(FLAT_FROM_ROWS)} rows, both of this run, each a`,
    `fresh process. Paged peak RSS ${verdict}. From the smallest paged window: ${growth(smallest, largest)}.`,
    `What the process keeps, the live heap: ${smallest.liveHeapMb} MB and ${largest.liveHeapMb} MB (×${ratio(largest.liveHeapMb, smallest.liveHeapMb)}). The heap's peak, garbage`,
    `included: ${smallest.peakHeapMb} MB and ${largest.peakHeapMb} MB (×${ratio(largest.peakHeapMb, smallest.peakHeapMb)}), over ${smallest.fullGcs} and ${largest.fullGcs} full collections. Peak RSS is`,
    `the heap's peak plus the rest of the process (Node, Prisma, SQLite, the sketches' typed arrays): ${paged.map((r) => Number(r.peakRssMb) - Number(r.peakHeapMb)).join(', ')} MB`,
    `at ${paged.map((r) => count(r.rows)).join(', ')} rows. The heap's peak is garbage, ${span(
      paged.map((r) => Number(r.peakHeapMb) / Number(r.liveHeapMb)),
      1,
    )} × the live heap: much of what a page allocates`,
    'outlives a young-generation collection and is promoted, and V8 collects the old generation when it has',
    'grown to a few times the live heap. A longer window goes through more of these cycles and meets more',
    'of their overshoots. The page in flight is part of the live heap, hence the page size',
    '(activities/monitor.ts, MONITOR_DEFAULTS).',
    'Times are of a machine shared with other work during the run (2 cores): they vary severalfold with',
    'the load, the memory figures much less.',
  );
  return `${lines.join('\n')}\n`;
}

const ratio = (a: unknown, b: unknown, digits = 2) => (Number(a) / Number(b)).toFixed(digits);
/** "a–b" over the values, at `digits` decimals. */
const span = (values: number[], digits = 0) =>
  `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;

await main();
