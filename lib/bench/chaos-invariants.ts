// The invariants `npm run bench:chaos` checks after every round of faults (kill -9 of the worker, the
// API, the Temporal server; PostgreSQL stopped hard), read from the store as it stands:
// - every prediction the gateway acknowledged is stored exactly once;
// - one candidate per retrain key (a retried or repeated training step registers no second version);
// - every deployment change has exactly one audit row: its own entry in the audit chain, and for the
//   agent's changes (the revision carries the activity's key) exactly one Action with that key naming it;
// - the audit chain verifies (lib/audit/chain.ts);
// - once the run settles, no incident is left without an outcome.
// Each check is a pure function over the rows, so that tests can plant what the database itself would
// refuse (a second row under one primary key); `readInvariantRows` reads the rows they judge.
import { verifyAuditChain } from '../audit/chain.ts';
import type { Store } from '../db/client.ts';

export const INVARIANTS = [
  'prediction-stored-once',
  'one-candidate-per-retrain-key',
  'deployment-change-audited-once',
  'audit-chain-verifies',
  'incident-has-outcome',
  'agent-resumed',
] as const;
export type Invariant = (typeof INVARIANTS)[number];

export interface Violation {
  invariant: Invariant;
  detail: string;
}

/** Incident statuses that are an outcome: closed either way, or handed to a human. */
export const INCIDENT_OUTCOMES = ['recovered', 'rebaselined', 'escalated'] as const;

/** Each acknowledged id must be stored once: `stored` counts the rows found per id. */
export function predictionViolations(
  acknowledged: readonly string[],
  stored: Map<string, number>,
): Violation[] {
  const out: Violation[] = [];
  for (const id of acknowledged) {
    const n = stored.get(id) ?? 0;
    if (n !== 1)
      out.push({
        invariant: 'prediction-stored-once',
        detail: `acknowledged prediction ${id} is stored ${n} times`,
      });
  }
  return out;
}

export interface VersionRow {
  version: number;
  idempotencyKey: string | null;
  trainingWindow: unknown;
}

/** The retrain key a version was registered under: its column, or the key its training window names. */
function retrainKeyOf(v: VersionRow): string | null {
  const fromWindow = (v.trainingWindow as { key?: unknown } | null)?.key;
  return v.idempotencyKey ?? (typeof fromWindow === 'string' ? fromWindow : null);
}

export function candidateViolations(versions: readonly VersionRow[]): Violation[] {
  const byKey = new Map<string, number[]>();
  for (const v of versions) {
    const key = retrainKeyOf(v);
    if (key !== null) byKey.set(key, [...(byKey.get(key) ?? []), v.version]);
  }
  return [...byKey]
    .filter(([, numbers]) => numbers.length > 1)
    .map(([key, numbers]) => ({
      invariant: 'one-candidate-per-retrain-key' as const,
      detail: `retrain key ${key} registered versions ${numbers.join(', ')}`,
    }));
}

export interface RevisionRow {
  id: string;
  revision: number;
  idempotencyKey: string | null;
}

export interface ActionRow {
  id: string;
  idempotencyKey: string;
  afterRevisionId: string | null;
}

export interface DeploymentAuditResult {
  violations: Violation[];
  /**
   * Agent revisions with no Action yet. The activity writes the revision, then its Action (a crash in
   * between is repaired by the retry, which finds the revision by its key): in flight this is normal, so
   * it is a violation only once the run has settled.
   */
  unaudited: string[];
}

/** `entryRecords`: the record of every audit chain entry of the model ("DeploymentRevision:<id>", …). */
export function deploymentAuditViolations(
  revisions: readonly RevisionRow[],
  actions: readonly ActionRow[],
  entryRecords: readonly string[],
  settled: boolean,
): DeploymentAuditResult {
  const entries = new Map<string, number>();
  for (const record of entryRecords) entries.set(record, (entries.get(record) ?? 0) + 1);
  const actionsByKey = new Map<string, ActionRow[]>();
  for (const a of actions)
    actionsByKey.set(a.idempotencyKey, [...(actionsByKey.get(a.idempotencyKey) ?? []), a]);
  const violations: Violation[] = [];
  const unaudited: string[] = [];
  const violation = (detail: string) =>
    violations.push({ invariant: 'deployment-change-audited-once', detail });
  for (const r of revisions) {
    // Revisions are never updated: each is sealed once, in the transaction that writes it.
    const sealed = entries.get(`DeploymentRevision:${r.id}`) ?? 0;
    if (sealed !== 1) violation(`revision ${r.revision} has ${sealed} audit chain entries`);
    if (r.idempotencyKey === null) continue;
    const own = actionsByKey.get(r.idempotencyKey) ?? [];
    if (own.length === 0) {
      if (settled) violation(`revision ${r.revision} (key ${r.idempotencyKey}) has no Action`);
      else unaudited.push(r.id);
    } else if (own.length > 1) {
      violation(`revision ${r.revision} (key ${r.idempotencyKey}) has ${own.length} Actions`);
    } else if (own[0]!.afterRevisionId !== r.id) {
      violation(`revision ${r.revision}'s Action ${own[0]!.id} names another revision`);
    }
  }
  return { violations, unaudited };
}

export interface IncidentRow {
  id: string;
  kind: string;
  status: string;
}

export function incidentViolations(incidents: readonly IncidentRow[]): Violation[] {
  return incidents
    .filter((i) => !(INCIDENT_OUTCOMES as readonly string[]).includes(i.status))
    .map((i) => ({
      invariant: 'incident-has-outcome' as const,
      detail: `incident ${i.id} (${i.kind}) is still ${i.status}`,
    }));
}

/** Rows per IN (…) list: well below either database's limit on bound parameters. */
const ID_CHUNK = 5000;

/** How many rows each id has among the model's predictions. */
export async function storedPredictionCounts(
  store: Store,
  modelId: string,
  ids: readonly string[],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    const rows = await store.prediction.groupBy({
      by: ['id'],
      where: { modelId, id: { in: ids.slice(i, i + ID_CHUNK) } },
      _count: { _all: true },
    });
    for (const row of rows) counts.set(row.id, row._count._all);
  }
  return counts;
}

export interface InvariantReport {
  violations: Violation[];
  unaudited: string[];
  /** Incidents by status, for the report. */
  incidents: Record<string, number>;
}

/**
 * Checks the stored invariants of one model. `acknowledged`: the ids acknowledged since the last check
 * (each check covers its own); `settled`: the run has settled, so nothing may still be in flight.
 */
export async function checkStoredInvariants(
  store: Store,
  modelName: string,
  acknowledged: readonly string[],
  { settled }: { settled: boolean },
): Promise<InvariantReport> {
  const model = await store.model.findUniqueOrThrow({ where: { name: modelName }, select: { id: true } });
  const where = { modelId: model.id };
  const [stored, versions, revisions, actions, entries, incidents, chain] = await Promise.all([
    storedPredictionCounts(store, model.id, acknowledged),
    store.modelVersion.findMany({
      where,
      select: { version: true, idempotencyKey: true, trainingWindow: true },
    }),
    store.deploymentRevision.findMany({ where, select: { id: true, revision: true, idempotencyKey: true } }),
    store.action.findMany({ where, select: { id: true, idempotencyKey: true, afterRevisionId: true } }),
    store.auditEntry.findMany({ where, select: { record: true } }),
    store.incident.findMany({ where, select: { id: true, kind: true, status: true } }),
    verifyAuditChain(store, modelName),
  ]);
  const deployment = deploymentAuditViolations(
    revisions,
    actions,
    entries.map((e) => e.record),
    settled,
  );
  const violations = [
    ...predictionViolations(acknowledged, stored),
    ...candidateViolations(versions),
    ...deployment.violations,
    ...chain.models.flatMap((m) =>
      m.problems.map((p) => ({
        invariant: 'audit-chain-verifies' as const,
        detail: `${m.modelName}: ${p.kind} ${p.where}: ${p.detail}`,
      })),
    ),
    ...(settled ? incidentViolations(incidents) : []),
  ];
  const byStatus: Record<string, number> = {};
  for (const i of incidents) byStatus[i.status] = (byStatus[i.status] ?? 0) + 1;
  return { violations, unaudited: deployment.unaudited, incidents: byStatus };
}
