// The model's agent: status (a workflow query) and operator controls (workflow updates).
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { type Request, Router } from 'express';
import { z } from 'zod';
import { readPolicy } from '../../activities/policy.ts';
import type { Store } from '../../lib/db/client.ts';
import { parsePolicy } from '../../lib/policy/policy.ts';
import {
  acknowledgeUpdate,
  agentWorkflowId,
  approveUpdate,
  pauseUpdate,
  rejectUpdate,
  resumeUpdate,
  revertUpdate,
  setPolicyUpdate,
  statusQuery,
} from '../../workflows/messages.ts';
import type { AgentState } from '../../workflows/types.ts';
import type { ApiContext } from '../context.ts';
import { HttpError, parseOrThrow } from '../errors.ts';
import { findModelOr404 } from '../models.ts';
import { policyFor, REDACTED, requireAdmin } from '../secrets.ts';

export const operatorBody = z
  .object({
    reason: z.string().trim().min(1).max(500),
    /** Who is acting, as the operator says (the dashboard sends the operator's name); defaults to the key. */
    actor: z.string().trim().min(1).max(100).optional(),
  })
  .strict();

export const approvalBody = operatorBody.extend({ approvalId: z.string().min(1).max(200) }).strict();
export const acknowledgeBody = operatorBody.extend({ incidentId: z.string().min(1).max(200) }).strict();
export const revertBody = operatorBody.extend({ actionId: z.string().min(1).max(200) }).strict();
export const policyBody = operatorBody.extend({ policy: z.record(z.string(), z.unknown()) }).strict();

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

/** The agent's state as the caller may read it (its policy's webhook only for admins). */
function present(req: Request, modelName: string, state: AgentState) {
  const policy = state.policy && {
    ...state.policy,
    document: policyFor(req.identity, state.policy.document),
  };
  return { agent: { workflowId: agentWorkflowId(modelName), ...state, ...(policy ? { policy } : {}) } };
}

/**
 * The policy to store: REDACTED as the webhook (what a non-admin reads back) keeps the current one, so an
 * operator can change the rest of a policy they cannot fully see. Setting, changing or removing the
 * webhook decides where the worker calls out to: admins only.
 */
async function policyToStore(req: Request, store: Store, modelId: string, sent: Record<string, unknown>) {
  const current = (await readPolicy(store, modelId)).policy.escalationWebhook;
  const policy = sent.escalationWebhook === REDACTED ? { ...sent, escalationWebhook: current } : sent;
  if (policy.escalationWebhook !== current) {
    requireAdmin(req, 'setting, changing or removing escalationWebhook (an address the worker calls)');
  }
  return policy;
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
    res.json(present(req, model.name, status));
  });

  // Operator controls are workflow updates: the agent's validator refuses what does not apply (409, and
  // nothing changes); an accepted one is audited by the workflow and answered with the new state.
  const controls = [
    ['pause', pauseUpdate, operatorBody],
    ['resume', resumeUpdate, operatorBody],
    ['approve', approveUpdate, approvalBody],
    ['reject', rejectUpdate, approvalBody],
    ['acknowledge', acknowledgeUpdate, acknowledgeBody],
    ['revert', revertUpdate, revertBody],
  ] as const;
  for (const [verb, update, schema] of controls) {
    router.post(`/${verb}`, async (req: Request<{ model: string }>, res) => {
      const model = await findModelOr404(store, req.params.model);
      const body = parseOrThrow(schema, req.body ?? {});
      const via = req.identity!.name;
      const request = { ...body, actor: body.actor ?? via, via };
      // Every control's request extends the pause request; its schema above checked the rest.
      const state = await handleFor(model.name)
        .executeUpdate(update as typeof pauseUpdate, { args: [request] })
        .catch((err) => {
          throw temporalError(err, model.name);
        });
      res.json(present(req, model.name, state));
    });
  }

  // A policy is checked here first so that a bad document gets a 422 with every issue, not a 409.
  router.put('/policy', async (req: Request<{ model: string }>, res) => {
    const model = await findModelOr404(store, req.params.model);
    const sent = parseOrThrow(policyBody, req.body ?? {});
    const body = { ...sent, policy: await policyToStore(req, store, model.id, sent.policy) };
    const parsed = parsePolicy(body.policy);
    if (!parsed.ok) {
      throw new HttpError(
        422,
        'invalid_policy',
        `the policy is invalid: ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        parsed.issues.map((i) => ({ path: `body.policy.${i.path}`, message: i.message })),
      );
    }
    const via = req.identity!.name;
    const state = await handleFor(model.name)
      .executeUpdate(setPolicyUpdate, { args: [{ ...body, actor: body.actor ?? via, via }] })
      .catch((err) => {
        throw temporalError(err, model.name);
      });
    res.json(present(req, model.name, state));
  });
  return router;
}
