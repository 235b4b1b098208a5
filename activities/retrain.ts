// Retraining and candidate comparison: train a candidate on the labelled traffic since a failure's onset
// and judge it against production on the most recent of those rows (lib/recovery/refit-evidence.ts:
// rolling origin in process, one holdout for a training on the Python worker); and count the labelled
// outcomes of the rows a canary or shadow candidate served beside production.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type {
  ServedComparison,
  ServedComparisonRequest,
  TrainCandidateRequest,
  TrainCandidateResult,
} from '../lib/brain/contracts.ts';
import type { Store } from '../lib/db/client.ts';
import { takeWriteLock } from '../lib/db/write-lock.ts';
import type { FeatureRow, FeatureSchema, Task } from '../lib/domain.ts';
import { queryInSlices } from '../lib/ingest/limits.ts';
import { rowValidator } from '../lib/ingest/validate.ts';
import {
  builtInTrainerOf,
  describeIssues,
  type Label,
  loadModel,
  type ModelArtifact,
  type ModelOutput,
  modelArtifactSchema,
  parseModelArtifact,
  type TrainingSet,
} from '../lib/models/index.ts';
import { PYTHON_TRAINER_PREFIX, pythonPipelineOf } from '../lib/models/trainers.ts';
import { trainModelInThread } from '../lib/models/training-thread.ts';
import type { OutputRow } from '../lib/monitor/outputs.ts';
import { REFERENCE_PROFILE_FORMAT, type ReferenceProfile } from '../lib/monitor/reference.ts';
import { withLearnedRanges } from '../lib/monitor/validity.ts';
import { compareScores, type HoldoutComparison } from '../lib/recovery/compare.ts';
import type { ServedCounts } from '../lib/recovery/judge.ts';
import { rowScorer } from '../lib/recovery/outcomes.ts';
import {
  compareRollingOrigin,
  compareWithRoute,
  type FoldScores,
  judgeRefit,
  judgeWithRoute,
  priorRowsWanted,
  type RefitVerdict,
  type RouteComparison,
  rollingOriginFolds,
  scoresWhere,
} from '../lib/recovery/refit-evidence.ts';
import { currentRevision, specOf } from '../lib/registry/revisions.ts';
import { findVersion, modelShape, registerVersion } from '../lib/registry/versions.ts';
import { storedSegments } from '../lib/segments/definition.ts';
import { inSegment, type Segment } from '../lib/segments/segment.ts';
import { classesOf, OUTPUT_FIELDS, outputRow, scoreTotals } from './evidence.ts';
import { findModelOrFail, inRegistry } from './incidents.ts';
import { readPolicy } from './policy.ts';

type Model = Awaited<ReturnType<typeof findModelOrFail>>;
type Trained = Extract<TrainCandidateResult, { status: 'trained' }>;

/**
 * Registering scores the training and held-out rows inside the transaction: allow it time, and allow a
 * busy connection pool time to give it a connection (an activity can wait).
 */
const REGISTER_TRANSACTION = { timeout: 120_000, maxWait: 30_000 };

/** The comparison kept in the candidate's metrics (registerVersion stores them as given). */
interface StoredComparison {
  holdoutCandidate: number;
  holdoutProduction: number;
  holdoutPValue: number;
  /** The rows candidate and production were compared on. */
  holdoutRows: number;
  /** The verdict of lib/recovery/refit-evidence.ts judgeRefit: 1 better, 0 not (metrics hold numbers). */
  holdoutBetter: 0 | 1;
  /** Not better, and not materially better either (judgeRefit's `immaterial`): 1, else 0. */
  holdoutImmaterial: 0 | 1;
  /** A routed segment's comparison with its fallback route (RouteComparison, by number). */
  routeCandidate?: number;
  routeFallback?: number;
  routeRows?: number;
  routeOthersCandidate?: number;
  routeOthersProduction?: number;
  routeOthersRows?: number;
}

/** Tells Temporal the activity is alive between long steps; outside an activity (tests, scripts) a no-op. */
function heartbeat(step: string): void {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return;
  }
  context.heartbeat(step);
}

function nonRetryable(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

/** The candidate registered under `key` by an earlier attempt, as that attempt answered. */
async function trainedWithKey(
  store: Store,
  model: Model,
  req: Pick<TrainCandidateRequest, 'key' | 'segment'>,
): Promise<Trained | null> {
  const found = await store.modelVersion.findFirst({
    where: { modelId: model.id, idempotencyKey: req.key },
    select: { version: true, metrics: true, trainingWindow: true },
  });
  if (!found) return null;
  return trainedResult(
    found.version,
    (found.trainingWindow as { rows: number }).rows,
    modelShape(model).task,
    found.metrics as unknown as StoredComparison,
    req.segment,
  );
}

function trainedResult(
  version: number,
  trainRows: number,
  task: Task,
  stored: StoredComparison,
  segment?: string,
): Trained {
  const metric = task === 'regression' ? 'rmse' : 'accuracy';
  const route: RouteComparison | null =
    segment !== undefined && stored.routeRows !== undefined
      ? {
          segment,
          metric,
          candidate: stored.routeCandidate!,
          route: stored.routeFallback!,
          rows: stored.routeRows,
          others: {
            candidate: stored.routeOthersCandidate!,
            production: stored.routeOthersProduction!,
            rows: stored.routeOthersRows!,
          },
        }
      : null;
  return {
    status: 'trained',
    version,
    trainRows,
    holdoutRows: stored.holdoutRows,
    metric,
    candidate: stored.holdoutCandidate,
    production: stored.holdoutProduction,
    pValue: stored.holdoutPValue,
    better: stored.holdoutBetter === 1,
    immaterial: stored.holdoutImmaterial === 1,
    ...(route ? { route } : {}),
  };
}

/** An inconclusive verdict as the workflow reads it: nothing registered, the rows that would show it. */
function inconclusive(
  rows: number,
  c: HoldoutComparison,
  verdict: Extract<RefitVerdict, { verdict: 'inconclusive' }>,
): TrainCandidateResult {
  return {
    status: 'inconclusive',
    rows,
    needed: verdict.rowsNeeded,
    metric: c.metric,
    candidate: c.candidate,
    production: c.production,
    pValue: c.pValue,
    holdoutRows: c.rows,
    why: verdict.why,
  };
}

interface LabelledRow {
  /** The prediction's id: a training on another worker names its rows by it. */
  id: string;
  features: FeatureRow;
  label: Label;
}

/**
 * The model's usable labelled rows received in [since, until] (or, with `latest`, the most recent `latest`
 * labelled rows received before `before`), oldest first (by prediction time, then id,
 * so that the order, and with it the split and the trained model, is the same on every attempt). Not
 * usable: shadow copies (another version's answers), rows ingestion flagged with quality problems or
 * whose features no longer pass the schema — with the ranges learnt from production's reference where
 * the schema gives none (never train on corrupted input) — and invalid labels.
 */
async function labelledRows(
  store: Store,
  model: Model,
  received: { since: Date; until: Date } | { before: Date; latest: number },
  reference: ReferenceProfile | null,
): Promise<LabelledRow[]> {
  const shape = modelShape(model);
  const violations = rowValidator(reference ? withLearnedRanges(shape.schema, reference) : shape.schema);
  const latest = 'latest' in received;
  const found = await store.prediction.findMany({
    where: {
      modelId: model.id,
      source: { in: ['gateway', 'logged'] },
      receivedAt: latest ? { lt: received.before } : { gte: received.since, lte: received.until },
      label: { isNot: null },
    },
    select: { id: true, features: true, quality: true, label: { select: { value: true } } },
    orderBy: latest ? [{ predictedAt: 'desc' }, { id: 'desc' }] : [{ predictedAt: 'asc' }, { id: 'asc' }],
    ...(latest ? { take: received.latest } : {}),
  });
  const rows = latest ? found.reverse() : found;
  const validLabel = (y: unknown): y is Label =>
    shape.task === 'regression'
      ? typeof y === 'number' && Number.isFinite(y)
      : (typeof y === 'string' || typeof y === 'number') && shape.classes.includes(String(y));
  const usable: LabelledRow[] = [];
  for (const row of rows) {
    const features = row.features as FeatureRow;
    const label = row.label!.value;
    if (row.quality !== null || violations(features).length > 0 || !validLabel(label)) continue;
    usable.push({ id: row.id, features, label });
  }
  return usable;
}

async function predict(artifact: ModelArtifact, rows: FeatureRow[]): Promise<ModelOutput[]> {
  return loadModel(artifact).predict(rows);
}

/** The paired scores of `outputs` on labelled rows, as the monitor scores served rows. */
function scoreOutputs(model: Model, set: TrainingSet, outputs: ModelOutput[]) {
  const scored = set.labels.map((label, i) =>
    outputRow({
      error: null,
      output: outputs[i],
      confidence: outputs[i]!.confidence,
      label: { value: label },
    }),
  );
  const scores = scored.map(rowScorer(modelShape(model).task, classesOf(model, scored)));
  // Built-in models always answer validly; a tested row left unscored would bias the comparison.
  const unscored = scores.filter((score) => score === null).length;
  if (unscored > 0) {
    throw nonRetryable('InvalidModelOutput', `a model gave no valid output on ${unscored} tested rows`);
  }
  return scores;
}

/** Candidate and production scored on the same rows. */
async function scoreBoth(
  model: Model,
  set: TrainingSet,
  candidate: ModelArtifact,
  production: ModelArtifact,
) {
  const [candidateOutputs, productionOutputs] = await Promise.all([
    predict(candidate, set.rows),
    predict(production, set.rows),
  ]);
  return {
    candidate: scoreOutputs(model, set, candidateOutputs),
    production: scoreOutputs(model, set, productionOutputs),
  };
}

/** Rows of a version's own traffic (canary) since an instant, as output rows. */
async function servedRows(store: Store, modelId: string, versionId: string, since: Date) {
  const rows = await store.prediction.findMany({
    where: {
      modelId,
      versionId,
      source: { in: ['gateway', 'logged'] },
      receivedAt: { gte: since },
      label: { isNot: null },
    },
    select: OUTPUT_FIELDS,
  });
  return rows.map(outputRow);
}

/** The counts the contract asks for: correct rows for classifiers, squared errors for regressors. */
function outcomeCounts(model: Model, rows: OutputRow[]): ServedCounts {
  const totals = scoreTotals(model, rows);
  return modelShape(model).task === 'regression'
    ? // The squared errors' sum of squares rides along for the canary's test (lib/recovery/judge.ts).
      {
        rows: totals.rows,
        sumSquaredError: totals.sumSquaredError,
        sumSquaredErrorSq: totals.sumSquaredErrorSq,
      }
    : { rows: totals.rows, correct: totals.correct };
}

/** The labelled rows a candidate trains and is judged on, with what they were read against. */
interface Collected {
  status: 'collected';
  model: Model;
  production: ProductionVersion;
  since: Date;
  until: Date;
  /** Every usable row since the onset, oldest first (the in-process rolling origin uses them all). */
  rows: LabelledRow[];
  /** A segment incident's: the other segments' rows before the onset, which only train (priorRowsWanted). */
  prior: LabelledRow[];
  training: TrainingSet;
  holdout: TrainingSet;
  trainingIds: string[];
  holdoutIds: string[];
  /** How many of the training rows are `prior` ones (before the onset), kept by the byte limit. */
  priorRows: number;
  /** A segment incident's segment the fallback route serves, with the route's version (beatsRoute). */
  route: Route | null;
}
type ProductionVersion = Awaited<ReturnType<typeof findVersion>>;

const dataset = (set: LabelledRow[]): TrainingSet => ({
  rows: set.map((r) => r.features),
  labels: set.map((r) => r.label),
});

/** The model's segment of that name (lib/segments), if it is still defined. */
function segmentNamed(model: Model, name: string): Segment | null {
  const defined = storedSegments(model.segments, model.featureSchema as unknown as FeatureSchema);
  return defined.find((s) => s.name === name) ?? null;
}

/** The fallback route a segment incident's candidate must beat on the segment's rows. */
interface Route {
  segment: Segment;
  artifact: ModelArtifact;
}

/**
 * The route serving the request's segment now: the fallback version, when the revision routes the
 * segment to it; none for a segment production serves (the comparison with production covers its rows).
 */
async function routeOf(
  store: Store,
  model: Model,
  req: TrainCandidateRequest,
  revision: Parameters<typeof specOf>[0],
): Promise<Route | null> {
  const spec = specOf(revision);
  if (req.segment === undefined || !spec.fallbackSegments.includes(req.segment)) return null;
  if (spec.fallbackVersionId === null) return null;
  const segment = segmentNamed(model, req.segment);
  if (!segment) return null;
  const fallback = await store.modelVersion.findUniqueOrThrow({ where: { id: spec.fallbackVersionId } });
  return { segment, artifact: parseModelArtifact(fallback.artifact) };
}

/**
 * The folds' scores a route comparison pools (refit-evidence.ts compareWithRoute): the candidate and the
 * route's version on the segment's rows of `set`, and from `both` (candidate and production on all of
 * `set`) the other rows.
 */
async function scoreOnRoute(
  model: Model,
  set: TrainingSet,
  both: FoldScores,
  candidate: ModelArtifact,
  route: Route,
): Promise<{ segment: FoldScores; others: FoldScores }> {
  const inside = set.rows.map((row) => inSegment(row, route.segment));
  const picked = inside.flatMap((yes, i) => (yes ? [i] : []));
  const others = scoresWhere(
    both,
    inside.map((yes) => !yes),
  );
  if (picked.length === 0) return { segment: { candidate: [], production: [] }, others };
  const rows = { rows: picked.map((i) => set.rows[i]!), labels: picked.map((i) => set.labels[i]!) };
  return { segment: await scoreBoth(model, rows, candidate, route.artifact), others };
}

/**
 * The candidate registered under the request's key by an earlier attempt; too few rows; or the rows to
 * train on (the oldest) and to hold out (the most recent `holdoutShare`). `maxTrainingBytes` keeps only
 * the most recent training rows whose JSON fits, for trainings whose rows travel in a Temporal payload.
 */
async function collect(
  store: Store,
  req: TrainCandidateRequest,
  maxTrainingBytes = Number.POSITIVE_INFINITY,
): Promise<TrainCandidateResult | Collected> {
  const model = await findModelOrFail(store, req.modelName);
  const done = await trainedWithKey(store, model, req);
  if (done) return done;

  const revision = await currentRevision(store, model.id);
  if (!revision?.productionVersionId) {
    throw nonRetryable('NoProductionVersion', `model "${model.name}" has no production version to retrain`);
  }
  const production = await store.modelVersion.findUniqueOrThrow({
    where: { id: revision.productionVersionId },
  });
  const since = new Date(req.since);
  const until = new Date();
  const stored = production.referenceStats as ReferenceProfile | null;
  const reference = stored?.format === REFERENCE_PROFILE_FORMAT ? stored : null;
  const rows = await labelledRows(store, model, { since, until }, reference);
  const held = Math.round(rows.length * req.holdoutShare);
  if (rows.length < req.minRows || held < 1 || rows.length - held < 2) {
    return { status: 'insufficient', rows: rows.length, needed: req.minRows };
  }
  const segment = req.segment === undefined ? null : segmentNamed(model, req.segment);
  const latest = segment ? priorRowsWanted(req.maxRows, rows.length) : 0;
  const prior =
    segment && latest > 0
      ? (await labelledRows(store, model, { before: since, latest }, reference)).filter(
          (r) => !inSegment(r.features, segment),
        )
      : [];
  const holdout = rows.slice(rows.length - held);
  const training = mostRecentWithin([...prior, ...rows.slice(0, rows.length - held)], maxTrainingBytes);
  return {
    status: 'collected',
    model,
    production,
    since,
    until,
    rows,
    prior,
    training: dataset(training),
    holdout: dataset(holdout),
    trainingIds: training.map((r) => r.id),
    holdoutIds: holdout.map((r) => r.id),
    priorRows: Math.max(0, training.length - (rows.length - held)),
    route: await routeOf(store, model, req, revision),
  };
}

/** The most recent rows whose features and labels take at most `maxBytes` of JSON. */
function mostRecentWithin(rows: LabelledRow[], maxBytes: number): LabelledRow[] {
  let bytes = 0;
  let first = rows.length;
  while (first > 0) {
    const row = rows[first - 1]!;
    bytes += JSON.stringify(row.features).length + JSON.stringify(row.label).length + 2;
    if (bytes > maxBytes) break;
    first--;
  }
  return rows.slice(first);
}

/** Labelled rows by prediction id, in the order of the ids (a remote training's rows, read again). */
async function rowsWithIds(store: Store, model: Model, ids: string[]): Promise<TrainingSet> {
  const found = await queryInSlices(ids, (slice) =>
    store.prediction.findMany({
      where: { modelId: model.id, id: { in: slice }, label: { isNot: null } },
      select: { id: true, features: true, label: { select: { value: true } } },
    }),
  );
  const byId = new Map(found.map((row) => [row.id, row]));
  const rows = ids.map((id) => byId.get(id));
  const missing = rows.filter((row) => row === undefined).length;
  if (missing > 0) {
    throw nonRetryable('TrainingSetChanged', `${missing} rows of the training set are gone or unlabelled`);
  }
  return {
    rows: rows.map((row) => row!.features as FeatureRow),
    labels: rows.map((row) => row!.label!.value as Label),
  };
}

/** The model's trainer for this retrain, from its policy (`retrain.trainer`) and production's artifact. */
async function inProcessTrainer(store: Store, model: Model, production: ProductionVersion) {
  const { trainer } = (await readPolicy(store, model.id)).policy.retrain;
  if (pythonPipelineOf(trainer)) {
    throw nonRetryable('WrongTrainer', `${trainer} trains on the Python worker, not in this activity`);
  }
  const artifact = parseModelArtifact(production.artifact);
  const builtIn = builtInTrainerOf(artifact);
  if (!builtIn) {
    throw nonRetryable(
      'NotRetrainable',
      `production version ${production.version} is ${artifact.kind === 'http' ? 'served by an HTTP model server' : 'an ONNX model made by its own pipeline'}; Homeostat has no built-in trainer for it (name one in the policy's retrain.trainer: ${PYTHON_TRAINER_PREFIX}<pipeline>)`,
    );
  }
  return builtIn;
}

/**
 * Registers a judged candidate (status candidate, lineage, reference profile of its training rows and
 * metrics on its validation rows, the comparison), keyed so that a retry answers the same candidate.
 */
async function register(
  store: Store,
  req: TrainCandidateRequest,
  { model, production, since, until }: Pick<Collected, 'model' | 'production' | 'since' | 'until'>,
  candidate: ModelArtifact,
  sets: { training: TrainingSet; validation: TrainingSet; reference?: TrainingSet },
  stored: StoredComparison,
): Promise<TrainCandidateResult> {
  heartbeat('registering');
  // The version and the key that finds it again are written together: a crash leaves both or neither,
  // and the key is unique, so of two attempts with one key running at once (a retry started while a
  // slow first attempt still runs) only one registers, and the other answers with its candidate.
  const trainingWindow = { from: since.toISOString(), to: until.toISOString() };
  let version: number;
  try {
    version = await store.$transaction(async (tx) => {
      await takeWriteLock(tx);
      const registered = await inRegistry(() =>
        registerVersion(tx as Store, model.name, {
          artifact: candidate,
          data: sets.reference ?? sets.training,
          validation: sets.validation,
          metrics: { ...stored },
          trainingWindow,
          parentVersion: production.version,
          incidentId: req.incidentId ?? undefined,
        }),
      );
      await tx.modelVersion.update({
        where: { id: registered.id },
        data: {
          idempotencyKey: req.key,
          trainingWindow: { ...trainingWindow, rows: sets.training.rows.length, key: req.key },
        },
      });
      return registered.version;
    }, REGISTER_TRANSACTION);
  } catch (error) {
    // The other attempt's commit is what made this one fail (its key or its version number came
    // first; PostgreSQL then aborts the whole transaction): answer with its candidate.
    const other = await trainedWithKey(store, model, req);
    if (!other) throw error;
    return other;
  }
  return trainedResult(version, sets.training.rows.length, modelShape(model).task, stored, req.segment);
}

function storedComparison(
  c: HoldoutComparison,
  verdict: RefitVerdict,
  route: RouteComparison | null,
): StoredComparison {
  return {
    ...(route
      ? {
          routeCandidate: route.candidate,
          routeFallback: route.route,
          routeRows: route.rows,
          routeOthersCandidate: route.others.candidate,
          routeOthersProduction: route.others.production,
          routeOthersRows: route.others.rows,
        }
      : {}),
    holdoutCandidate: c.candidate,
    holdoutProduction: c.production,
    holdoutPValue: c.pValue,
    holdoutRows: c.rows,
    holdoutBetter: verdict.verdict === 'better' ? 1 : 0,
    holdoutImmaterial: verdict.verdict === 'not-better' && verdict.immaterial ? 1 : 0,
  };
}

/**
 * The training rows of a training on another worker (the Python one) travel in Temporal payloads, which
 * the server refuses above 2 MB by default: the most recent rows that fit in this much JSON (about 4,000
 * rows of the credit demo's 14 features). The held-out rows stay here and are named by id.
 */
export const MAX_REMOTE_TRAINING_BYTES = 1_000_000;

/** What registerCandidate needs to find a remote training's rows again: their ids, and production. */
export interface TrainingSetRef {
  productionVersion: number;
  until: string;
  trainingIds: string[];
  holdoutIds: string[];
  /** The first this many training rows are a segment incident's prior rows, not rows since the onset. */
  priorRows?: number;
}

/** A remote training's rows, as collectTrainingSet answers them. */
export interface RemoteTrainingSet extends TrainingSetRef {
  status: 'collected';
  task: Task;
  schema: FeatureSchema;
  classes: string[];
  training: TrainingSet;
}

export interface RegisterCandidateRequest extends TrainCandidateRequest {
  collected: TrainingSetRef;
  candidate: ModelArtifact;
}

export function createRetrainActivities(store: Store) {
  return {
    /**
     * Trains a candidate on the labelled rows since `since` with production's built-in kind and options
     * (a `python:<pipeline>` trainer goes through collectTrainingSet instead), holds out the
     * most recent `holdoutShare` of them, and registers and compares it (`register` above).
     * Idempotent per key: the candidate registered under the key is answered again, never a second one.
     */
    async trainCandidate(req: TrainCandidateRequest): Promise<TrainCandidateResult> {
      const collected = await collect(store, req);
      if (collected.status !== 'collected') return collected;
      const { model, production, rows, prior, route } = collected;
      const trainer = await inProcessTrainer(store, model, production);
      const shape = modelShape(model);
      const productionArtifact = parseModelArtifact(production.artifact);
      const folds = rollingOriginFolds(rows.length, req.holdoutShare);
      const train = async (set: TrainingSet) => {
        try {
          // Production's own options: a random forest's seed makes the same rows give the same candidate.
          return await trainModelInThread(
            trainer.kind,
            shape.task,
            shape.schema,
            set,
            trainer.options as never,
          );
        } catch (error) {
          throw nonRetryable(
            'TrainingFailed',
            `${trainer.kind} training failed: ${(error as Error).message}`,
          );
        }
      };
      // Rolling origin (lib/recovery/refit-evidence.ts). The last fold's candidate, trained on every row
      // before the last segment, is the one registered, with that segment as its honest validation set.
      const trained: ModelArtifact[] = [];
      const onRoute: { segment: FoldScores; others: FoldScores }[] = [];
      const comparison = await compareRollingOrigin(shape.task, folds, async (fold) => {
        heartbeat(`training on ${fold.trainEnd} rows`);
        const candidate = await train(dataset([...prior, ...rows.slice(0, fold.trainEnd)]));
        trained.push(candidate);
        const tested = dataset(rows.slice(fold.trainEnd, fold.testEnd));
        const both = await scoreBoth(model, tested, candidate, productionArtifact);
        if (route) onRoute.push(await scoreOnRoute(model, tested, both, candidate, route));
        return both;
      });
      const routed = route
        ? compareWithRoute(
            shape.task,
            route.segment.name,
            onRoute.map((f) => f.segment),
            onRoute.map((f) => f.others),
          )
        : null;
      const refit = judgeRefit(comparison, {
        alpha: req.alpha,
        rows: rows.length,
        testShare: req.holdoutShare,
        maxRows: req.maxRows,
        materialGain: req.materialGain,
      });
      if (refit.verdict === 'inconclusive') return inconclusive(rows.length, comparison, refit);
      const verdict = judgeWithRoute(refit, routed, req.materialGain);
      const last = folds.at(-1)!;
      return register(
        store,
        req,
        collected,
        trained.at(-1)!,
        {
          training: dataset([...prior, ...rows.slice(0, last.trainEnd)]),
          validation: dataset(rows.slice(last.trainEnd, last.testEnd)),
          // The reference profile is of live traffic's mix: the rows since the onset, not the prior ones
          // (which lack the segment's rows, and would show the segment's share as a drift of its feature).
          reference: dataset(rows.slice(0, last.trainEnd)),
        },
        storedComparison(comparison, verdict, routed),
      );
    },

    /**
     * The first half of a training on the Python worker: the rows to train on and hold out (or the
     * candidate already registered under the key, or too few rows), as trainCandidate would use them.
     */
    async collectTrainingSet(req: TrainCandidateRequest): Promise<TrainCandidateResult | RemoteTrainingSet> {
      const collected = await collect(store, req, MAX_REMOTE_TRAINING_BYTES);
      if (collected.status !== 'collected') return collected;
      const shape = modelShape(collected.model);
      return {
        status: 'collected',
        productionVersion: collected.production.version,
        until: collected.until.toISOString(),
        trainingIds: collected.trainingIds,
        holdoutIds: collected.holdoutIds,
        priorRows: collected.priorRows,
        task: shape.task,
        schema: shape.schema,
        classes: shape.classes,
        training: collected.training,
      };
    },

    /** The second half: the candidate the Python worker trained, compared and registered as trainCandidate's. */
    async registerCandidate(req: RegisterCandidateRequest): Promise<TrainCandidateResult> {
      const model = await findModelOrFail(store, req.modelName);
      const done = await trainedWithKey(store, model, req);
      if (done) return done;
      const candidate = modelArtifactSchema.safeParse(req.candidate);
      if (!candidate.success) {
        throw nonRetryable(
          'TrainingFailed',
          `the trained candidate is invalid: ${describeIssues(candidate.error)}`,
        );
      }
      const production = await inRegistry(() => findVersion(store, model, req.collected.productionVersion));
      const { trainingIds, holdoutIds, until } = req.collected;
      const training = await rowsWithIds(store, model, trainingIds);
      const holdout = await rowsWithIds(store, model, holdoutIds);
      heartbeat('scoring');
      const scores = await scoreBoth(model, holdout, candidate.data, parseModelArtifact(production.artifact));
      const comparison = compareScores(modelShape(model).task, scores.candidate, scores.production);
      const route = await routeOf(store, model, req, await currentRevision(store, model.id));
      const onRoute = route ? await scoreOnRoute(model, holdout, scores, candidate.data, route) : null;
      const routed =
        route && onRoute
          ? compareWithRoute(modelShape(model).task, route.segment.name, [onRoute.segment], [onRoute.others])
          : null;
      // One holdout, not a rolling origin: the Python worker trains once. The same verdict, on those rows.
      const rows = trainingIds.length - (req.collected.priorRows ?? 0) + holdoutIds.length;
      const refit = judgeRefit(comparison, {
        alpha: req.alpha,
        rows,
        testShare: req.holdoutShare,
        maxRows: req.maxRows,
        materialGain: req.materialGain,
      });
      if (refit.verdict === 'inconclusive') return inconclusive(rows, comparison, refit);
      return register(
        store,
        req,
        { model, production, since: new Date(req.since), until: new Date(until) },
        candidate.data,
        {
          training,
          validation: holdout,
          reference: {
            rows: training.rows.slice(req.collected.priorRows ?? 0),
            labels: training.labels.slice(req.collected.priorRows ?? 0),
          },
        },
        storedComparison(comparison, judgeWithRoute(refit, routed, req.materialGain), routed),
      );
    },

    /**
     * Labelled outcomes since `since` of the candidate and of production. canary: each version's own
     * traffic. shadow: the candidate's shadow scores against the label of the request production served,
     * beside production's own answer to it; only requests both answered usably count, so the two arms
     * cover the same rows.
     */
    async compareServed(req: ServedComparisonRequest): Promise<ServedComparison> {
      const model = await findModelOrFail(store, req.modelName);
      const [candidate, baseline] = await Promise.all([
        inRegistry(() => findVersion(store, model, req.candidateVersion)),
        inRegistry(() => findVersion(store, model, req.baselineVersion)),
      ]);
      const since = new Date(req.since);
      const metric = modelShape(model).task === 'regression' ? 'rmse' : 'accuracy';
      if (req.mode === 'canary') {
        const [candidateRows, baselineRows] = await Promise.all([
          servedRows(store, model.id, candidate.id, since),
          servedRows(store, model.id, baseline.id, since),
        ]);
        return {
          metric,
          candidate: outcomeCounts(model, candidateRows),
          baseline: outcomeCounts(model, baselineRows),
        };
      }
      const shadows = await store.prediction.findMany({
        where: { modelId: model.id, versionId: candidate.id, source: 'shadow', receivedAt: { gte: since } },
        select: { error: true, output: true, confidence: true, shadowOf: true },
      });
      const primaries = await queryInSlices(
        shadows.map((s) => s.shadowOf).filter((id) => id !== null),
        (slice) =>
          store.prediction.findMany({
            where: { modelId: model.id, id: { in: slice }, versionId: baseline.id, label: { isNot: null } },
            select: { id: true, ...OUTPUT_FIELDS },
          }),
      );
      const primaryById = new Map(primaries.map((p) => [p.id, outputRow(p)]));
      const pairs = shadows.flatMap((s) => {
        const primary = s.shadowOf === null ? undefined : primaryById.get(s.shadowOf);
        return primary ? [{ shadow: outputRow({ ...s, label: primary.label }), primary }] : [];
      });
      const score = rowScorer(
        modelShape(model).task,
        classesOf(
          model,
          pairs.flatMap((p) => [p.shadow, p.primary]),
        ),
      );
      const scorable = pairs.filter((p) => score(p.shadow) !== null && score(p.primary) !== null);
      return {
        metric,
        candidate: outcomeCounts(
          model,
          scorable.map((p) => p.shadow),
        ),
        baseline: outcomeCounts(
          model,
          scorable.map((p) => p.primary),
        ),
      };
    },
  };
}
