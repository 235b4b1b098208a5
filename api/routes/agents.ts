// The model's agent: status (a workflow query) and operator controls (workflow updates).
import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowUpdateHandle,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  WorkflowUpdateStage,
} from '@temporalio/client';
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { readPolicy } from '../../activities/policy.ts';
import type { AgentState, AgentStatus, PauseRequest } from '../../lib/brain/types.ts';
import type { Store } from '../../lib/db/client.ts';
import { apiActor, trimmedText } from '../../lib/domain.ts';
import { parsePolicy, policySchema } from '../../lib/policy/policy.ts';
import { agentWorkflowId, grpcCode, isDeadlineExceeded } from '../../lib/temporal.ts';
import {
  acknowledgeUpdate,
  approveUpdate,
  pauseUpdate,
  rejectUpdate,
  resumeUpdate,
  revertUpdate,
  setPolicyUpdate,
  statusQuery,
} from '../../workflows/messages.ts';
import { auditedAs } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { HttpError, parseOrThrow } from '../errors.ts';
import { findModelOr404 } from '../models.ts';
import { POLICY_ADDRESSES, policyFor, REDACTED, requireAdmin } from '../secrets.ts';

export const operatorBody = z
  .object({
    reason: trimmedText(500),
    /** Who is acting, as the operator says (the dashboard sends the operator's name); recorded with the key. */
    actor: apiActor,
  })
  .strict();

export const approvalBody = operatorBody.extend({ approvalId: z.string().min(1).max(200) }).strict();
export const acknowledgeBody = operatorBody.extend({ incidentId: z.string().min(1).max(200) }).strict();
export const revertBody = operatorBody.extend({ actionId: z.string().min(1).max(200) }).strict();
export const policyBody = operatorBody.extend({ policy: z.record(z.string(), z.unknown()) }).strict();
/**
 * The policy body as the OpenAPI document states it: the route takes any object first (a viewer's copy
 * carries redacted secrets to put back) and then validates it as a policy (422 invalid_policy).
 */
export const documentedPolicyBody = policyBody.extend({ policy: policySchema });

/** A query is answered by a worker; without one it would wait for the whole RPC timeout. */
const QUERY_DEADLINE_MS = 5_000;

/**
 * Operator controls answer within CONTROL_DEADLINE_MS. A pending update is kept by Temporal and applied
 * whenever a worker comes back, so a control is sent only to an agent that answers: the API first asks
 * for its state (a query needs a worker) within CONTROL_CHECK_MS. An agent that does not answer gets
 * nothing (503 agent_unresponsive: nothing changed, now or later). If it stops answering after the
 * control was sent, the control may still be applied later: 503 control_pending says so.
 */
export const CONTROL_DEADLINE_MS = 4_500;
export const CONTROL_CHECK_MS = 2_500;

/** The API's answer to a call to the agent that failed; `deadline` is the one the call was given. */
export function temporalError(
  err: unknown,
  modelName: string,
  waitedMs: number,
  deadline: number,
): HttpError {
  if (err instanceof WorkflowNotFoundError) {
    return new HttpError(404, 'agent_not_running', `the agent of "${modelName}" is not running`);
  }
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause as { message?: string } | undefined;
    return new HttpError(409, 'agent_rejected', cause?.message ?? err.message);
  }
  const retry = { 'Retry-After': '5' };
  // Our deadline passed: gRPC says DEADLINE_EXCEEDED, or CANCELLED when it struck between two retries, or
  // the last retry's status when Temporal failed every try until then. A call that failed only after the
  // whole wait is an agent that did not answer in it, whatever the last status said.
  if (
    err instanceof WorkflowUpdateRPCTimeoutOrCancelledError ||
    isDeadlineExceeded(err) ||
    Date.now() >= deadline
  ) {
    return new HttpError(
      503,
      'agent_unresponsive',
      `the agent of "${modelName}" did not answer in ${waitedMs / 1000} s (is Temporal reachable, and a ` +
        'worker running?); nothing was changed',
      undefined,
      retry,
    );
  }
  return new HttpError(
    503,
    'temporal_unavailable',
    `Temporal did not answer: ${(err as Error).message}${codeNote(err)}`,
    undefined,
    retry,
  );
}

/** The gRPC status behind a failed call, for the operator reading the error. */
function codeNote(err: unknown): string {
  const code = grpcCode(err);
  return code === undefined ? '' : ` (gRPC status code ${code})`;
}

/** The agent's state as the caller may read it (its policy's webhook only for admins). */
function present(req: Request, modelName: string, state: AgentStatus) {
  const policy = state.policy && {
    ...state.policy,
    document: policyFor(req.identity, state.policy.document),
  };
  return { agent: { workflowId: agentWorkflowId(modelName), ...state, ...(policy ? { policy } : {}) } };
}

/**
 * The policy to store: REDACTED as an address (what a non-admin reads back) keeps the current one, so an
 * operator can change the rest of a policy they cannot fully see. Setting, changing or removing an
 * address decides where the worker calls out to: admins only.
 */
async function policyToStore(req: Request, store: Store, modelId: string, sent: Record<string, unknown>) {
  const stored = (await readPolicy(store, modelId)).policy as unknown as Record<string, unknown>;
  let policy = sent;
  for (const address of POLICY_ADDRESSES) {
    const current = address.read(stored);
    if (address.read(policy) === REDACTED) policy = address.write(policy, current);
    if (address.read(policy) !== current) {
      requireAdmin(req, `setting, changing or removing ${address.name} (an address the worker calls)`);
    }
  }
  return policy;
}

export function agentRoutes({ store, temporal }: ApiContext): Router {
  const router = Router({ mergeParams: true });
  const handleFor = (name: string) => temporal.workflow.getHandle(agentWorkflowId(name));

  router.get('/', async (req: Request<{ model: string }>, res) => {
    const model = await findModelOr404(store, req.params.model);
    const deadline = Date.now() + QUERY_DEADLINE_MS;
    const state = await temporal
      .withDeadline(deadline, () => handleFor(model.name).query(statusQuery))
      .catch((err) => {
        throw temporalError(err, model.name, QUERY_DEADLINE_MS, deadline);
      });
    res.json(present(req, model.name, state));
  });

  /**
   * Sends a control to an agent that answers, and answers with its new state (200); 202 when the agent
   * accepted it but had not finished applying it by the deadline (its worker stopped mid-change, or the
   * change's activities are slow): an accepted update is durable and completes when the worker runs.
   */
  async function control(
    req: Request,
    modelName: string,
    update: typeof pauseUpdate,
    request: PauseRequest,
    res: Response,
  ): Promise<void> {
    const arrived = Date.now();
    const handle = handleFor(modelName);
    await temporal
      .withDeadline(arrived + CONTROL_CHECK_MS, () => handle.query(statusQuery))
      .catch((err) => {
        throw temporalError(err, modelName, CONTROL_CHECK_MS, arrived + CONTROL_CHECK_MS);
      });
    let accepted: WorkflowUpdateHandle<AgentState> | undefined;
    try {
      const state = await temporal.withDeadline(arrived + CONTROL_DEADLINE_MS, async () => {
        accepted = await handle.startUpdate(update, {
          args: [request],
          waitForStage: WorkflowUpdateStage.ACCEPTED,
        });
        return accepted.result();
      });
      res.json(present(req, modelName, state));
    } catch (err) {
      if (accepted && !(err instanceof WorkflowUpdateFailedError)) {
        res.status(202).json({
          agent: { workflowId: agentWorkflowId(modelName) },
          control: { status: 'accepted', updateId: accepted.updateId },
        });
        return;
      }
      const error = temporalError(err, modelName, CONTROL_DEADLINE_MS, arrived + CONTROL_DEADLINE_MS);
      if (error.code !== 'agent_unresponsive') throw error;
      // The agent answered the check, then not the control: Temporal keeps it for the next worker.
      throw new HttpError(
        503,
        'control_pending',
        `the agent of "${modelName}" stopped answering after the control was sent: it may still be applied ` +
          "when a worker runs; read the agent's state before sending it again",
        undefined,
        error.headers,
      );
    }
  }

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
      const request = { ...body, ...auditedAs(req.identity!, body.actor) };
      // Every control's request extends the pause request; its schema above checked the rest.
      await control(req, model.name, update as typeof pauseUpdate, request, res);
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
    const request = { ...body, ...auditedAs(req.identity!, body.actor) };
    await control(req, model.name, setPolicyUpdate as unknown as typeof pauseUpdate, request, res);
  });
  return router;
}
