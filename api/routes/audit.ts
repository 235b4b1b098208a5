// The audit chain's check (lib/audit/chain.ts), for admins: GET /v1/audit/verify[?model=name] recomputes
// every chain and reports each audit row or entry changed, inserted or deleted outside the audited path.
import { Router } from 'express';
import { z } from 'zod';
import { verifyAuditChain } from '../../lib/audit/chain.ts';
import { modelNameSchema } from '../../lib/domain.ts';
import type { ApiContext } from '../context.ts';
import { parseOrThrow } from '../errors.ts';

export const auditVerifyQuery = z.strictObject({ model: modelNameSchema.optional() });

export function auditRoutes({ store }: ApiContext): Router {
  const router = Router();
  router.get('/verify', async (req, res) => {
    const { model } = parseOrThrow(auditVerifyQuery, req.query, 'query');
    res.json(await verifyAuditChain(store, model));
  });
  return router;
}
