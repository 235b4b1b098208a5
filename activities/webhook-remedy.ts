// The `webhook` remedy's call out (docs/extending.md): a signed POST asks the user's own system (a rollout
// controller, a CI job) to act on the model. It is delivered as escalations are (signed, through the
// egress policy, retried by Temporal); its answer comes back later through the API, to the child workflow
// waiting for it (workflows/webhook-remedy.ts).
import { ApplicationFailure } from '@temporalio/activity';
import type { WebhookRemedyDelivery, WebhookRemedyRequest } from '../lib/brain/contracts.ts';
import type { Store } from '../lib/db/client.ts';
import { parsePolicy } from '../lib/policy/policy.ts';
import { deliver, findModelOrFail } from './incidents.ts';

/** The path the receiver reports the result to, relative to the API's base URL. */
export function webhookResultPath(modelName: string, delivery: string): string {
  return `/v1/models/${encodeURIComponent(modelName)}/remedies/${encodeURIComponent(delivery)}/result`;
}

/** What the receiver gets: the delivery id to answer to, where to answer, and what it is asked to fix. */
export function webhookRemedyBody(req: WebhookRemedyRequest, timeout: string, sentAt: Date): string {
  return JSON.stringify({
    delivery: req.key,
    model: req.modelName,
    incidentId: req.incidentId,
    remedy: 'webhook',
    reason: req.reason,
    actor: req.actor,
    deployment: req.deployment,
    answer: { path: webhookResultPath(req.modelName, req.key), within: timeout },
    sentAt: sentAt.toISOString(),
  });
}

export function createWebhookRemedyActivities(store: Store) {
  return {
    /**
     * Asks the model's remedy webhook to act. Idempotent by `key` for the receiver: a retried delivery
     * carries the same delivery id, which it deduplicates on (as for escalations).
     */
    async requestWebhookRemedy(req: WebhookRemedyRequest): Promise<WebhookRemedyDelivery> {
      const model = await findModelOrFail(store, req.modelName);
      const parsed = parsePolicy(model.policy);
      const settings = parsed.ok ? parsed.policy.remedyWebhook : undefined;
      if (!settings?.url) {
        // The policy changed between the decision and now: nobody to ask, and asking again will not help.
        throw ApplicationFailure.create({
          type: 'RemedyWebhookMissing',
          message: 'no remedy webhook is configured (policy remedyWebhook.url)',
          nonRetryable: true,
        });
      }
      const body = webhookRemedyBody(req, settings.timeout, new Date());
      const status = await deliver(settings.url, body, req.key, {
        noun: 'remedy request',
        errorPrefix: 'RemedyWebhook',
      });
      return { status, timeout: settings.timeout };
    },
  };
}
