// Token buckets in this process's memory: exact for one node (the default without Redis).
import {
  admitBatch,
  PAIR_RULE,
  pausedBucket,
  type BucketRule,
  type BucketState,
} from '../../core/rate-limit.ts';
import type { RateLimiter } from '../../ports/rate-limiter.ts';

/** Pair buckets refill to full after 45 × 6 s; an older one says no more than an absent one. */
const PAIR_FULL_AFTER_MS = (PAIR_RULE.capacity / PAIR_RULE.ratePerSecond) * 1_000;

export function createInProcessRateLimiter(pairRule: BucketRule = PAIR_RULE): RateLimiter {
  const states = new Map<string, BucketState>();
  let admitted = 0;
  const forgetFullBuckets = (now: number): void => {
    for (const [key, state] of states)
      if (key.startsWith('p:') && now - state.updatedAt > PAIR_FULL_AFTER_MS) states.delete(key);
  };
  return {
    admit({ channelId, rule, contactIds, now }) {
      // Sweep now and then, so a long campaign to many contacts does not grow the map forever.
      admitted += contactIds.length;
      if (admitted > 20_000 && states.size > 20_000) {
        admitted = 0;
        forgetFullBuckets(now);
      }
      return Promise.resolve(
        admitBatch(
          states,
          { key: `c:${channelId}`, rule },
          contactIds.map((contactId) => `p:${channelId}:${contactId}`),
          pairRule,
          now,
        ),
      );
    },
    pause(channelId, until) {
      const key = `c:${channelId}`;
      states.set(key, pausedBucket(states.get(key), until));
      return Promise.resolve();
    },
    close() {
      states.clear();
      return Promise.resolve();
    },
  };
}
