// Models: list, register, show, and change a model's serving settings; read its policy and the policy's
// history. Versions and deployments are in registry.ts; a policy changes through the agent workflow.
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { policyHistory, readPolicy } from '../../activities/policy.ts';
import { mayUseModel, visibleModels } from '../../lib/auth/keys.ts';
import { type FeatureSchema, featureSchemaSchema, modelNameSchema, TASKS } from '../../lib/domain.ts';
import { isUniqueViolation } from '../../lib/ingest/prediction-writer.ts';
import { ON_INVALID, type OnInvalid } from '../../lib/ingest/validate.ts';
import { logger } from '../../lib/log.ts';
import { markServingChanged } from '../../lib/registry/changes.ts';
import { currentRevision } from '../../lib/registry/revisions.ts';
import { DISABLED_RESPONSES } from '../../lib/registry/routing.ts';
import { resolveSegments, segmentsBody } from '../../lib/segments/definition.ts';
import { ensureAgent } from '../../lib/temporal.ts';
import type { ApiContext } from '../context.ts';
import { HttpError, parseOrThrow } from '../errors.ts';
import { findModelOr404 } from '../models.ts';
import { pageArgs, pageOf, pageParams } from '../paging.ts';
import { policyFor } from '../secrets.ts';

/** Models by name; the fleet pages the same way. */
export const modelsQuery = z.strictObject(pageParams(100, 1000));
/** The policy's version history, newest first. */
export const policyQuery = z.strictObject(pageParams(100, 1000));

export const registerModelBody = z
  .object({
    name: modelNameSchema,
    task: z.enum(TASKS),
    featureSchema: featureSchemaSchema,
    labels: z.array(z.string().min(1)).min(2).optional(),
    /**
     * What the gateway and ingestion do with a row whose features break the schema: 'flag' (the
     * default) stores it with its violations so that monitoring sees the data-quality problem; 'reject'
     * answers 400 with one issue per field and stores nothing.
     */
    onInvalid: z.enum(ON_INVALID).optional(),
    /** What a disabled model answers: 'unavailable' (503 with Retry-After, the default) or its fallback version. */
    disabledResponse: z.enum(DISABLED_RESPONSES).optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.task !== 'regression' && !body.labels) {
      ctx.addIssue({
        code: 'custom',
        path: ['labels'],
        message: `a ${body.task} model needs its class labels`,
      });
    }
    if (body.task === 'regression' && body.labels) {
      ctx.addIssue({ code: 'custom', path: ['labels'], message: 'a regression model has no class labels' });
    }
    if (body.task === 'binary' && body.labels && body.labels.length !== 2) {
      ctx.addIssue({ code: 'custom', path: ['labels'], message: 'a binary model has exactly two labels' });
    }
  })
  // The same rules, for the OpenAPI document.
  .meta({
    anyOf: [
      { properties: { task: { enum: ['regression'] } }, not: { required: ['labels'] } },
      {
        properties: { task: { enum: ['binary'] }, labels: { minItems: 2, maxItems: 2 } },
        required: ['labels'],
      },
      { properties: { task: { enum: ['multiclass'] } }, required: ['labels'] },
    ],
  });

export const modelSettingsBody = z
  .strictObject({
    onInvalid: z.enum(ON_INVALID).optional(),
    disabledResponse: z.enum(DISABLED_RESPONSES).optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'nothing to change: give onInvalid or disabledResponse')
  .meta({ minProperties: 1 });

/**
 * How long registration waits for Temporal to start the agent. Starting needs the Temporal server only
 * (not a worker), so it answers in milliseconds when Temporal is up; when it is down, the registration
 * still succeeds and the worker's reconcile starts the agent once Temporal is back.
 */
export const AGENT_START_DEADLINE_MS = 3_000;

/** Starts the agent of a just-registered model, or says why it is not started yet; never throws. */
async function startAgent({ temporal, agentOptions }: ApiContext, modelName: string) {
  try {
    await temporal.withDeadline(Date.now() + AGENT_START_DEADLINE_MS, () =>
      ensureAgent(temporal, modelName, agentOptions),
    );
    return { started: true as const };
  } catch (err) {
    logger.warn({ err, model: modelName }, 'agent not started at registration');
    return {
      started: false as const,
      reason:
        `Temporal did not start it within ${AGENT_START_DEADLINE_MS / 1000} s; the model is registered ` +
        "and the worker's reconcile starts its agent once Temporal is reachable",
    };
  }
}

function present(model: {
  name: string;
  task: string;
  featureSchema: unknown;
  labels: unknown;
  onInvalid: string;
  disabledResponse: string;
  createdAt: Date;
}) {
  return {
    name: model.name,
    task: model.task,
    featureSchema: model.featureSchema,
    labels: model.labels,
    onInvalid: model.onInvalid as OnInvalid,
    disabledResponse: model.disabledResponse,
    createdAt: model.createdAt.toISOString(),
  };
}

export function modelRoutes(context: ApiContext): Router {
  const { store } = context;
  const router = Router();

  router.get('/', async (req, res) => {
    const page = parseOrThrow(modelsQuery, req.query, 'query');
    const rows = await store.model.findMany({
      where: visibleModels(req.identity!),
      orderBy: { name: 'asc' },
      ...pageArgs(page),
    });
    const { items, nextCursor } = pageOf(rows, page);
    res.json({ models: items.map(present), nextCursor });
  });

  router.post('/', async (req, res) => {
    const body = parseOrThrow(registerModelBody, req.body);
    if (!mayUseModel(req.identity!, body.name)) {
      throw new HttpError(
        403,
        'forbidden',
        `key "${req.identity!.name}" is not scoped to model "${body.name}": it cannot register it`,
      );
    }
    // The unique name decides, not a lookup first: two registrations racing for a name both pass a lookup.
    const model = await store.model
      .create({
        data: {
          name: body.name,
          task: body.task,
          featureSchema: body.featureSchema,
          ...(body.labels ? { labels: body.labels } : {}),
          ...(body.onInvalid ? { onInvalid: body.onInvalid } : {}),
          ...(body.disabledResponse ? { disabledResponse: body.disabledResponse } : {}),
        },
      })
      .catch((error) => {
        if (!isUniqueViolation(error)) throw error;
        throw new HttpError(409, 'model_exists', `model "${body.name}" is already registered`);
      });
    // The row is the source of truth: the model is registered whether or not its agent starts now.
    res.status(201).json({ model: present(model), agent: await startAgent(context, model.name) });
  });

  router.get('/:model', async (req, res) => {
    res.json({ model: present(await findModelOr404(store, req.params.model)) });
  });

  const updateModelSettings = async (req: Request<{ model: string }>, res: Response) => {
    const model = await findModelOr404(store, req.params.model);
    const settings = parseOrThrow(modelSettingsBody, req.body);
    const updated = await store.model.update({ where: { id: model.id }, data: settings });
    markServingChanged(updated.name);
    res.json({ model: present(updated) });
  };
  router.patch('/:model', updateModelSettings);

  const presentSegments = (model: { segments: unknown; featureSchema: unknown }) => {
    const definitions = parseOrThrow(segmentsBody, { segments: model.segments ?? [] }).segments;
    const { segments } = resolveSegments(definitions, model.featureSchema as FeatureSchema);
    return { definitions, segments };
  };

  router.get('/:model/segments', async (req, res) => {
    res.json(presentSegments(await findModelOr404(store, req.params.model)));
  });

  router.put('/:model/segments', async (req, res) => {
    const model = await findModelOr404(store, req.params.model);
    const body = parseOrThrow(segmentsBody, req.body);
    const { issues } = resolveSegments(body.segments, model.featureSchema as FeatureSchema);
    if (issues.length > 0) {
      throw new HttpError(
        422,
        'invalid_segments',
        'the segment definitions do not fit the model',
        issues.map((i) => ({ path: ['body', 'segments', ...i.path].join('.'), message: i.message })),
      );
    }
    const kept = new Set(
      resolveSegments(body.segments, model.featureSchema as FeatureSchema).segments.map((s) => s.name),
    );
    const routed = (
      ((await currentRevision(store, model.id))?.fallbackSegments as string[] | null) ?? []
    ).filter((name) => !kept.has(name));
    if (routed.length > 0) {
      throw new HttpError(
        409,
        'segment_routed',
        `the fallback serves segment ${routed.map((n) => `"${n}"`).join(', ')} (the current deployment): ` +
          'lift its route first (POST /v1/models/{model}/deployment with fallbackSegments)',
      );
    }
    const updated = await store.model.update({ where: { id: model.id }, data: { segments: body.segments } });
    markServingChanged(updated.name);
    res.json(presentSegments(updated));
  });

  router.get('/:model/policy', async (req, res) => {
    const page = parseOrThrow(policyQuery, req.query, 'query');
    const model = await findModelOr404(store, req.params.model);
    const [current, rows] = await Promise.all([
      readPolicy(store, model.id),
      policyHistory(store, model.id, pageArgs(page)),
    ]);
    const { items, nextCursor } = pageOf(rows, page);
    res.json({
      ...current,
      policy: policyFor(req.identity, current.policy),
      // The history is paged: nextCursor leads to older versions.
      history: items.map(({ id: _id, ...h }) => ({ ...h, createdAt: h.createdAt.toISOString() })),
      nextCursor,
    });
  });

  return router;
}
