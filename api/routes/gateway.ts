// The inference gateway: POST /v1/models/:model/predict, one row `{ id?, features }` or a batch
// `{ rows: [{ id?, features }] }`. Each row is checked against the feature schema (rejected with
// per-field issues, or served and flagged, as the model's `onInvalid` says), routed by the current
// deployment revision (lib/registry/routing.ts), scored by the cached adapter of its version, and
// recorded — output or error, with its version and latency — before the answer goes out. A shadow
// version scores a copy of the rows after the answer is sent, so it never changes it or delays it.
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { type FeatureValue, featureValueSchema } from '../../lib/domain.ts';
import { countRejected, countShadowSkipped } from '../../lib/ingest/counters.ts';
import { batchTooLarge, MAX_ERROR_LENGTH, MAX_ID_LENGTH } from '../../lib/ingest/limits.ts';
import {
  PredictionIdConflict,
  type PredictionRecord,
  PredictionWriter,
  type StoredOutput,
} from '../../lib/ingest/prediction-writer.ts';
import { type FeatureViolation, storedQuality } from '../../lib/ingest/validate.ts';
import { logModelFailure, type ModelOutput } from '../../lib/models/index.ts';
import { ModelAdapterCache } from '../../lib/registry/adapters.ts';
import {
  chooseRoute,
  type Route,
  routingShare,
  type ServingDeployment,
  type ServingVersion,
} from '../../lib/registry/routing.ts';
import { loadRoutingSecret } from '../../lib/registry/routing-secret.ts';
import { type ServingState, ServingStateCache } from '../../lib/registry/serving-state.ts';
import type { ApiContext } from '../context.ts';
import { HttpError, parseOrThrow } from '../errors.ts';
import { screenFeatures } from './ingest.ts';

export interface GatewayOptions {
  /** How long a model's routing state is cached; see lib/registry/serving-state.ts. */
  servingCacheMs?: number;
  /**
   * Shadow scorings in flight at most; beyond it shadow copies are skipped and counted (a slow shadow
   * must not pile up requests and memory). 256 by default.
   */
  maxShadowInFlight?: number;
  /** Retry-After of a disabled model's 503, in seconds; 30 by default. */
  retryAfterSeconds?: number;
}

export const predictRowSchema = z.strictObject({
  /** Generated (a UUID) when absent; labels join on it later. */
  id: z.string().min(1).max(MAX_ID_LENGTH).optional(),
  features: z.record(z.string(), featureValueSchema),
});
export const predictBatchSchema = z.strictObject({ rows: z.array(predictRowSchema).min(1) });

interface GatewayRow {
  id: string;
  features: Record<string, FeatureValue>;
  violations: FeatureViolation[];
}

/** The rows one version serves, by index into the request's rows. */
interface Group {
  route: Route;
  version: ServingVersion;
  indices: number[];
}

interface Scored {
  outputs: ModelOutput[] | null;
  /** What went wrong, safe to store and show (no URL, no answer text), with the log's correlation id. */
  error: string | null;
  correlationId: string | null;
  latencyMs: number;
}

function storedOutput(output: ModelOutput): StoredOutput {
  return {
    prediction: output.prediction,
    ...(output.probabilities ? { probabilities: output.probabilities } : {}),
  };
}

function errorText(message: string): string {
  return message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH - 1)}…` : message;
}

/**
 * Scores rows with one version; a failure becomes the error of the result, not a throw. The latency is
 * the model's own: loading a version on first use is not counted, so a deployment shows no false spike.
 */
async function score(
  adapters: ModelAdapterCache,
  model: string,
  version: ServingVersion,
  rows: GatewayRow[],
): Promise<Scored> {
  let started = performance.now();
  try {
    const adapter = await adapters.get(version.id);
    started = performance.now();
    const outputs = await adapter.predict(rows.map((row) => row.features));
    return { outputs, error: null, correlationId: null, latencyMs: performance.now() - started };
  } catch (error) {
    const latencyMs = performance.now() - started;
    const correlationId = logModelFailure(error, { model, version: version.version, rows: rows.length });
    const text = errorText(
      `${error instanceof Error ? error.message : String(error)} (correlation id ${correlationId})`,
    );
    return { outputs: null, error: text, correlationId, latencyMs };
  }
}

/**
 * Serves one predict request: the model's name as the path gives it (decoded) and the parsed body; returns
 * the answer (200), or throws the HttpError of a refusal. Shared by the Express route and the fast path of
 * api/predict-listener.ts, which differ only in how they read the request and write the answer.
 */
export type Predict = (modelName: string, body: unknown) => Promise<unknown>;

export function createPredict({ store }: ApiContext, options: GatewayOptions = {}): Predict {
  const serving = new ServingStateCache(store, options.servingCacheMs);
  const adapters = new ModelAdapterCache(store);
  const writer = new PredictionWriter(store);
  const maxShadowInFlight = options.maxShadowInFlight ?? 256;
  const retryAfter = String(options.retryAfterSeconds ?? 30);
  let routingSecret: Promise<string> | undefined;
  /** The secret once loaded: a request then routes without waiting on it. */
  let routingKey: string | undefined;
  /** Loaded on the first prediction (the store may not be migrated when the app is built); a failure is retried. */
  const secret = () => {
    routingSecret ??= loadRoutingSecret(store).catch((error) => {
      routingSecret = undefined;
      throw error;
    });
    return routingSecret;
  };

  /** Refuses a batch in which an id repeats, naming each repetition. */
  function refuseRepeatedIds(model: string, sent: { id?: string | undefined }[], at: (i: number) => string) {
    const seen = new Map<string, number>();
    const repeated = sent.flatMap((row, i) => {
      if (row.id === undefined) return [];
      const first = seen.get(row.id);
      seen.set(row.id, first ?? i);
      return first === undefined ? [] : [{ path: `${at(i)}.id`, message: `repeats the id of row ${first}` }];
    });
    if (repeated.length > 0) {
      countRejected(model, 'predict', 'duplicate_id', repeated.length);
      throw new HttpError(400, 'duplicate_ids', 'prediction ids repeat within the batch', repeated);
    }
  }

  /** Parses the body into rows with ids; every refusal is counted. */
  function parseRows(state: ServingState, body: unknown): { rows: GatewayRow[]; batch: boolean } {
    const model = state.model.name;
    const batch = typeof body === 'object' && body !== null && 'rows' in body;
    const tooLarge = batch ? batchTooLarge((body as { rows: unknown }).rows, 'rows') : null;
    if (tooLarge) {
      countRejected(model, 'predict', 'batch_too_large');
      throw new HttpError(400, 'batch_too_large', tooLarge);
    }
    let sent: z.infer<typeof predictRowSchema>[];
    try {
      sent = batch ? parseOrThrow(predictBatchSchema, body).rows : [parseOrThrow(predictRowSchema, body)];
    } catch (error) {
      countRejected(model, 'predict', 'invalid_request');
      throw error;
    }
    const at = (i: number) => (batch ? `body.rows.${i}` : 'body');
    if (sent.length > 1) refuseRepeatedIds(model, sent, at);
    const violations = screenFeatures(
      state.model,
      state.validate,
      'predict',
      sent.map((row, i) => ({ features: row.features, path: `${at(i)}.features` })),
    );
    const rows = sent.map((row, i) => ({
      id: row.id ?? randomUUID(),
      features: row.features,
      violations: violations[i]!,
    }));
    return { rows, batch };
  }

  /** Scores a copy of the rows with the shadow version once the answer is out, and stores it. */
  function scoreShadow(state: ServingState, shadow: ServingVersion, rows: GatewayRow[]): void {
    if (writer.trackedCount >= maxShadowInFlight) {
      countShadowSkipped(state.model.name, rows.length);
      return;
    }
    const work = new Promise((resolve) => setImmediate(resolve))
      .then(() => score(adapters, state.model.name, shadow, rows))
      .then((result) => {
        const predictedAt = new Date();
        writer.writeDetached(
          rows.map((row, k) => ({
            id: `${row.id}:shadow`,
            modelId: state.model.id,
            versionId: shadow.id,
            source: 'shadow',
            features: row.features,
            output: result.outputs ? storedOutput(result.outputs[k]!) : null,
            confidence: result.outputs?.[k]?.confidence ?? null,
            latencyMs: result.latencyMs,
            error: result.error,
            quality: storedQuality(row.violations),
            shadowOf: row.id,
            predictedAt,
          })),
        );
      });
    writer.track(work);
  }

  /** The rows one version serves each: usually one group, so one scoring. */
  async function scoreGroups(state: ServingState, deployment: ServingDeployment, rows: GatewayRow[]) {
    const { model } = state;
    routingKey ??= await secret();
    const key = routingKey;
    const groups = new Map<string, Group>();
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const decision = chooseRoute(
        deployment,
        () => routingShare(key, row.id),
        model.disabledResponse,
        row.features,
      );
      if (decision.route === 'unavailable') {
        throw new HttpError(
          503,
          'model_disabled',
          `model "${model.name}" is disabled (revision ${deployment.revision}) and serves no predictions; retry later`,
          undefined,
          { 'Retry-After': retryAfter },
        );
      }
      const group = groups.get(decision.version.id);
      if (group) group.indices.push(i);
      else
        groups.set(decision.version.id, { route: decision.route, version: decision.version, indices: [i] });
    }
    const scoreGroup = async (group: Group): Promise<Group & Scored> =>
      Object.assign(
        group,
        await score(
          adapters,
          model.name,
          group.version,
          group.indices.length === rows.length ? rows : group.indices.map((i) => rows[i]!),
        ),
      );
    if (groups.size === 1) return [await scoreGroup(groups.values().next().value!)];
    return Promise.all([...groups.values()].map(scoreGroup));
  }

  return async (modelName, body) => {
    const state = await serving.get(modelName);
    if (!state) throw new HttpError(404, 'model_not_found', `model "${modelName}" is not registered`);
    const { rows, batch } = parseRows(state, body);
    const { deployment, model } = state;
    if (!deployment) {
      throw new HttpError(
        409,
        'not_deployed',
        `model "${model.name}" has no deployment yet: register a version and POST /v1/models/${model.name}/deployment`,
      );
    }
    const results = await scoreGroups(state, deployment, rows);

    const predictedAt = new Date();
    const records: PredictionRecord[] = new Array(rows.length);
    const answers: Record<string, unknown>[] = new Array(rows.length);
    for (const result of results) {
      const { indices, outputs, version } = result;
      for (let k = 0; k < indices.length; k++) {
        const i = indices[k]!;
        const row = rows[i]!;
        const output = outputs?.[k] ?? null;
        records[i] = {
          id: row.id,
          modelId: model.id,
          versionId: version.id,
          source: 'gateway',
          features: row.features,
          output: output ? storedOutput(output) : null,
          confidence: output?.confidence ?? null,
          latencyMs: result.latencyMs,
          error: result.error,
          quality: storedQuality(row.violations),
          shadowOf: null,
          predictedAt,
        };
        const answer: Record<string, unknown> = { id: row.id, ...output };
        answer.version = version.version;
        answer.route = result.route;
        // A flagged row is served, and its answer says what was wrong with it.
        if (row.violations.length > 0) answer.violations = row.violations;
        answers[i] = answer;
      }
    }
    try {
      await writer.write(records);
    } catch (error) {
      if (!(error instanceof PredictionIdConflict)) throw error;
      countRejected(model.name, 'predict', 'prediction_exists', error.ids.length);
      throw new HttpError(
        409,
        'prediction_exists',
        `${error.ids.length} prediction id(s) were already used; nothing from this request was stored`,
        error.ids.map((id) => ({
          path: batch ? `body.rows.${rows.findIndex((r) => r.id === id)}.id` : 'body.id',
          message: 'already used',
        })),
      );
    }
    if (deployment.shadow) scoreShadow(state, deployment.shadow, rows);

    // The caller learns that the model failed and the id to quote; what failed and where is in the log.
    const failed = results.filter((r) => r.error !== null);
    if (failed.length > 0) {
      const which = failed.map(
        (r) => `version ${r.version.version} (${r.route}), correlation id ${r.correlationId}`,
      );
      throw new HttpError(
        502,
        'model_error',
        `the model server failed to score the rows: ${which.join('; ')}`,
      );
    }
    return batch ? { predictions: answers } : answers[0];
  };
}

/** The Express route of POST /v1/models/:model/predict, for requests the fast path hands to Express. */
export function predictHandler(predict: Predict): RequestHandler<{ model: string }> {
  return async (req, res) => {
    res.json(await predict(req.params.model, req.body));
  };
}
