// The read side of the history store, for operators and the dashboard: fleet health, each model's
// windows, decisions and incidents, an incident's timeline, and the audit trail as JSON or CSV.
// Everything here reads the store only, so it answers while no worker is running; the live agent state
// (a workflow query) stays at GET /v1/models/:model/agent.
import { join, sqltag as sql } from '@prisma/client/runtime/client';
import { Router } from 'express';
import { z } from 'zod';
// Row types of the SQLite client describe the PostgreSQL one too: both are generated from one data model.
import type {
  Action,
  Decision,
  Finding,
  Incident,
  MetricWindow,
  Model,
} from '../../generated/prisma-sqlite/client.ts';
import { mayUseModel, visibleModels } from '../../lib/auth/keys.ts';
import {
  type AccuracyBaseline,
  type AgentActivity,
  type IncidentPhase,
  phaseFromStore,
  replayAccuracyBaseline,
  statusFrom,
} from '../../lib/brain/status.ts';
import type { Alternative, Health } from '../../lib/brain/types.ts';
import type { Store } from '../../lib/db/client.ts';
import {
  FINDING_KINDS,
  type FindingKind,
  HEALTHS,
  INCIDENT_STATUSES,
  MAX_STORED_INT,
} from '../../lib/domain.ts';
import { queryInSlices } from '../../lib/ingest/limits.ts';
import { storeProvider } from '../../lib/ingest/prediction-writer.ts';
import type { FeatureDrift, WindowMetrics } from '../../lib/monitor/window.ts';
import { REMEDIES } from '../../lib/policy/defaults.ts';
import type { ApiContext } from '../context.ts';
import { HttpError, parseOrThrow } from '../errors.ts';
import { findModelOr404 } from '../models.ts';
import { limitParam, pageArgs, pageOf, pageParams } from '../paging.ts';
import { PATH_PARAMS } from '../params.ts';

// ---- What the endpoints answer (the dashboard imports these types) ----

export interface WindowPoint {
  seq: number;
  startAt: string;
  endAt: string;
  count: number;
  labelled: number;
  /** Accuracy of the window's labelled rows, null when none was labelled. */
  accuracy: number | null;
  /** Everything the monitor stored for the window (MetricWindow.metrics). */
  metrics: Record<string, unknown>;
}

/** The detector's accuracy baseline, replayed from the store (lib/brain/status.ts). */
export type Baseline = AccuracyBaseline;

export interface FindingView {
  id: string;
  windowSeq: number;
  kind: string;
  severity: string;
  state: string;
  summary: string | null;
  evidence: Record<string, unknown>;
  createdAt: string;
}

export interface DecisionView {
  id: string;
  cycle: number;
  action: string;
  rule: string;
  reason: string;
  alternatives: Alternative[];
  evidence: Record<string, unknown>;
  incidentId: string | null;
  workflowId: string;
  runId: string;
  createdAt: string;
}

export interface ActionView {
  id: string;
  model: string;
  type: string;
  actor: string;
  status: string;
  reason: string;
  detail: unknown;
  incidentId: string | null;
  decisionId: string | null;
  workflowId: string | null;
  runId: string | null;
  beforeRevisionId: string | null;
  afterRevisionId: string | null;
  createdAt: string;
  completedAt: string | null;
}

export interface IncidentView {
  id: string;
  model: string;
  status: string;
  kind: string;
  severity: string;
  summary: string;
  evidence: unknown;
  openedAt: string;
  closedAt: string | null;
}

export interface FleetEntry {
  model: { name: string; task: string; createdAt: string };
  health: Health;
  /** One sentence that says why the model has this health. */
  healthReason: string;
  /** What the agent is doing about the model, in one word and one sentence. */
  activity: AgentActivity;
  doing: string;
  paused: boolean;
  /** The open incident, with its phase (which the store's status alone does not tell apart). */
  openIncident: (IncidentView & { phase: IncidentPhase }) | null;
  lastWindow: WindowPoint | null;
  /** Findings the detector reported for the last window (only active ones are stored). */
  lastFindings: FindingView[];
  lastDecision: Pick<DecisionView, 'cycle' | 'action' | 'rule' | 'reason' | 'createdAt'> | null;
  baseline: Baseline;
  lastAction: ActionView | null;
}

/** The loop's steps, in the order an incident goes through them. */
export type TimelineStage = 'detected' | 'decided' | 'acted' | 'verified' | 'recovered';

export type TimelineEntry = { at: string; stage: TimelineStage; cycle: number | null } & (
  | { source: 'finding'; finding: FindingView }
  | { source: 'decision'; decision: DecisionView }
  | { source: 'action'; action: ActionView }
);

export interface IncidentDetail {
  incident: IncidentView;
  decisions: DecisionView[];
  findings: FindingView[];
  actions: ActionView[];
  timeline: TimelineEntry[];
}

/** A paged list's cursor (api/paging.ts): pass it as ?cursor= for the next page; null on the last. */
interface Paged {
  nextCursor: string | null;
}
export interface FleetResponse extends Paged {
  /** The page of models that match the filters, in name order (code-point order of the names). */
  models: FleetEntry[];
  /** The cursor of the page before (pass it as ?cursor=); null on the first page. */
  prevCursor: string | null;
  /** How many models match the filters, over every page. */
  matching: number;
  /** How many of them come before this page: the page shows matching models offset+1 to offset+models.length. */
  offset: number;
  /** How many models the caller may see, whatever the filters. */
  total: number;
  /**
   * How many models have each health among those the other filters (search, incidentKind) select: what
   * each choice of the health filter would match.
   */
  counts: Record<Health, number>;
  /**
   * How many models have an open incident of each kind among those the other filters (search, health)
   * select: what each choice of the incidentKind filter would match.
   */
  incidentCounts: Record<FindingKind, number>;
  generatedAt: string;
}
export interface FleetModelResponse {
  model: FleetEntry;
}
export interface WindowsResponse extends Paged {
  model: string;
  /** Oldest first; the next page holds older windows. */
  windows: WindowPoint[];
  baseline: Baseline;
}
export interface DecisionsResponse extends Paged {
  model: string;
  /** Newest first. */
  decisions: DecisionView[];
}
export interface IncidentsResponse extends Paged {
  model: string;
  /** Newest first, each with how many decisions and actions it holds. */
  incidents: (IncidentView & { decisions: number; actions: number })[];
}
/** One feature in one window: the drift test against the production version's reference profile. */
export type DriftCell =
  | {
      judged: true;
      test: 'kolmogorov_smirnov' | 'chi_square';
      statistic: number;
      pValue: number;
      /** Benjamini–Hochberg adjusted across the window's features (what detection compares with alpha). */
      adjustedPValue: number | null;
      psi: number;
    }
  | { judged: false; reason: string };
export interface DriftResponse {
  model: string;
  /** Rows of the matrix: the model's features in schema order, then any only the windows name. */
  features: string[];
  /** Columns, oldest first; `finding` is the detector's data_drift finding of that window, if any. */
  windows: {
    seq: number;
    endAt: string;
    reference: string | null;
    finding: { state: string; severity: string; summary: string | null } | null;
  }[];
  /** cells[feature][window]; null where the window has no drift result for the feature. */
  cells: (DriftCell | null)[][];
}
export interface ActionsResponse extends Paged {
  /** Newest first. */
  actions: ActionView[];
  /** More actions match than `limit`. */
  truncated: boolean;
  limit: number;
}

// ---- Query parameters ----

const instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);
const modelParam = z.object({ model: z.string().min(1).max(64) });

export const windowsQuery = z.object(pageParams(200, 2000)).strict();
/**
 * A fleet page's cursor: the model name the page starts after (nextCursor) or ends before (prevCursor).
 * A name rather than a row id, so that a page stays where it was whatever was added or removed on either
 * side of it meanwhile, and the model it names need not exist any more.
 */
const FLEET_CURSOR = /^(after|before)\.([A-Za-z0-9_-]{1,64})$/;
export type FleetCursor = { side: 'after' | 'before'; name: string };
const fleetCursorOf = (side: FleetCursor['side'], name: string) => `${side}.${name}`;

export const FLEET_LIMITS = { default: 100, max: 1000 } as const;
export const fleetQuery = z
  .object({
    limit: limitParam(FLEET_LIMITS.default, FLEET_LIMITS.max).describe('Models per page'),
    cursor: z
      .string()
      .max(71)
      .regex(FLEET_CURSOR, 'a nextCursor or prevCursor of a fleet page ("after.<model>" or "before.<model>")')
      .transform((cursor): FleetCursor => {
        const [, side, name] = FLEET_CURSOR.exec(cursor)!;
        return { side: side as FleetCursor['side'], name: name! };
      })
      .optional()
      .describe(
        'nextCursor (the page after) or prevCursor (the page before) of a page; absent: the first page',
      ),
    health: z.enum(HEALTHS).optional().describe('Only the models of this health'),
    incidentKind: z
      .enum(FINDING_KINDS)
      .optional()
      .describe('Only the models with an open incident of this kind'),
    search: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe('Only the models whose name contains this text (any case)'),
  })
  .strict();
export const driftQuery = z.object({ windows: limitParam(50, 500) }).strict();
export const decisionsQuery = z
  .object({ ...pageParams(50, 1000), before: z.coerce.number().int().min(0).max(MAX_STORED_INT).optional() })
  .strict();
export const incidentsQuery = z
  .object({ ...pageParams(50, 500), status: z.enum(INCIDENT_STATUSES).optional() })
  .strict();
const incidentParams = z.object({ id: PATH_PARAMS.id });

export const ACTIONS_LIMITS = { default: 1000, max: 10_000 } as const;
export const actionsQuery = z
  .object({
    model: z.string().min(1).max(64).optional(),
    /** An exact actor ("agent", "human:alice"), or a prefix ending in "*" ("human:*"). */
    actor: z.string().min(1).max(110).optional(),
    type: z
      .string()
      .max(64)
      .regex(/^[a-z][a-z_-]*$/, 'an action type such as alert, pause, resume')
      .optional(),
    /** Inclusive bounds on createdAt: an ISO date-time with offset, or a date (midnight UTC). */
    from: instant.optional(),
    to: instant.optional(),
    format: z.enum(['json', 'csv']).default('json'),
    ...pageParams(ACTIONS_LIMITS.default, ACTIONS_LIMITS.max),
  })
  .strict()
  .refine((q) => !q.from || !q.to || new Date(q.from) <= new Date(q.to), {
    path: ['to'],
    message: 'must not be before from',
  });

// ---- Presenters: store rows → the shapes above ----

const iso = (date: Date | null) => (date ? date.toISOString() : null);
const asObject = (json: unknown): Record<string, unknown> =>
  json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : {};

function presentWindow(w: MetricWindow): WindowPoint {
  const metrics = asObject(w.metrics);
  return {
    seq: w.seq,
    startAt: w.startAt.toISOString(),
    endAt: w.endAt.toISOString(),
    count: w.count,
    labelled: w.labelled,
    accuracy: typeof metrics.accuracy === 'number' ? metrics.accuracy : null,
    metrics,
  };
}

function presentFinding(f: Finding): FindingView {
  const { summary, ...evidence } = asObject(f.evidence);
  return {
    id: f.id,
    windowSeq: f.windowSeq,
    kind: f.kind,
    severity: f.severity,
    state: f.state,
    summary: typeof summary === 'string' ? summary : null,
    evidence,
    createdAt: f.createdAt.toISOString(),
  };
}

function presentDecision(d: Decision): DecisionView {
  return {
    id: d.id,
    cycle: d.cycle,
    action: d.action,
    rule: d.rule,
    reason: d.reason,
    alternatives: Array.isArray(d.alternatives) ? (d.alternatives as unknown as Alternative[]) : [],
    evidence: asObject(d.evidence),
    incidentId: d.incidentId,
    workflowId: d.workflowId,
    runId: d.runId,
    createdAt: d.createdAt.toISOString(),
  };
}

function presentAction(a: Action, model: string): ActionView {
  return {
    id: a.id,
    model,
    type: a.type,
    actor: a.actor,
    status: a.status,
    reason: a.reason,
    detail: a.detail,
    incidentId: a.incidentId,
    decisionId: a.decisionId,
    workflowId: a.workflowId,
    runId: a.runId,
    beforeRevisionId: a.beforeRevisionId,
    afterRevisionId: a.afterRevisionId,
    createdAt: a.createdAt.toISOString(),
    completedAt: iso(a.completedAt),
  };
}

function presentIncident(i: Incident, model: string): IncidentView {
  return {
    id: i.id,
    model,
    status: i.status,
    kind: i.kind,
    severity: i.severity,
    summary: i.summary,
    evidence: i.evidence,
    openedAt: i.openedAt.toISOString(),
    closedAt: iso(i.closedAt),
  };
}

function driftCell(d: FeatureDrift): DriftCell {
  if (!d.judged) return { judged: false, reason: d.message };
  const { test, statistic, pValue, adjustedPValue, psi } = d;
  return { judged: true, test, statistic, pValue, adjustedPValue, psi };
}

/** Per-feature drift of the windows as a features × windows matrix (the windows' stored metrics). */
function driftMatrix(
  model: Pick<Model, 'name' | 'featureSchema'>,
  windows: MetricWindow[],
  findings: Finding[],
): DriftResponse {
  const perWindow = windows.map((w) => {
    const metrics = asObject(w.metrics) as Partial<WindowMetrics>;
    const byName = new Map((metrics.drift?.features ?? []).map((d) => [d.name, d]));
    return { window: w, reference: metrics.reference ?? null, byName };
  });
  const schema = Array.isArray(model.featureSchema) ? (model.featureSchema as { name?: unknown }[]) : [];
  const features = [
    ...new Set([
      ...schema.flatMap((f) => (typeof f.name === 'string' ? [f.name] : [])),
      ...perWindow.flatMap((w) => [...w.byName.keys()]),
    ]),
  ];
  const findingOf = new Map(findings.map((f) => [f.windowSeq, presentFinding(f)]));
  return {
    model: model.name,
    features,
    windows: perWindow.map(({ window, reference }) => {
      const finding = findingOf.get(window.seq);
      return {
        seq: window.seq,
        endAt: window.endAt.toISOString(),
        reference,
        finding: finding
          ? { state: finding.state, severity: finding.severity, summary: finding.summary }
          : null,
      };
    }),
    cells: features.map((name) =>
      perWindow.map(({ byName }) => {
        const d = byName.get(name);
        return d ? driftCell(d) : null;
      }),
    ),
  };
}

// ---- Fleet health ----
//
// Every read here is batched over a set of models (a page of the fleet, or the whole fleet for its health
// counts): a few queries whatever the number of models, where one query per model and fact made a page of
// 100 models cost some 900 queries (bench/fleet-api.ts, docs/benchmarks.md "Fleet API"). The latest row of
// each model is a groupBy of the maximum, then the rows with it. An empty OR matches no row in Prisma, so a
// set of models without any such row reads none.

/**
 * How many recent windows the baseline is replayed over. The detector's baseline grows with every healthy
 * window of the agent's life; replaying all of them on every poll would grow without bound, so past this
 * many windows the number shown is the baseline of the most recent ones.
 */
export const BASELINE_SCAN_WINDOWS = 1000;

/** Rows of several models grouped by model, in the order they were read. */
function byModel<R extends { modelId: string }>(rows: R[]): Map<string, R[]> {
  const groups = new Map<string, R[]>();
  for (const row of rows) groups.set(row.modelId, [...(groups.get(row.modelId) ?? []), row]);
  return groups;
}

/** The first row read for each model: with rows ordered newest first, each model's latest. */
function firstOfEach<R extends { modelId: string }>(rows: R[]): Map<string, R> {
  const first = new Map<string, R>();
  for (const row of rows) if (!first.has(row.modelId)) first.set(row.modelId, row);
  return first;
}

/** Each model's greatest value of a column, from a groupBy's `_max`; models without rows are left out. */
function maxima<K extends string, V extends number | Date>(
  groups: { modelId: string; _max: Partial<Record<K, V | null>> | null }[],
  key: K,
): { modelId: string; max: V }[] {
  return groups.flatMap((g) => {
    const max = g._max?.[key];
    return max === null || max === undefined ? [] : [{ modelId: g.modelId, max }];
  });
}

/** What the baseline needs of a window. */
interface BaselineWindow {
  modelId: string;
  seq: number;
  endAt: Date;
  labelled: number;
  /** The metrics' `correct` (labelled rows predicted right); null for a regressor, or when not a number. */
  correct: number | null;
}

/**
 * Two numbers of each window's metrics, extracted by the database: a window's whole metrics JSON is
 * kilobytes, and a page reads up to BASELINE_SCAN_WINDOWS windows per model (read through Prisma, 100
 * models of 240 windows took 1.3 s, mostly to fetch and parse that JSON).
 */
async function baselineWindows(store: Store, scans: { modelId: string; from: number }[]) {
  if (scans.length === 0) return [];
  const within = join(
    scans.map((s) => sql`("modelId" = ${s.modelId} AND "seq" >= ${s.from})`),
    ' OR ',
  );
  const correct =
    (await storeProvider(store)) === 'sqlite'
      ? sql`CASE WHEN json_extract("metrics", '$.task') IS NOT 'regression' AND json_type("metrics", '$.correct') IN ('integer', 'real') THEN json_extract("metrics", '$.correct') END`
      : sql`CASE WHEN "metrics"->>'task' IS DISTINCT FROM 'regression' AND jsonb_typeof("metrics"->'correct') = 'number' THEN ("metrics"->>'correct')::float8 END`;
  const rows = await store.$queryRaw<Record<keyof BaselineWindow, unknown>[]>(
    sql`SELECT "modelId", "seq", "endAt", "labelled", ${correct} AS "correct" FROM "MetricWindow" WHERE ${within} ORDER BY "modelId", "seq"`,
  );
  return rows.map(
    (r): BaselineWindow => ({
      modelId: String(r.modelId),
      seq: Number(r.seq),
      endAt: new Date(r.endAt as string | Date),
      labelled: Number(r.labelled),
      correct: r.correct === null ? null : Number(r.correct),
    }),
  );
}

/**
 * The detectors' accuracy baselines of several models, replayed from the stored windows, their active
 * findings and the agents' model changes with the detector's own rule (lib/brain/status.ts
 * replayAccuracyBaseline).
 */
async function baselinesOf(store: Store, modelIds: string[]): Promise<Map<string, Baseline>> {
  const extents = await store.metricWindow.groupBy({
    by: ['modelId'],
    where: { modelId: { in: modelIds } },
    _max: { seq: true },
    _count: { _all: true },
  });
  // Each model's last BASELINE_SCAN_WINDOWS windows. Seqs run without gaps as the agent measures, so
  // they are the windows from the last seq less the scan back; for a model whose seqs have gaps (fewer
  // windows in that range than it should have) the first seq of the scan is looked up.
  const scans = extents.map((e) => ({
    modelId: e.modelId,
    from: (e._max.seq ?? 0) - BASELINE_SCAN_WINDOWS + 1,
    expected: Math.min(e._count._all, BASELINE_SCAN_WINDOWS),
  }));
  const windowsOf = byModel(await baselineWindows(store, scans));
  const gapped = await Promise.all(
    scans
      .filter((s) => (windowsOf.get(s.modelId)?.length ?? 0) !== s.expected)
      .map(async ({ modelId }) => {
        const first = await store.metricWindow.findFirst({
          where: { modelId },
          orderBy: { seq: 'desc' },
          skip: BASELINE_SCAN_WINDOWS - 1,
          select: { seq: true },
        });
        return { modelId, from: first?.seq ?? Number.MIN_SAFE_INTEGER };
      }),
  );
  for (const [modelId, windows] of byModel(await baselineWindows(store, gapped)))
    windowsOf.set(modelId, windows);
  const oldest = [...windowsOf.values()].map((w) => w[0]!);
  const [findings, changes] = await Promise.all([
    store.finding.findMany({
      where: { OR: oldest.map((w) => ({ modelId: w.modelId, windowSeq: { gte: w.seq } })) },
      select: { modelId: true, windowSeq: true, kind: true },
    }),
    // An applied retrain or rollback of the agent's: another production model, whose baseline
    // starts afresh.
    store.action.findMany({
      where: {
        actor: 'agent',
        type: { in: ['retrain', 'rollback'] },
        status: 'succeeded',
        OR: oldest.map((w) => ({ modelId: w.modelId, createdAt: { gte: w.endAt } })),
      },
      select: { modelId: true, createdAt: true, completedAt: true },
    }),
  ]);
  const findingsOf = byModel(findings);
  const changesOf = byModel(changes);
  return new Map(
    modelIds.map((modelId) => {
      const windows = windowsOf.get(modelId) ?? [];
      const kindsOf = new Map<number, string[]>();
      for (const f of findingsOf.get(modelId) ?? [])
        kindsOf.set(f.windowSeq, [...(kindsOf.get(f.windowSeq) ?? []), f.kind]);
      const changedAt = (changesOf.get(modelId) ?? []).map((c) => (c.completedAt ?? c.createdAt).getTime());
      const baseline = replayAccuracyBaseline(
        windows.map((w, i) => {
          const previousEnd = i > 0 ? windows[i - 1]!.endAt.getTime() : Number.NEGATIVE_INFINITY;
          return {
            labelled: w.labelled,
            correct: w.correct,
            findingKinds: kindsOf.get(w.seq) ?? [],
            // The first window measured after the change: the one measuring meanwhile judged the old model.
            afterModelChange: changedAt.some((t) => t >= previousEnd && t < w.endAt.getTime()),
          };
        }),
      );
      return [modelId, baseline];
    }),
  );
}

async function baselineOf(store: Store, modelId: string): Promise<Baseline> {
  return (await baselinesOf(store, [modelId])).get(modelId)!;
}

/** Action types that show which remedy an incident works with (the remedy, or its approval). */
const REMEDY_ACTION_TYPES = REMEDIES.flatMap((r) => [r, `approve:${r}`]);

type ModelRow = Pick<Model, 'id' | 'name' | 'task' | 'createdAt'>;

/** A model's health and what decides it: what the fleet's filters and counts need, for every model. */
interface ModelHealth {
  model: ModelRow;
  status: ReturnType<typeof statusFrom>;
  paused: boolean;
  openIncident: FleetEntry['openIncident'];
  lastWindowSeq: number | null;
}

/**
 * Models read at once: a query names each at most twice (model and seq), within the 999 parameters a
 * SQLite statement may bind.
 */
const MODELS_PER_QUERY = 400;

/** The health of each model, in the models' order, in five queries per MODELS_PER_QUERY models. */
export const fleetHealth = (store: Store, models: ModelRow[]) =>
  queryInSlices(models, (slice) => healthOfSlice(store, slice), MODELS_PER_QUERY);

async function healthOfSlice(store: Store, models: ModelRow[]): Promise<ModelHealth[]> {
  const modelIds = models.map((m) => m.id);
  const where = { modelId: { in: modelIds } };
  const [windowGroups, incidents, controlGroups] = await Promise.all([
    store.metricWindow.groupBy({ by: ['modelId'], where, _max: { seq: true } }),
    store.incident.findMany({
      // Open until closed: an acknowledged escalation is closed but keeps its status 'escalated'.
      where: { ...where, closedAt: null },
      orderBy: { openedAt: 'desc' },
      include: {
        actions: {
          where: { type: { in: REMEDY_ACTION_TYPES } },
          orderBy: { createdAt: 'desc' },
          take: 1,
          select: { type: true, status: true },
        },
      },
    }),
    store.action.groupBy({
      by: ['modelId'],
      where: { ...where, type: { in: ['pause', 'resume'] } },
      _max: { createdAt: true },
    }),
  ]);
  const lastSeqs = maxima(windowGroups, 'seq');
  const lastSeqOf = new Map(lastSeqs.map((s) => [s.modelId, s.max]));
  const incidentOf = firstOfEach(incidents);
  const lastControls = maxima(controlGroups, 'createdAt');
  // Findings count only beside an open incident (is it easing?), so only those models' are read.
  const withIncident = lastSeqs.filter((s) => incidentOf.has(s.modelId));
  const [controls, findings] = await Promise.all([
    store.action.findMany({
      where: {
        type: { in: ['pause', 'resume'] },
        OR: lastControls.map((c) => ({ modelId: c.modelId, createdAt: c.max })),
      },
    }),
    store.finding.findMany({
      where: { OR: withIncident.map((s) => ({ modelId: s.modelId, windowSeq: s.max })) },
    }),
  ]);
  const controlOf = firstOfEach(controls);
  const findingsOf = byModel(findings);
  return models.map((model) => {
    const incident = incidentOf.get(model.id);
    const remedyAction = incident?.actions[0] ?? null;
    const openIncident = incident
      ? { ...presentIncident(incident, model.name), phase: phaseFromStore(incident.status, remedyAction) }
      : null;
    const control = controlOf.get(model.id);
    const paused = control?.type === 'pause' ? control : null;
    const lastWindowSeq = lastSeqOf.get(model.id) ?? null;
    const status = statusFrom({
      paused: paused ? `${paused.actor}: ${paused.reason}` : null,
      incident: openIncident && {
        kind: openIncident.kind,
        phase: openIncident.phase,
        summary: openIncident.summary,
        remedy: remedyAction?.type.replace(/^approve:/, '') ?? null,
      },
      lastFindings: (findingsOf.get(model.id) ?? []).map((f) => ({ kind: f.kind, state: f.state })),
      lastWindowSeq,
    });
    return { model, status, paused: paused !== null, openIncident, lastWindowSeq };
  });
}

/** The fleet entries of models whose health is known: the rest of what the page shows, batched. */
const fleetEntriesOf = (store: Store, healths: ModelHealth[]) =>
  queryInSlices(healths, (slice) => entriesOfSlice(store, slice), MODELS_PER_QUERY);

async function entriesOfSlice(store: Store, healths: ModelHealth[]): Promise<FleetEntry[]> {
  const modelIds = healths.map((h) => h.model.id);
  const where = { modelId: { in: modelIds } };
  const lastWindows = healths.flatMap((h) =>
    h.lastWindowSeq === null ? [] : [{ modelId: h.model.id, seq: h.lastWindowSeq }],
  );
  const [decisionGroups, actionGroups, windows, findings, baselines] = await Promise.all([
    store.decision.groupBy({ by: ['modelId'], where, _max: { cycle: true } }),
    store.action.groupBy({ by: ['modelId'], where, _max: { createdAt: true } }),
    store.metricWindow.findMany({ where: { OR: lastWindows } }),
    store.finding.findMany({
      where: { OR: lastWindows.map((w) => ({ modelId: w.modelId, windowSeq: w.seq })) },
      orderBy: { kind: 'asc' },
    }),
    baselinesOf(store, modelIds),
  ]);
  const lastCycles = maxima(decisionGroups, 'cycle');
  const lastActed = maxima(actionGroups, 'createdAt');
  const [decisions, actions] = await Promise.all([
    store.decision.findMany({
      where: { OR: lastCycles.map((d) => ({ modelId: d.modelId, cycle: d.max })) },
    }),
    store.action.findMany({
      where: { OR: lastActed.map((a) => ({ modelId: a.modelId, createdAt: a.max })) },
    }),
  ]);
  const windowOf = firstOfEach(windows);
  const findingsOf = byModel(findings);
  const decisionOf = firstOfEach(decisions);
  const actionOf = firstOfEach(actions);
  return healths.map(({ model, status, paused, openIncident }) => {
    const window = windowOf.get(model.id);
    const decision = decisionOf.get(model.id);
    const action = actionOf.get(model.id);
    return {
      model: { name: model.name, task: model.task, createdAt: model.createdAt.toISOString() },
      health: status.health,
      healthReason: status.reason,
      activity: status.activity,
      doing: status.doing,
      paused,
      openIncident,
      lastWindow: window ? presentWindow(window) : null,
      lastFindings: (findingsOf.get(model.id) ?? []).map(presentFinding),
      lastDecision: decision
        ? {
            cycle: decision.cycle,
            action: decision.action,
            rule: decision.rule,
            reason: decision.reason,
            createdAt: decision.createdAt.toISOString(),
          }
        : null,
      baseline: baselines.get(model.id)!,
      lastAction: action ? presentAction(action, model.name) : null,
    };
  });
}

export async function fleetEntries(store: Store, models: ModelRow[]): Promise<FleetEntry[]> {
  return fleetEntriesOf(store, await fleetHealth(store, models));
}

export async function fleetEntry(store: Store, model: ModelRow): Promise<FleetEntry> {
  return (await fleetEntries(store, [model]))[0]!;
}

/** Code-point order of model names: the same on every database, and what fleet cursors compare with. */
const compareNames = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * One page of `sorted` (ascending by `nameOf`, names unique) by keyset: the `limit` items after the
 * cursor's name, or the `limit` items before it, and the cursors of the pages on either side.
 */
function keysetPage<T>(
  sorted: T[],
  nameOf: (item: T) => string,
  limit: number,
  cursor: FleetCursor | undefined,
) {
  // Index of the first item whose name is after `name` (or, `inclusive`, not before it).
  const boundary = (name: string, inclusive: boolean) => {
    const i = sorted.findIndex((item) => compareNames(nameOf(item), name) >= (inclusive ? 0 : 1));
    return i === -1 ? sorted.length : i;
  };
  let start = 0;
  let end = Math.min(limit, sorted.length);
  if (cursor?.side === 'after') {
    start = boundary(cursor.name, false);
    end = Math.min(start + limit, sorted.length);
  } else if (cursor?.side === 'before') {
    end = boundary(cursor.name, true);
    start = Math.max(0, end - limit);
  }
  const items = sorted.slice(start, end);
  // An empty page (the cursor's side holds nothing) still leads back to where it came from.
  const first = items.length > 0 ? nameOf(items[0]!) : cursor?.name;
  const last = items.length > 0 ? nameOf(items.at(-1)!) : cursor?.name;
  return {
    items,
    offset: start,
    prevCursor: start > 0 && first !== undefined ? fleetCursorOf('before', first) : null,
    nextCursor: end < sorted.length && last !== undefined ? fleetCursorOf('after', last) : null,
  };
}

// ---- Incident timeline ----

/** Order of sources inside one cycle: the detector's findings, then the decision, then what was done. */
const SOURCE_ORDER = { finding: 0, decision: 1, action: 2 } as const;

/** How far before its opening decision the suspect findings that led to an incident are looked for. */
const DETECTION_LOOKBACK_WINDOWS = 50;

/** A finding that is `recovering` is the verification that the metric came back; any other is a detection. */
const findingStage = (state: string): TimelineStage => (state === 'recovering' ? 'verified' : 'detected');

function buildTimeline(
  incident: IncidentView,
  decisions: DecisionView[],
  findings: FindingView[],
  actions: ActionView[],
): TimelineEntry[] {
  // The decision that closed a recovered incident is its last one.
  const closing = incident.status === 'recovered' ? decisions.at(-1)?.id : undefined;
  const entries: TimelineEntry[] = [
    ...findings.map((finding) => ({
      at: finding.createdAt,
      stage: findingStage(finding.state),
      cycle: finding.windowSeq,
      source: 'finding' as const,
      finding,
    })),
    ...decisions.map((decision) => ({
      at: decision.createdAt,
      stage: decision.id === closing ? ('recovered' as const) : ('decided' as const),
      cycle: decision.cycle,
      source: 'decision' as const,
      decision,
    })),
    ...actions.map((action) => {
      const cycle = (action.detail as { cycle?: unknown } | null)?.cycle;
      return {
        at: action.createdAt,
        stage: 'acted' as const,
        cycle: typeof cycle === 'number' ? cycle : null,
        source: 'action' as const,
        action,
      };
    }),
  ];
  return entries.sort(
    (a, b) =>
      a.at.localeCompare(b.at) ||
      (a.cycle ?? Number.MAX_SAFE_INTEGER) - (b.cycle ?? Number.MAX_SAFE_INTEGER) ||
      SOURCE_ORDER[a.source] - SOURCE_ORDER[b.source],
  );
}

/**
 * The findings behind an incident: every finding of the windows it decided on, and the run of findings of
 * its kind in the windows just before it opened (the suspect streak that confirmed it).
 */
function incidentFindings(all: FindingView[], kind: string, cycles: number[]): FindingView[] {
  const decided = new Set(cycles);
  const first = Math.min(...cycles);
  const byKind = new Set(all.filter((f) => f.kind === kind).map((f) => f.windowSeq));
  let streakStart = first;
  while (byKind.has(streakStart - 1)) streakStart -= 1;
  return all.filter(
    (f) => decided.has(f.windowSeq) || (f.kind === kind && f.windowSeq >= streakStart && f.windowSeq < first),
  );
}

// ---- CSV ----

export const ACTION_CSV_COLUMNS = [
  'createdAt',
  'completedAt',
  'model',
  'type',
  'actor',
  'status',
  'reason',
  'incidentId',
  'decisionId',
  'workflowId',
  'runId',
  'beforeRevisionId',
  'afterRevisionId',
  'detail',
  'id',
] as const satisfies readonly (keyof ActionView)[];

/**
 * One RFC 4180 field. Text that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a
 * leading apostrophe: reasons are typed by operators and the file is opened in spreadsheets.
 */
function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

function actionsCsv(actions: ActionView[]): string {
  const lines = [ACTION_CSV_COLUMNS.join(',')];
  for (const action of actions) lines.push(ACTION_CSV_COLUMNS.map((c) => csvField(action[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

// ---- Routes ----

export function historyRoutes({ store }: ApiContext): Router {
  const router = Router();
  const modelOf = async (params: unknown) =>
    findModelOr404(store, parseOrThrow(modelParam, params, 'params').model);

  router.get('/fleet', async (req, res) => {
    const { limit, cursor, health, incidentKind, search } = parseOrThrow(fleetQuery, req.query, 'query');
    // Health is derived, not stored: the filters and counts need every visible model's, read in a few
    // batched queries; only the page's models are then read in full.
    const models = await store.model.findMany({
      where: visibleModels(req.identity!),
      select: { id: true, name: true, task: true, createdAt: true },
    });
    // Ordered here, by code points, rather than by the database, whose order of text depends on its
    // collation (PostgreSQL's may ignore case and punctuation): cursors compare names the same way.
    models.sort((a, b) => compareNames(a.name, b.name));
    const healths = await fleetHealth(store, models);
    const needle = search?.toLowerCase();
    const searched =
      needle === undefined ? healths : healths.filter((h) => h.model.name.toLowerCase().includes(needle));
    const ofHealth = (h: ModelHealth) => health === undefined || h.status.health === health;
    const ofKind = (h: ModelHealth) => incidentKind === undefined || h.openIncident?.kind === incidentKind;
    const counts = Object.fromEntries(HEALTHS.map((h) => [h, 0])) as Record<Health, number>;
    const incidentCounts = Object.fromEntries(FINDING_KINDS.map((k) => [k, 0])) as Record<
      FindingKind,
      number
    >;
    for (const h of searched) {
      if (ofKind(h)) counts[h.status.health] += 1;
      const kind = h.openIncident?.kind as FindingKind | undefined;
      if (kind !== undefined && ofHealth(h) && kind in incidentCounts) incidentCounts[kind] += 1;
    }
    const matching = searched.filter((h) => ofHealth(h) && ofKind(h));
    const page = keysetPage(matching, (h) => h.model.name, limit, cursor);
    const body: FleetResponse = {
      models: await fleetEntriesOf(store, page.items),
      nextCursor: page.nextCursor,
      prevCursor: page.prevCursor,
      matching: matching.length,
      offset: page.offset,
      total: models.length,
      counts,
      incidentCounts,
      generatedAt: new Date().toISOString(),
    };
    res.json(body);
  });

  router.get('/fleet/:model', async (req, res) => {
    const body: FleetModelResponse = { model: await fleetEntry(store, await modelOf(req.params)) };
    res.json(body);
  });

  router.get('/models/:model/windows', async (req, res) => {
    const model = await modelOf(req.params);
    const page = parseOrThrow(windowsQuery, req.query, 'query');
    const [rows, baseline] = await Promise.all([
      store.metricWindow.findMany({
        where: { modelId: model.id },
        orderBy: { seq: 'desc' },
        ...pageArgs(page),
      }),
      baselineOf(store, model.id),
    ]);
    const { items: windows, nextCursor } = pageOf(rows, page);
    const body: WindowsResponse = {
      model: model.name,
      windows: windows.reverse().map(presentWindow),
      baseline,
      nextCursor,
    };
    res.json(body);
  });

  router.get('/models/:model/drift', async (req, res) => {
    const model = await modelOf(req.params);
    const { windows: limit } = parseOrThrow(driftQuery, req.query, 'query');
    const windows = (
      await store.metricWindow.findMany({
        where: { modelId: model.id },
        orderBy: { seq: 'desc' },
        take: limit,
      })
    ).reverse();
    const findings = windows.length
      ? await store.finding.findMany({
          where: { modelId: model.id, kind: 'data_drift', windowSeq: { gte: windows[0]!.seq } },
        })
      : [];
    const body: DriftResponse = driftMatrix(model, windows, findings);
    res.json(body);
  });

  router.get('/models/:model/decisions', async (req, res) => {
    const model = await modelOf(req.params);
    const { before, ...page } = parseOrThrow(decisionsQuery, req.query, 'query');
    const rows = await store.decision.findMany({
      where: { modelId: model.id, ...(before === undefined ? {} : { cycle: { lt: before } }) },
      orderBy: [{ cycle: 'desc' }, { id: 'asc' }],
      ...pageArgs(page),
    });
    const { items, nextCursor } = pageOf(rows, page);
    const body: DecisionsResponse = { model: model.name, decisions: items.map(presentDecision), nextCursor };
    res.json(body);
  });

  router.get('/models/:model/incidents', async (req, res) => {
    const model = await modelOf(req.params);
    const { status, ...page } = parseOrThrow(incidentsQuery, req.query, 'query');
    const rows = await store.incident.findMany({
      where: { modelId: model.id, ...(status ? { status } : {}) },
      orderBy: [{ openedAt: 'desc' }, { id: 'asc' }],
      ...pageArgs(page),
      include: { _count: { select: { decisions: true, actions: true } } },
    });
    const { items: incidents, nextCursor } = pageOf(rows, page);
    const body: IncidentsResponse = {
      model: model.name,
      nextCursor,
      incidents: incidents.map(({ _count, ...incident }) => ({
        ...presentIncident(incident, model.name),
        decisions: _count.decisions,
        actions: _count.actions,
      })),
    };
    res.json(body);
  });

  router.get('/incidents/:id', async (req, res) => {
    const { id } = parseOrThrow(incidentParams, req.params, 'params');
    const row = await store.incident.findUnique({
      where: { id },
      include: { model: { select: { name: true } } },
    });
    // Another model's incident is answered as if it did not exist: its id reveals nothing.
    if (!row || !mayUseModel(req.identity!, row.model.name)) {
      throw new HttpError(404, 'incident_not_found', `incident "${id}" does not exist`);
    }
    const incident = presentIncident(row, row.model.name);
    const [decisionRows, actionRows] = await Promise.all([
      store.decision.findMany({ where: { incidentId: id }, orderBy: { cycle: 'asc' } }),
      store.action.findMany({ where: { incidentId: id }, orderBy: { createdAt: 'asc' } }),
    ]);
    const decisions = decisionRows.map(presentDecision);
    const cycles = decisions.map((d) => d.cycle);
    const findingRows = cycles.length
      ? await store.finding.findMany({
          where: {
            modelId: row.modelId,
            windowSeq: { gte: Math.min(...cycles) - DETECTION_LOOKBACK_WINDOWS, lte: Math.max(...cycles) },
          },
          orderBy: [{ windowSeq: 'asc' }, { kind: 'asc' }],
        })
      : [];
    const findings = cycles.length ? incidentFindings(findingRows.map(presentFinding), row.kind, cycles) : [];
    const actions = actionRows.map((a) => presentAction(a, row.model.name));
    const detail: IncidentDetail = {
      incident,
      decisions,
      findings,
      actions,
      timeline: buildTimeline(incident, decisions, findings, actions),
    };
    res.json(detail);
  });

  router.get('/actions', async (req, res) => {
    const query = parseOrThrow(actionsQuery, req.query, 'query');
    if (query.model && !mayUseModel(req.identity!, query.model)) {
      throw new HttpError(
        403,
        'forbidden',
        `key "${req.identity!.name}" is not scoped to model "${query.model}"`,
      );
    }
    const model = query.model ? await findModelOr404(store, query.model) : null;
    const actor = query.actor?.endsWith('*') ? { startsWith: query.actor.slice(0, -1) } : query.actor;
    const createdAt = {
      ...(query.from ? { gte: new Date(query.from) } : {}),
      ...(query.to ? { lte: new Date(query.to) } : {}),
    };
    const rows = await store.action.findMany({
      where: {
        ...(model ? { modelId: model.id } : { model: visibleModels(req.identity!) }),
        ...(actor ? { actor } : {}),
        ...(query.type ? { type: query.type } : {}),
        ...(query.from || query.to ? { createdAt } : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      ...pageArgs(query),
      include: { model: { select: { name: true } } },
    });
    const { items, nextCursor } = pageOf(rows, query);
    const truncated = nextCursor !== null;
    const actions = items.map((a) => presentAction(a, a.model.name));
    if (query.format === 'csv') {
      const stamp = new Date().toISOString().replaceAll(':', '-').slice(0, 19);
      res
        .status(200)
        .set({
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="homeostat-actions-${stamp}.csv"`,
          'x-homeostat-truncated': String(truncated),
          ...(nextCursor ? { 'x-homeostat-next-cursor': nextCursor } : {}),
        })
        .send(actionsCsv(actions));
      return;
    }
    const body: ActionsResponse = { actions, truncated, limit: query.limit, nextCursor };
    res.json(body);
  });

  return router;
}
