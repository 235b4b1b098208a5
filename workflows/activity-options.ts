// How the workflows call their activities: timeouts and which failures are final (retrying cannot help).
import type { ActivityOptions } from '@temporalio/workflow';

/** Errors an activity throws when the request itself is wrong: retried, they would fail the same way. */
export const FINAL_ERRORS = ['ModelNotFound', 'ActionNotFound', 'NotRevertible', 'InvalidPolicy'];

/**
 * A step of the agent or a remedy: a few store reads and writes. The timeout is also how long a step
 * lost with a crashed worker waits before another worker retries it, so it is kept short.
 */
export const STEP_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: FINAL_ERRORS },
};

/**
 * A signed webhook (an escalation, a remedy request): a receiver that is down must not hold the agent
 * forever, so about an hour of retries, then the delivery has failed.
 */
export const WEBHOOK_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    maximumAttempts: 10,
    nonRetryableErrorTypes: FINAL_ERRORS,
  },
};
