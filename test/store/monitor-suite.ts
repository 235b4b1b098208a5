// The Monitor activity and Detect over the store, on SQLite and PostgreSQL: the credit-default demo model
// registered with a trained version and its reference profile, deployed, fed each simulator scenario's
// traffic (predictions and labels at their simulated arrival times), measured window by window with a
// simulated clock. Each scenario must confirm its expected finding soon after its onset and no other;
// the steady stream and the noise blip none.
// One suite, run by one file per database (monitor.sqlite.test.ts, monitor.postgresql.test.ts): it is the
// longest of the store tests, and as two files its halves run in parallel.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMonitorActivities } from '../../activities/monitor.ts';
import { detect, initialDetectorState } from '../../lib/brain/detect.ts';
import type { DetectorState, Finding, OpenWindow, WindowSummary } from '../../lib/brain/types.ts';
import type { DatabaseProvider } from '../../lib/db/config.ts';
import type { FindingKind } from '../../lib/domain.ts';
import { insertPredictions, type PredictionRecord } from '../../lib/ingest/prediction-writer.ts';
import { logger } from '../../lib/log.ts';
import { loadModel, type ModelArtifact } from '../../lib/models/index.ts';
import type { StoredWindowMetrics } from '../../lib/monitor/measure.ts';
import { changeDeployment } from '../../lib/registry/revisions.ts';
import { registerVersion } from '../../lib/registry/versions.ts';
import { creditDefault } from '../../lib/sim/demo-models.ts';
import { SCENARIOS, type Scenario } from '../../lib/sim/scenarios.ts';
import { generateStream } from '../../lib/sim/stream.ts';
import { CREDIT_LABELS, creditData } from '../helpers/credit-model.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { registerTrainedOnce } from '../helpers/trained-once.ts';

const WINDOW_MS = 100_000;
const MINUTE_MS = 60_000;
const EVENTS = 5000;
const SEED = 1;

/**
 * Windows from the onset window (counted as 1) by which the expected finding must be confirmed. Most
 * failures take two or three (the onset window is partly before the onset, confirmation takes two of
 * three bad windows). The gradual shift builds up over 3,000 events; the credit concept drift adds
 * about 30 % more defaults than the model expects, which one 100 s window (~500 labels) barely tells
 * from noise, so it is confirmed by the calibration and error CUSUMs over a few windows; label delay
 * needs its labels to fail to come back first.
 */
const ALLOWED_WINDOWS: Record<string, number> = {
  'gradual-covariate-shift': 6,
  'concept-drift': 7,
  'label-delay': 4,
};

async function deployCreditModel(db: TestDatabase, name: string, scenario?: Scenario) {
  await db.store.model.create({
    data: {
      name,
      task: 'binary',
      featureSchema: creditDefault.schema,
      labels: CREDIT_LABELS,
      // The segments the scenario defines, as PUT /v1/models/{model}/segments stores them.
      ...(scenario?.segments ? { segments: [...scenario.segments] } : {}),
    },
  });
  // Trained once per file (test/helpers/trained-once.ts): every model here deploys the same version.
  // The segments are part of the key: the version's reference profile has each segment's own reference.
  const key = `credit rows 2000 seed 7, logistic-regression 0.3 seed 1, segments ${JSON.stringify(scenario?.segments ?? [])}`;
  await registerTrainedOnce(db.store, name, key, () => {
    const data = creditData(2000, 7);
    return registerVersion(db.store, name, {
      train: { trainer: 'logistic-regression', holdoutShare: 0.3, seed: 1 },
      data: { rows: data.rows, labels: data.labels.map(String) },
    });
  });
  await changeDeployment(db.store, name, { production: 1, reason: 'first deployment', actor: 'human:test' });
  const model = await db.store.model.findUniqueOrThrow({ where: { name } });
  const version = await db.store.modelVersion.findFirstOrThrow({ where: { modelId: model.id, version: 1 } });
  return { model, version };
}

/** Writes the scenario's traffic as the gateway and the feedback endpoint would, at simulated times. */
async function writeTraffic(
  db: TestDatabase,
  name: string,
  scenario: Scenario,
  startMs: number,
  /** Fewer events than EVENTS, and their times stretched this many times apart (sparser traffic). */
  shape: { count?: number; stretch?: number } = {},
) {
  const { model, version } = await deployCreditModel(db, name, scenario);
  const stretch = (ts: string | null) =>
    ts === null ? null : new Date(startMs + (Date.parse(ts) - startMs) * (shape.stretch ?? 1)).toISOString();
  const events = [
    ...generateStream({
      model: creditDefault,
      scenario,
      seed: SEED,
      count: shape.count ?? EVENTS,
      startTime: new Date(startMs).toISOString(),
    }),
  ].map((e) => ({ ...e, ts: stretch(e.ts)!, labelTs: stretch(e.labelTs) }));
  const outputs = await loadModel(version.artifact as unknown as ModelArtifact).predict(
    events.map((e) => e.features),
  );
  const predictions: PredictionRecord[] = events.map((e, i) => ({
    id: `${name}-${e.seq}`,
    modelId: model.id,
    versionId: version.id,
    source: 'gateway',
    features: e.features,
    output: e.failed
      ? null
      : { prediction: outputs[i]!.prediction, probabilities: outputs[i]!.probabilities },
    confidence: e.failed ? null : outputs[i]!.confidence,
    latencyMs: e.latencyMs,
    error: e.failed ? 'model server: HTTP 500' : null,
    quality: null,
    shadowOf: null,
    predictedAt: new Date(e.ts),
    receivedAt: new Date(e.ts),
  }));
  const labels = events.flatMap((e) =>
    e.label === null || e.labelTs === null
      ? []
      : [
          {
            modelId: model.id,
            predictionId: `${name}-${e.seq}`,
            value: String(e.label),
            observedAt: new Date(e.labelTs),
            receivedAt: new Date(e.labelTs),
          },
        ],
  );
  // With the gateway's own writer: Prisma's createMany took five times the CPU of measuring the windows.
  await insertPredictions(db.store, predictions);
  for (let i = 0; i < labels.length; i += 1000) {
    await db.store.label.createMany({ data: labels.slice(i, i + 1000) });
  }
  return { model, events };
}

interface Run {
  windows: { summary: WindowSummary; findings: Finding[] }[];
  onsetWindow: number;
}

/** Runs monitorWindow → detect over the whole stream, one window per simulated 100 s. */
async function runAgent(db: TestDatabase, scenario: Scenario, name = `credit-${scenario.id}`): Promise<Run> {
  const startMs = Date.now() + 1000; // after the model's createdAt, which the first window starts from
  const { events } = await writeTraffic(db, name, scenario, startMs);
  let now = new Date(startMs);
  const { monitorWindow } = createMonitorActivities(db.store, { now: () => now });
  const lastMs = Date.parse(events.at(-1)!.ts);
  const onset = events[scenario.onset];
  const onsetMs =
    scenario.expected.finding === 'none' || !onset
      ? Number.POSITIVE_INFINITY
      : Date.parse(onset.ts) - 1000 * (scenario.transform.pauseSeconds ?? 0);
  let state: DetectorState = initialDetectorState();
  const windows: Run['windows'] = [];
  let onsetWindow = -1;
  for (let seq = 0; startMs + (seq + 1) * WINDOW_MS <= lastMs; seq++) {
    const endMs = startMs + (seq + 1) * WINDOW_MS;
    now = new Date(endMs);
    const summary = await monitorWindow({ modelName: name, seq });
    const result = detect(summary, state);
    state = result.state;
    windows.push({ summary, findings: result.findings });
    if (onsetWindow < 0 && endMs >= onsetMs) onsetWindow = seq;
  }
  return { windows, onsetWindow };
}

/** A window the agent's cycle closed; one the policy's rule keeps open fails the test. */
function closed(window: WindowSummary | OpenWindow): WindowSummary {
  if ('open' in window) throw new Error(`window ${window.seq} is still open (${window.count} rows)`);
  return window;
}

/** The model's stored windows, in order, removed from the store so that it can be measured again. */
async function takeWindows(db: TestDatabase, modelId: string) {
  const stored = await db.store.metricWindow.findMany({
    where: { modelId },
    orderBy: { seq: 'asc' },
    select: { seq: true, startAt: true, endAt: true, count: true, labelled: true, metrics: true },
  });
  await db.store.metricWindow.deleteMany({ where: { modelId } });
  return stored;
}

function confirmed(run: Run): { kind: FindingKind; seq: number }[] {
  return run.windows.flatMap((w) =>
    w.findings.filter((f) => f.state === 'confirmed').map((f) => ({ kind: f.kind, seq: w.summary.seq })),
  );
}

/** SQLite's JSON keeps 15 significant digits of a double, so stored numbers are compared at 12. */
function rounded(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (_key, v) =>
    typeof v === 'number' ? Number(v.toPrecision(12)) : v,
  );
}

const creditScenarios = SCENARIOS.filter((s) => s.models.includes('credit-default'));

export const monitorAndDetectSuite = (provider: DatabaseProvider) =>
  describe(`monitor and detect on ${provider}`, () => {
    let db: TestDatabase;

    beforeAll(async () => {
      db = await createTestDatabase(provider);
    });
    afterAll(async () => {
      await db?.drop();
    });

    it('measures against the serving version, stores the full metrics and is idempotent per window', async () => {
      const run = await runAgent(db, creditScenarios.find((s) => s.id === 'steady')!, 'credit-measured');
      const model = await db.store.model.findUniqueOrThrow({ where: { name: 'credit-measured' } });
      const stored = await db.store.metricWindow.findMany({
        where: { modelId: model.id },
        orderBy: { seq: 'asc' },
      });
      expect(stored).toHaveLength(run.windows.length);
      const metrics = stored[3]!.metrics as unknown as StoredWindowMetrics;
      expect(metrics.reference).toBe('used');
      expect(metrics.drift.features.length).toBe(creditDefault.schema.length);
      expect(metrics.realised.basis).toBe('labels_received_in_window');
      expect(rounded(metrics.summary)).toEqual(rounded(run.windows[3]!.summary));
      // Every label counted once: the windows' labelled rows add up to the labels received in them.
      const lastEnd = stored.at(-1)!.endAt;
      const labels = await db.store.label.count({
        where: { modelId: model.id, receivedAt: { lte: lastEnd } },
      });
      expect(run.windows.reduce((sum, w) => sum + w.summary.labelled, 0)).toBe(labels);
      // A retried activity returns the stored window unchanged.
      const { monitorWindow } = createMonitorActivities(db.store, {
        now: () => new Date(Date.now() + 3.6e6),
      });
      expect(rounded(await monitorWindow({ modelName: 'credit-measured', seq: 3 }))).toEqual(
        rounded(run.windows[3]!.summary),
      );
      // The per-row error stream, run-length encoded (correct first): as many rows and errors as the
      // window's accuracy counts.
      for (const { summary } of run.windows.filter((w) => w.summary.labelled > 0)) {
        const runs = summary.errorRuns!;
        const rows = runs.reduce((sum, n) => sum + n, 0);
        const errors = runs.reduce((sum, n, i) => sum + (i % 2 ? n : 0), 0);
        expect(runs.slice(1).every((n) => n > 0)).toBe(true);
        expect(rows - errors).toBe(summary.correct);
        expect(summary.correct / rows).toBeCloseTo(summary.accuracy!, 12);
      }
    }, 120_000);

    it('reads a window in keyset pages: pages of 7 rows store exactly what one page of the window stores', async () => {
      const scenario = creditScenarios.find((s) => s.id === 'gradual-covariate-shift')!;
      const name = 'credit-paged';
      const startMs = Date.now() + 1000;
      const { model, events } = await writeTraffic(db, name, scenario, startMs);
      const lastMs = Date.parse(events.at(-1)!.ts);
      const measureAll = async (pageSize: number) => {
        let now = new Date(startMs);
        const { monitorWindow } = createMonitorActivities(db.store, { now: () => now, pageSize });
        for (let seq = 0; startMs + (seq + 1) * WINDOW_MS <= lastMs; seq++) {
          now = new Date(startMs + (seq + 1) * WINDOW_MS);
          await monitorWindow({ modelName: name, seq });
        }
        return takeWindows(db, model.id);
      };
      const paged = await measureAll(7);
      const whole = await measureAll(1_000_000);
      // Windows of about 250 predictions and labels: dozens of pages each, the page edges inside runs of
      // equal receivedAt as often as not.
      expect(whole.length).toBeGreaterThan(5);
      expect(Math.min(...whole.map((w) => w.count))).toBeGreaterThan(7 * 10);
      expect(paged).toEqual(whole);
    }, 120_000);

    it('catches up after a gap: the backlog becomes the windows the missed cycles would have measured, each row once', async () => {
      const scenario = creditScenarios.find((s) => s.id === 'concept-drift')!;
      const name = 'credit-catch-up';
      const { model, events } = await writeTraffic(db, name, scenario, Date.now() + 1000);
      const lastMs = Date.parse(events.at(-1)!.ts);
      const createdMs = model.createdAt.getTime();
      const stored = () => takeWindows(db, model.id);
      // Live: a cycle every WINDOW_MS from the model's creation, each measuring up to its own now.
      let now = new Date(createdMs);
      const live = createMonitorActivities(db.store, { now: () => now });
      for (let seq = 0; createdMs + (seq + 1) * WINDOW_MS <= lastMs; seq++) {
        now = new Date(createdMs + (seq + 1) * WINDOW_MS);
        expect(
          closed(await live.monitorWindow({ modelName: name, seq, cycleMs: WINDOW_MS })).behind,
        ).toBeUndefined();
      }
      const cycles = await stored();
      // Away for the whole stream: the first cycle after it finds about ten cycles' backlog.
      now = new Date(lastMs + 1);
      const away = createMonitorActivities(db.store, { now: () => now });
      const caughtUp: WindowSummary[] = [];
      for (let seq = 0; caughtUp.at(-1)?.behind !== false; seq++) {
        const summary = closed(await away.monitorWindow({ modelName: name, seq, cycleMs: WINDOW_MS }));
        caughtUp.push({ ...summary, behind: summary.behind ?? false });
      }
      const windows = await stored();
      expect(cycles.length).toBeGreaterThan(6);
      // Every window but the last is one cycle and says the agent is behind; the last reaches now.
      expect(caughtUp.map((w) => w.behind)).toEqual([...Array(caughtUp.length - 1).fill(true), false]);
      expect(windows.at(-1)!.endAt).toEqual(now);
      // What the missed cycles would have measured, exactly: bounds, rows, labels, every metric.
      // (The last two cycles' backlog is one window: behind by two cycles or less is no gap.)
      expect(windows.length).toBe(cycles.length);
      const asLive = windows.slice(0, -1).map((w) => {
        const { behind, ...summary } = (w.metrics as unknown as StoredWindowMetrics).summary;
        expect(behind).toBe(true);
        return { ...w, metrics: { ...(w.metrics as object), summary } };
      });
      expect(asLive).toEqual(cycles.slice(0, -1));
      // Each prediction counted once over the whole backlog.
      expect(windows.reduce((sum, w) => sum + w.count, 0)).toBe(events.length);

      // A gap so long that a cycle each would make too many windows makes longer ones, at most 60. (The
      // policy gives no `every`: a window is a cycle, here 10 s.)
      const short = 10_000;
      for (let seq = 0, behind = true; behind; seq++) {
        behind = closed(await away.monitorWindow({ modelName: name, seq, cycleMs: short })).behind === true;
      }
      const bounded = await stored();
      expect(bounded.length).toBeLessThanOrEqual(61);
      expect(bounded.length).toBeGreaterThan(50);
      const spans = new Set(bounded.slice(0, -1).map((w) => w.endAt.getTime() - w.startAt.getTime()));
      expect(spans.size).toBe(1);
      expect([...spans][0]).toBeGreaterThan(short);
      expect(bounded.reduce((sum, w) => sum + w.count, 0)).toBe(events.length);
    }, 120_000);

    it("on sparse traffic the agent's cycles find the window open until the policy's rule closes it", async () => {
      // A row about every 7 minutes, cycles every minute for five hours: the default rule's first window
      // closes at maxSpan (an hour) short of minRows; each later one gathers its 30 rows.
      const scenario = creditScenarios.find((s) => s.id === 'steady')!;
      const name = 'credit-sparse';
      const { model, events } = await writeTraffic(db, name, scenario, Date.now() + 1000, {
        count: 60,
        stretch: 2_000,
      });
      const createdMs = model.createdAt.getTime();
      let now = new Date(createdMs);
      const agent = createMonitorActivities(db.store, { now: () => now });
      const answers: (WindowSummary | OpenWindow)[] = [];
      for (let cycle = 1, seq = 0; cycle <= 5 * 60; cycle++) {
        now = new Date(createdMs + cycle * MINUTE_MS);
        const window = await agent.monitorWindow({ modelName: name, seq, cycleMs: MINUTE_MS });
        answers.push(window);
        if (!('open' in window)) seq++;
      }
      const windows = await takeWindows(db, model.id);
      const measured = answers.filter((w): w is WindowSummary => !('open' in w));
      // An open window stores nothing: as many stored windows as closed answers.
      expect(windows.map((w) => w.count)).toEqual(measured.map((w) => w.count));
      expect(answers.length - measured.length).toBeGreaterThan(250);
      expect(windows[0]!.endAt.getTime() - windows[0]!.startAt.getTime()).toBe(60 * MINUTE_MS);
      expect(windows[0]!.count).toBeLessThan(30);
      // Each later window closes at the cycle after its 30th row.
      expect(windows.slice(1).map((w) => w.count)).toEqual(Array(windows.length - 1).fill(30));
      expect(windows.length).toBeGreaterThanOrEqual(2);
      const inFive = events.filter((e) => Date.parse(e.ts) <= now.getTime()).length;
      expect(windows.reduce((sum, w) => sum + w.count, 0)).toBeLessThanOrEqual(inFive);
    }, 120_000);

    it('a busy stream that stops shows in an empty window within two cycles, not after maxSpan', async () => {
      const scenario = creditScenarios.find((s) => s.id === 'steady')!;
      const name = 'credit-stops';
      const { model, events } = await writeTraffic(db, name, scenario, Date.now() + 1000, { count: 1000 });
      const createdMs = model.createdAt.getTime();
      const lastMs = Date.parse(events.at(-1)!.ts);
      let now = new Date(createdMs);
      const agent = createMonitorActivities(db.store, { now: () => now });
      const empty: number[] = [];
      for (let cycle = 1, seq = 0; createdMs + cycle * MINUTE_MS <= lastMs + 3 * MINUTE_MS; cycle++) {
        now = new Date(createdMs + cycle * MINUTE_MS);
        const window = await agent.monitorWindow({ modelName: name, seq, cycleMs: MINUTE_MS });
        if ('open' in window) continue;
        seq++;
        if (window.count === 0) empty.push(Date.parse(window.endAt));
      }
      expect(empty.length).toBeGreaterThan(0);
      expect(empty[0]! - lastMs).toBeLessThanOrEqual(2 * MINUTE_MS);
      await takeWindows(db, model.id);
    }, 120_000);

    it("judges production's answers: labels of the fallback's answers show that labels arrive, nothing more", async () => {
      const name = 'credit-fallback-labels';
      const { model, version } = await deployCreditModel(db, name);
      const data = creditData(300, 8);
      await registerVersion(db.store, name, {
        train: { trainer: 'logistic-regression', holdoutShare: 0.3, seed: 2 },
        data: { rows: data.rows, labels: data.labels.map(String) },
      });
      const fallback = await db.store.modelVersion.findFirstOrThrow({
        where: { modelId: model.id, version: 2 },
      });
      const startMs = Date.now() + 1000;
      // 60 answers of production, all right; 40 of the fallback, all wrong; every label back in the window.
      const rows = Array.from({ length: 100 }, (_, i) => {
        const byProduction = i < 60;
        const label = i % 2 === 0 ? '1' : '0';
        const answer = byProduction ? label : label === '1' ? '0' : '1';
        const at = new Date(startMs + 500 * i);
        return {
          prediction: {
            id: `${name}-${i}`,
            modelId: model.id,
            versionId: byProduction ? version.id : fallback.id,
            source: 'gateway',
            features: data.rows[i] as object,
            output: {
              prediction: answer,
              probabilities: { '0': answer === '0' ? 0.9 : 0.1, '1': answer === '1' ? 0.9 : 0.1 },
            },
            confidence: 0.9,
            latencyMs: 5,
            error: null,
            predictedAt: at,
            receivedAt: at,
          },
          label: {
            modelId: model.id,
            predictionId: `${name}-${i}`,
            value: label,
            observedAt: at,
            receivedAt: at,
          },
        };
      });
      await db.store.prediction.createMany({ data: rows.map((r) => r.prediction) });
      await db.store.label.createMany({ data: rows.map((r) => r.label) });
      const { monitorWindow } = createMonitorActivities(db.store, {
        now: () => new Date(startMs + WINDOW_MS),
      });
      const summary = await monitorWindow({ modelName: name, seq: 0 });
      expect(summary.count).toBe(100);
      expect(summary.labelled).toBe(60);
      expect(summary.labelledElsewhere).toBe(40);
      expect(summary.accuracy).toBe(1);
      expect(summary.errorRuns).toEqual([60]);
    }, 60_000);

    it("reads the model's stored policy; an invalid one falls back to the defaults with a warning", async () => {
      const create = (name: string, policy: object) =>
        db.store.model.create({
          data: { name, task: 'binary', featureSchema: creditDefault.schema, labels: CREDIT_LABELS, policy },
        });
      await create('with-policy', { window: { minRows: 77 } });
      await create('bad-policy', { window: { minRows: 'many' } });
      const { monitorWindow } = createMonitorActivities(db.store);
      const warn = vi.spyOn(logger, 'warn');
      try {
        expect((await monitorWindow({ modelName: 'with-policy', seq: 0 })).minRows).toBe(77);
        expect(warn).not.toHaveBeenCalled();
        expect((await monitorWindow({ modelName: 'bad-policy', seq: 0 })).minRows).toBe(30);
        expect(warn).toHaveBeenCalledWith(
          expect.objectContaining({
            model: 'bad-policy',
            issues: [expect.objectContaining({ path: 'window.minRows' })],
          }),
          expect.stringContaining('invalid'),
        );
      } finally {
        warn.mockRestore();
      }
    });

    it('says when there is no reference: no deployment means drift is not judged', async () => {
      await db.store.model.create({
        data: {
          name: 'undeployed',
          task: 'binary',
          featureSchema: creditDefault.schema,
          labels: CREDIT_LABELS,
        },
      });
      const { monitorWindow } = createMonitorActivities(db.store);
      const summary = await monitorWindow({ modelName: 'undeployed', seq: 0 });
      expect(summary).toMatchObject({ reference: 'none', count: 0, featuresJudged: 0 });
      // No traffic has ever arrived: nothing is judged, not even staleness.
      expect(detect(summary, initialDetectorState()).findings.map((f) => f.kind)).toEqual([]);
    });

    it("measures the model's segments from its stored definitions, each on its own rows", async () => {
      const scenario = creditScenarios.find((s) => s.id === 'steady')!;
      const name = 'credit-segmented';
      const startMs = Date.now() + 1000;
      const { model } = await writeTraffic(db, name, scenario, startMs);
      await db.store.model.update({ where: { id: model.id }, data: { segments: [{ by: 'channel' }] } });
      const now = new Date(startMs + 2 * WINDOW_MS);
      const { monitorWindow } = createMonitorActivities(db.store, { now: () => now });
      const summary = await monitorWindow({ modelName: name, seq: 0 });
      const channels = creditDefault.schema.find((f) => f.name === 'channel')!;
      expect(summary.segments?.map((p) => p.name)).toEqual(
        (channels as { categories: string[] }).categories.map((c) => `channel=${c}`),
      );
      // Every row has a channel: the segments' rows and labels add up to the window's.
      expect(summary.segments!.reduce((n, p) => n + p.count, 0)).toBe(summary.count);
      expect(summary.segments!.reduce((n, p) => n + p.labelled, 0)).toBe(summary.labelled);
      expect(summary.segments!.reduce((n, p) => n + p.correct, 0)).toBe(summary.correct);
      const stored = await db.store.metricWindow.findFirstOrThrow({ where: { modelId: model.id, seq: 0 } });
      expect((stored.metrics as unknown as StoredWindowMetrics).summary.segments).toEqual(summary.segments);
    }, 120_000);

    it("judges one channel's inputs against that channel's own reference: a shift there is a data_drift naming it", async () => {
      // The channels are defined before the version is registered, so its profile holds each channel's
      // own reference (lib/monitor/reference.ts); from the onset web applicants are ten years older.
      const scenario: Scenario = {
        id: 'older-web-applicants',
        title: 'Older web applicants',
        description: 'From the onset web applicants are ten years older; the other channels are unchanged.',
        models: ['credit-default'],
        onset: 2500,
        segments: [{ by: 'channel' }],
        transform: {
          population(row) {
            if (row.channel === 'web') row.age = Math.min(90, (row.age as number) + 10);
          },
        },
        expected: { finding: 'data_drift', response: 'alert', rationale: 'inputs moved in one segment' },
      };
      const run = await runAgent(db, scenario, 'credit-older-web');
      // The broker channel (10 % of applicants) has fewer than SEGMENT_REFERENCE_DEFAULTS.minRows (200) of the
      // 1,400 reference rows: it keeps being compared with the whole population, shown and not judged.
      expect(
        run.windows[0]!.summary.segments!.map((p) => [p.name, p.driftReference ?? 'population']),
      ).toEqual([
        ['channel=branch', 'segment'],
        ['channel=web', 'segment'],
        ['channel=mobile', 'segment'],
        ['channel=broker', 'population'],
      ]);
      const describeRun = () =>
        run.windows
          .map((w) => `${w.summary.seq}: ${w.findings.map((f) => `${f.kind}/${f.state}`).join(' ') || '-'}`)
          .join('\n');
      // Nothing before the onset: the stationary channels are judged against their own references too.
      expect(
        confirmed(run).filter((c) => c.seq < run.onsetWindow),
        describeRun(),
      ).toEqual([]);
      const window = run.windows.find((w) =>
        w.findings.some((f) => f.kind === 'data_drift' && f.state === 'confirmed'),
      );
      expect(window, describeRun()).toBeDefined();
      expect(window!.summary.seq - run.onsetWindow + 1).toBeLessThanOrEqual(3);
      const drift = window!.findings.find((f) => f.kind === 'data_drift')!;
      expect(drift.kind === 'data_drift' && drift.evidence.segmentsDrifted).toContainEqual(
        expect.objectContaining({ segment: 'channel=web', name: 'age' }),
      );
      expect(
        drift.kind === 'data_drift' &&
          drift.evidence.segmentsDrifted!.filter((d) => d.segment !== 'channel=web'),
      ).toEqual([]);
    }, 120_000);

    it("records the verdicts of the user's own finding rules in the window it measures", async () => {
      await db.store.model.create({
        data: { name: 'ruled', task: 'binary', featureSchema: creditDefault.schema, labels: CREDIT_LABELS },
      });
      const seen: string[] = [];
      const { monitorWindow } = createMonitorActivities(db.store, {
        findingRules: [
          {
            name: 'sees-the-model',
            observe: ({ modelName, window }) => {
              seen.push(modelName);
              return { judged: true, bad: window.count === 0, severity: 'warning', summary: 'no traffic' };
            },
          },
          {
            name: 'throws',
            observe: () => {
              throw new Error('boom');
            },
          },
        ],
      });
      const summary = await monitorWindow({ modelName: 'ruled', seq: 0 });
      expect(seen).toEqual(['ruled']);
      expect(summary.custom).toEqual([
        { rule: 'sees-the-model', judged: true, bad: true, severity: 'warning', summary: 'no traffic' },
        {
          rule: 'throws',
          judged: false,
          bad: false,
          severity: 'info',
          summary: 'the rule failed: threw: boom',
          error: 'threw: boom',
        },
      ]);
    });

    it.each(creditScenarios.map((s) => [s.id, s] as const))(
      '%s: the expected finding, confirmed soon after the onset, and no other',
      async (_id, scenario) => {
        const run = await runAgent(db, scenario);
        const all = confirmed(run);
        const expected = scenario.expected.finding;
        const describeRun = () =>
          run.windows
            .map((w) => `${w.summary.seq}: ${w.findings.map((f) => `${f.kind}/${f.state}`).join(' ') || '-'}`)
            .join('\n');
        if (expected === 'none') {
          expect(all, describeRun()).toEqual([]);
          return;
        }
        expect(
          all.filter((c) => c.kind !== expected),
          describeRun(),
        ).toEqual([]);
        const first = all.find((c) => c.kind === expected);
        expect(first, describeRun()).toBeDefined();
        expect(first!.seq).toBeGreaterThanOrEqual(run.onsetWindow);
        expect(first!.seq - run.onsetWindow + 1).toBeLessThanOrEqual(ALLOWED_WINDOWS[scenario.id] ?? 3);
      },
      120_000,
    );
  });
