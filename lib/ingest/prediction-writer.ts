// Writes predictions to the store fast enough for the gateway. Two things make it fast:
//
// 1. One INSERT per batch whose rows travel as a single JSON parameter, unpacked by the database
//    (json_each on SQLite, jsonb_array_elements on PostgreSQL), rather than Prisma's createMany. Prisma's
//    cost is per statement and per bound parameter: on the credit-default rows createMany managed 3,600
//    rows/s on SQLite and 2,600 on PostgreSQL, a multi-row VALUES statement with 13 parameters a row
//    11,000–18,000 and ~9,000, and one JSON parameter a statement is 1.3–1.6× faster again. The JSON
//    columns are written as the exact text JSON.stringify gives (Prisma's own JSON writes round floats,
//    prisma/prisma#11096). Columns and time formats are defined here only; store tests read the rows
//    back through Prisma and filter them by time.
// 2. Group commit: concurrent requests queue their rows and one INSERT commits all that are waiting,
//    while the next batch gathers behind it. An idle writer commits at once, a busy one in larger
//    batches, so there is no fixed delay to tune.
//
// Durability: `write` resolves only after the rows are committed, and the gateway answers only then, so
// an acknowledged prediction is never lost, even if the process dies a moment later. The price is one
// commit's latency per request (under 1 ms on SQLite, 1–3 ms on PostgreSQL when idle). Only shadow
// copies are written without anyone waiting (`writeDetached`); they are derived data, and `drain` (or
// `drainPredictionWriters` at shutdown) waits for them.
import { raw, type Sql, sqltag as sql } from '@prisma/client/runtime/client';
import type { Store } from '../db/client.ts';
import type { FeatureValue } from '../domain.ts';
import { logger } from '../log.ts';
import { countStored } from './counters.ts';
import { queryInSlices } from './limits.ts';
import type { StoredQuality } from './validate.ts';

export type PredictionSource = 'gateway' | 'logged' | 'shadow';

/** What Prediction.output holds, for the gateway and ingestion alike. */
export interface StoredOutput {
  prediction: string | number;
  probabilities?: Record<string, number>;
}

export interface PredictionRecord {
  id: string;
  modelId: string;
  versionId: string | null;
  source: PredictionSource;
  features: Record<string, FeatureValue>;
  output: StoredOutput | null;
  confidence: number | null;
  latencyMs: number | null;
  error: string | null;
  quality: StoredQuality | null;
  shadowOf: string | null;
  predictedAt: Date;
  /**
   * When the store received it; absent (everything the product writes): the time of the insert. Store
   * tests that lay down a simulated stream give each row its simulated arrival time.
   */
  receivedAt?: Date;
}

/** Rows per INSERT; a full batch commits in ~30–60 ms. More rows are split, in one transaction. */
export const MAX_ROWS_PER_INSERT = 1000;

const COLUMNS = raw(
  [
    'id',
    'modelId',
    'versionId',
    'source',
    'features',
    'output',
    'confidence',
    'latencyMs',
    'error',
    'quality',
    'shadowOf',
    'predictedAt',
    'receivedAt',
  ]
    .map((column) => `"${column}"`)
    .join(', '),
);

const json = (value: unknown) => (value === null ? null : JSON.stringify(value));

/**
 * DateTimes as each provider stores them: on SQLite the text @prisma/adapter-better-sqlite3 writes (its
 * default 'iso8601' format, which lib/db/client.ts keeps), on PostgreSQL a UTC timestamp(3) (a zone in
 * the text is ignored by the cast, so the UTC wall time is stored, as Prisma does).
 */
const TIME_TEXT = {
  sqlite: (d: Date) => d.toISOString().replace('Z', '+00:00'),
  postgresql: (d: Date) => d.toISOString(),
};

type Provider = keyof typeof TIME_TEXT;

const providers = new WeakMap<Store, Promise<Provider>>();

/** Which database the store talks to, asked once per store: only SQLite knows sqlite_version(). */
export function storeProvider(store: Store): Promise<Provider> {
  let provider = providers.get(store);
  if (!provider) {
    provider = store.$queryRaw`SELECT sqlite_version()`.then(
      () => 'sqlite' as const,
      () => 'postgresql' as const,
    );
    providers.set(store, provider);
  }
  return provider;
}

function insertStatement(provider: Provider, records: readonly PredictionRecord[], receivedAt: Date): Sql {
  const time = TIME_TEXT[provider];
  const received = time(receivedAt);
  const payload = JSON.stringify(
    records.map((r) => [
      r.id,
      r.modelId,
      r.versionId,
      r.source,
      JSON.stringify(r.features),
      json(r.output),
      r.confidence,
      r.latencyMs,
      r.error,
      json(r.quality),
      r.shadowOf,
      time(r.predictedAt),
      r.receivedAt ? time(r.receivedAt) : received,
    ]),
  );
  return provider === 'sqlite'
    ? sql`INSERT INTO "Prediction" (${COLUMNS})
          SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7,
                 value->>8, value->>9, value->>10, value->>11, value->>12
          FROM json_each(${payload})`
    : sql`INSERT INTO "Prediction" (${COLUMNS})
          SELECT v->>0, v->>1, v->>2, v->>3, (v->>4)::jsonb, (v->>5)::jsonb, (v->>6)::float8, (v->>7)::float8,
                 v->>8, (v->>9)::jsonb, v->>10, (v->>11)::timestamp(3), (v->>12)::timestamp(3)
          FROM jsonb_array_elements(${payload}::jsonb) AS v`;
}

/**
 * Inserts the records atomically (one statement, or one transaction for more than MAX_ROWS_PER_INSERT).
 * receivedAt is the time of the insert, which keeps it close to the commit that makes the row visible.
 */
export async function insertPredictions(store: Store, records: readonly PredictionRecord[]): Promise<void> {
  if (records.length === 0) return;
  const provider = await storeProvider(store);
  const receivedAt = new Date();
  const statements: Sql[] = [];
  for (let start = 0; start < records.length; start += MAX_ROWS_PER_INSERT) {
    statements.push(insertStatement(provider, records.slice(start, start + MAX_ROWS_PER_INSERT), receivedAt));
  }
  if (statements.length === 1) await store.$executeRaw(statements[0]!);
  else await store.$transaction(statements.map((statement) => store.$executeRaw(statement)));
  for (const r of records) countStored(r.modelId, r.versionId, r.source);
}

/** A unique-key violation, as Prisma reports it for model queries (P2002) and for raw SQL (P2010). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; meta?: { driverAdapterError?: { cause?: { kind?: string } } } };
  return e?.code === 'P2002' || e?.meta?.driverAdapterError?.cause?.kind === 'UniqueConstraintViolation';
}

/** Some of the ids were stored before; nothing of the write that carried them was stored. */
export class PredictionIdConflict extends Error {
  override readonly name = 'PredictionIdConflict';
  constructor(readonly ids: string[]) {
    super(`prediction id(s) already stored: ${ids.join(', ')}`);
  }
}

/** The writer already holds as many rows as it may: the request is refused, nothing of it queued. */
export class WriteQueueFull extends Error {
  override readonly name = 'WriteQueueFull';
  constructor(queued: number, limit: number) {
    super(
      `the prediction writer holds ${queued} rows waiting for the database (limit ${limit}, ` +
        'HOMEOSTAT_WRITE_QUEUE_ROWS): retry after Retry-After',
    );
  }
}

/** HOMEOSTAT_WRITE_QUEUE_ROWS (default 20 000): rows a writer may hold waiting for the database. */
export function writeQueueRowsFromEnv(raw = process.env.HOMEOSTAT_WRITE_QUEUE_ROWS): number {
  if (raw === undefined || raw === '') return 20_000;
  const rows = Number(raw);
  if (!Number.isInteger(rows) || rows < MAX_ROWS_PER_INSERT) {
    throw new Error(
      `HOMEOSTAT_WRITE_QUEUE_ROWS must be an integer of at least ${MAX_ROWS_PER_INSERT}, not "${raw}"`,
    );
  }
  return rows;
}

interface Pending {
  records: PredictionRecord[];
  /** Absent for detached writes. */
  settle?: { resolve(): void; reject(error: unknown): void };
}

const writers = new Set<PredictionWriter>();

/**
 * Commits in flight at once. While one waits for the database (a PostgreSQL round trip and its WAL
 * flush), a second gathers the rows that arrive meanwhile and sends them; SQLite runs them in turn.
 */
export const MAX_CONCURRENT_COMMITS = 2;

/**
 * The queue is bounded (maxQueuedRows): when the database is slower than the traffic, or down, requests
 * are refused at once (WriteQueueFull, a 503 overloaded) instead of piling up in memory and timing out.
 */
export class PredictionWriter {
  private queue: Pending[] = [];
  /** Rows in `queue`, not yet taken by a commit. */
  private queuedRows = 0;
  private readonly committers = new Set<Promise<void>>();
  /** Commits made and rows they stored; their ratio is the mean group size. */
  commits = 0;
  rowsCommitted = 0;
  /** Work that will write through this writer (shadow scoring), awaited by `drain`. */
  private readonly tracked = new Set<Promise<unknown>>();

  constructor(
    private readonly store: Store,
    readonly maxQueuedRows = writeQueueRowsFromEnv(),
  ) {
    writers.add(this);
  }

  /**
   * Resolves once the records are committed; rejects with PredictionIdConflict if an id was taken, and
   * at once with WriteQueueFull when the queue has no room for them.
   */
  write(records: PredictionRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    if (!this.hasRoomFor(records)) {
      return Promise.reject(new WriteQueueFull(this.queuedRows, this.maxQueuedRows));
    }
    return new Promise((resolve, reject) => {
      this.enqueue({ records, settle: { resolve, reject } });
    });
  }

  /** Queues records nobody waits for; a failure is logged. Dropped (and logged) when the queue is full. */
  writeDetached(records: PredictionRecord[]): void {
    if (records.length === 0) return;
    if (!this.hasRoomFor(records)) {
      logger.warn(
        { rows: records.length, queued: this.queuedRows },
        'write queue full: detached rows dropped',
      );
      return;
    }
    this.enqueue({ records });
  }

  private hasRoomFor(records: PredictionRecord[]): boolean {
    return this.queuedRows + records.length <= this.maxQueuedRows;
  }

  private enqueue(pending: Pending): void {
    this.queue.push(pending);
    this.queuedRows += pending.records.length;
    this.start();
  }

  /** Lets `drain` wait for work that will write here when it is done. */
  track(work: Promise<unknown>): void {
    this.tracked.add(work);
    work.finally(() => this.tracked.delete(work)).catch(() => {});
  }

  /** How much tracked work is in flight. */
  get trackedCount(): number {
    return this.tracked.size;
  }

  /** Resolves when tracked work is done and everything queued is committed (or has failed). */
  async drain(): Promise<void> {
    while (this.tracked.size > 0 || this.committers.size > 0) {
      await Promise.allSettled([...this.tracked, ...this.committers]);
    }
  }

  private start(): void {
    if (this.committers.size >= MAX_CONCURRENT_COMMITS) return;
    const committer = this.run().finally(() => {
      this.committers.delete(committer);
      // Rows queued while this committer was finishing, when no other could start.
      if (this.queue.length > 0) this.start();
    });
    this.committers.add(committer);
  }

  private async run(): Promise<void> {
    // One turn of the event loop lets requests that arrived together share a commit.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) await this.commit(this.takeBatch());
  }

  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    let rows = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (batch.length > 0 && rows + next.records.length > MAX_ROWS_PER_INSERT) break;
      batch.push(this.queue.shift()!);
      rows += next.records.length;
    }
    this.queuedRows -= rows;
    return batch;
  }

  private async commit(batch: Pending[]): Promise<void> {
    try {
      const records = batch.flatMap((p) => p.records);
      await insertPredictions(this.store, records);
      this.commits++;
      this.rowsCommitted += records.length;
      for (const p of batch) p.settle?.resolve();
    } catch (error) {
      if (isUniqueViolation(error) && batch.length > 1) {
        // One request's taken id must not fail the others that shared its commit.
        for (const p of batch) await this.commit([p]);
        return;
      }
      const reason = isUniqueViolation(error) ? await this.conflictOf(batch[0]!, error) : error;
      for (const p of batch) {
        if (p.settle) p.settle.reject(reason);
        else logger.warn({ err: reason, rows: p.records.length }, 'detached prediction write failed');
      }
    }
  }

  private async conflictOf(pending: Pending, error: unknown): Promise<unknown> {
    // One request's rows are one model's, and its ids are unique within that model only.
    const modelId = pending.records[0]!.modelId;
    const ids = pending.records.map((r) => r.id);
    const taken = await queryInSlices(ids, (slice) =>
      this.store.prediction.findMany({ where: { modelId, id: { in: slice } }, select: { id: true } }),
    ).catch(() => null);
    return taken && taken.length > 0 ? new PredictionIdConflict(taken.map((t) => t.id)) : error;
  }
}

/** Commits and rows committed by every writer in this process. */
export function predictionWriterStats(): { commits: number; rows: number } {
  let commits = 0;
  let rows = 0;
  for (const w of writers) {
    commits += w.commits;
    rows += w.rowsCommitted;
  }
  return { commits, rows };
}

/** Waits for every writer's queued rows; the API calls it on shutdown, before closing the store. */
export async function drainPredictionWriters(): Promise<void> {
  await Promise.all([...writers].map((w) => w.drain()));
}
