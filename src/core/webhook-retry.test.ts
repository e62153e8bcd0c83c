// Retry schedule of event webhook deliveries: backoff grows, is capped, jittered, and stops at 24 h.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETRY_POLICY, nextAttemptAt } from './webhook-retry.ts';
import { DAY, HOUR, SECOND } from './time.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z');

describe('event webhook retry schedule', () => {
  it('doubles the delay after each failure, between half and all of the step', () => {
    const deadline = T0 + DAY;
    assert.equal(nextAttemptAt(1, T0, deadline, 1), T0 + 30 * SECOND);
    assert.equal(nextAttemptAt(1, T0, deadline, 0), T0 + 15 * SECOND);
    assert.equal(nextAttemptAt(2, T0, deadline, 1), T0 + 60 * SECOND);
    assert.equal(nextAttemptAt(4, T0, deadline, 1), T0 + 240 * SECOND);
  });

  it('never waits more than an hour between attempts', () => {
    assert.equal(nextAttemptAt(20, T0, T0 + DAY, 1), T0 + HOUR);
    assert.equal(nextAttemptAt(500, T0, T0 + DAY, 1), T0 + HOUR);
  });

  it('makes the last attempt at the deadline, then dead-letters', () => {
    const deadline = T0 + DAY;
    assert.equal(nextAttemptAt(30, deadline - 10 * SECOND, deadline, 1), deadline);
    assert.equal(nextAttemptAt(31, deadline, deadline, 1), null);
  });

  it('keeps retrying for 24 hours with a few dozen attempts', () => {
    let now = T0;
    let failures = 0;
    for (;;) {
      failures++;
      const next = nextAttemptAt(failures, now, T0 + DEFAULT_RETRY_POLICY.giveUpAfterMs, 0.5);
      if (next === null) break;
      now = next;
    }
    assert.equal(now, T0 + DAY);
    assert.ok(failures > 20 && failures < 60, `${failures} attempts`);
  });
});
