// The RateLimiter contract: the in-process buckets and the Redis buckets (one node or several
// sharing them) admit exactly what LIM-1 and LIM-2 allow, with time injected.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  admitBatch,
  channelBucket,
  PAIR_RULE,
  type BucketState,
} from '../../src/core/rate-limit.ts';
import type { RateLimiter } from '../../src/ports/rate-limiter.ts';

export interface LimitersUnderTest {
  /** Limiters sharing one set of buckets (one per simulated node); the first is "this" node. */
  readonly limiters: readonly RateLimiter[];
  readonly cleanup: () => Promise<void>;
}

const T0 = Date.parse('2026-03-02T09:00:00Z');
const SECOND = 1_000;

/** The most sends in any half-open second [s, s + 1000). */
export function busiestSecond(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  let from = 0;
  for (let to = 0; to < sorted.length; to++) {
    while (sorted[to]! - sorted[from]! >= SECOND) from++;
    max = Math.max(max, to - from + 1);
  }
  return max;
}

let channelSequence = 0;
const freshChannel = (label: string) => `${label}-${++channelSequence}`;

export function runRateLimiterContract(
  name: string,
  make: (nodes: number) => Promise<LimitersUnderTest>,
): void {
  describe(`RateLimiter contract: ${name}`, () => {
    let one: LimitersUnderTest;
    let three: LimitersUnderTest;
    before(async () => {
      one = await make(1);
      three = await make(3);
    });
    after(async () => {
      await one?.cleanup();
      await three?.cleanup();
    });

    it('LIM-1: a 20 mps channel offered far more never admits more than 20 in any second, and reaches the rate', async () => {
      const limiter = one.limiters[0]!;
      const channelId = freshChannel('lim1');
      const rule = channelBucket(20);
      const sent: number[] = [];
      let contact = 0;
      // Like the dispatcher: come back when the channel says its next token is due.
      for (
        let now = T0, readyAt: number | null = null;
        now < T0 + 5 * SECOND;
        now = readyAt ?? now + 7
      ) {
        const offered = Array.from({ length: 5 }, () => `c${contact++}`);
        const result = await limiter.admit({ channelId, rule, contactIds: offered, now });
        const { admissions } = result;
        readyAt = result.channelReadyAt;
        const gone = admissions.filter((a) => a.kind === 'go').length;
        contact -= offered.length - gone; // those not admitted are offered again
        for (let i = 0; i < gone; i++) sent.push(now);
      }
      assert.ok(busiestSecond(sent) <= 20, `busiest second ${busiestSecond(sent)}`);
      assert.ok(sent.length >= 99, `reached the rate: ${sent.length} in 5 s`);
    });

    it('LIM-1: the admissions say when the channel has its next token', async () => {
      const limiter = one.limiters[0]!;
      const channelId = freshChannel('ready');
      const rule = channelBucket(80);
      const result = await limiter.admit({
        channelId,
        rule,
        contactIds: ['a', 'b', 'c'],
        now: T0,
      });
      assert.deepEqual(
        result.admissions.map((a) => a.kind),
        ['go', 'wait', 'wait'],
      );
      // 1.08 tokens at first, one spent: the next whole one is due 11.5 ms later, so at 12 ms.
      assert.equal(result.channelReadyAt, T0 + 12);
      const early = await limiter.admit({ channelId, rule, contactIds: ['b'], now: T0 + 11 });
      assert.deepEqual(early.admissions, [{ kind: 'wait' }]);
      const later = await limiter.admit({ channelId, rule, contactIds: ['b'], now: T0 + 12 });
      assert.deepEqual(later.admissions, [{ kind: 'go' }]);
    });

    it('LIM-2: a contact gets a burst of 45, then waits about 6 s, while other contacts go on without losing channel tokens', async () => {
      const limiter = one.limiters[0]!;
      const channelId = freshChannel('lim2');
      const rule = channelBucket(1000);
      let now = T0;
      let burst = 0;
      for (; burst < 50; now += 1) {
        const { admissions } = await limiter.admit({ channelId, rule, contactIds: ['x'], now });
        if (admissions[0]!.kind === 'go') burst++;
        else break;
      }
      assert.equal(burst, 45);
      const deferred = await limiter.admit({
        channelId,
        rule,
        contactIds: ['x', 'y'],
        now: now + 2,
      });
      assert.equal(deferred.admissions[0]!.kind, 'pair');
      const retryAt = (deferred.admissions[0] as { retryAt: number }).retryAt;
      assert.ok(retryAt - (now + 2) > 5_000 && retryAt - (now + 2) <= 6_000, `${retryAt - now}`);
      assert.deepEqual(deferred.admissions[1], { kind: 'go' }, 'another contact is unaffected');
      const early = await limiter.admit({ channelId, rule, contactIds: ['x'], now: retryAt - 1 });
      assert.equal(early.admissions[0]!.kind, 'pair');
      const due = await limiter.admit({ channelId, rule, contactIds: ['x'], now: retryAt });
      assert.deepEqual(due.admissions, [{ kind: 'go' }]);
    });

    it('LIM-1: a pause (429 with Retry-After) admits nothing until it ends, then paces again', async () => {
      const limiter = one.limiters[0]!;
      const channelId = freshChannel('pause');
      const rule = channelBucket(80);
      await limiter.pause(channelId, T0 + 2 * SECOND);
      const during = await limiter.admit({ channelId, rule, contactIds: ['a'], now: T0 + SECOND });
      assert.deepEqual(during.admissions, [{ kind: 'wait' }]);
      assert.ok((during.channelReadyAt ?? 0) >= T0 + 2 * SECOND);
      const afterPause = await limiter.admit({
        channelId,
        rule,
        contactIds: ['a', 'b'],
        now: T0 + 2 * SECOND + 13,
      });
      assert.deepEqual(
        afterPause.admissions.map((a) => a.kind),
        ['go', 'wait'],
      );
    });

    it('admits exactly what the core admitBatch admits, batch after batch', async () => {
      const limiter = one.limiters[0]!;
      const channelId = freshChannel('same');
      const rule = channelBucket(80);
      const states = new Map<string, BucketState>();
      let seed = 7;
      const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      for (let now = T0, n = 0; n < 300; n++, now += Math.floor(random() * 40)) {
        const contactIds = Array.from(
          { length: 1 + Math.floor(random() * 4) },
          () => `k${Math.floor(random() * 3)}`,
        );
        const expected = admitBatch(
          states,
          { key: 'c', rule },
          contactIds.map((c) => `p${c}`),
          PAIR_RULE,
          now,
        );
        const actual = await limiter.admit({ channelId, rule, contactIds, now });
        assert.deepEqual(actual, expected, `batch ${n}`);
      }
    });

    it('LIM-1 and LIM-2 hold across three nodes sharing the buckets', async () => {
      const channelId = freshChannel('nodes');
      const rule = channelBucket(80);
      const sent: number[] = [];
      const toX: number[] = [];
      let contact = 0;
      // Every millisecond every node offers, as three busy dispatchers would.
      for (let now = T0; now < T0 + 3 * SECOND; now += 1) {
        const results = await Promise.all(
          three.limiters.map((limiter, node) =>
            limiter.admit({
              channelId,
              rule,
              contactIds: ['x', `n${node}-${contact++}`],
              now,
            }),
          ),
        );
        for (const { admissions } of results) {
          if (admissions[0]!.kind === 'go') toX.push(now);
          for (const a of admissions) if (a.kind === 'go') sent.push(now);
        }
      }
      assert.ok(busiestSecond(sent) <= 80, `busiest second ${busiestSecond(sent)}`);
      assert.ok(sent.length >= 80 * 3 - 1, `reached the rate together: ${sent.length}`);
      assert.equal(toX.length, 45, 'one pair burst for all nodes together, not one per node');
    });
  });
}
