// The read side of the history store, for operators and the dashboard: fleet health, each model's
// windows, decisions and incidents, an incident's timeline, and the audit trail as JSON or CSV.
// Everything here reads the store only, so it answers while no worker is running; the live agent state
// (a workflow query) stays at GET /v1/models/:model/agent.
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
import type { Store } from '../../lib/db/client.ts';
import { INCIDENT_STATUSES } from '../../lib/domain.ts';
import type { FeatureDrift, WindowMetrics } from '../../lib/monitor/window.ts';
import { DETECT_DEFAULTS } from '../../workflows/detect.ts';
import type { Alternative, Health } from '../../workflows/types.ts';
import type { ApiContext } from '../context.ts';
import { HttpError, parseOrThrow } from '../errors.ts';
import { findModelOr404 } from '../models.ts';

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

export interface Baseline {
  /** The detector's accuracy baseline, replayed from the store; null before any healthy window. */
  accuracy: number | null;
  /** Healthy windows it is built from; the detector judges accuracy once there are enough (`ready`). */
  windows: number;
  ready: boolean;
}

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
  paused: boolean;
  openIncident: IncidentView | null;
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

export interface FleetResponse {
  models: FleetEntry[];
  generatedAt: string;
}
export interface FleetModelResponse {
  model: FleetEntry;
}
export interface WindowsResponse {
  model: string;
  /** Oldest first. */
  windows: WindowPoint[];
  baseline: Baseline;
}
export interface DecisionsResponse {
  model: string;
  /** Newest first. */
  decisions: DecisionView[];
}
export interface IncidentsResponse {
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
export interface ActionsResponse {
  /** Newest first. */
  actions: ActionView[];
  /** More actions match than `limit`. */
  truncated: boolean;
  limit: number;
}

// ---- Query parameters ----

const limitParam = (fallback: number, max: number) =>
  z.coerce.number().int().min(1).max(max).default(fallback);
const instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);
const modelParam = z.object({ model: z.string().min(1).max(64) });

export const windowsQuery = z.object({ limit: limitParam(200, 2000) }).strict();
export const driftQuery = z.object({ windows: limitParam(50, 500) }).strict();
export const decisionsQuery = z
  .object({ limit: limitParam(50, 1000), before: z.coerce.number().int().min(0).optional() })
  .strict();
export const incidentsQuery = z
  .object({ limit: limitParam(50, 500), status: z.enum(INCIDENT_STATUSES).optional() })
  .strict();
const incidentParams = z.object({
  id: z
    .string()
    .max(128)
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "-" and "_"'),
});

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
    limit: limitParam(ACTIONS_LIMITS.default, ACTIONS_LIMITS.max),
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

/**
 * How many recent windows the baseline is replayed over. The detector's baseline grows with every healthy
 * window of the agent's life; replaying all of them on every poll would grow without bound, so past this
 * many windows the number shown is the baseline of the most recent ones.
 */
export const BASELINE_SCAN_WINDOWS = 1000;

/**
 * The detector's accuracy baseline, rebuilt from the store with the detector's own rule
 * (workflows/detect.ts): a window extends the baseline when it has labelled rows and no active finding.
 * Active findings are exactly the stored ones, so the replay gives the number the detector used.
 */
async function baselineOf(store: Store, modelId: string): Promise<Baseline> {
  const windows = await store.metricWindow.findMany({
    where: { modelId },
    orderBy: { seq: 'desc' },
    take: BASELINE_SCAN_WINDOWS,
    select: { seq: true, labelled: true, metrics: true },
  });
  const oldest = windows.at(-1)?.seq ?? 0;
  const flagged = new Set(
    (
      await store.finding.findMany({
        where: { modelId, windowSeq: { gte: oldest } },
        select: { windowSeq: true },
      })
    ).map((f) => f.windowSeq),
  );
  let labelled = 0;
  let correct = 0;
  let healthy = 0;
  for (const w of windows) {
    const metrics = asObject(w.metrics);
    if (w.labelled === 0 || flagged.has(w.seq) || typeof metrics.correct !== 'number') continue;
    labelled += w.labelled;
    correct += metrics.correct;
    healthy += 1;
  }
  return {
    accuracy: labelled > 0 ? correct / labelled : null,
    windows: healthy,
    ready: healthy >= DETECT_DEFAULTS.minBaselineWindows,
  };
}

/** Statuses of an incident on which the agent is working towards recovery (an action under way or verified). */
const RECOVERY_STATUSES = new Set(['mitigating', 'verifying']);

/**
 * A model's health from the store alone, first match wins:
 * - paused: its latest pause/resume action is a pause (the agent neither measures nor acts);
 * - escalated: its open incident (the latest one not closed) was escalated to a human;
 * - recovering: an incident is open and either a recovery action is under way or being verified (status
 *   mitigating or verifying), or the last window's finding of the incident's kind is `recovering` (the
 *   metric is back, the detector waits for consecutive healthy windows before closing);
 * - degraded: an incident is open;
 * - starting: no window has been measured yet;
 * - healthy: otherwise.
 * The agent's own query (GET /v1/models/:model/agent) reports `degraded` for the whole open incident; the
 * store can tell the recovering phase apart, and operators want to see that the metric is back.
 */
export function deriveHealth(facts: {
  paused: { actor: string; reason: string } | null;
  openIncident: Pick<IncidentView, 'kind' | 'status' | 'summary'> | null;
  lastWindow: Pick<WindowPoint, 'seq'> | null;
  lastFindings: Pick<FindingView, 'kind' | 'state'>[];
}): { health: Health; reason: string } {
  const { paused, openIncident, lastWindow, lastFindings } = facts;
  if (paused) return { health: 'paused', reason: `paused by ${paused.actor}: ${paused.reason}` };
  if (openIncident) {
    const about = `${openIncident.kind} incident (${openIncident.status}): ${openIncident.summary}`;
    if (openIncident.status === 'escalated') return { health: 'escalated', reason: about };
    const backToBaseline = lastFindings.some((f) => f.kind === openIncident.kind && f.state === 'recovering');
    if (RECOVERY_STATUSES.has(openIncident.status) || backToBaseline) {
      return { health: 'recovering', reason: about };
    }
    return { health: 'degraded', reason: about };
  }
  if (!lastWindow) return { health: 'starting', reason: 'no window measured yet' };
  return { health: 'healthy', reason: `no open incident after window ${lastWindow.seq}` };
}

export async function fleetEntry(store: Store, model: Model): Promise<FleetEntry> {
  const where = { modelId: model.id };
  const [window, decision, incident, action, control, baseline] = await Promise.all([
    store.metricWindow.findFirst({ where, orderBy: { seq: 'desc' } }),
    store.decision.findFirst({ where, orderBy: { cycle: 'desc' } }),
    store.incident.findFirst({
      // Open until closed: an acknowledged escalation is closed but keeps its status 'escalated'.
      where: { ...where, closedAt: null },
      orderBy: { openedAt: 'desc' },
    }),
    store.action.findFirst({ where, orderBy: { createdAt: 'desc' } }),
    store.action.findFirst({
      where: { ...where, type: { in: ['pause', 'resume'] } },
      orderBy: { createdAt: 'desc' },
    }),
    baselineOf(store, model.id),
  ]);
  const findings = window
    ? await store.finding.findMany({ where: { ...where, windowSeq: window.seq }, orderBy: { kind: 'asc' } })
    : [];
  const lastWindow = window ? presentWindow(window) : null;
  const openIncident = incident ? presentIncident(incident, model.name) : null;
  const lastFindings = findings.map(presentFinding);
  const paused = control?.type === 'pause' ? control : null;
  const { health, reason } = deriveHealth({ paused, openIncident, lastWindow, lastFindings });
  return {
    model: { name: model.name, task: model.task, createdAt: model.createdAt.toISOString() },
    health,
    healthReason: reason,
    paused: paused !== null,
    openIncident,
    lastWindow,
    lastFindings,
    lastDecision: decision
      ? {
          cycle: decision.cycle,
          action: decision.action,
          rule: decision.rule,
          reason: decision.reason,
          createdAt: decision.createdAt.toISOString(),
        }
      : null,
    baseline,
    lastAction: action ? presentAction(action, model.name) : null,
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
    const models = await store.model.findMany({
      where: visibleModels(req.identity!),
      orderBy: { name: 'asc' },
    });
    const entries = await Promise.all(models.map((model) => fleetEntry(store, model)));
    const body: FleetResponse = { models: entries, generatedAt: new Date().toISOString() };
    res.json(body);
  });

  router.get('/fleet/:model', async (req, res) => {
    const body: FleetModelResponse = { model: await fleetEntry(store, await modelOf(req.params)) };
    res.json(body);
  });

  router.get('/models/:model/windows', async (req, res) => {
    const model = await modelOf(req.params);
    const { limit } = parseOrThrow(windowsQuery, req.query, 'query');
    const [windows, baseline] = await Promise.all([
      store.metricWindow.findMany({ where: { modelId: model.id }, orderBy: { seq: 'desc' }, take: limit }),
      baselineOf(store, model.id),
    ]);
    const body: WindowsResponse = {
      model: model.name,
      windows: windows.reverse().map(presentWindow),
      baseline,
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
    const { limit, before } = parseOrThrow(decisionsQuery, req.query, 'query');
    const decisions = await store.decision.findMany({
      where: { modelId: model.id, ...(before === undefined ? {} : { cycle: { lt: before } }) },
      orderBy: { cycle: 'desc' },
      take: limit,
    });
    const body: DecisionsResponse = { model: model.name, decisions: decisions.map(presentDecision) };
    res.json(body);
  });

  router.get('/models/:model/incidents', async (req, res) => {
    const model = await modelOf(req.params);
    const { limit, status } = parseOrThrow(incidentsQuery, req.query, 'query');
    const incidents = await store.incident.findMany({
      where: { modelId: model.id, ...(status ? { status } : {}) },
      orderBy: { openedAt: 'desc' },
      take: limit,
      include: { _count: { select: { decisions: true, actions: true } } },
    });
    const body: IncidentsResponse = {
      model: model.name,
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
      take: query.limit + 1,
      include: { model: { select: { name: true } } },
    });
    const truncated = rows.length > query.limit;
    const actions = rows.slice(0, query.limit).map((a) => presentAction(a, a.model.name));
    if (query.format === 'csv') {
      const stamp = new Date().toISOString().replaceAll(':', '-').slice(0, 19);
      res
        .status(200)
        .set({
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="homeostat-actions-${stamp}.csv"`,
          'x-homeostat-truncated': String(truncated),
        })
        .send(actionsCsv(actions));
      return;
    }
    const body: ActionsResponse = { actions, truncated, limit: query.limit };
    res.json(body);
  });

  return router;
}
