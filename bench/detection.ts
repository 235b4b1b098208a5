// Detection benchmark (issue 4, item 5): runs the full Monitor → Detect path and plain sequential
// detectors over (a) every simulator scenario on the demo models and (b) the synthetic concept-drift
// catalogue, and reports detection delay, false alarms and missed drifts side by side.
//
//   npm run bench:detection            (writes bench/results/detection.json, prints a markdown table)
//   npm run bench:detection -- --quick (fewer seeds, shorter streams; for a smoke run)
//
// (a) Scenarios: a model is trained on the reference population and its profile built from held-out
// rows, as the registry does; the scenario stream is cut into time windows (WINDOW_SECONDS of simulated
// traffic), each measured by the monitor's own `measureWindow` (arrivals + labels received in the
// window) and judged by `detect`. A scenario is caught when its expected finding is confirmed at or
// after the onset window; any other confirmed finding, or one before the onset, is a false alarm.
// (b) Synthetic streams: a frozen classifier (discretised naive Bayes on the first SYNTH_TRAIN samples)
// turns the rest of each stream into a 0/1 error stream. `detect` sees it in windows of SYNTH_WINDOW
// labelled samples (accuracy and the per-row error stream: these streams have no reference profile);
// default ADWIN (delta 0.002) and Page–Hinkley (River's defaults) see every sample. After an alarm each
// method starts afresh, as the agent would after acting. Delay is counted from the start of the change
// to the alarming sample: for detect, the labelled row at which its error CUSUM crossed (or the end of
// the confirming window when the window-level tests confirmed it); the error-stream table also gives
// detect's delay to the end of the confirming window, when the agent can act. A drift with no alarm
// before the next one is missed; alarms before the first drift, or on a stationary stream, are false
// alarms. (c) Bernoulli error streams: the issue's reference figures, 20 seeds each.
// (d) Batch tests: the false-positive rate of detect's window-level drift gate (featureDrifted) on the
// monitor's KS / chi-square / PSI tests with BH correction, on identical distributions at several window
// sizes, and its power for a 0.25 sd mean shift at 1,000 rows.
import fs from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_DETECT_SETTINGS,
  type DetectSettings,
  detect,
  featureDrifted,
  initialDetectorState,
} from '../lib/brain/detect.ts';
import type { DetectorState, Finding, WindowSummary } from '../lib/brain/types.ts';
import { createDetector } from '../lib/detectors/index.ts';
import type { FeatureRow, FeatureSchema } from '../lib/domain.ts';
import { loadModel, type ModelOutput, trainModel } from '../lib/models/index.ts';
import {
  buildReferenceProfile,
  computeWindowMetrics,
  type ReferenceProfile,
  summarizeForAgent,
  type WindowPrediction,
} from '../lib/monitor/index.ts';
import { measureWindow } from '../lib/monitor/measure.ts';
import { DEFAULT_POLICY } from '../lib/policy/policy.ts';
import { resolveSegments } from '../lib/segments/definition.ts';
import type { Segment } from '../lib/segments/segment.ts';
import { creditDefault, type DemoModel, demand } from '../lib/sim/demo-models.ts';
import { Random } from '../lib/sim/random.ts';
import { SCENARIOS, type Scenario } from '../lib/sim/scenarios.ts';
import { generateStream, type SimEvent } from '../lib/sim/stream.ts';
import { BENCHMARK_STREAMS, type BenchmarkStream } from '../lib/sim/synthetic/catalogue.ts';
import type { Sample } from '../lib/sim/synthetic/stream.ts';

export const WINDOW_SECONDS = 100;
// 16 windows: the onset at event 2,500 leaves 11 after it, room for the slower, accumulating detectors (a
// regression concept drift judged on window RMSE takes 4–6) and for a false alarm after the change.
const SCENARIO_EVENTS = 8000;
const REFERENCE_ROWS = 2000;

// ---------------------------------------------------------------------------------------------------
// Demo models and scenario streams

export interface PreparedModel {
  demo: DemoModel;
  labels: string[] | null;
  reference: ReferenceProfile;
  predict(rows: FeatureRow[]): Promise<ModelOutput[]>;
}

const prepared = new Map<string, Promise<PreparedModel>>();

/** The demo model trained on the reference population, with its profile from held-out rows. */
export function prepareModel(demo: DemoModel, seed = 7): Promise<PreparedModel> {
  const key = `${demo.name}:${seed}`;
  let p = prepared.get(key);
  if (!p) {
    p = (async () => {
      const rng = new Random(seed);
      const sample = (n: number) => {
        const rows = Array.from({ length: n }, () => demo.sampleRow(rng));
        return { rows, labels: rows.map((row) => demo.label(row, rng)) };
      };
      const train = sample(REFERENCE_ROWS);
      const labels = demo.task === 'regression' ? null : ['0', '1'];
      const artifact = await trainModel(
        demo.task === 'regression' ? 'linear-regression' : 'logistic-regression',
        demo.task,
        demo.schema,
        demo.task === 'regression' ? train : { rows: train.rows, labels: train.labels.map(String) },
      );
      const model = loadModel(artifact);
      const held = sample(REFERENCE_ROWS);
      const outputs = await model.predict(held.rows);
      const reference = buildReferenceProfile({
        schema: demo.schema,
        task: demo.task,
        labels,
        rows: held.rows,
        outputs,
        truth: held.labels.map((y) => (demo.task === 'regression' ? y : String(y))),
      });
      return { demo, labels, reference, predict: (rows) => model.predict(rows) };
    })();
    prepared.set(key, p);
  }
  return p;
}

/** One scenario event as the store would hold it: what the gateway logged, and the label when it came. */
export interface ScenarioRow {
  event: SimEvent;
  prediction: WindowPrediction;
  /** When the label arrives; null when it never does. */
  labelAt: Date | null;
}

export async function scenarioRows(
  model: PreparedModel,
  scenario: Scenario,
  seed: number,
  count = SCENARIO_EVENTS,
): Promise<ScenarioRow[]> {
  const events = [...generateStream({ model: model.demo, scenario, seed, count })];
  const outputs = await model.predict(events.map((e) => e.features));
  return events.map((event, i) => {
    const output = outputs[i]!;
    const at = new Date(event.ts);
    const labelAt = event.labelTs === null ? null : new Date(event.labelTs);
    const truth =
      event.label === null ? null : model.demo.task === 'regression' ? event.label : String(event.label);
    return {
      event,
      labelAt,
      prediction: {
        id: event.predictionId,
        features: event.features,
        output: event.failed ? null : { prediction: output.prediction, probabilities: output.probabilities },
        confidence: event.failed ? null : output.confidence,
        latencyMs: event.latencyMs,
        error: event.failed ? 'inference failed' : null,
        predictedAt: at,
        receivedAt: at,
        label: truth === null || labelAt === null ? null : { value: truth, observedAt: labelAt },
      },
    };
  });
}

export interface ScenarioWindow {
  seq: number;
  summary: WindowSummary;
  findings: Finding[];
  /** Events up to the end of this window. */
  eventsSoFar: number;
}

/**
 * Cuts the rows into windows of `windowSeconds` and runs measureWindow → detect over them, measuring the
 * model's `segments` (a scenario's, resolved) as the monitor does.
 */
export function runScenarioWindows(
  model: PreparedModel,
  rows: readonly ScenarioRow[],
  windowSeconds = WINDOW_SECONDS,
  segments: readonly Segment[] = [],
): ScenarioWindow[] {
  if (rows.length === 0) return [];
  const start = rows[0]!.prediction.receivedAt.getTime() - 1;
  const lastMs = rows.at(-1)!.prediction.receivedAt.getTime();
  const byLabel = rows
    .filter((r) => r.labelAt !== null)
    .sort((a, b) => a.labelAt!.getTime() - b.labelAt!.getTime());
  let state: DetectorState = initialDetectorState();
  const out: ScenarioWindow[] = [];
  let a = 0;
  let l = 0;
  let previousArrival: Date | null = null;
  // Whole windows only: a last, partial one would end in a silence that is the stream's end.
  for (let seq = 0; start + (seq + 1) * windowSeconds * 1000 <= lastMs; seq++) {
    const from = start + seq * windowSeconds * 1000;
    const to = from + windowSeconds * 1000;
    const arrivals: WindowPrediction[] = [];
    while (a < rows.length && rows[a]!.prediction.receivedAt.getTime() <= to) {
      const r = rows[a++]!;
      // Labels that had come back by the window's close.
      arrivals.push(
        r.labelAt !== null && r.labelAt.getTime() <= to ? r.prediction : { ...r.prediction, label: null },
      );
    }
    const labelled: WindowPrediction[] = [];
    while (l < byLabel.length && byLabel[l]!.labelAt!.getTime() <= to)
      labelled.push(byLabel[l++]!.prediction);
    const { summary } = measureWindow({
      seq,
      schema: model.demo.schema,
      task: model.demo.task,
      labels: model.labels,
      reference: model.reference,
      arrivals,
      labelledInWindow: labelled,
      previousArrival,
      startAt: new Date(from),
      endAt: new Date(to),
      minRows: DEFAULT_POLICY.window.minRows,
      segments,
    });
    if (arrivals.length > 0) previousArrival = arrivals.at(-1)!.receivedAt;
    const result = detect(summary, state);
    state = result.state;
    out.push({ seq, summary, findings: result.findings, eventsSoFar: a });
  }
  return out;
}

export interface ScenarioResult {
  model: string;
  scenario: string;
  seed: number;
  expected: string;
  onsetWindow: number;
  /** Window where the expected finding was first confirmed at or after onset; null when missed. */
  confirmedWindow: number | null;
  delayWindows: number | null;
  delaySamples: number | null;
  /** Other kinds confirmed, or any confirmed before the onset. */
  falseAlarms: string[];
}

export function scoreScenario(
  model: string,
  scenario: Scenario,
  seed: number,
  rows: readonly ScenarioRow[],
  windows: readonly ScenarioWindow[],
): ScenarioResult {
  const expected = scenario.expected.finding;
  const onsetEvent = expected === 'none' ? rows.length : scenario.onset;
  // The onset is the moment the scenario starts: before a pause, that is when the silence begins.
  const onsetMs =
    expected === 'none' || !rows[onsetEvent]
      ? Number.POSITIVE_INFINITY
      : rows[onsetEvent]!.prediction.receivedAt.getTime() - 1000 * (scenario.transform.pauseSeconds ?? 0);
  const onsetWindow = windows.findIndex((w) => Date.parse(w.summary.endAt) >= onsetMs);
  let confirmedWindow: number | null = null;
  const falseAlarms = new Set<string>();
  for (const w of windows) {
    for (const f of w.findings) {
      if (f.state !== 'confirmed') continue;
      if (f.kind === expected && onsetWindow >= 0 && w.seq >= onsetWindow) confirmedWindow ??= w.seq;
      else falseAlarms.add(`${f.kind}@${w.seq}`);
    }
  }
  return {
    model,
    scenario: scenario.id,
    seed,
    expected,
    onsetWindow,
    confirmedWindow,
    delayWindows: confirmedWindow === null ? null : confirmedWindow - onsetWindow + 1,
    delaySamples:
      confirmedWindow === null ? null : Math.max(0, windows[confirmedWindow]!.eventsSoFar - onsetEvent),
    falseAlarms: [...falseAlarms],
  };
}

// ---------------------------------------------------------------------------------------------------
// Synthetic streams: a frozen classifier's error stream

/** Discretised naive Bayes: numeric features in `bins` quantile bins, categorical ones as they are. */
function trainNaiveBayes(samples: readonly Sample[], bins = 10) {
  const names = Object.keys(samples[0]!.x);
  const cuts = new Map<string, number[]>();
  for (const name of names) {
    if (typeof samples[0]!.x[name] !== 'number') continue;
    const values = samples.map((s) => s.x[name] as number).sort((a, b) => a - b);
    cuts.set(
      name,
      Array.from({ length: bins - 1 }, (_, i) => values[Math.floor(((i + 1) * values.length) / bins)]!),
    );
  }
  const key = (name: string, v: number | string) => {
    const c = cuts.get(name);
    if (!c) return `${name}=${v}`;
    let b = 0;
    while (b < c.length && (v as number) > c[b]!) b++;
    return `${name}#${b}`;
  };
  const classes = [...new Set(samples.map((s) => String(s.y)))];
  const prior = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const s of samples) {
    const y = String(s.y);
    prior.set(y, (prior.get(y) ?? 0) + 1);
    for (const name of names)
      counts.set(`${y}|${key(name, s.x[name]!)}`, (counts.get(`${y}|${key(name, s.x[name]!)}`) ?? 0) + 1);
  }
  return (x: Sample['x']): string => {
    let best = classes[0]!;
    let bestScore = -Infinity;
    for (const y of classes) {
      const n = prior.get(y)!;
      let score = Math.log(n);
      for (const name of names)
        score += Math.log(((counts.get(`${y}|${key(name, x[name]!)}`) ?? 0) + 1) / (n + bins + 2));
      if (score > bestScore) {
        bestScore = score;
        best = y;
      }
    }
    return best;
  };
}

/** Samples the frozen classifier is trained on; they are not part of its error stream. */
export const SYNTH_TRAIN = 2000;

/**
 * The classifier's errors on samples SYNTH_TRAIN..length − 1 of the stream (index 0 is sample
 * SYNTH_TRAIN). Its own training samples are left out: their in-sample errors are optimistic, and the
 * step from them to unseen samples is a real change that a sensitive detector reports.
 */
export function errorStream(stream: BenchmarkStream, length: number): Uint8Array {
  const s = stream.factory();
  const predict = trainNaiveBayes(Array.from({ length: SYNTH_TRAIN }, () => s.next()));
  const errors = new Uint8Array(length - SYNTH_TRAIN);
  for (let i = 0; i < errors.length; i++) {
    const sample = s.next();
    errors[i] = predict(sample.x) === String(sample.y) ? 0 : 1;
  }
  return errors;
}

export type Method = 'detect' | 'adwin' | 'page_hinkley';

/** Windows of the error streams for detect: labelled predictions per window. */
const ERROR_WINDOW = 250;

/** The issue's orientation streams: a 0/1 error stream whose rate changes once (or never). */
export const ERROR_STREAMS = [
  { stream: 'error 0.10→0.30 at 5k', before: 0.1, after: 0.3, change: 5000, length: 10_000 },
  { stream: 'error 0.10→0.20 at 5k', before: 0.1, after: 0.2, change: 5000, length: 10_000 },
  { stream: 'error 0.10→0.20 at 50k', before: 0.1, after: 0.2, change: 50_000, length: 55_000 },
  { stream: 'error 0.20→0.25 at 5k', before: 0.2, after: 0.25, change: 5000, length: 15_000 },
  { stream: 'error 0.10 stationary', before: 0.1, after: 0.1, change: 50_000, length: 50_000 },
] as const;

/** A 0/1 error stream whose rate changes from `before` to `after` at `change` (or never). */
export function bernoulliErrors(
  spec: { before: number; after: number; change: number; length: number },
  seed: number,
): Uint8Array {
  const rng = new Random(seed);
  const errors = new Uint8Array(spec.length);
  for (let i = 0; i < spec.length; i++)
    errors[i] = rng.bernoulli(i < spec.change ? spec.before : spec.after) ? 1 : 0;
  return errors;
}

/** Run-length form of errors[from, to): alternating runs of 0s and 1s, 0s first (lib/monitor errorRuns). */
function runsOf(errors: Uint8Array, from: number, to: number): number[] {
  const runs = [0];
  let value = 0;
  for (let i = from; i < to; i++) {
    if (errors[i] !== value) {
      runs.push(0);
      value = errors[i]!;
    }
    runs[runs.length - 1]!++;
  }
  return runs;
}

/**
 * 1-based sample indices at which each method alarmed. For detect, `at: 'row'` gives the labelled row
 * at which its evidence sufficed (the error CUSUM's crossing, else the window's end) and `at: 'window'`
 * the end of the window that confirmed it, when the agent can act.
 */
export function alarmsOn(
  errors: Uint8Array,
  method: Method,
  windowSize: number,
  at: 'row' | 'window' = 'row',
  settings: DetectSettings = DEFAULT_DETECT_SETTINGS,
): number[] {
  const alarms: number[] = [];
  if (method === 'detect') {
    let state = initialDetectorState();
    let active = false;
    for (let start = 0, seq = 0; start + windowSize <= errors.length; start += windowSize, seq++) {
      let wrong = 0;
      for (let i = start; i < start + windowSize; i++) wrong += errors[i]!;
      const summary: WindowSummary = {
        seq,
        startAt: new Date(start * 1000).toISOString(),
        endAt: new Date((start + windowSize) * 1000).toISOString(),
        count: windowSize,
        labelled: windowSize,
        correct: windowSize - wrong,
        accuracy: (windowSize - wrong) / windowSize,
        reference: 'none',
        task: 'binary',
        errorRuns: runsOf(errors, start, start + windowSize),
      };
      const result = detect(summary, state, settings);
      const finding = result.findings.find((f) => f.kind === 'concept_drift' && f.state === 'confirmed');
      const confirmed = finding !== undefined;
      if (confirmed && !active) {
        const row = finding.kind === 'concept_drift' ? finding.evidence.errorChangeRow : null;
        alarms.push(at === 'row' && typeof row === 'number' ? start + row : start + windowSize);
        // The agent acts on a confirmed drift; the benchmark then learns the new normal afresh.
        state = initialDetectorState();
        active = false;
        continue;
      }
      state = result.state;
      active = confirmed;
    }
    return alarms;
  }
  let detector = createDetector({ kind: method });
  for (let i = 0; i < errors.length; i++) {
    if (detector.update(errors[i]!).drift) {
      alarms.push(i + 1);
      detector = createDetector({ kind: method });
    }
  }
  return alarms;
}

export interface StreamScore {
  delays: number[];
  missed: number;
  falseAlarms: number;
  /** False alarms per 10,000 samples of the stationary stretch. */
  falseAlarmsPer10k: number;
}

export function scoreAlarms(
  alarms: readonly number[],
  drifts: readonly number[],
  length: number,
): StreamScore {
  const delays: number[] = [];
  let missed = 0;
  drifts.forEach((d, i) => {
    const next = drifts[i + 1] ?? length + 1;
    const hit = alarms.find((a) => a >= d && a < next);
    if (hit === undefined) missed++;
    else delays.push(hit - d);
  });
  const stationary = drifts.length > 0 ? drifts[0]! : length;
  const falseAlarms = alarms.filter((a) => a < stationary).length;
  return { delays, missed, falseAlarms, falseAlarmsPer10k: (falseAlarms * 10_000) / Math.max(stationary, 1) };
}

// ---------------------------------------------------------------------------------------------------
// (d) Batch tests: the window-level drift gate detect applies to the monitor's tests

/** Three N(0, 1) features and one categorical: KS and chi-square side by side, BH over four tests. */
const BATCH_SCHEMA: FeatureSchema = [
  { name: 'x1', type: 'numeric', nullable: false },
  { name: 'x2', type: 'numeric', nullable: false },
  { name: 'x3', type: 'numeric', nullable: false },
  { name: 'segment', type: 'categorical', categories: ['a', 'b', 'c', 'd'], nullable: false },
];
const SEGMENTS = [
  { value: 'a', p: 0.4 },
  { value: 'b', p: 0.3 },
  { value: 'c', p: 0.2 },
  { value: 'd', p: 0.1 },
];
export const BATCH_SIZES = [50, 100, 500, 1000, 5000, 10_000] as const;
/** Reference rows: a full profile sample (DISTRIBUTION_DEFAULTS.sampleSize). */
const BATCH_REFERENCE_ROWS = 5000;

function batchRow(rng: Random, shift: number): FeatureRow {
  let u = rng.next();
  let segment = SEGMENTS.at(-1)!.value;
  for (const c of SEGMENTS) {
    if (u < c.p) {
      segment = c.value;
      break;
    }
    u -= c.p;
  }
  return { x1: rng.normal(shift, 1), x2: rng.normal(), x3: rng.normal(), segment };
}

/**
 * Share of windows in which detect's gate (featureDrifted) flags at least one feature, over `reps`
 * windows of `size` rows measured by the monitor against one reference profile; `shift` moves x1's mean
 * by that many sds (0: identical distributions, a false positive whenever anything is flagged).
 */
export function batchFlagRate(size: number, shift: number, reps: number, seed = 1): number {
  const rng = new Random(seed);
  const reference = buildReferenceProfile({
    schema: BATCH_SCHEMA,
    task: 'binary',
    rows: Array.from({ length: BATCH_REFERENCE_ROWS }, () => batchRow(rng, 0)),
  });
  const now = new Date(0);
  let flagged = 0;
  for (let r = 0; r < reps; r++) {
    const predictions: WindowPrediction[] = Array.from({ length: size }, (_, i) => ({
      id: String(i),
      features: batchRow(rng, shift),
      output: null,
      confidence: null,
      latencyMs: null,
      error: null,
      predictedAt: now,
      receivedAt: now,
      label: null,
    }));
    const metrics = computeWindowMetrics({
      schema: BATCH_SCHEMA,
      task: 'binary',
      reference,
      predictions,
      now,
    });
    // The digest lists every feature here (four, under its limit of five).
    if (summarizeForAgent(metrics).drift.some((d) => featureDrifted(d, DEFAULT_DETECT_SETTINGS))) flagged++;
  }
  return flagged / reps;
}

// ---------------------------------------------------------------------------------------------------

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main() {
  const quick = process.argv.includes('--quick');
  const seeds = quick ? [1] : [1, 2, 3];
  const started = Date.now();
  const log = (msg: string) =>
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);

  const scenarioResults: ScenarioResult[] = [];
  for (const demo of [creditDefault, demand]) {
    const model = await prepareModel(demo);
    for (const scenario of SCENARIOS.filter((s) => s.models.includes(demo.name))) {
      for (const seed of seeds) {
        const rows = await scenarioRows(model, scenario, seed);
        const { segments } = resolveSegments(scenario.segments ?? [], demo.schema);
        const windows = runScenarioWindows(model, rows, WINDOW_SECONDS, segments);
        const r = scoreScenario(demo.name, scenario, seed, rows, windows);
        scenarioResults.push(r);
        log(
          `${demo.name} ${scenario.id} seed ${seed}: expected ${r.expected}, confirmed at ${r.confirmedWindow ?? '-'} (onset ${r.onsetWindow}), false ${r.falseAlarms.join(' ') || '-'}`,
        );
      }
    }
  }

  const SYNTH_WINDOW = 500;
  type MethodScore = StreamScore & { medianDelay: number | null; alarms: number };
  const streamResults: {
    stream: string;
    kind: string;
    length: number;
    drifts: number[];
    methods: Record<Method, MethodScore>;
  }[] = [];
  for (const stream of BENCHMARK_STREAMS) {
    const length = quick ? Math.min(stream.length, 30_000) : stream.length;
    // Where each change starts, in the error stream (which starts after the classifier's training
    // samples): a gradual change is a sigmoid `width` wide centred on its position, already 12 % of the
    // way at position − width/2, so an alarm from there on is a detection, not a false alarm.
    const lead = stream.width > 1 ? Math.floor(stream.width / 2) : 0;
    const drifts = stream.driftPositions.filter((d) => d < length).map((d) => d - SYNTH_TRAIN - lead);
    const errors = errorStream(stream, length);
    const methods = {} as Record<Method, MethodScore>;
    for (const method of ['detect', 'adwin', 'page_hinkley'] as const) {
      const alarms = alarmsOn(errors, method, SYNTH_WINDOW);
      const score = scoreAlarms(alarms, drifts, errors.length);
      methods[method] = { ...score, medianDelay: median(score.delays), alarms: alarms.length };
    }
    streamResults.push({ stream: stream.name, kind: stream.kind, length, drifts, methods });
    log(`${stream.name}: done`);
  }

  // (c) Bernoulli error streams of the issue's reference figures: 20 seeds each, one change.
  const ERROR_SEEDS = quick ? 5 : 20;
  const errorResults: {
    stream: string;
    before: number;
    after: number;
    change: number;
    length: number;
    seeds: number;
    methods: Record<
      ErrorColumn,
      { caught: number; meanDelay: number | null; medianDelay: number | null; falseAlarmsPer10k: number }
    >;
  }[] = [];
  // detect twice: at the row its evidence sufficed, and at the end of that window (when the agent acts).
  type ErrorColumn = Method | 'detect_window_end';
  const errorColumns: { column: ErrorColumn; method: Method; at: 'row' | 'window' }[] = [
    { column: 'detect', method: 'detect', at: 'row' },
    { column: 'detect_window_end', method: 'detect', at: 'window' },
    { column: 'adwin', method: 'adwin', at: 'row' },
    { column: 'page_hinkley', method: 'page_hinkley', at: 'row' },
  ];
  for (const spec of ERROR_STREAMS) {
    const methods = {} as (typeof errorResults)[number]['methods'];
    for (const { column, method, at } of errorColumns) {
      const delays: number[] = [];
      let falseAlarms = 0;
      let stationarySamples = 0;
      for (let seed = 1; seed <= ERROR_SEEDS; seed++) {
        const errors = bernoulliErrors(spec, seed);
        const alarms = alarmsOn(errors, method, ERROR_WINDOW, at);
        const drifts = spec.change < spec.length ? [spec.change] : [];
        const score = scoreAlarms(alarms, drifts, spec.length);
        delays.push(...score.delays);
        falseAlarms += score.falseAlarms;
        stationarySamples += drifts.length > 0 ? spec.change : spec.length;
      }
      methods[column] = {
        caught: delays.length,
        meanDelay: delays.length ? delays.reduce((a, b) => a + b, 0) / delays.length : null,
        medianDelay: median(delays),
        falseAlarmsPer10k: (falseAlarms * 10_000) / stationarySamples,
      };
    }
    errorResults.push({ ...spec, seeds: ERROR_SEEDS, methods });
    log(`${spec.stream}: done`);
  }

  const BATCH_REPS = quick ? 200 : 1000;
  const POWER_SHIFT = 0.25;
  const POWER_ROWS = 1000;
  const batch = {
    reps: BATCH_REPS,
    referenceRows: BATCH_REFERENCE_ROWS,
    falsePositiveRate: BATCH_SIZES.map((size) => ({ size, rate: batchFlagRate(size, 0, BATCH_REPS) })),
    power: {
      shiftSd: POWER_SHIFT,
      rows: POWER_ROWS,
      rate: batchFlagRate(POWER_ROWS, POWER_SHIFT, BATCH_REPS, 2),
    },
  };
  log('batch tests: done');

  const result = {
    command: `npm run bench:detection${quick ? ' -- --quick' : ''}`,
    node: process.version,
    windowSeconds: WINDOW_SECONDS,
    synthWindow: SYNTH_WINDOW,
    seeds,
    scenarios: scenarioResults,
    streams: streamResults,
    errorWindow: ERROR_WINDOW,
    errorStreams: errorResults,
    batch,
    seconds: (Date.now() - started) / 1000,
  };
  const out = path.join(import.meta.dirname, 'results', quick ? 'detection-quick.json' : 'detection.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);

  const lines = [
    `Command: \`${result.command}\` (${result.node}, ${result.seconds.toFixed(0)} s)`,
    '',
    '| model | scenario | expected | caught (seeds) | median delay (windows) | median delay (samples) | false confirmed |',
    '|---|---|---|---|---|---|---|',
  ];
  const groups = new Map<string, ScenarioResult[]>();
  for (const r of scenarioResults)
    groups.set(`${r.model}|${r.scenario}`, [...(groups.get(`${r.model}|${r.scenario}`) ?? []), r]);
  for (const rs of groups.values()) {
    const r0 = rs[0]!;
    const caught =
      r0.expected === 'none' ? '—' : `${rs.filter((r) => r.confirmedWindow !== null).length}/${rs.length}`;
    const dw = median(rs.flatMap((r) => (r.delayWindows === null ? [] : [r.delayWindows])));
    const ds = median(rs.flatMap((r) => (r.delaySamples === null ? [] : [r.delaySamples])));
    const fa = rs.flatMap((r) => r.falseAlarms);
    lines.push(
      `| ${r0.model} | ${r0.scenario} | ${r0.expected} | ${caught} | ${dw ?? '—'} | ${ds ?? '—'} | ${fa.length ? fa.join(', ') : 0} |`,
    );
  }
  lines.push(
    '',
    `| stream | drifts | detect delay (median) | detect missed | detect FA/10k | ADWIN delay | ADWIN missed | ADWIN FA/10k | PH delay | PH missed | PH FA/10k |`,
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of streamResults) {
    const cell = (m: Method) =>
      `${r.methods[m].medianDelay ?? '—'} | ${r.methods[m].missed} | ${r.methods[m].falseAlarmsPer10k.toFixed(2)}`;
    lines.push(
      `| ${r.stream} | ${r.drifts.length} | ${cell('detect')} | ${cell('adwin')} | ${cell('page_hinkley')} |`,
    );
  }
  lines.push(
    '',
    `Bernoulli error streams (${ERROR_SEEDS} seeds; detect in windows of ${ERROR_WINDOW}): caught, mean delay (samples), false alarms per 10k before the change; detect's delay to the row its evidence sufficed, and to the end of that window`,
    '',
    '| stream | detect caught | detect delay | detect delay to window end | detect FA/10k | ADWIN caught | ADWIN delay | ADWIN FA/10k | PH caught | PH delay | PH FA/10k |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of errorResults) {
    const cell = (m: ErrorColumn) =>
      `${r.methods[m].caught}/${r.seeds} | ${r.methods[m].meanDelay?.toFixed(0) ?? '—'} | ${r.methods[m].falseAlarmsPer10k.toFixed(2)}`;
    const windowEnd = r.methods.detect_window_end.meanDelay?.toFixed(0) ?? '—';
    const [caught, delay, fa] = cell('detect').split(' | ');
    lines.push(
      `| ${r.stream} | ${caught} | ${delay} | ${windowEnd} | ${fa} | ${cell('adwin')} | ${cell('page_hinkley')} |`,
    );
  }
  lines.push(
    '',
    `Batch drift gate (${batch.reps} windows each; reference of ${batch.referenceRows} rows; 3 numeric features and 1 categorical): share of windows with any feature flagged`,
    '',
    `| ${BATCH_SIZES.map((n) => `${n} rows`).join(' | ')} | power: ${POWER_SHIFT} sd shift, ${POWER_ROWS} rows |`,
    `|${'---|'.repeat(BATCH_SIZES.length + 1)}`,
    `| ${batch.falsePositiveRate.map((f) => f.rate.toFixed(3)).join(' | ')} | ${batch.power.rate.toFixed(3)} |`,
  );
  console.log(lines.join('\n'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
