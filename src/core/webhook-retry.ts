// When to try an event webhook delivery again: exponential backoff with jitter for 24 h, then
// dead letter. Pure: the time and the random draw are passed in.
import { DAY, HOUR, SECOND } from './time.ts';

export interface RetryPolicy {
  /** Delay after the first failure, doubled after each further failure. */
  readonly baseMs: number;
  /** Longest delay between two attempts. */
  readonly maxDelayMs: number;
  /** Retries stop this long after the delivery was created. */
  readonly giveUpAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseMs: 30 * SECOND,
  maxDelayMs: HOUR,
  giveUpAfterMs: DAY,
};

/**
 * The next attempt after failure number `failures` (1 = the first attempt failed) at `now`, or
 * null to dead-letter. The delay is drawn from [½, 1] of the exponential step ("equal jitter"),
 * so subscribers recovering from an outage are not hit by every retry at the same instant, and
 * the last attempt happens at the deadline rather than being skipped.
 */
export function nextAttemptAt(
  failures: number,
  now: number,
  deadline: number,
  random: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): number | null {
  if (now >= deadline) return null;
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const step = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** exponent);
  const jittered = Math.round(step / 2 + (step / 2) * Math.min(Math.max(random, 0), 1));
  return Math.min(now + Math.max(jittered, 1), deadline);
}
