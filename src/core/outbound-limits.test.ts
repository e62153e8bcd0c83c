// LIM-3 messaging limit, LIM-4 marketing frequency cap and 131049 hold-off, LIM-5 US marketing block.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MESSAGING_LIMIT_WINDOW,
  marketBlockDecision,
  marketingCapDecision,
  messagingLimitDecision,
  messagingLimitScope,
} from './outbound-limits.ts';
import { DAY, HOUR } from './time.ts';

const NOW = Date.parse('2026-03-02T09:00:00Z');

describe('LIM-3 messaging limit', () => {
  it('LIM-3: counts per WABA (portfolio) since 2025-10-07 and per number before', () => {
    const channel = { id: 'ch1', wabaId: 'W1' };
    assert.equal(messagingLimitScope(channel, NOW), 'waba:W1');
    assert.equal(messagingLimitScope(channel, Date.parse('2025-10-06T23:59:59Z')), 'number:ch1');
    assert.equal(messagingLimitScope({ id: 'ch2', wabaId: null }, NOW), 'number:ch2');
  });

  it('LIM-3: a new user is allowed while fewer than the tier were reached in 24 h', () => {
    const d = messagingLimitDecision(
      { lastReachedAt: null, reachedInWindow: 249, oldestReachedAt: NOW - HOUR },
      250,
      NOW,
    );
    assert.deepEqual(d, { allowed: true, countsAsNewUser: true });
  });

  it('LIM-3: the 251st distinct user is refused with messaging_limit until the oldest reach is 24 h old', () => {
    const oldest = NOW - 20 * HOUR;
    const d = messagingLimitDecision(
      { lastReachedAt: null, reachedInWindow: 250, oldestReachedAt: oldest },
      250,
      NOW,
    );
    assert.equal(d.allowed, false);
    if (d.allowed) return;
    assert.equal(d.reason, 'messaging_limit');
    assert.equal(d.retryAt, oldest + MESSAGING_LIMIT_WINDOW);
    assert.match(d.detail, /250 distinct users/);
  });

  it('LIM-3: a user already reached in the last 24 h takes no new place at the limit', () => {
    const d = messagingLimitDecision(
      { lastReachedAt: NOW - 2 * HOUR, reachedInWindow: 250, oldestReachedAt: NOW - 20 * HOUR },
      250,
      NOW,
    );
    assert.deepEqual(d, { allowed: true, countsAsNewUser: false });
  });

  it('LIM-3: a user reached exactly 24 h ago needs a place again (half-open window)', () => {
    const d = messagingLimitDecision(
      { lastReachedAt: NOW - DAY, reachedInWindow: 250, oldestReachedAt: NOW - HOUR },
      250,
      NOW,
    );
    assert.equal(d.allowed, false);
  });

  it('LIM-3: an unlimited tier never refuses', () => {
    const d = messagingLimitDecision(
      { lastReachedAt: null, reachedInWindow: 1_000_000, oldestReachedAt: NOW - HOUR },
      null,
      NOW,
    );
    assert.equal(d.allowed, true);
  });
});

describe('LIM-4 per-contact marketing pacing', () => {
  it('LIM-4: the frequency cap is off by default (null): any number of marketing sends pass', () => {
    const sentAt = Array.from({ length: 50 }, (_, i) => NOW - i * HOUR);
    assert.equal(marketingCapDecision({ sentAt, userCapAt: null }, null, NOW).allowed, true);
  });

  it('LIM-4: a cap of 2 per 24 h refuses the third with marketing_user_cap, and allows it once one ages out', () => {
    const cap = { max: 2, windowMs: DAY };
    const history = { sentAt: [NOW - 23 * HOUR, NOW - HOUR], userCapAt: null };
    const refused = marketingCapDecision(history, cap, NOW);
    assert.equal(refused.allowed, false);
    if (!refused.allowed) assert.equal(refused.reason, 'marketing_user_cap');
    assert.equal(marketingCapDecision(history, cap, NOW + 2 * HOUR).allowed, true);
  });

  it('LIM-4: after a 131049 the contact gets no marketing for 24 h, then does again', () => {
    const history = { sentAt: [], userCapAt: NOW - 10 * HOUR };
    const held = marketingCapDecision(history, null, NOW);
    assert.equal(held.allowed, false);
    if (!held.allowed) {
      assert.equal(held.reason, 'marketing_user_cap');
      assert.match(held.detail, /131049/);
    }
    assert.equal(marketingCapDecision(history, null, NOW + 14 * HOUR).allowed, true);
  });
});

describe('LIM-5 US marketing block', () => {
  it('LIM-5: refuses marketing to a US number with market_blocked since 2025-04-01', () => {
    const d = marketBlockDecision('US', 'marketing', NOW);
    assert.equal(d.allowed, false);
    if (!d.allowed) assert.equal(d.reason, 'market_blocked');
  });

  it('LIM-5: before 2025-04-01 US marketing was allowed', () => {
    assert.equal(
      marketBlockDecision('US', 'marketing', Date.parse('2025-03-31T23:59:59Z')).allowed,
      true,
    );
  });

  it('LIM-5: Canada (+1) and US utility templates are not affected', () => {
    assert.equal(marketBlockDecision('CA', 'marketing', NOW).allowed, true);
    assert.equal(marketBlockDecision('US', 'utility', NOW).allowed, true);
    assert.equal(marketBlockDecision(null, 'marketing', NOW).allowed, true);
  });
});
