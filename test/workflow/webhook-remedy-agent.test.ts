// The `webhook` remedy on the real agent: a failing model server (the inference-failures scenario) through
// the real gateway, the agent on a time-skipping server with the real worker and activities, and a policy
// whose failures ladder names `webhook`. The agent picks the rung, asks the example receiver (a stand-in
// rollout system), which rolls back to the stable version through the API and reports success through the
// result route; the remedy is audited as any other and verified against the pre-failure failure rate.
import { expect, it } from 'vitest';
import { type HomeostatCall, startReceiver } from '../../examples/webhook-remedy/receiver.ts';
import type { JsonCall } from '../../lib/api-client.ts';
import { allowLoopbackEgress } from '../helpers/egress.ts';
import { WEBHOOK_SECRET } from '../helpers/scenario-run.ts';
import { check, expectRecovered, replays, run } from './scenario-checks.ts';

allowLoopbackEgress();

it('failures ladder [webhook]: the rollout system rolls back, reports success, the agent verifies the recovery', {
  timeout: 400_000,
}, async () => {
  // The harness's API exists only once the run starts: the receiver calls it through the operator's client.
  let call: JsonCall | null = null;
  const api: HomeostatCall = (method, path, body) => {
    if (!call) throw new Error('the API is not up yet');
    return call(method, path, body);
  };
  const receiver = await startReceiver({ api, secret: WEBHOOK_SECRET });
  try {
    const result = await run('inference-failures', {
      policy: {
        ladders: { failures: ['webhook'] },
        remedyWebhook: { url: receiver.url, timeout: '20 minutes' },
      },
      operator: async (turn) => {
        call ??= turn.call;
      },
    });
    await receiver.settled();
    await replays(result);
    check(result, () => {
      expectRecovered(result, 'webhook');
      expect(result.children.map((c) => c.type)).toEqual(['webhookRemedyWorkflow', 'verifyWorkflow']);
      expect(receiver.requests).toHaveLength(1);
      expect(receiver.requests[0]!.delivery).toBe(result.children[0]!.workflowId);
      const webhook = result.actions.find((a) => a.type === 'webhook')!;
      expect(webhook).toMatchObject({ actor: 'agent', status: 'succeeded' });
      expect((webhook.detail as { result: string }).result).toMatch(
        /^the remedy webhook reported succeeded \(.+\): rolled back to stable version \d+$/,
      );
      // The rollout system's rollback is what serves now: the stable version as production.
      expect(result.deployment.productionVersion).toBe(result.versions.fallback);
    });
  } finally {
    await receiver.close();
  }
});
