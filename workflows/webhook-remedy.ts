// The `webhook` remedy (docs/extending.md): the user's own system — a rollout controller, a CI job — is
// asked to act, and this child waits for the result it reports back through the API (an update, so the
// caller learns whether it was taken). Its outcome is a remedy result like any other: applied goes on to
// the agent's verification against the pre-failure baseline, failed or unanswered climbs the ladder.
// The child's workflow id is the delivery id: the receiver answers to it, and a retried delivery
// carries the same one.
import { condition, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { WebhookRemedyAnswer } from '../lib/brain/contracts.ts';
import type { RemedyResult } from '../lib/brain/lifecycle-types.ts';
import { durationMs } from '../lib/policy/duration.ts';
import { STEP_OPTIONS, WEBHOOK_OPTIONS } from './activity-options.ts';
import { webhookRemedyResultUpdate } from './messages.ts';
import type { RemedyInput } from './remedies.ts';

const acts = proxyActivities<Activities>(STEP_OPTIONS);
// Delivered as escalations are; a request that could not be delivered is a failed remedy.
const delivery = proxyActivities<Activities>(WEBHOOK_OPTIONS);

export async function webhookRemedyWorkflow(input: RemedyInput): Promise<RemedyResult> {
  const key = workflowInfo().workflowId;
  let answer: WebhookRemedyAnswer | undefined;
  // Registered before the request goes out: a fast receiver may answer before the activity completes.
  setHandler(
    webhookRemedyResultUpdate,
    (given) => {
      answer ??= given;
      return answer;
    },
    {
      validator: (given) => {
        // A repeated answer is taken again (the receiver retried); a contradicting one is refused.
        if (answer && answer.outcome !== given.outcome)
          throw new Error(`this remedy was already reported ${answer.outcome}`);
      },
    },
  );
  const before = await acts.describeDeployment({ modelName: input.modelName });
  let timeout: string;
  try {
    ({ timeout } = await delivery.requestWebhookRemedy({
      modelName: input.modelName,
      incidentId: input.incidentId,
      key,
      reason: input.reason,
      actor: input.actor,
      deployment: before,
    }));
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? String(error);
    return { outcome: 'failed', before: before.revision, after: before.revision, detail: cause };
  }
  const answered = await condition(() => answer !== undefined, durationMs(timeout), {
    summary: `wait up to ${timeout} for the remedy webhook's result`,
  });
  // The user's system may have changed the deployment (through the API) or not: the revisions say.
  const after = (await acts.describeDeployment({ modelName: input.modelName })).revision;
  if (!answered || !answer) {
    return {
      outcome: 'failed',
      before: before.revision,
      after,
      detail: `the remedy webhook reported no result within ${timeout}`,
    };
  }
  const said = answer.detail ? `: ${answer.detail}` : '';
  return {
    outcome: answer.outcome === 'succeeded' ? 'applied' : 'failed',
    before: before.revision,
    after,
    detail: `the remedy webhook reported ${answer.outcome} (${answer.actor})${said}`,
    reported: answer,
  };
}
