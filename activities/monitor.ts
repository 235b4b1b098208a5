// Monitor: measures one window of a model's traffic from the store.
//
// Window n holds the predictions received since window n−1 closed, up to now (after a gap of several
// cycles, up to the end of the first window the backlog is cut into: lib/brain/windows.ts liveWindowEnd).
// A row's receivedAt is set before its transaction commits, so a row stamped just before a window closed
// may become visible only after: to lose none, each window also re-reads the last `lagMs` of its
// predecessor and skips the rows its predecessor already counted (their ids are stored with it, `tail`).
// Rows that take longer than `lagMs` to commit would still be missed; the writers commit in tens of
// milliseconds.
// Performance is measured on the *labels received in the window* — whichever window their predictions
// arrived in — not on the window's own predictions, most of which have no label yet when it closes. So a
// concept drift shows as soon as the labels of the affected predictions come back, label delay shifts it
// by that delay and no more, and every label is counted exactly once. The window's own predictions give
// everything else: drift, data quality, system metrics, confidence and the label-free estimate (which
// stands in for performance while labels lag).

import { raw, type Sql, sqltag as sql } from '@prisma/client/runtime/client';
import type { CustomFindingRule } from '../lib/brain/findings/custom.ts';
import type { OpenWindow, WindowSummary } from '../lib/brain/types.ts';
import { carryAfter, firstCarry, liveWindowEnd, windowClose } from '../lib/brain/windows.ts';
import type { Store } from '../lib/db/client.ts';
import type { FeatureSchema, Task } from '../lib/domain.ts';
import { logger } from '../lib/log.ts';
import type { RawOutput, ReferenceProfile, WindowPrediction } from '../lib/monitor/index.ts';
import { type StoredWindowMetrics, WindowMeasurer } from '../lib/monitor/measure.ts';
import { windowClasses } from '../lib/monitor/window.ts';
import { DEFAULT_POLICY, type Policy, parsePolicy } from '../lib/policy/policy.ts';
import { storedSegments } from '../lib/segments/definition.ts';
import { modelNotFound } from './errors.ts';

export interface MonitorRequest {
  modelName: string;
  /** Window number; one per agent cycle, so a retried activity measures the same window again. */
  seq: number;
  /**
   * The agent's cycle interval (ms). Given, the window closes as the policy's `window` rule says
   * (lib/brain/windows.ts), at this cycle: until the rule closes it, the answer is an OpenWindow and
   * nothing is stored; a window the rule closed more than a cycle ago is a backlog, cut into windows
   * that say the agent is `behind` (liveWindowEnd). Absent (an on-demand measurement): up to now.
   */
  cycleMs?: number;
  /**
   * How long, in the agent's cycles (workflow time), the window has been open. The rule's spans are
   * measured by it, and the store's clock says the same in production; on a test server that skips
   * time, workflow time runs ahead of the store's and only this says a cycle's span passed. Absent: the
   * store's close of the last window.
   */
  openedForMs?: number;
}

export const MONITOR_DEFAULTS = {
  /** Rows stamped this long before a window closed may commit after it: the next window re-reads them. */
  lagMs: 250,
  /**
   * Rows read from the store at a time: a window is measured page by page (lib/monitor/measure.ts
   * WindowMeasurer), so the worker's memory is a page plus fixed-size sketches whatever the window's size.
   * A page in flight is part of the live heap, and V8 lets the heap grow to about five times the live heap
   * between full collections: on a 1,000,000-row window of 20 features, pages of 500 rows peaked at
   * 274 MB RSS (heap 140 MB, live 23 MB), pages of 2,000 at 301 MB (heap 160 MB, live 28 MB).
   */
  pageSize: 500,
};

export interface MonitorOptions {
  lagMs?: number;
  pageSize?: number;
  /** The clock; tests and backtests drive it. */
  now?: () => Date;
  /** The user's own finding rules (lib/extensions/finding-rules.ts), judged on every window. */
  findingRules?: readonly CustomFindingRule[];
}

/**
 * The policy the monitor and detect use: the model's stored policy (Model.policy), validated. The API
 * refuses an invalid policy, so one here was written around it (or by an older version): the model is
 * still monitored, with the defaults, and the problem is logged rather than thrown every cycle.
 */
export function policyFor(model: { name?: string; policy: unknown }): Policy {
  if (model.policy === null || model.policy === undefined) return DEFAULT_POLICY;
  const parsed = parsePolicy(model.policy);
  if (parsed.ok) return parsed.policy;
  logger.warn(
    { model: model.name, issues: parsed.issues },
    'stored policy is invalid; monitoring with the default policy',
  );
  return DEFAULT_POLICY;
}

/**
 * Performance is the production version's: a label counts when production answered its prediction (or
 * the version is not recorded, as for logged predictions of an external model). Labels of answers the
 * fallback gave while production was shielded, of a canary's share, or of the version a retrain or
 * rollback replaced keep arriving for minutes after the deployment changed; judged as production's
 * performance they would look like a concept drift of a model that never saw those rows.
 */
function servedByProduction(versionId: string | null, productionVersionId: string | null): boolean {
  return versionId === null || productionVersionId === null || versionId === productionVersionId;
}

/** A prediction as the monitor reads it, with its label when it has one (columns of PREDICTION_COLUMNS). */
interface PredictionRow {
  id: string;
  /** Absent from label pages (LABELLED_COLUMNS). */
  features?: unknown;
  output: unknown;
  confidence: number | null;
  latencyMs: number | null;
  error: string | null;
  predictedAt: Date;
  receivedAt: Date;
}

function toWindowPrediction(
  p: PredictionRow,
  label: { value: unknown; observedAt: Date } | null,
): WindowPrediction {
  return {
    id: p.id,
    features: (p.features ?? {}) as WindowPrediction['features'],
    output: (p.output ?? null) as RawOutput | null,
    confidence: p.confidence,
    latencyMs: p.latencyMs,
    error: p.error,
    predictedAt: p.predictedAt,
    receivedAt: p.receivedAt,
    label: label ? { value: label.value as string | number, observedAt: label.observedAt } : null,
  };
}

/** What the monitor reads of a prediction (alias p), in the order of PredictionRow. */
const PREDICTION_COLUMNS = sql`p.id, p.features, p.output, p.confidence, p."latencyMs", p.error,
  p."predictedAt", p."receivedAt"`;

/**
 * What the monitor reads of a labelled prediction: all but its features, which the realised performance
 * does not use (WindowMeasurer.addLabelled), so that their JSON is neither sent nor parsed. A model with
 * segments reads them (PREDICTION_COLUMNS): a labelled row's segment is a function of its features.
 */
const LABELLED_COLUMNS = sql`p.id, p.output, p.confidence, p."latencyMs", p.error, p."predictedAt",
  p."receivedAt"`;

/** A page of a window's arrivals: each prediction with its label, if one was received (LEFT JOIN). */
type ArrivalRow = PredictionRow & {
  labelValue: unknown;
  labelObservedAt: Date | null;
  labelReceivedAt: Date | null;
};

/** A page of the labels received in a window, each with the prediction it labels and who answered it. */
interface LabelRow {
  id: string;
  value: unknown;
  observedAt: Date;
  receivedAt: Date;
  prediction: PredictionRow & { versionId: string | null };
}

/**
 * Where a keyset page starts: after `from` on the first page; past it, after the last row read
 * (receivedAt, id). The range's lower bound is the last row's own receivedAt, so that each page starts
 * where the index range starts rather than filtering from the window's start again: a filter alone
 * (receivedAt > t OR (receivedAt = t AND id > i)) made every page scan the rows before it, quadratic in
 * the window's size.
 */
type KeysetStart = { after: Date } | { last: { receivedAt: Date; id: string } };

/** The WHERE condition of a keyset page of `table` (its alias), up to `to`. */
function keysetRange(table: 'p' | 'l', start: KeysetStart, to: Date): Sql {
  const t = raw(table);
  if ('after' in start) return sql`${t}."receivedAt" > ${start.after} AND ${t}."receivedAt" <= ${to}`;
  const { receivedAt, id } = start.last;
  return sql`${t}."receivedAt" >= ${receivedAt} AND ${t}."receivedAt" <= ${to}
    AND (${t}."receivedAt" > ${receivedAt} OR ${t}.id > ${id})`;
}

/**
 * The rows received after `from` (up to the window's close, which `read` applies) in keyset pages of
 * `pageSize`, ordered by (receivedAt, id): each page is a range of the (modelId, receivedAt, id) index,
 * so a window of any size is read in the memory of one page and no page costs more than the first.
 */
async function* keysetPages<Row extends { receivedAt: Date; id: string }>(
  read: (start: KeysetStart, take: number) => Promise<Row[]>,
  from: Date,
  pageSize: number,
): AsyncGenerator<Row[]> {
  let start: KeysetStart = { after: from };
  for (;;) {
    const page = await read(start, pageSize);
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    const { receivedAt, id } = page[page.length - 1]!;
    start = { last: { receivedAt, id } };
  }
}

// A page is one SQL query joining predictions and labels. Prisma's relation loading (a page, then a
// second query with one bound parameter per row, joined in memory) and its row mapping took most of a
// paged window's time: at 100,000 rows the paged monitor was 3× slower than reading the window whole.
// `source <> 'shadow'` is the `served` filter of monitorWindow.

/** The window's predictions with the labels received for them, one page. */
function arrivalPage(store: Store, modelId: string, to: Date) {
  return (start: KeysetStart, take: number) =>
    store.$queryRaw<ArrivalRow[]>`
      SELECT ${PREDICTION_COLUMNS},
        l.value AS "labelValue", l."observedAt" AS "labelObservedAt", l."receivedAt" AS "labelReceivedAt"
      FROM "Prediction" p
      LEFT JOIN "Label" l ON l."modelId" = p."modelId" AND l."predictionId" = p.id
      WHERE p."modelId" = ${modelId} AND p.source <> 'shadow' AND ${keysetRange('p', start, to)}
      ORDER BY p."receivedAt", p.id
      LIMIT ${take}`;
}

/** The labels received in the window with their predictions, one page; their features only when asked. */
function labelPage(store: Store, modelId: string, to: Date, withFeatures: boolean) {
  return async (start: KeysetStart, take: number): Promise<LabelRow[]> => {
    const rows = await store.$queryRaw<
      (PredictionRow & {
        versionId: string | null;
        labelId: string;
        labelValue: unknown;
        labelObservedAt: Date;
        labelReceivedAt: Date;
      })[]
    >`
      SELECT ${withFeatures ? PREDICTION_COLUMNS : LABELLED_COLUMNS}, p."versionId",
        l.id AS "labelId", l.value AS "labelValue", l."observedAt" AS "labelObservedAt",
        l."receivedAt" AS "labelReceivedAt"
      FROM "Label" l
      JOIN "Prediction" p ON p."modelId" = l."modelId" AND p.id = l."predictionId"
      WHERE l."modelId" = ${modelId} AND p.source <> 'shadow' AND ${keysetRange('l', start, to)}
      ORDER BY l."receivedAt", l.id
      LIMIT ${take}`;
    return rows.map(({ labelId, labelValue, labelObservedAt, labelReceivedAt, ...prediction }) => ({
      id: labelId,
      value: labelValue,
      observedAt: labelObservedAt,
      receivedAt: labelReceivedAt,
      prediction,
    }));
  };
}

/** On demand (no cycle) a window always closes, now; at the agent's cycle it may still be open. */
interface MonitorWindow {
  (request: Omit<MonitorRequest, 'cycleMs'>): Promise<WindowSummary>;
  (request: MonitorRequest): Promise<WindowSummary | OpenWindow>;
}

export function createMonitorActivities(store: Store, options: MonitorOptions = {}) {
  const lagMs = options.lagMs ?? MONITOR_DEFAULTS.lagMs;
  const pageSize = options.pageSize ?? MONITOR_DEFAULTS.pageSize;
  const clock = options.now ?? (() => new Date());
  /**
   * Closes window `seq` and stores its metrics (MetricWindow.metrics: StoredWindowMetrics).
   * Idempotent: a window that was already stored is returned as it was.
   */
  const monitorWindow = async ({
    modelName,
    seq,
    cycleMs,
    openedForMs,
  }: MonitorRequest): Promise<WindowSummary | OpenWindow> => {
    const model = await store.model.findUnique({ where: { name: modelName } });
    if (!model) throw modelNotFound(modelName);
    const existing = await store.metricWindow.findUnique({
      where: { modelId_seq: { modelId: model.id, seq } },
    });
    if (existing) {
      // Windows stored before the full monitor hold the summary itself.
      const stored = existing.metrics as unknown as Partial<StoredWindowMetrics> & WindowSummary;
      return stored.summary ?? stored;
    }

    const previous = await store.metricWindow.findFirst({
      where: { modelId: model.id, seq: { lt: seq } },
      orderBy: { seq: 'desc' },
    });
    const startAt = previous?.endAt ?? model.createdAt;
    const now = clock().getTime();
    const policy = policyFor(model);
    // A policy without `every` measures a window a cycle.
    const rule = { ...policy.window, every: policy.window.every ?? cycleMs };
    const previousMetrics = previous?.metrics as Partial<StoredWindowMetrics> | null;
    const carry = previous
      ? (previousMetrics?.next ??
        carryAfter(
          firstCarry(previous.startAt.getTime()),
          { startAt: previous.startAt.getTime(), endAt: previous.endAt.getTime() },
          previous.count,
          rule,
        ))
      : firstCarry(startAt.getTime());
    // Shadow copies are another version's answers to the same requests: not this model's traffic.
    const served = { not: 'shadow' };

    let endMs = now;
    if (cycleMs) {
      // The agent's cycle: the window ends here only once the policy's rule has closed it.
      const arrivals = await store.prediction.findMany({
        where: { modelId: model.id, source: served, receivedAt: { gt: startAt, lte: new Date(now) } },
        orderBy: { receivedAt: 'asc' },
        take: Math.max(rule.rows, rule.minRows) + 1,
        select: { receivedAt: true },
      });
      const ts = arrivals.map((a) => a.receivedAt.getTime());
      const openedAt = Math.min(startAt.getTime(), now - (openedForMs ?? 0));
      const closedAt = windowClose(ts, openedAt, rule, carry);
      if (closedAt > now) return { open: true, seq, startAt: startAt.toISOString(), count: ts.length };
      const catchingUpBy = previousMetrics?.summary?.behind
        ? previous!.endAt.getTime() - previous!.startAt.getTime()
        : undefined;
      endMs = liveWindowEnd(startAt.getTime(), closedAt, now, cycleMs, catchingUpBy);
    }
    const endAt = new Date(Math.max(endMs, startAt.getTime()));
    const scanFrom = new Date(startAt.getTime() - (previous ? lagMs : 0));
    const counted = previousMetrics?.tail;
    const countedPredictions = new Set(counted?.predictions ?? []);
    const countedLabels = new Set(counted?.labels ?? []);
    const task = model.task as Task;
    const [revision, before] = await Promise.all([
      store.deploymentRevision.findFirst({
        where: { modelId: model.id },
        orderBy: { revision: 'desc' },
      }),
      store.prediction.findFirst({
        where: { modelId: model.id, source: served, receivedAt: { lte: startAt } },
        orderBy: { receivedAt: 'desc' },
        select: { receivedAt: true },
      }),
    ]);
    const productionVersionId = revision?.productionVersionId ?? null;
    // The serving production version's profile; none (no revision, no production version, no
    // profile) leaves drift unjudged and the metrics say `reference: 'none'`.
    const version = productionVersionId
      ? await store.modelVersion.findUnique({
          where: { id: productionVersionId },
          select: { referenceStats: true },
        })
      : null;
    const reference = (version?.referenceStats ?? null) as ReferenceProfile | null;

    const predictionPages = () => keysetPages(arrivalPage(store, model.id, endAt), scanFrom, pageSize);
    const schema = model.featureSchema as unknown as FeatureSchema;
    const segments = storedSegments(model.segments, schema);
    const labelPages = () =>
      keysetPages(labelPage(store, model.id, endAt, segments.length > 0), scanFrom, pageSize);

    // A classifier without declared labels or a reference uses the classes it is seen to use: only
    // then is the window read twice.
    let observedNeeded = false;
    let classes = windowClasses(task, model.labels as string[] | null, reference, () => {
      observedNeeded = true;
      return [];
    });
    if (observedNeeded) {
      const seen = new Set<unknown>();
      for await (const page of predictionPages()) {
        for (const p of page) {
          seen.add((p.output as RawOutput | null)?.prediction);
          if (p.labelReceivedAt) seen.add(p.labelValue);
        }
      }
      for await (const page of labelPages()) {
        for (const l of page) {
          seen.add(l.value);
          seen.add((l.prediction.output as RawOutput | null)?.prediction);
        }
      }
      classes = windowClasses(task, model.labels as string[] | null, reference, () => seen);
    }

    const measurer = new WindowMeasurer(
      {
        seq,
        schema,
        task,
        reference,
        previousArrival: before?.receivedAt ?? null,
        startAt,
        endAt,
        minRows: policy.window.minRows,
        findingRules: { modelName, rules: options.findingRules ?? [] },
        segments,
      },
      classes,
    );
    const tailFrom = endAt.getTime() - lagMs;
    // Every row of the last `lagMs` has been counted by now, by this window or an earlier one (windows
    // can be shorter than the lag): the next window skips them all.
    const tail: StoredWindowMetrics['tail'] = { predictions: [], labels: [] };
    for await (const page of predictionPages()) {
      for (const p of page) if (p.receivedAt.getTime() > tailFrom) tail.predictions.push(p.id);
      // For the arrivals, the labels received by the window's close (their coverage so far).
      measurer.addArrivals(
        page
          .filter((p) => !countedPredictions.has(p.id))
          .map((p) =>
            toWindowPrediction(
              p,
              p.labelReceivedAt && p.labelReceivedAt <= endAt
                ? { value: p.labelValue, observedAt: p.labelObservedAt! }
                : null,
            ),
          ),
      );
    }
    for await (const page of labelPages()) {
      for (const l of page) if (l.receivedAt.getTime() > tailFrom) tail.labels.push(l.id);
      const fresh = page.filter((l) => !countedLabels.has(l.id));
      const production = fresh.filter((l) => servedByProduction(l.prediction.versionId, productionVersionId));
      measurer
        .addLabelled(production.map((l) => toWindowPrediction(l.prediction, l)))
        .addLabelledElsewhere(fresh.length - production.length);
    }
    const { metrics, summary } = measurer.result();
    if (endMs < now) summary.behind = true; // metrics.summary is the same object: a retry says so too
    await store.metricWindow.upsert({
      where: { modelId_seq: { modelId: model.id, seq } },
      create: {
        modelId: model.id,
        seq,
        startAt,
        endAt,
        count: summary.count,
        labelled: summary.labelled,
        metrics: {
          ...metrics,
          tail,
          next: carryAfter(
            carry,
            { startAt: startAt.getTime(), endAt: endAt.getTime() },
            summary.count,
            rule,
          ),
        } as object,
      },
      update: {},
    });
    return summary;
  };
  return { monitorWindow: monitorWindow as MonitorWindow };
}
