// What the API answers when a call to a model's agent fails (api/routes/agents.ts temporalError): the
// codes operators and scripts act on. The integration tests (test/integration/outage.test.ts) reach these
// through a real Temporal with no worker, or none at all; which gRPC status a call ends with there
// depends on the moment the deadline strikes, so each status is pinned down here.
import { WorkflowNotFoundError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { temporalError } from '../../api/routes/agents.ts';

/** An error as the SDK throws it: its own message, the gRPC status as the cause. */
function failed(code: number): Error {
  return Object.assign(new Error('Failed to query Workflow'), { cause: { code, details: 'x' } });
}

describe("the API's answer to a failed call to an agent", () => {
  const past = () => Date.now() - 1;
  const future = () => Date.now() + 60_000;

  it('is agent_unresponsive when the deadline passed, whatever status the last try ended with', () => {
    // DEADLINE_EXCEEDED, CANCELLED (the deadline struck between two retries), UNAVAILABLE (the last retry).
    for (const code of [4, 1, 14]) {
      const error = temporalError(failed(code), 'm', 2_500, past());
      expect(error).toMatchObject({
        status: 503,
        code: 'agent_unresponsive',
        headers: { 'Retry-After': '5' },
      });
      expect(error.message).toBe(
        'the agent of "m" did not answer in 2.5 s (is Temporal reachable, and a worker running?); nothing was changed',
      );
    }
  });

  it('is agent_unresponsive on DEADLINE_EXCEEDED even before our clock says so', () => {
    expect(temporalError(failed(4), 'm', 2_500, future()).code).toBe('agent_unresponsive');
  });

  it('is temporal_unavailable, with the gRPC status, when Temporal failed before the deadline', () => {
    const error = temporalError(failed(14), 'm', 2_500, future());
    expect(error).toMatchObject({
      status: 503,
      code: 'temporal_unavailable',
      headers: { 'Retry-After': '5' },
    });
    expect(error.message).toBe('Temporal did not answer: Failed to query Workflow (gRPC status code 14)');
  });

  it('is agent_not_running (404) when the workflow does not exist', () => {
    const error = temporalError(new WorkflowNotFoundError('gone', 'agent-m', undefined), 'm', 2_500, past());
    expect(error).toMatchObject({ status: 404, code: 'agent_not_running' });
  });
});
