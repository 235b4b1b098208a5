// The result of a `webhook` remedy, reported by the user's own system (docs/extending.md): it is handed to
// the child workflow waiting for it (workflows/webhook-remedy.ts), as a workflow update, so the caller
// learns whether it was taken. The delivery id is that child's workflow id; it must belong to the model's
// agent, so a key scoped to one model cannot answer another model's remedy.
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { type Request, Router } from 'express';
import { z } from 'zod';
import { apiActor, trimmedText } from '../../lib/domain.ts';
import { agentWorkflowId, isDeadlineExceeded } from '../../lib/temporal.ts';
import { webhookRemedyResultUpdate } from '../../workflows/messages.ts';
import { auditedAs } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { HttpError, parseOrThrow } from '../errors.ts';
import { findModelOr404 } from '../models.ts';
import { PATH_PARAMS } from '../params.ts';

export const webhookResultBody = z
  .object({
    outcome: z.enum(['succeeded', 'failed']),
    /** What the system did or why it could not: shown in the incident and the audit trail. */
    detail: trimmedText(1000).optional(),
    actor: apiActor,
  })
  .strict();

const deliveryParams = z.object({ delivery: PATH_PARAMS.delivery });

/** The workflow type that waits for a webhook remedy's result. */
const WAITING_TYPE = 'webhookRemedyWorkflow';
const ANSWER_DEADLINE_MS = 5_000;

function reportedBefore(delivery: string, status: string): string {
  return status === 'COMPLETED'
    ? `the webhook remedy "${delivery}" is no longer waiting: another result was taken, or none came in time`
    : `the webhook remedy "${delivery}" is no longer waiting for a result (${status.toLowerCase()})`;
}

export function remedyRoutes({ store, temporal }: ApiContext): Router {
  const router = Router({ mergeParams: true });

  router.post('/:delivery/result', async (req: Request<{ model: string; delivery: string }>, res) => {
    const model = await findModelOr404(store, req.params.model);
    const body = parseOrThrow(webhookResultBody, req.body ?? {});
    const { delivery } = parseOrThrow(deliveryParams, req.params, 'params');
    const notFound = new HttpError(
      404,
      'remedy_not_found',
      `no webhook remedy "${delivery}" of the agent of "${model.name}"`,
    );
    if (!delivery.startsWith(`${agentWorkflowId(model.name)}:`)) throw notFound;
    const handle = temporal.workflow.getHandle(delivery);
    const answer = {
      outcome: body.outcome,
      detail: body.detail ?? '',
      actor: auditedAs(req.identity!, body.actor).actor,
    };
    const taken = await temporal
      .withDeadline(Date.now() + ANSWER_DEADLINE_MS, async () => {
        const described = await handle.describe();
        if (described.type !== WAITING_TYPE) throw notFound;
        if (described.status.name === 'COMPLETED') {
          // A retried report of the result the remedy went on with is answered as the first time was.
          const { reported } = await handle.result();
          if (reported?.outcome === answer.outcome) return reported;
        }
        if (described.status.name !== 'RUNNING') {
          throw new HttpError(409, 'remedy_not_waiting', reportedBefore(delivery, described.status.name));
        }
        return handle.executeUpdate(webhookRemedyResultUpdate, { args: [answer] });
      })
      .catch((err: unknown) => {
        if (err instanceof HttpError) throw err;
        if (err instanceof WorkflowNotFoundError) throw notFound;
        if (err instanceof WorkflowUpdateFailedError) {
          const cause = (err.cause as { message?: string } | undefined)?.message ?? err.message;
          throw new HttpError(409, 'remedy_rejected', cause);
        }
        throw new HttpError(
          503,
          'temporal_unavailable',
          isDeadlineExceeded(err)
            ? `the webhook remedy did not answer in ${ANSWER_DEADLINE_MS / 1000} s; send the result again`
            : `Temporal did not answer: ${(err as Error).message}`,
          undefined,
          { 'Retry-After': '5' },
        );
      });
    // The result taken: this answer, or the same outcome reported before (a retried call).
    res.json({ delivery, result: taken });
  });
  return router;
}
