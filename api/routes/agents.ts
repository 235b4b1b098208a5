// The model's agent: status (a workflow query) and operator controls (workflow updates).
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { type Request, Router } from 'express';
import { z } from 'zod';
import { agentWorkflowId, pauseUpdate, resumeUpdate, statusQuery } from '../../workflows/messages.ts';
import type { ApiContext } from '../context.ts';
import { HttpError, parseOrThrow } from '../errors.ts';
import { findModelOr404 } from '../models.ts';

export const operatorBody = z
  .object({
    reason: z.string().trim().min(1).max(500),
    /** Who is acting, as the operator says (the dashboard sends the operator's name); defaults to the key. */
    actor: z.string().trim().min(1).max(100).optional(),
  })
  .strict();

/** A query is answered by a worker; without one it would wait for the whole RPC timeout. */
const QUERY_DEADLINE_MS = 5_000;

function temporalError(err: unknown, modelName: string): HttpError {
  if (err instanceof WorkflowNotFoundError) {
    return new HttpError(404, 'agent_not_running', `the agent of "${modelName}" is not running`);
  }
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause as { type?: string; message?: string } | undefined;
    return new HttpError(409, 'agent_rejected', cause?.message ?? err.message);
  }
  const deadline = (err as { code?: number })?.code === 4; // gRPC DEADLINE_EXCEEDED
  return new HttpError(
    503,
    deadline ? 'agent_unresponsive' : 'temporal_unavailable',
    deadline
      ? `the agent of "${modelName}" did not answer in ${QUERY_DEADLINE_MS / 1000} s: is a worker running?`
      : `Temporal did not answer: ${(err as Error).message}`,
    undefined,
    { 'Retry-After': '5' },
  );
}

export function agentRoutes({ store, temporal }: ApiContext): Router {
  const router = Router({ mergeParams: true });
  const handleFor = (name: string) => temporal.workflow.getHandle(agentWorkflowId(name));

  router.get('/', async (req: Request<{ model: string }>, res) => {
    const model = await findModelOr404(store, req.params.model);
    const status = await temporal
      .withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handleFor(model.name).query(statusQuery))
      .catch((err) => {
        throw temporalError(err, model.name);
      });
    res.json({ agent: { workflowId: agentWorkflowId(model.name), ...status } });
  });

  for (const [verb, update] of [
    ['pause', pauseUpdate],
    ['resume', resumeUpdate],
  ] as const) {
    router.post(`/${verb}`, async (req: Request<{ model: string }>, res) => {
      const model = await findModelOr404(store, req.params.model);
      const body = parseOrThrow(operatorBody, req.body ?? {});
      const via = req.identity!.name;
      const request = { reason: body.reason, actor: body.actor ?? via, via };
      const state = await handleFor(model.name)
        .executeUpdate(update, { args: [request] })
        .catch((err) => {
          throw temporalError(err, model.name);
        });
      res.json({ agent: { workflowId: agentWorkflowId(model.name), ...state } });
    });
  }
  return router;
}
