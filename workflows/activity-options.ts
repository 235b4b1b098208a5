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
