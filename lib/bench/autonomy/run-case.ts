// One case end to end: the stream as a file the backtest reads, the agent, the baselines on the same
// rows with the same model family, the independent checks that settle the right response, and the scores.
import type { BacktestReport } from '../../backtest/report.ts';
import { parseStream, type StreamFile } from '../../backtest/stream-file.ts';
import { defaultTrainer } from '../../backtest/versions.ts';
import { rowValidator } from '../../ingest/validate.ts';
import { loadModel, type ModelArtifact, trainModel } from '../../models/index.ts';
import { storedSegments } from '../../segments/definition.ts';
import { inSegment, type Segment } from '../../segments/segment.ts';
import { actionsTaken, candidatesTrained, responseClass, runAgent } from './agent.ts';
import {
  adwinRefit,
  BASELINE_DEFAULTS,
  type Baseline,
  type BaselineContext,
  type BaselineRun,
  datasetDriftRefit,
  noAgent,
  oracle,
  randomRefit,
} from './baselines.ts';
import type { BenchCase, CaseRow, ResponseClass } from './case.ts';
import { type Answer, answer, type LossScale, lossScale, rowLoss } from './serving.ts';

export const APPROACHES = [
  'agent',
  'noAgent',
  'adwinRefit',
  'datasetDriftRefit',
  'randomRefit',
  'oracle',
] as const;
export type Approach = (typeof APPROACHES)[number];

/** A refit "helps" and a fault "hurts" when the mean loss per row moves by at least this much. */
export const MATERIAL_LOSS = { classification: 0.02, regression: 0.05 };

export interface CaseResult {
  id: string;
  family: string;
  set: BenchCase['set'];
  seed: number;
  description: string;
  task: string;
  schemaGiven: boolean;
  traffic: BenchCase['traffic'];
  replayedRows: number;
  expected: ResponseClass[];
  /** Why the expected set is what it is: the independent checks' numbers. */
  expectedBecause: string;
  response: ResponseClass;
  right: boolean;
  /** Mean loss per replayed row (0/1 error; regression: |error| / reference sd). */
  loss: Record<Approach, number>;
  /** Mean loss per replayed row minus the oracle's: Σ(loss − oracle loss) / rows. */
  regret: Record<Approach, number>;
  /** Model replacements: promoted retrains for the agent, refits for the baselines. */
  refits: Record<Approach, number>;
  retrainsOnCorruptedInput: { agent: number; adwinRefit: number; datasetDriftRefit: number };
  incidents: number;
  /** Remedies taken (applied; a retrain: a candidate trained) and escalations. */
  actions: number;
  /** Incidents and actions with nothing to answer: all of them when only 'none' is right, else those before the change. */
  falseIncidents: number;
  falseActions: number;
  /** Replayed rows from the change to the first incident opened after it; null: none opened. */
  detectionDelayRows: number | null;
  wallMs: number;
  /** CPU time of this process for the case (user + system). */
  cpuMs: number;
}

/** The case's rows as a JSONL stream file, read as the backtest CLI reads one. */
export function streamOf(
  rows: readonly CaseRow[],
  options: Parameters<typeof parseStream>[2] = {},
): StreamFile {
  const lines = rows.map((r, i) =>
    JSON.stringify({ ts: r.ts, prediction_id: `r${i}`, ...r.features, label: r.label, label_ts: r.labelTs }),
  );
  return parseStream(lines.join('\n'), 'jsonl', options);
}

/** The model family of the case (the backtest's default trainer for the task), on rows of the stream. */
export function trainer(stream: StreamFile) {
  const kind = defaultTrainer(stream.task);
  return async (indices: number[]): Promise<ModelArtifact> =>
    trainModel(kind, stream.task, stream.schema, {
      rows: indices.map((i) => stream.rows[i]!.features),
      labels: indices.map((i) => stream.rows[i]!.label!),
    });
}

const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

/**
 * What the agent gets of a case: its stream as the backtest reads it, its segments resolved against the
 * stream's schema, and a fallback, as a deployment usually has one (the same family on the older half of
 * the reference). `runAgent(stream, first, fallback, segments)` replays it.
 */
export async function caseSetup(c: BenchCase) {
  const stream = streamOf(c.rows, c.schema ? { schema: c.schema } : { schemaFrom: c.referenceRows });
  const first = c.referenceRows;
  const train = trainer(stream);
  return {
    stream,
    first,
    train,
    segments: storedSegments(c.segments ?? null, stream.schema),
    fallback: await train(Array.from({ length: Math.floor(first / 2) }, (_, i) => i)),
  };
}

/** When the case's change happened (epoch ms): its first changed row, or the first replayed one. */
export function changeTime(c: BenchCase, stream: StreamFile): number {
  return 'at' in c.change ? stream.rows[c.referenceRows + c.change.at]!.ts : stream.rows[c.referenceRows]!.ts;
}

export async function runCase(c: BenchCase): Promise<CaseResult> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const { stream, first, train, segments, fallback } = await caseSetup(c);
  const n = stream.rows.length;
  const scale = lossScale(stream, first);
  const agent = await runAgent(stream, first, fallback, segments);
  const initial = loadModel(agent.report.versions[0]!.artifact);
  const referenceAnswers = await answer(
    initial,
    stream,
    Array.from({ length: first }, (_, i) => i),
  );
  const ctx: BaselineContext = {
    stream,
    first,
    initial,
    scale,
    referenceMae: mean(referenceAnswers.map((a, i) => rowLoss(scale, a, stream.rows[i]!.label) * scale.sd)),
    refit: async (indices) => {
      try {
        return loadModel(await train(indices));
      } catch {
        // Rows the family cannot learn from (one class only): what serves keeps serving.
        return null;
      }
    },
  };
  const promoted = agent.report.actions.filter(
    (a) => a.action === 'retrain' && a.outcome === 'applied',
  ).length;
  const runs: Record<Baseline, BaselineRun> = {
    noAgent: await noAgent(ctx),
    adwinRefit: await adwinRefit(ctx),
    datasetDriftRefit: await datasetDriftRefit(ctx),
    randomRefit: await randomRefit(ctx, promoted, c.seed),
    oracle: await oracle(ctx, c.change),
  };
  const answers: Record<Approach, Answer[]> = { agent: agent.answers, ...mapValues(runs, (r) => r.answers) };
  const { losses, loss, regret } = scoreAnswers(stream, first, scale, answers);

  const { expected, because } = await expectedResponse(c, stream, ctx, losses, segments);
  const changeTs = changeTime(c, stream);
  const response = responseClass(agent.report, changeTs);
  const quiet = expected.length === 1 && expected[0] === 'none';
  return {
    id: c.id,
    family: c.family,
    set: c.set,
    seed: c.seed,
    description: c.description,
    task: stream.task,
    schemaGiven: c.schema !== null,
    traffic: c.traffic,
    replayedRows: n - first,
    expected,
    expectedBecause: because,
    response,
    right: expected.includes(response),
    loss,
    regret,
    refits: { agent: promoted, ...mapValues(runs, (r) => r.refits.length) },
    retrainsOnCorruptedInput: {
      agent: agentCorruptedRetrains(c, stream, agent.report),
      adwinRefit: corruptedRefits(c, runs.adwinRefit),
      datasetDriftRefit: corruptedRefits(c, runs.datasetDriftRefit),
    },
    incidents: agent.report.incidents.length,
    actions: actionsTaken(agent.report).actions,
    falseIncidents: actionsTaken(agent.report, quiet ? Number.POSITIVE_INFINITY : changeTs).incidents,
    falseActions: actionsTaken(agent.report, quiet ? Number.POSITIVE_INFINITY : changeTs).actions,
    detectionDelayRows: detectionDelay(c, stream, agent.report),
    wallMs: Math.round(performance.now() - started),
    cpuMs: Math.round((process.cpuUsage(cpu).user + process.cpuUsage(cpu).system) / 1000),
  };
}

function mapValues<K extends string, V, W>(o: Record<K, V>, f: (v: V) => W): Record<K, W> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v as V)])) as Record<K, W>;
}

/**
 * Each approach's loss on every replayed row, its mean, and its regret: Σ over the replayed rows of
 * (its loss − the oracle's) / rows.
 */
export function scoreAnswers(
  stream: StreamFile,
  first: number,
  scale: LossScale,
  answers: Record<Approach, Answer[]>,
) {
  const losses = mapValues(answers, (a) => {
    const out: number[] = [];
    for (let i = first; i < stream.rows.length; i++)
      out.push(rowLoss(scale, a[i] ?? null, stream.rows[i]!.label));
    return out;
  });
  return {
    losses,
    loss: mapValues(losses, mean),
    regret: mapValues(losses, (l) => mean(l.map((x, k) => x - losses.oracle[k]!))),
  };
}

/**
 * The accepted responses, from how the case was made and checked independently of any approach:
 * a repair is right only if a refit on post-change rows really does better than version 1 (and enough
 * post-change labels arrive before the stream ends to act on); protection only if the fault really hurts
 * version 1 (its loss on the corrupted rows against their clean twins).
 */
async function expectedResponse(
  c: BenchCase,
  stream: StreamFile,
  ctx: BaselineContext,
  losses: Record<Approach, number[]>,
  segments: readonly Segment[],
): Promise<{ expected: ResponseClass[]; because: string }> {
  const material = stream.task === 'regression' ? MATERIAL_LOSS.regression : MATERIAL_LOSS.classification;
  const first = c.referenceRows;
  const fmt = (x: number) => x.toFixed(3);
  if (c.change.kind === 'concept' && c.change.segment !== undefined) {
    const { at, segment: name } = c.change;
    const segment = segments.find((s) => s.name === name);
    if (!segment) throw new Error(`case ${c.id}: its change is in segment ${name}, which it does not define`);
    // Replayed rows of the segment, before the change, after it, and from where the oracle serves a refit.
    const inIt = (k: number) => inSegment(stream.rows[first + k]!.features, segment);
    const rows = losses.noAgent.map((_, k) => k).filter(inIt);
    const before = rows.filter((k) => k < at);
    const after = rows.filter((k) => k >= at);
    const served = rows.filter((k) => k >= at + BASELINE_DEFAULTS.oracleRows);
    const harm = mean(after.map((k) => losses.noAgent[k]!)) - mean(before.map((k) => losses.noAgent[k]!));
    const gain = mean(served.map((k) => losses.noAgent[k]! - losses.oracle[k]!));
    const hurts = harm >= material;
    const helps = gain >= material;
    // Protection is the segment's own remedy (ladders.segment: its rows to the fallback, and a person
    // told); a retrain that learns the segment's new concept repairs it too, when a refit does.
    return {
      expected: !hurts ? ['none', 'alert', 'protect'] : helps ? ['protect', 'retrain'] : ['protect'],
      because: `in segment ${name}, version 1's loss rose by ${fmt(harm)} after the change${hurts ? '' : ` (below ${material})`}; a refit on ${BASELINE_DEFAULTS.oracleRows} post-change rows gains ${fmt(gain)} per row of it${helps ? '' : ` (below ${material})`}`,
    };
  }
  if (c.change.kind === 'fault') {
    const { at, until } = c.change;
    const faulty = c.rows.slice(first + at, first + until);
    const clean = streamOf(
      faulty.map((r) => ({ ...r, features: r.clean ?? r.features })),
      { schema: stream.schema, task: stream.task, classes: stream.classes ?? [] },
    );
    const cleanAnswers = await answer(
      ctx.initial,
      clean,
      clean.rows.map((_, i) => i),
    );
    const cleanLoss = mean(clean.rows.map((r, i) => rowLoss(ctx.scale, cleanAnswers[i]!, r.label)));
    const faultLoss = mean(losses.noAgent.slice(at, until));
    const harm = faultLoss - cleanLoss;
    const hurts = harm >= material;
    return {
      expected: hurts ? ['protect'] : ['none', 'alert', 'protect'],
      because: `version 1's loss ${fmt(faultLoss)} on the corrupted rows vs ${fmt(cleanLoss)} on their clean twins (harm ${fmt(harm)}${hurts ? '' : `, below ${material}`})`,
    };
  }
  if (c.change.kind === 'none' || c.change.kind === 'blip')
    return { expected: ['none'], because: 'nothing changed that a remedy could fix' };
  const { at } = c.change;
  // Where the oracle serves a refit of the new concept: from K rows after the change to the end, or
  // to the old concept's return.
  const from = at + BASELINE_DEFAULTS.oracleRows;
  const to =
    c.change.kind === 'concept' && c.change.until !== undefined ? c.change.until : losses.noAgent.length;
  const gain = mean(losses.noAgent.slice(from, to).map((x, k) => x - losses.oracle[from + k]!));
  const lastTs = stream.rows.at(-1)!.ts;
  const labelsInTime = stream.rows
    .slice(first + at)
    .filter((r) => r.labelTs !== null && r.labelTs <= lastTs).length;
  const helps = gain >= material;
  const actionable = labelsInTime >= BASELINE_DEFAULTS.oracleRows;
  const because = `a refit on ${BASELINE_DEFAULTS.oracleRows} post-change rows gains ${fmt(gain)} per row over version 1${helps ? '' : ` (below ${material})`}; ${labelsInTime} post-change labels arrive before the stream ends`;
  if (!helps || !actionable) return { expected: ['none', 'alert'], because };
  const recurring = c.change.kind === 'concept' && c.change.until !== undefined;
  return { expected: recurring ? ['retrain', 'rollback'] : ['retrain'], because };
}

function faultRange(c: BenchCase): [number, number] | null {
  return c.change.kind === 'fault' ? [c.referenceRows + c.change.at, c.referenceRows + c.change.until] : null;
}

function corruptedRefits(c: BenchCase, run: BaselineRun): number {
  const range = faultRange(c);
  if (!range) return 0;
  return run.refits.filter((r) => r.trainedOn.some((i) => i >= range[0] && i < range[1])).length;
}

/**
 * Candidates the agent trained on corrupted rows: the backtest trains on the labelled rows since the
 * incident's onset whose labels arrived by then, leaving out rows that break the schema it has.
 */
function agentCorruptedRetrains(c: BenchCase, stream: StreamFile, report: BacktestReport): number {
  const range = faultRange(c);
  if (!range) return 0;
  const validate = rowValidator(stream.schema);
  return candidatesTrained(report).filter(({ at, since }) => {
    for (let i = range[0]; i < range[1]; i++) {
      const row = stream.rows[i]!;
      if (row.ts >= since && row.labelTs !== null && row.labelTs <= at && validate(row.features).length === 0)
        return true;
    }
    return false;
  }).length;
}

function detectionDelay(c: BenchCase, stream: StreamFile, report: BacktestReport): number | null {
  if (!('at' in c.change)) return null;
  const from = c.referenceRows + c.change.at;
  const changeTs = stream.rows[from]!.ts;
  const opened = report.incidents.map((i) => Date.parse(i.openedAt)).filter((t) => t >= changeTs);
  if (opened.length === 0) return null;
  const at = Math.min(...opened);
  let i = from;
  while (i < stream.rows.length && stream.rows[i]!.ts <= at) i++;
  return i - from;
}
