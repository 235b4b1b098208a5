// API key management (admin): list, create (the secret is in the answer, and nowhere else, ever), revoke.
import { Router } from 'express';
import { z } from 'zod';
import {
  createApiKey,
  KeyExistsError,
  modelScopeSchema,
  revokeApiKey,
  scopeOf,
} from '../../lib/auth/keys.ts';
import { ROLES } from '../../lib/domain.ts';
import { logger } from '../../lib/log.ts';
import type { ApiContext } from '../context.ts';
import { HttpError, parseOrThrow } from '../errors.ts';
import { pageArgs, pageOf, pageParams } from '../paging.ts';
import { keyNameSchema } from '../params.ts';

export const createKeyBody = z
  .object({
    name: keyNameSchema,
    role: z.enum(ROLES),
    /** The models the key may use: their names, or "*" for every model (existing and future). */
    models: modelScopeSchema,
  })
  .strict();

export const keysQuery = z.strictObject(pageParams(100, 1000));

export function keyRoutes({ store }: ApiContext): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const page = parseOrThrow(keysQuery, req.query, 'query');
    const rows = await store.apiKey.findMany({
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      ...pageArgs(page),
    });
    const { items: keys, nextCursor } = pageOf(rows, page);
    res.json({
      nextCursor,
      keys: keys.map((k) => ({
        name: k.name,
        role: k.role,
        models: scopeOf(k.models),
        prefix: k.prefix,
        createdAt: k.createdAt.toISOString(),
        revokedAt: k.revokedAt?.toISOString() ?? null,
      })),
    });
  });

  router.post('/', async (req, res) => {
    const body = parseOrThrow(createKeyBody, req.body);
    try {
      const { secret, prefix } = await createApiKey(store, body.name, body.role, body.models);
      logger.info(
        { key: body.name, role: body.role, models: body.models, by: req.identity?.name },
        'api key created',
      );
      res.status(201).json({ name: body.name, role: body.role, models: body.models, prefix, key: secret });
    } catch (err) {
      if (err instanceof KeyExistsError) throw new HttpError(409, 'key_exists', err.message);
      throw err;
    }
  });

  router.delete('/:name', async (req, res) => {
    if (!(await revokeApiKey(store, req.params.name))) {
      throw new HttpError(404, 'key_not_found', `no active API key named "${req.params.name}"`);
    }
    logger.info({ key: req.params.name, by: req.identity?.name }, 'api key revoked');
    res.status(204).end();
  });
  return router;
}
