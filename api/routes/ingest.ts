// Ingestion of predictions logged by the user's own serving stack, and of ground truth arriving later.
// A batch is all-or-nothing: either every row is stored or the answer says precisely which rows are
// wrong and nothing is written.
import { Router } from 'express';
import { z } from 'zod';
import type { Store } from '../../lib/db/client.ts';
import type { ApiContext } from '../context.ts';
import { HttpError, parseOrThrow } from '../errors.ts';
import { findModelOr404 } from '../models.ts';

export const INGEST_LIMITS = { maxBatch: 1000 } as const;

const featureValue = z.union([z.number(), z.string(), z.boolean(), z.null()]);
const timestamp = z.iso.datetime({ offset: true });

export const loggedPredictionSchema = z
  .object({
    id: z.string().min(1).max(128),
    features: z.record(z.string(), featureValue),
    prediction: z.union([z.string(), z.number()]),
    confidence: z.number().min(0).max(1).optional(),
    probabilities: z.record(z.string(), z.number().min(0).max(1)).optional(),
    latencyMs: z.number().min(0).optional(),
    ts: timestamp.optional(),
  })
  .strict();

const predictionsBody = z
  .object({ predictions: z.array(loggedPredictionSchema).min(1).max(INGEST_LIMITS.maxBatch) })
  .strict();

export const labelSchema = z
  .object({
    predictionId: z.string().min(1).max(128),
    label: z.union([z.string(), z.number()]),
    ts: timestamp.optional(),
  })
  .strict();

const labelsBody = z.object({ labels: z.array(labelSchema).min(1).max(INGEST_LIMITS.maxBatch) }).strict();

function duplicatesIn(ids: string[]): string[] {
  const seen = new Set<string>();
  return [...new Set(ids.filter((id) => seen.has(id) || !seen.add(id)))];
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string })?.code === 'P2002';
}

async function existingPredictionIds(store: Store, modelId: string, ids: string[]) {
  const rows = await store.prediction.findMany({
    where: { modelId, id: { in: ids } },
    select: { id: true, label: { select: { id: true } } },
  });
  return new Map(rows.map((r) => [r.id, r.label !== null]));
}

export function ingestRoutes({ store }: ApiContext): Router {
  const router = Router({ mergeParams: true });

  router.post('/predictions', async (req: { params: { model: string }; body: unknown }, res) => {
    const model = await findModelOr404(store, req.params.model);
    const { predictions } = parseOrThrow(predictionsBody, req.body);
    const ids = predictions.map((p) => p.id);
    const repeated = duplicatesIn(ids);
    if (repeated.length) {
      throw new HttpError(400, 'duplicate_ids', 'prediction ids repeat within the batch', [
        ...repeated.map((id) => ({ path: `body.predictions[id=${id}]`, message: 'repeated id' })),
      ]);
    }
    const conflict = () =>
      existingPredictionIds(store, model.id, ids).then((existing) => {
        return new HttpError(
          409,
          'prediction_exists',
          `${existing.size} prediction id(s) were already ingested; nothing from this batch was stored`,
          [...existing.keys()].map((id) => ({
            path: `body.predictions[id=${id}]`,
            message: 'already ingested',
          })),
        );
      });
    if ((await existingPredictionIds(store, model.id, ids)).size) throw await conflict();
    const now = new Date();
    try {
      await store.prediction.createMany({
        data: predictions.map((p) => ({
          id: p.id,
          modelId: model.id,
          source: 'logged',
          features: p.features,
          output: {
            prediction: p.prediction,
            ...(p.probabilities ? { probabilities: p.probabilities } : {}),
          },
          confidence: p.confidence ?? null,
          latencyMs: p.latencyMs ?? null,
          predictedAt: p.ts ? new Date(p.ts) : now,
          receivedAt: now,
        })),
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw await conflict(); // a concurrent batch stored some of these ids
      throw err;
    }
    res.status(202).json({ accepted: predictions.length });
  });

  router.post('/labels', async (req: { params: { model: string }; body: unknown }, res) => {
    const model = await findModelOr404(store, req.params.model);
    const { labels } = parseOrThrow(labelsBody, req.body);
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
    if (typeIssues.length) throw new HttpError(400, 'invalid_label', 'labels of the wrong type', typeIssues);

    const ids = labels.map((l) => l.predictionId);
    const repeated = duplicatesIn(ids);
    if (repeated.length) {
      throw new HttpError(
        400,
        'duplicate_ids',
        'prediction ids repeat within the batch',
        repeated.map((id) => ({ path: `body.labels[predictionId=${id}]`, message: 'repeated id' })),
      );
    }
    const known = await existingPredictionIds(store, model.id, ids);
    const unknown = ids.filter((id) => !known.has(id));
    if (unknown.length) {
      throw new HttpError(
        422,
        'unknown_prediction',
        `${unknown.length} label(s) refer to predictions this model never received; nothing was stored`,
        unknown.map((id) => ({ path: `body.labels[predictionId=${id}]`, message: 'unknown prediction id' })),
      );
    }
    const labelled = ids.filter((id) => known.get(id));
    const alreadyLabelled = () =>
      new HttpError(
        409,
        'label_exists',
        `${labelled.length} prediction(s) already have a label; nothing was stored`,
        labelled.map((id) => ({ path: `body.labels[predictionId=${id}]`, message: 'already labelled' })),
      );
    if (labelled.length) throw alreadyLabelled();
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
        throw new HttpError(409, 'label_exists', 'a concurrent request labelled some of these predictions');
      }
      throw err;
    }
    res.status(202).json({ accepted: labels.length });
  });

  return router;
}
