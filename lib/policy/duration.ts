// Policy durations ('90s', '15 minutes', '6 hours', '1 day') in milliseconds. Pure and dependency-free so
// the decision engine can use it inside workflows; the grammar is the one the policy schema validates.

/** The grammar of a policy duration: a non-negative number and a unit. */
export const DURATION_PATTERN =
  /^(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|seconds?|m|minutes?|h|hours?|d|days?)$/;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const UNIT_MS: Record<string, number> = {
  ms: 1,
  millisecond: 1,
  milliseconds: 1,
  s: SECOND,
  second: SECOND,
  seconds: SECOND,
  m: MINUTE,
  minute: MINUTE,
  minutes: MINUTE,
  h: HOUR,
  hour: HOUR,
  hours: HOUR,
  d: 24 * HOUR,
  day: 24 * HOUR,
  days: 24 * HOUR,
};

/**
 * Milliseconds of a policy duration (a number is already milliseconds, as Temporal takes it); throws on
 * anything the policy schema would have rejected.
 */
export function durationMs(duration: string | number): number {
  if (typeof duration === 'number') return duration;
  const match = DURATION_PATTERN.exec(duration);
  const unit = match?.[2] === undefined ? undefined : UNIT_MS[match[2]];
  if (!match || unit === undefined)
    throw new TypeError(`not a duration: "${duration}" (expected e.g. "90s", "15 minutes", "1 day")`);
  return Number(match[1]) * unit;
}

/** A duration as people read it (timer summaries in the Temporal UI): text stays, milliseconds get a unit. */
export const spokenDuration = (duration: string | number): string =>
  typeof duration === 'number' ? `${duration} ms` : duration;
