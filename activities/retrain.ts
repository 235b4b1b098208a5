// Retraining and candidate comparison: train a candidate on the labelled traffic since a failure's onset
// and compare it with production on the most recent of those rows, held out; and count the labelled
// outcomes of the rows a canary or shadow candidate served beside production.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Store } from '../lib/db/client.ts';
import type { FeatureRow } from '../lib/domain.ts';
import { queryInSlices } from '../lib/ingest/limits.ts';
import { rowValidator } from '../lib/ingest/validate.ts';
import {
  builtInTrainerOf,
  type Label,
  loadModel,
  type ModelArtifact,
  type ModelOutput,
  parseModelArtifact,
  trainModel,
} from '../lib/models/index.ts';
import type { OutputRow } from '../lib/monitor/outputs.ts';
import { compareScores } from '../lib/recovery/compare.ts';
import type { ServedCounts } from '../lib/recovery/judge.ts';
import { rowScorer } from '../lib/recovery/outcomes.ts';
import { currentRevision } from '../lib/registry/revisions.ts';
import { findVersion, modelShape, registerVersion } from '../lib/registry/versions.ts';
import type {
  ServedComparison,
  ServedComparisonRequest,
  TrainCandidateRequest,
  TrainCandidateResult,
} from './contracts.ts';
import { classesOf, OUTPUT_FIELDS, outputRow, scoreTotals } from './evidence.ts';
import { findModelOrFail, inRegistry } from './incidents.ts';

type Model = Awaited<ReturnType<typeof findModelOrFail>>;
type Trained = Extract<TrainCandidateResult, { status: 'trained' }>;

/** Registering scores the training and held-out rows inside the transaction: allow it time. */
const REGISTER_TRANSACTION_TIMEOUT_MS = 120_000;

/** The comparison kept in the candidate's metrics (registerVersion stores numbers there exactly). */
interface StoredComparison {
  holdoutCandidate: number;
  holdoutProduction: number;
  holdoutPValue: number;
  holdoutRows: number;
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
async function trainedWithKey(store: Store, model: Model, key: string): Promise<Trained | null> {
  const found = await store.modelVersion.findFirst({
    where: { modelId: model.id, idempotencyKey: key },
    select: { version: true, metrics: true, trainingWindow: true },
  });
  if (!found) return null;
  const metrics = found.metrics as unknown as StoredComparison;
  return {
    status: 'trained',
    version: found.version,
    trainRows: (found.trainingWindow as { rows: number }).rows,
    holdoutRows: metrics.holdoutRows,
    metric: modelShape(model).task === 'regression' ? 'rmse' : 'accuracy',
    candidate: metrics.holdoutCandidate,
    production: metrics.holdoutProduction,
    pValue: metrics.holdoutPValue,
  };
}

interface LabelledRow {
  features: FeatureRow;
  label: Label;
}

/**
 * The model's usable labelled rows received in [since, until], oldest first (by prediction time, then id,
 * so that the order, and with it the split and the trained model, is the same on every attempt). Not
 * usable: shadow copies (another version's answers), rows ingestion flagged with quality problems or
 * whose features no longer pass the schema (never train on corrupted input), invalid labels.
 */
async function labelledRows(store: Store, model: Model, since: Date, until: Date): Promise<LabelledRow[]> {
  const shape = modelShape(model);
  const violations = rowValidator(shape.schema);
  const rows = await store.prediction.findMany({
    where: {
      modelId: model.id,
      source: { in: ['gateway', 'logged'] },
      receivedAt: { gte: since, lte: until },
      label: { isNot: null },
    },
    select: { id: true, features: true, quality: true, label: { select: { value: true } } },
    orderBy: [{ predictedAt: 'asc' }, { id: 'asc' }],
  });
  const validLabel = (y: unknown): y is Label =>
    shape.task === 'regression'
      ? typeof y === 'number' && Number.isFinite(y)
      : (typeof y === 'string' || typeof y === 'number') && shape.classes.includes(String(y));
  const usable: LabelledRow[] = [];
  for (const row of rows) {
    const features = row.features as FeatureRow;
    const label = row.label!.value;
    if (row.quality !== null || violations(features).length > 0 || !validLabel(label)) continue;
    usable.push({ features, label });
  }
  return usable;
}

async function predict(artifact: ModelArtifact, rows: FeatureRow[]): Promise<ModelOutput[]> {
  return loadModel(artifact).predict(rows);
}

/** Candidate and production on the same held-out rows: the metric of each and the paired test. */
function compareOnHoldout(
  model: Model,
  holdout: LabelledRow[],
  candidate: ModelOutput[],
  production: ModelOutput[],
): Omit<StoredComparison, 'holdoutRows'> {
  const task = modelShape(model).task;
  const scoreAll = (outputs: ModelOutput[]) => {
    const rows = holdout.map((row, i) =>
      outputRow({
        error: null,
        output: outputs[i],
        confidence: outputs[i]!.confidence,
        label: { value: row.label },
      }),
    );
    return rows.map(rowScorer(task, classesOf(model, rows)));
  };
  const compared = compareScores(task, scoreAll(candidate), scoreAll(production));
  // Built-in models always answer validly; a held-out row left unscored would bias the comparison.
  if (compared.rows !== holdout.length) {
    throw nonRetryable(
      'InvalidModelOutput',
      `a model gave no valid output on ${holdout.length - compared.rows} held-out rows`,
    );
  }
  return {
    holdoutCandidate: compared.candidate,
    holdoutProduction: compared.production,
    holdoutPValue: compared.pValue,
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

export function createRetrainActivities(store: Store) {
  return {
    /**
     * Trains a candidate on the labelled rows since `since` with production's trainer and options, holds
     * out the most recent `holdoutShare` of them, registers the candidate (status candidate, lineage,
     * reference profile and held-out metrics) and compares it with production on the held-out rows.
     * Idempotent per key: the candidate registered under the key is answered again, never a second one.
     */
    async trainCandidate(req: TrainCandidateRequest): Promise<TrainCandidateResult> {
      const model = await findModelOrFail(store, req.modelName);
      const done = await trainedWithKey(store, model, req.key);
      if (done) return done;

      const revision = await currentRevision(store, model.id);
      if (!revision?.productionVersionId) {
        throw nonRetryable(
          'NoProductionVersion',
          `model "${model.name}" has no production version to retrain`,
        );
      }
      const production = await store.modelVersion.findUniqueOrThrow({
        where: { id: revision.productionVersionId },
      });
      const artifact = parseModelArtifact(production.artifact);
      const trainer = builtInTrainerOf(artifact);
      if (!trainer) {
        throw nonRetryable(
          'NotRetrainable',
          `production version ${production.version} is ${artifact.kind === 'http' ? 'served by an HTTP model server' : 'an ONNX model made by its own pipeline'}; Homeostat has no built-in trainer for it`,
        );
      }

      const since = new Date(req.since);
      const until = new Date();
      const rows = await labelledRows(store, model, since, until);
      const held = Math.round(rows.length * req.holdoutShare);
      if (rows.length < req.minRows || held < 1 || rows.length - held < 2) {
        return { status: 'insufficient', rows: rows.length, needed: req.minRows };
      }
      const training = rows.slice(0, rows.length - held);
      const holdout = rows.slice(rows.length - held);
      const shape = modelShape(model);
      const dataset = (set: LabelledRow[]) => ({
        rows: set.map((r) => r.features),
        labels: set.map((r) => r.label),
      });

      heartbeat('training');
      let candidate: ModelArtifact;
      try {
        // Production's own options: a random forest's seed makes the same rows give the same candidate.
        candidate = await trainModel(
          trainer.kind,
          shape.task,
          shape.schema,
          dataset(training),
          trainer.options as never,
        );
      } catch (error) {
        throw nonRetryable('TrainingFailed', `${trainer.kind} training failed: ${(error as Error).message}`);
      }
      heartbeat('scoring');
      const holdoutFeatures = holdout.map((r) => r.features);
      const [candidateOutputs, productionOutputs] = await Promise.all([
        predict(candidate, holdoutFeatures),
        predict(artifact, holdoutFeatures),
      ]);
      const stored: StoredComparison = {
        ...compareOnHoldout(model, holdout, candidateOutputs, productionOutputs),
        holdoutRows: holdout.length,
      };

      heartbeat('registering');
      // The version and the key that finds it again are written together: a crash leaves both or neither,
      // and the key is unique, so of two attempts with one key running at once (a retry started while a
      // slow first attempt still runs) only one registers, and the other answers with its candidate.
      const trainingWindow = { from: since.toISOString(), to: until.toISOString() };
      let version: number;
      try {
        version = await store.$transaction(
          async (tx) => {
            const registered = await inRegistry(() =>
              registerVersion(tx as Store, model.name, {
                artifact: candidate,
                data: dataset(training),
                validation: dataset(holdout),
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
                trainingWindow: { ...trainingWindow, rows: training.length, key: req.key },
              },
            });
            return registered.version;
          },
          { timeout: REGISTER_TRANSACTION_TIMEOUT_MS },
        );
      } catch (error) {
        // The other attempt's commit is what made this one fail (its key or its version number came
        // first; PostgreSQL then aborts the whole transaction): answer with its candidate.
        const other = await trainedWithKey(store, model, req.key);
        if (!other) throw error;
        return other;
      }
      return {
        status: 'trained',
        version,
        trainRows: training.length,
        holdoutRows: stored.holdoutRows,
        metric: shape.task === 'regression' ? 'rmse' : 'accuracy',
        candidate: stored.holdoutCandidate,
        production: stored.holdoutProduction,
        pValue: stored.holdoutPValue,
      };
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
