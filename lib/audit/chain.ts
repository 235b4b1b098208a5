// The tamper-evident audit chain. Each version of an audit row — an Action (what the agent and people
// did), a DeploymentRevision (every deployment change), a PolicyVersion (every policy) — that the audited
// path writes is appended to AuditEntry, per model, as canonical JSON with the hash of the model's previous entry:
//   hash = SHA-256(prevHash, seq, modelId, record, createdAt, content)
// AuditHead holds each chain's last number and hash. Entries are append-only (database triggers), and
// `verifyAuditChain` recomputes everything and compares the audit rows with their last entries, so that a
// row changed, inserted or deleted outside the audited path, or an entry edited, inserted or removed, is
// reported. What it cannot show: someone with write access to the database who drops the triggers and
// rewrites a whole chain and its head consistently. Keep a copy of the heads elsewhere (the report prints
// them) to catch that too.
import { createHash, randomUUID } from 'node:crypto';
import type { Store } from '../db/client.ts';
import { storeProvider } from '../ingest/prediction-writer.ts';

/** What appending needs: the store, or the transaction the audited row is written in. */
export type AuditStore = Pick<Store, 'auditEntry' | 'auditHead' | 'model' | '$executeRaw'>;

export const GENESIS_HASH = '0'.repeat(64);

/** The audited tables: each row is sealed under "<table>:<id>". */
export const AUDITED_TABLES = ['Action', 'DeploymentRevision', 'PolicyVersion'] as const;
export type AuditedTable = (typeof AUDITED_TABLES)[number];

export const recordOf = (table: AuditedTable, id: string) => `${table}:${id}`;

/** JSON with sorted keys and times as ISO text: the same row gives the same text on either database. */
export function canonicalJson(value: unknown): string {
  const normal = (v: unknown): unknown => {
    if (v instanceof Date) return v.toISOString();
    if (Array.isArray(v)) return v.map(normal);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, normal((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(normal(value));
}

/**
 * Columns added to an audited table after rows were sealed: left out of a row's content while null, so
 * that entries sealed before the column existed still verify.
 */
const LATER_COLUMNS = ['fallbackSegments'];

/** A row's content as its entry holds it. */
function auditContent(row: object): string {
  const kept = Object.entries(row).filter(([k, v]) => !(LATER_COLUMNS.includes(k) && v === null));
  return canonicalJson(Object.fromEntries(kept));
}

interface Chained {
  prevHash: string;
  seq: number;
  modelId: string;
  record: string;
  createdAt: Date;
  content: string;
}

export function entryHash(e: Chained): string {
  return createHash('sha256')
    .update([e.prevHash, e.seq, e.modelId, e.record, e.createdAt.toISOString(), e.content].join('\n'))
    .digest('hex');
}

/** An audit row as the chain seals it: its id and model, and every column. */
export interface AuditedRow {
  id: string;
  modelId: string;
}

/**
 * Appends the row's current content to its model's chain, unless its last entry holds exactly that
 * content already (a retried activity writes the same row again: one entry). Call it in the transaction
 * that wrote the row, so that the row and its entry commit together.
 */
export async function sealAuditRow(tx: AuditStore, table: AuditedTable, row: AuditedRow): Promise<void> {
  const record = recordOf(table, row.id);
  const content = auditContent(row);
  const last = await tx.auditEntry.findFirst({ where: { record }, orderBy: { seq: 'desc' } });
  if (last?.content === content) return;
  // The head's row lock (PostgreSQL) makes concurrent appenders of one model take numbers in turn;
  // SQLite runs one writing transaction at a time.
  // The model's first appenders may race to create its head: ON CONFLICT lets one do it (both databases).
  await tx.$executeRaw`INSERT INTO "AuditHead" ("modelId", "seq", "hash")
    VALUES (${row.modelId}, 0, ${GENESIS_HASH}) ON CONFLICT DO NOTHING`;
  const head = await tx.auditHead.update({
    where: { modelId: row.modelId },
    data: { seq: { increment: 1 } },
  });
  const entry = {
    modelId: row.modelId,
    seq: head.seq,
    record,
    content,
    prevHash: head.hash,
    createdAt: new Date(),
  };
  const hash = entryHash(entry);
  // The name is kept beside the id: the chain outlives the model row and is read by name.
  const { name: modelName } = await tx.model.findUniqueOrThrow({
    where: { id: row.modelId },
    select: { name: true },
  });
  await tx.auditEntry.create({ data: { id: randomUUID(), modelName, ...entry, hash } });
  await tx.auditHead.update({ where: { modelId: row.modelId }, data: { hash } });
}

export type AuditProblemKind = 'changed' | 'inserted' | 'deleted';

export interface AuditProblem {
  kind: AuditProblemKind;
  /** "entry" for the chain itself, or the audit row's record ("Action:<id>"). */
  where: string;
  detail: string;
}

export interface ModelAuditReport {
  modelId: string;
  modelName: string;
  entries: number;
  /** The chain's head as stored: keep it elsewhere to catch a rewritten chain. */
  head: { seq: number; hash: string } | null;
  problems: AuditProblem[];
}

export interface AuditReport {
  ok: boolean;
  models: ModelAuditReport[];
}

/** Every row of the audited tables that matches `where`, with its table. */
async function auditedRows(
  db: Pick<Store, 'action' | 'deploymentRevision' | 'policyVersion'>,
  where: { modelId?: string },
) {
  const [actions, revisions, policies] = [
    await db.action.findMany({ where }),
    await db.deploymentRevision.findMany({ where }),
    await db.policyVersion.findMany({ where }),
  ];
  return [
    ...actions.map((row) => ({ table: 'Action' as const, row })),
    ...revisions.map((row) => ({ table: 'DeploymentRevision' as const, row })),
    ...policies.map((row) => ({ table: 'PolicyVersion' as const, row })),
  ];
}

/**
 * The rows, entries and heads as of one moment: one read transaction (a snapshot on both databases), so
 * that rows and entries the activities commit meanwhile, together, are seen together or not at all.
 */
async function readSnapshot(store: Store, modelName: string | undefined) {
  const isolationLevel = (await storeProvider(store)) === 'postgresql' ? 'RepeatableRead' : 'Serializable';
  return store.$transaction(
    async (tx) => {
      const model = modelName ? await tx.model.findUnique({ where: { name: modelName } }) : null;
      const entries = await tx.auditEntry.findMany({
        where: modelName ? { modelName } : {},
        orderBy: [{ modelId: 'asc' }, { seq: 'asc' }],
      });
      const heads = await tx.auditHead.findMany();
      const rows = await auditedRows(tx, modelName ? { modelId: model?.id ?? '' } : {});
      const models = await tx.model.findMany({ select: { id: true, name: true } });
      return { model, entries, heads, rows, models };
    },
    // Store is typed as the SQLite client, whose only level is Serializable; PostgreSQL's takes the other.
    { isolationLevel: isolationLevel as 'Serializable', timeout: 60_000, maxWait: 10_000 },
  );
}

/**
 * Recomputes every chain (or the named model's) and compares each audit row with its last entry:
 * - an entry whose hash does not match its content, or whose link does not match the entry before it:
 *   changed (or inserted, when its number repeats or falls between others);
 * - a missing number, or a head past the last entry: deleted entries;
 * - an audit row whose content differs from its last entry: changed; with no entry: inserted;
 * - an entry whose audit row is gone: deleted.
 */
export async function verifyAuditChain(store: Store, modelName?: string): Promise<AuditReport> {
  const { model, entries, heads, rows, models: modelRows } = await readSnapshot(store, modelName);
  const names = new Map(modelRows.map((m) => [m.id, m.name]));
  const reports = new Map<string, ModelAuditReport>();
  const reportFor = (modelId: string, name: string) => {
    let report = reports.get(modelId);
    if (!report) {
      const head = heads.find((h) => h.modelId === modelId);
      report = {
        modelId,
        modelName: name,
        entries: 0,
        head: head ? { seq: head.seq, hash: head.hash } : null,
        problems: [],
      };
      reports.set(modelId, report);
    }
    return report;
  };

  const lastOf = new Map<string, (typeof entries)[number]>();
  let previous: (typeof entries)[number] | undefined;
  for (const entry of entries) {
    const report = reportFor(entry.modelId, entry.modelName);
    report.entries++;
    const before = previous?.modelId === entry.modelId ? previous : undefined;
    const expectedSeq = (before?.seq ?? 0) + 1;
    const where = `entry ${entry.seq} (${entry.record})`;
    if (entry.seq === before?.seq) {
      report.problems.push({ kind: 'inserted', where, detail: `a second entry numbered ${entry.seq}` });
    } else if (entry.seq > expectedSeq) {
      report.problems.push({
        kind: 'deleted',
        where,
        detail: `entries ${expectedSeq}–${entry.seq - 1} are missing`,
      });
    } else if (entry.prevHash !== (before?.hash ?? GENESIS_HASH)) {
      report.problems.push({
        kind: 'inserted',
        where,
        detail: 'its link does not match the entry before it',
      });
    }
    if (entryHash(entry) !== entry.hash) {
      report.problems.push({ kind: 'changed', where, detail: 'its content does not match its hash' });
    }
    lastOf.set(entry.record, entry);
    previous = entry;
  }
  for (const head of heads) {
    if (modelName && head.modelId !== model?.id) continue;
    const report = reports.get(head.modelId);
    const last = entries.filter((e) => e.modelId === head.modelId).at(-1);
    if (!report || !last || last.seq < head.seq) {
      reportFor(head.modelId, last?.modelName ?? modelName ?? head.modelId).problems.push({
        kind: 'deleted',
        where: 'head',
        detail: `the head is at ${head.seq}, the last entry at ${last?.seq ?? 0}`,
      });
    } else if (last.seq !== head.seq || last.hash !== head.hash) {
      report.problems.push({
        kind: 'inserted',
        where: 'head',
        detail: `entries past the head (${head.seq})`,
      });
    }
  }

  const present = new Set<string>();
  for (const { table, row } of rows) {
    const record = recordOf(table, row.id);
    present.add(record);
    const report = reportFor(row.modelId, names.get(row.modelId) ?? row.modelId);
    const last = lastOf.get(record);
    if (!last)
      report.problems.push({ kind: 'inserted', where: record, detail: 'an audit row with no entry' });
    else if (last.content !== auditContent(row)) {
      report.problems.push({ kind: 'changed', where: record, detail: 'differs from its last entry' });
    }
  }
  for (const [record, last] of lastOf) {
    if (!present.has(record)) {
      reportFor(last.modelId, last.modelName).problems.push({
        kind: 'deleted',
        where: record,
        detail: 'the audit row of this entry is gone',
      });
    }
  }
  const models = [...reports.values()].sort((a, b) => a.modelName.localeCompare(b.modelName));
  return { ok: models.every((m) => m.problems.length === 0), models };
}

/**
 * Seals every audit row that has no entry yet, oldest first: for rows written before the chain existed
 * (run once after upgrading). Rows sealed this way are trusted as they stand, so run it before exposing
 * the database to anyone else, not to silence a report.
 */
export async function sealUnsealedRows(store: Store): Promise<number> {
  const sealed = new Set(
    (await store.auditEntry.findMany({ select: { record: true } })).map((e) => e.record),
  );
  const rows = (await auditedRows(store, {})).sort(
    (a, b) => a.row.createdAt.getTime() - b.row.createdAt.getTime(),
  );
  let count = 0;
  for (const { table, row } of rows) {
    if (sealed.has(recordOf(table, row.id))) continue;
    await store.$transaction((tx) => sealAuditRow(tx, table, row));
    count++;
  }
  return count;
}
