// Ingestion of predictions logged by the user's own serving stack, and of ground truth arriving later.
// A batch is all-or-nothing: either every row is stored or the answer says precisely which rows are
// wrong and nothing is written. Feature values are checked against the model's schema and, as the
// model's `onInvalid` says, rejected with per-field issues or stored and flagged (Prediction.quality);
// every refusal is counted by reason (lib/ingest/counters.ts).
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import type { Store } from '../../lib/db/client.ts';
import { type FeatureValue, featureValueSchema, versionNumberSchema } from '../../lib/domain.ts';
import {
  countFlagged,
  countRejected,
  type IngestEndpoint,
  type RejectionReason,
} from '../../lib/ingest/counters.ts';
import { batchTooLarge, MAX_ERROR_LENGTH, MAX_ID_LENGTH, queryInSlices } from '../../lib/ingest/limits.ts';
import { insertPredictions, isUniqueViolation } from '../../lib/ingest/prediction-writer.ts';
import {
  countByProblem,
  type FeatureViolation,
  type OnInvalid,
  type RowValidator,
  rowValidator,
  storedQuality,
  violationIssues,
} from '../../lib/ingest/validate.ts';
import { modelShape } from '../../lib/registry/versions.ts';
import type { ApiContext } from '../context.ts';
import { HttpError, parseOrThrow } from '../errors.ts';
import { findModelOr404 } from '../models.ts';

const timestamp = z.iso.datetime({ offset: true });
const predictionId = z.string().min(1).max(MAX_ID_LENGTH);

export const loggedPredictionSchema = z
  .strictObject({
    id: predictionId,
    features: z.record(z.string(), featureValueSchema),
    /** Absent when the model failed (then `error` says why). */
    prediction: z.union([z.string(), z.number()]).optional(),
    confidence: z.number().min(0).max(1).optional(),
    probabilities: z.record(z.string(), z.number().min(0).max(1)).optional(),
    latencyMs: z.number().min(0).optional(),
    /** The serving stack's error for a failed inference. */
    error: z.string().min(1).max(MAX_ERROR_LENGTH).optional(),
    /** The version that served it: its registry number, or its id. */
    version: versionNumberSchema.optional(),
    versionId: z.string().min(1).max(MAX_ID_LENGTH).optional(),
    ts: timestamp.optional(),
  })
  .superRefine((p, ctx) => {
    if (p.prediction === undefined && p.error === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['prediction'],
        message: 'give the prediction, or the error if it failed',
      });
    }
    if (p.version !== undefined && p.versionId !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['versionId'], message: 'give version or versionId, not both' });
    }
  })
  // The same rules, for the OpenAPI document.
  .meta({
    anyOf: [{ required: ['prediction'] }, { required: ['error'] }],
    not: { required: ['version', 'versionId'] },
  });

export const predictionsBody = z.strictObject({ predictions: z.array(loggedPredictionSchema).min(1) });

export const labelSchema = z.strictObject({
  predictionId,
  label: z.union([z.string(), z.number()]),
  ts: timestamp.optional(),
});

export const labelsBody = z.strictObject({ labels: z.array(labelSchema).min(1) });

interface ScreenedModel {
  name: string;
  onInvalid: OnInvalid;
}

/**
 * Checks every row's features. With onInvalid 'reject' any violation refuses the whole request (400 with
 * one issue per field, e.g. `body.rows.3.features.income`); with 'flag' the violations are returned to be
 * stored with the rows. Either way they are counted.
 */
export function screenFeatures(
  model: ScreenedModel,
  validate: RowValidator,
  endpoint: IngestEndpoint,
  rows: { features: Record<string, FeatureValue>; path: string }[],
): FeatureViolation[][] {
  const violations = rows.map((row) => validate(row.features));
  const all = violations.flat();
  if (all.length === 0) return violations;
  const count = model.onInvalid === 'reject' ? countRejected : countFlagged;
  for (const [problem, n] of countByProblem(all)) count(model.name, endpoint, problem, n);
  if (model.onInvalid === 'reject') {
    const rowsWith = violations.filter((v) => v.length > 0).length;
    throw new HttpError(
      400,
      'invalid_features',
      `${all.length} invalid feature value(s) in ${rowsWith} row(s); model "${model.name}" rejects invalid input (onInvalid: reject), nothing was stored`,
      violations.flatMap((v, i) => violationIssues(v, rows[i]!.path)),
    );
  }
  return violations;
}

/** Parses a body whose list may be oversized; refusals are counted. */
function parseBatch<S extends z.ZodType>(
  schema: S,
  body: unknown,
  list: 'predictions' | 'labels',
  count: (reason: RejectionReason, n?: number) => void,
): z.infer<S> {
  const tooLarge = batchTooLarge((body as Record<string, unknown> | undefined)?.[list], list);
  if (tooLarge) {
    count('batch_too_large');
    throw new HttpError(400, 'batch_too_large', tooLarge);
  }
  try {
    return parseOrThrow(schema, body);
  } catch (error) {
    count('invalid_request');
    throw error;
  }
}

function duplicatesIn(ids: string[]): string[] {
  const seen = new Set<string>();
  return [...new Set(ids.filter((id) => seen.has(id) || !seen.add(id)))];
}

/** A batch that names an id twice is refused whole (400), each repeated id with its path, and counted. */
function refuseRepeatedIds(
  ids: string[],
  pathOf: (id: string) => string,
  count: (reason: RejectionReason, n?: number) => void,
): void {
  const repeated = duplicatesIn(ids);
  if (!repeated.length) return;
  count('duplicate_id', repeated.length);
  throw new HttpError(
    400,
    'duplicate_ids',
    'prediction ids repeat within the batch',
    repeated.map((id) => ({ path: pathOf(id), message: 'repeated id' })),
  );
}

/** Stored served predictions (shadow copies take no labels) among `ids`, and whether each is labelled. */
async function labelTargets(store: Store, modelId: string, ids: string[]) {
  const rows = await queryInSlices(ids, (slice) =>
    store.prediction.findMany({
      where: { modelId, id: { in: slice }, source: { not: 'shadow' } },
      select: { id: true, label: { select: { id: true } } },
    }),
  );
  return new Map(rows.map((r) => [r.id, r.label !== null]));
}

/** Ids the model already has: a prediction id is unique within its model, and other models' are no concern. */
async function storedIds(store: Store, modelId: string, ids: string[]): Promise<string[]> {
  const rows = await queryInSlices(ids, (slice) =>
    store.prediction.findMany({ where: { modelId, id: { in: slice } }, select: { id: true } }),
  );
  return rows.map((r) => r.id);
}

export function ingestRoutes({ store }: ApiContext): Router {
  const router = Router({ mergeParams: true });

  const ingestPredictions = async (req: Request<{ model: string }>, res: Response) => {
    const model = await findModelOr404(store, req.params.model);
    const count = (reason: RejectionReason, n = 1) => countRejected(model.name, 'predictions', reason, n);
    const { predictions } = parseBatch(predictionsBody, req.body, 'predictions', count);

    const ids = predictions.map((p) => p.id);
    refuseRepeatedIds(ids, (id) => `body.predictions[id=${id}]`, count);

    const shape = modelShape(model);
    const wrongOutput = predictions.flatMap((p, i) => {
      if (p.prediction === undefined) return [];
      if (shape.task === 'regression' && typeof p.prediction !== 'number') {
        return [
          { path: `body.predictions.${i}.prediction`, message: 'a regression prediction must be a number' },
        ];
      }
      if (shape.task !== 'regression' && !shape.classes.includes(String(p.prediction))) {
        return [
          { path: `body.predictions.${i}.prediction`, message: `must be one of ${shape.classes.join(', ')}` },
        ];
      }
      return [];
    });
    if (wrongOutput.length) {
      count('invalid_prediction', wrongOutput.length);
      throw new HttpError(400, 'invalid_prediction', 'predictions of the wrong type', wrongOutput);
    }

    const violations = screenFeatures(
      { name: model.name, onInvalid: model.onInvalid as OnInvalid },
      rowValidator(shape.schema),
      'predictions',
      predictions.map((p, i) => ({ features: p.features, path: `body.predictions.${i}.features` })),
    );

    // The serving version, by number or id, must be one of this model's.
    const numbers = [...new Set(predictions.flatMap((p) => (p.version === undefined ? [] : [p.version])))];
    const versionIds = [
      ...new Set(predictions.flatMap((p) => (p.versionId === undefined ? [] : [p.versionId]))),
    ];
    const versions =
      numbers.length || versionIds.length
        ? await store.modelVersion.findMany({
            where: { modelId: model.id, OR: [{ version: { in: numbers } }, { id: { in: versionIds } }] },
            select: { id: true, version: true },
          })
        : [];
    const idOfNumber = new Map(versions.map((v) => [v.version, v.id]));
    const knownIds = new Set(versions.map((v) => v.id));
    const unknownVersions = predictions.flatMap((p, i) => {
      if (p.version !== undefined && !idOfNumber.has(p.version)) {
        return [{ path: `body.predictions.${i}.version`, message: `no version ${p.version} of this model` }];
      }
      if (p.versionId !== undefined && !knownIds.has(p.versionId)) {
        return [{ path: `body.predictions.${i}.versionId`, message: 'no such version of this model' }];
      }
      return [];
    });
    if (unknownVersions.length) {
      count('unknown_version', unknownVersions.length);
      throw new HttpError(
        422,
        'unknown_version',
        `${unknownVersions.length} prediction(s) name a version this model does not have; nothing was stored`,
        unknownVersions,
      );
    }

    const conflict = async () => {
      const taken = await storedIds(store, model.id, ids);
      count('prediction_exists', taken.length);
      return new HttpError(
        409,
        'prediction_exists',
        `${taken.length} prediction id(s) were already ingested; nothing from this batch was stored`,
        taken.map((id) => ({ path: `body.predictions[id=${id}]`, message: 'already ingested' })),
      );
    };
    if ((await storedIds(store, model.id, ids)).length) throw await conflict();
    const now = new Date();
    try {
      await insertPredictions(
        store,
        predictions.map((p, i) => ({
          id: p.id,
          modelId: model.id,
          versionId: p.versionId ?? (p.version === undefined ? null : idOfNumber.get(p.version)!),
          source: 'logged',
          features: p.features,
          output:
            p.prediction === undefined
              ? null
              : { prediction: p.prediction, ...(p.probabilities ? { probabilities: p.probabilities } : {}) },
          confidence: p.confidence ?? null,
          latencyMs: p.latencyMs ?? null,
          error: p.error ?? null,
          quality: storedQuality(violations[i]!),
          shadowOf: null,
          predictedAt: p.ts ? new Date(p.ts) : now,
        })),
      );
    } catch (err) {
      if (isUniqueViolation(err)) throw await conflict(); // a concurrent batch stored some of these ids
      throw err;
    }
    const flagged = violations.filter((v) => v.length > 0).length;
    res.status(202).json({ accepted: predictions.length, ...(flagged ? { flagged } : {}) });
  };

  const ingestLabels = async (req: Request<{ model: string }>, res: Response) => {
    const model = await findModelOr404(store, req.params.model);
    const count = (reason: RejectionReason, n = 1) => countRejected(model.name, 'labels', reason, n);
    const { labels } = parseBatch(labelsBody, req.body, 'labels', count);
    const classes = Array.isArray(model.labels) ? (model.labels as string[]) : null;
    const typeIssues = labels.flatMap((l, i) => {
      if (classes && !classes.includes(String(l.label))) {
        return [{ path: `body.labels.${i}.label`, message: `must be one of ${classes.join(', ')}` }];
      }
      if (!classes && typeof l.label !== 'number') {
        return [{ path: `body.labels.${i}.label`, message: 'a regression label must be a number' }];
      }
      return [];
    });
    if (typeIssues.length) {
      count('invalid_label', typeIssues.length);
      throw new HttpError(400, 'invalid_label', 'labels of the wrong type', typeIssues);
    }

    const ids = labels.map((l) => l.predictionId);
    refuseRepeatedIds(ids, (id) => `body.labels[predictionId=${id}]`, count);
    const known = await labelTargets(store, model.id, ids);
    const unknown = ids.filter((id) => !known.has(id));
    if (unknown.length) {
      count('unknown_prediction', unknown.length);
      throw new HttpError(
        422,
        'unknown_prediction',
        `${unknown.length} label(s) refer to predictions this model never received; nothing was stored`,
        unknown.map((id) => ({ path: `body.labels[predictionId=${id}]`, message: 'unknown prediction id' })),
      );
    }
    const labelled = ids.filter((id) => known.get(id));
    if (labelled.length) {
      count('label_exists', labelled.length);
      throw new HttpError(
        409,
        'label_exists',
        `${labelled.length} prediction(s) already have a label; nothing was stored`,
        labelled.map((id) => ({ path: `body.labels[predictionId=${id}]`, message: 'already labelled' })),
      );
    }
    const now = new Date();
    try {
      await store.label.createMany({
        data: labels.map((l) => ({
          modelId: model.id,
          predictionId: l.predictionId,
          value: l.label,
          observedAt: l.ts ? new Date(l.ts) : now,
          receivedAt: now,
        })),
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        count('label_exists', labels.length);
        throw new HttpError(409, 'label_exists', 'a concurrent request labelled some of these predictions');
      }
      throw err;
    }
    res.status(202).json({ accepted: labels.length });
  };

  router.post('/predictions', ingestPredictions);
  router.post('/labels', ingestLabels);
  return router;
}
