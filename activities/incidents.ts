// Incidents, the audit trail and escalations: the activities that record what the agent did and hand an
// incident to a human. Every write is keyed (lib/brain/contracts.ts), so a retried activity leaves one
// row and sends one escalation per key as far as the receiver is concerned (X-Homeostat-Delivery).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { asyncLocalStorage } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { sealAuditRow } from '../lib/audit/chain.ts';
import type {
  ActionRecord,
  EscalationRequest,
  EscalationResult,
  IncidentUpdate,
} from '../lib/brain/contracts.ts';
import type { Store } from '../lib/db/client.ts';
import { logger } from '../lib/log.ts';
import {
  EGRESS_ALLOW_ENV,
  EgressDeniedError,
  type EgressResponse,
  egressPost,
  hostForLog,
} from '../lib/net/egress.ts';
import { parsePolicy } from '../lib/policy/policy.ts';
import { RegistryError } from '../lib/registry/errors.ts';
import { modelNotFound } from './errors.ts';

/** How long a webhook receiver has to answer before the attempt counts as failed (and is retried). */
const WEBHOOK_TIMEOUT_MS = 10_000;
export const SIGNATURE_HEADER = 'X-Homeostat-Signature';
export const DELIVERY_HEADER = 'X-Homeostat-Delivery';

/**
 * The workflow an activity runs for, for the audit row; nulls outside an activity (an operator's revert
 * through the API, a script) — Context.current() would throw there.
 */
export function workflowIdsIfAny(): { workflowId: string | null; runId: string | null } {
  const execution = asyncLocalStorage.getStore()?.info.workflowExecution;
  return { workflowId: execution?.workflowId ?? null, runId: execution?.runId ?? null };
}

/**
 * Runs registry code, turning its refusals into Temporal failures: a 4xx cannot succeed on retry, so it
 * is non-retryable with the registry's code as its type; a 502 (a model server failed) is retried.
 */
export async function inRegistry<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof RegistryError)) throw error;
    throw ApplicationFailure.create({
      type: error.code,
      message: error.message,
      nonRetryable: error.status !== 502,
      details: error.issues ? [error.issues] : [],
    });
  }
}

/** The model's row; a model gone from the registry is the workers' usual non-retryable ModelNotFound. */
export async function findModelOrFail(store: Store, name: string) {
  const model = await store.model.findUnique({ where: { name } });
  if (!model) throw modelNotFound(name);
  return model;
}

type ActionStatus = ActionRecord['status'];
/** Statuses only move forward; a compensation undoes a change that had succeeded. */
const STATUS_RANK: Record<ActionStatus, number> = {
  pending: 0,
  started: 1,
  succeeded: 2,
  failed: 2,
  rejected: 2,
  expired: 2,
  compensated: 3,
};
const isFinal = (status: ActionStatus) => STATUS_RANK[status] >= 2;

export interface AuditRow {
  key: string;
  modelId: string;
  type: string;
  actor: string;
  reason: string;
  incidentId: string | null;
  detail?: Record<string, unknown>;
  beforeRevisionId?: string | null;
  afterRevisionId?: string | null;
}

/**
 * Writes a completed action's audit row once per key, sealed into the audit chain in the same
 * transaction; a retry gets the row the first attempt wrote (and adds no entry).
 */
export function auditOnce(store: Store, row: AuditRow) {
  return store.$transaction(async (tx) => {
    const action = await tx.action.upsert({
      where: { idempotencyKey: row.key },
      create: {
        idempotencyKey: row.key,
        modelId: row.modelId,
        type: row.type,
        actor: row.actor,
        status: 'succeeded',
        reason: row.reason,
        incidentId: row.incidentId,
        ...(row.detail ? { detail: row.detail as object } : {}),
        beforeRevisionId: row.beforeRevisionId ?? null,
        afterRevisionId: row.afterRevisionId ?? null,
        ...workflowIdsIfAny(),
        completedAt: new Date(),
      },
      update: {},
    });
    await sealAuditRow(tx, 'Action', action);
    return action;
  });
}

/** Revision row ids by revision number; null for null, undefined for "not given". */
async function revisionId(store: Store, modelId: string, revision: number | null | undefined) {
  if (revision === undefined || revision === null) return revision;
  const row = await store.deploymentRevision.findUnique({
    where: { modelId_revision: { modelId, revision } },
    select: { id: true },
  });
  if (!row) {
    throw ApplicationFailure.create({
      type: 'RevisionNotFound',
      message: `the model has no revision ${revision}`,
      nonRetryable: true,
    });
  }
  return row.id;
}

/** The body an escalation webhook receives, signed as sent; `delivery` is the idempotency key. */
export function escalationBody(req: EscalationRequest, sentAt: Date): string {
  return JSON.stringify({
    delivery: req.key,
    model: req.modelName,
    incidentId: req.incidentId,
    pack: req.pack,
    sentAt: sentAt.toISOString(),
  });
}

/** How old (or how far ahead) a signature's time may be when verified: five minutes, unless told. */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

/**
 * X-Homeostat-Signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>`. The
 * body carries the delivery id, so the signature covers the id, the time and the content: a captured
 * request can be replayed neither later (the time is checked) nor as another delivery.
 */
export function signWebhookBody(body: string, secret: string, at: Date = new Date()): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${hmacHex(secret, t, body)}`;
}

const hmacHex = (secret: string, t: number, body: string) =>
  createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');

export interface VerifyOptions {
  /** Largest accepted difference between the signature's time and `now`; 300 s by default. */
  toleranceSeconds?: number;
  now?: Date;
}

/**
 * For receivers: does `header` (X-Homeostat-Signature) sign the exact raw `body` under `secret`, at a
 * time within the tolerance of now? Compared in constant time; a missing or malformed header is false.
 * Deduplicate verified deliveries on the body's `delivery` field (X-Homeostat-Delivery repeats it).
 */
export function verifyWebhookSignature(
  body: string | Buffer,
  header: string | null | undefined,
  secret: string,
  { toleranceSeconds = DEFAULT_SIGNATURE_TOLERANCE_SECONDS, now = new Date() }: VerifyOptions = {},
): boolean {
  const fields = new Map(
    (header ?? '').split(',').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
    }),
  );
  const t = Number(fields.get('t'));
  const given = fields.get('v1') ?? '';
  if (!/^\d{1,12}$/.test(fields.get('t') ?? '') || !/^[0-9a-f]{64}$/.test(given)) return false;
  if (Math.abs(now.getTime() / 1000 - t) > toleranceSeconds) return false;
  const expected = Buffer.from(hmacHex(secret, t, body.toString()), 'hex');
  return timingSafeEqual(Buffer.from(given, 'hex'), expected);
}

/** The model's own webhook (its policy) wins over the deployment-wide one. */
function escalationWebhook(
  policyDocument: unknown,
): { url: string; source: NonNullable<EscalationResult['webhook']> } | null {
  const parsed = parsePolicy(policyDocument);
  const own = parsed.ok ? parsed.policy.escalationWebhook : undefined;
  if (own) return { url: own, source: 'policy' };
  const deployment = process.env.HOMEOSTAT_ESCALATION_WEBHOOK;
  return deployment ? { url: deployment, source: 'deployment' } : null;
}

/** True only when HOMEOSTAT_WEBHOOK_ALLOW_UNSIGNED says so: escalations are signed unless opted out. */
const allowUnsigned = () => /^(1|true|yes)$/i.test(process.env.HOMEOSTAT_WEBHOOK_ALLOW_UNSIGNED ?? '');

/**
 * What a signed webhook is for, in its messages and error types: an escalation, or a remedy webhook
 * (activities/webhook-remedy.ts), which are delivered alike.
 */
export interface WebhookPurpose {
  /** 'escalation': "escalation not sent", "escalation webhook unreachable"... */
  noun: string;
  /** The prefix of the ApplicationFailure types: EscalationUnsigned, EscalationUndelivered... */
  errorPrefix: string;
}
const ESCALATION: WebhookPurpose = { noun: 'escalation', errorPrefix: 'Escalation' };

/**
 * POSTs `body` to `url`, signed with HOMEOSTAT_WEBHOOK_SECRET, through the egress policy; throws for
 * Temporal to retry, except when retrying cannot help (unsigned, an address the policy refuses).
 */
export async function deliver(
  url: string,
  body: string,
  key: string,
  { noun, errorPrefix }: WebhookPurpose = ESCALATION,
): Promise<number> {
  const secret = process.env.HOMEOSTAT_WEBHOOK_SECRET;
  if (!secret && !allowUnsigned()) {
    // Retrying cannot help: a receiver could not tell this request from a forged one.
    throw ApplicationFailure.create({
      type: `${errorPrefix}Unsigned`,
      message: `${noun} not sent: HOMEOSTAT_WEBHOOK_SECRET is not set, so it could not be signed; set it (receivers verify with it), or set HOMEOSTAT_WEBHOOK_ALLOW_UNSIGNED=true to send unsigned ${noun}s`,
      nonRetryable: true,
    });
  }
  if (!secret)
    logger.warn({ host: hostForLog(url), key }, `${noun} sent unsigned (HOMEOSTAT_WEBHOOK_ALLOW_UNSIGNED)`);
  // The messages name no URL: they reach the audit trail, which viewers read.
  const undelivered = (why: string, cause?: unknown) => {
    logger.warn(
      { host: hostForLog(url), key, cause: (cause as Error | undefined)?.message },
      `${noun} ${why}`,
    );
    return ApplicationFailure.create({
      type: `${errorPrefix}Undelivered`,
      message: `${noun} webhook ${why}`,
    });
  };
  let response: EgressResponse;
  try {
    response = await egressPost(url, {
      headers: {
        'content-type': 'application/json',
        [DELIVERY_HEADER]: key,
        ...(secret ? { [SIGNATURE_HEADER]: signWebhookBody(body, secret) } : {}),
      },
      body,
      timeoutMs: WEBHOOK_TIMEOUT_MS,
      // The answer's content does not matter; it is read (up to this) so the connection is released.
      maxResponseBytes: 1024 * 1024,
    });
  } catch (error) {
    if (error instanceof EgressDeniedError) {
      throw ApplicationFailure.create({
        type: `${errorPrefix}Refused`,
        message: `${noun} webhook not called: a ${error.use} address, which ${EGRESS_ALLOW_ENV} does not allow`,
        nonRetryable: true,
      });
    }
    const timedOut = (error as Error).name === 'TimeoutError';
    throw undelivered(timedOut ? `did not answer within ${WEBHOOK_TIMEOUT_MS} ms` : 'unreachable', error);
  }
  if (response.status < 200 || response.status > 299) throw undelivered(`answered ${response.status}`);
  return response.status;
}

/** The audit's words for where an escalation went: which setting, never the address. */
const WEBHOOK_NAMES: Record<NonNullable<EscalationResult['webhook']>, string> = {
  policy: "the model policy's escalation webhook",
  deployment: 'the deployment-wide escalation webhook (HOMEOSTAT_ESCALATION_WEBHOOK)',
};

export function createIncidentActivities(store: Store) {
  return {
    /** Moves an incident's status, appends a step to its evidence once per step key, optionally closes it. */
    async updateIncident(req: IncidentUpdate): Promise<void> {
      await store.$transaction(async (tx) => {
        const incident = await tx.incident.findUnique({ where: { id: req.incidentId } });
        if (!incident) {
          throw ApplicationFailure.create({
            type: 'IncidentNotFound',
            message: `no incident ${req.incidentId}`,
            nonRetryable: true,
          });
        }
        const evidence = (incident.evidence ?? {}) as Record<string, unknown>;
        const steps = Array.isArray(evidence.steps) ? (evidence.steps as { key?: string }[]) : [];
        const step = req.step && !steps.some((s) => s.key === req.step!.key) ? req.step : null;
        await tx.incident.update({
          where: { id: incident.id },
          data: {
            status: req.status,
            ...(step ? { evidence: { ...evidence, steps: [...steps, step] } as object } : {}),
            ...(req.close && !incident.closedAt ? { closedAt: new Date() } : {}),
          },
        });
      });
    },

    /**
     * Inserts the audit row of `key`, or moves the existing one forward: a later status (with its actor
     * and reason) replaces an earlier one (never the reverse, so a late retry cannot undo progress), given revisions and detail
     * are filled in, and a final status sets completedAt.
     */
    async recordAction(req: ActionRecord): Promise<{ actionId: string }> {
      const model = await findModelOrFail(store, req.modelName);
      const [beforeRevisionId, afterRevisionId] = await Promise.all([
        revisionId(store, model.id, req.beforeRevision),
        revisionId(store, model.id, req.afterRevision),
      ]);
      // The row and its entry in the audit chain commit together.
      return store.$transaction(async (tx) => {
        const existing = await tx.action.findUnique({ where: { idempotencyKey: req.key } });
        if (!existing) {
          const created = await tx.action.upsert({
            where: { idempotencyKey: req.key },
            create: {
              idempotencyKey: req.key,
              modelId: model.id,
              type: req.type,
              actor: req.actor,
              status: req.status,
              reason: req.reason,
              incidentId: req.incidentId,
              ...(req.detail ? { detail: req.detail as object } : {}),
              beforeRevisionId: beforeRevisionId ?? null,
              afterRevisionId: afterRevisionId ?? null,
              ...workflowIdsIfAny(),
              completedAt: isFinal(req.status) ? new Date() : null,
            },
            update: {},
          });
          await sealAuditRow(tx, 'Action', created);
          return { actionId: created.id };
        }
        const moves = STATUS_RANK[req.status] > STATUS_RANK[existing.status as ActionStatus];
        const updated = await tx.action.update({
          where: { id: existing.id },
          data: {
            // Who moved it is who answers for it: a human approving or rejecting what the agent asked.
            ...(moves ? { status: req.status, reason: req.reason, actor: req.actor } : {}),
            ...(moves && isFinal(req.status) ? { completedAt: new Date() } : {}),
            ...(req.detail
              ? { detail: { ...((existing.detail ?? {}) as object), ...req.detail } as object }
              : {}),
            ...(beforeRevisionId !== undefined ? { beforeRevisionId } : {}),
            ...(afterRevisionId !== undefined ? { afterRevisionId } : {}),
          },
        });
        await sealAuditRow(tx, 'Action', updated);
        return { actionId: existing.id };
      });
    },

    /**
     * POSTs the evidence pack to the escalation webhook, signed, and audits it once per key. A failed
     * delivery throws so that Temporal retries it; a key already audited is not sent again.
     */
    async sendEscalation(req: EscalationRequest): Promise<EscalationResult> {
      const model = await findModelOrFail(store, req.modelName);
      const done = await store.action.findUnique({ where: { idempotencyKey: req.key } });
      if (done) return done.detail as unknown as EscalationResult;
      const webhook = escalationWebhook(model.policy);
      const status = webhook ? await deliver(webhook.url, escalationBody(req, new Date()), req.key) : null;
      const result: EscalationResult = {
        delivered: webhook !== null,
        status,
        webhook: webhook?.source ?? null,
      };
      await auditOnce(store, {
        key: req.key,
        modelId: model.id,
        type: 'escalate',
        actor: 'agent',
        reason: webhook
          ? `escalated to ${WEBHOOK_NAMES[webhook.source]}`
          : 'escalated (no webhook configured: the dashboard only)',
        incidentId: req.incidentId,
        detail: { ...result },
      });
      return result;
    },
  };
}
