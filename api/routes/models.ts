// Model registry: list, register, show.
import { Router } from 'express';
import { z } from 'zod';
import { featureSchemaSchema, modelNameSchema, TASKS } from '../../lib/domain.ts';
import { ensureAgent } from '../../lib/temporal.ts';
import type { ApiContext } from '../context.ts';
import { HttpError, parseOrThrow } from '../errors.ts';
import { findModelOr404 } from '../models.ts';

export const registerModelBody = z
  .object({
    name: modelNameSchema,
    task: z.enum(TASKS),
    featureSchema: featureSchemaSchema,
    labels: z.array(z.string().min(1)).min(2).optional(),
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
  });

function present(model: {
  name: string;
  task: string;
  featureSchema: unknown;
  labels: unknown;
  createdAt: Date;
}) {
  return {
    name: model.name,
    task: model.task,
    featureSchema: model.featureSchema,
    labels: model.labels,
    createdAt: model.createdAt.toISOString(),
  };
}

export function modelRoutes({ store, temporal, agentOptions }: ApiContext): Router {
  const router = Router();

  router.get('/', async (_req, res) => {
    const models = await store.model.findMany({ orderBy: { name: 'asc' } });
    res.json({ models: models.map(present) });
  });

  router.post('/', async (req, res) => {
    const body = parseOrThrow(registerModelBody, req.body);
    const existing = await store.model.findUnique({ where: { name: body.name } });
    if (existing) throw new HttpError(409, 'model_exists', `model "${body.name}" is already registered`);
    const model = await store.model.create({
      data: {
        name: body.name,
        task: body.task,
        featureSchema: body.featureSchema,
        ...(body.labels ? { labels: body.labels } : {}),
      },
    });
    // The row is the source of truth; if Temporal is down now, the worker starts the agent when it starts.
    const agentRunId = await ensureAgent(temporal, model.name, agentOptions).catch(() => null);
    res.status(201).json({ model: present(model), agent: { started: agentRunId !== null } });
  });

  router.get('/:model', async (req, res) => {
    res.json({ model: present(await findModelOr404(store, req.params.model)) });
  });

  return router;
}
