// Proves the pacing rules LIM-1 (per-number throughput) and LIM-2 (per-pair rate) with an injected clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../test/helpers/manual-clock.ts';
import {
  DEFAULT_THROUGHPUT,
  PAIR_RULE,
  THROUGHPUT_TIERS,
  channelBucket,
  fullBucket,
  takeTokens,
  type BucketRule,
} from './rate-limit.ts';
import { SECOND } from './time.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z');

/**
 * Counts sends in every half-open one-second window [s, s + 1000 ms) that overlaps the run,
 * one window per millisecond, and returns the largest count.
 */
function busiestSecond(sends: readonly number[], start: number, end: number): number {
  const length = end - start;
  const prefix = new Array<number>(length + 1).fill(0);
  for (const t of sends) prefix[t - start + 1]! += 1;
  for (let i = 1; i <= length; i++) prefix[i]! += prefix[i - 1]!;
  let max = 0;
  for (let s = -(SECOND - 1); s < length; s++) {
    const from = Math.max(0, s);
    const to = Math.min(length, s + SECOND);
    max = Math.max(max, prefix[to]! - prefix[from]!);
  }
  return max;
}

/** A sender that always has another message waiting: it sends when it may, else sleeps until retryAt. */
async function fullDemand(rule: BucketRule, clock: ManualClock, until: number): Promise<number[]> {
  let state = fullBucket(rule, clock.now());
  const sends: number[] = [];
  while (clock.now() < until) {
    const r = takeTokens(state, rule, clock.now());
    state = r.state;
    if (r.ok) {
      sends.push(clock.now());
      continue;
    }
    assert.ok(r.retryAt > clock.now(), 'retryAt lies in the future');
    await clock.advanceTo(r.retryAt);
    if (clock.now() < until)
      assert.equal(takeTokens(state, rule, clock.now()).ok, true, 'a token is there at retryAt');
  }
  return sends;
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), so runs are repeatable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('LIM-1: per-number throughput', () => {
  it('LIM-1: the tiers are 20 (coexistence), 80 (default) and 1,000 messages per second', () => {
    assert.deepEqual([...THROUGHPUT_TIERS], [20, 80, 1000]);
    assert.equal(DEFAULT_THROUGHPUT, 80);
  });

  for (const rate of THROUGHPUT_TIERS) {
    const seconds = rate === 1000 ? 60 : 180;

    it(`LIM-1: at ${rate}/s and full demand no half-open second ever holds more than ${rate} sends over ${seconds} s`, async () => {
      const clock = new ManualClock(T0);
      const end = T0 + seconds * SECOND;
      const sends = await fullDemand(channelBucket(rate), clock, end);
      assert.ok(busiestSecond(sends, T0, end) <= rate, `busiest second within ${rate}`);
    });

    it(`LIM-1: at ${rate}/s and full demand the number reaches its rate`, async () => {
      const clock = new ManualClock(T0);
      const sends = await fullDemand(channelBucket(rate), clock, T0 + seconds * SECOND);
      const perSecond = sends.length / seconds;
      assert.ok(perSecond >= rate * 0.995, `${perSecond}/s achieved, ${rate}/s allowed`);
      assert.ok(perSecond <= rate, `${perSecond}/s achieved, ${rate}/s allowed`);
    });

    it(`LIM-1: at ${rate}/s a dispatcher polling every millisecond is held to the rate too`, async () => {
      const clock = new ManualClock(T0);
      const rule = channelBucket(rate);
      const end = T0 + 30 * SECOND;
      let state = fullBucket(rule, clock.now());
      const sends: number[] = [];
      while (clock.now() < end) {
        const r = takeTokens(state, rule, clock.now());
        state = r.state;
        if (r.ok) sends.push(clock.now());
        else await clock.advance(1);
      }
      assert.ok(busiestSecond(sends, T0, end) <= rate);
      assert.ok(sends.length >= rate * 30 * 0.995, `${sends.length} sends in 30 s`);
    });

    it(`LIM-1: at ${rate}/s bursty demand after idle spells never exceeds the rate in any second`, async () => {
      const clock = new ManualClock(T0);
      const rule = channelBucket(rate);
      const random = seeded(rate);
      const end = T0 + 60 * SECOND;
      let state = fullBucket(rule, clock.now());
      let queued = 0;
      const sends: number[] = [];
      while (clock.now() < end) {
        // Now and then a campaign batch or a burst of replies lands in the queue.
        if (random() < 0.002) queued += Math.floor(random() * rate * 3);
        while (queued > 0) {
          const r = takeTokens(state, rule, clock.now());
          state = r.state;
          if (!r.ok) break;
          sends.push(clock.now());
          queued--;
        }
        await clock.advance(1);
      }
      assert.ok(sends.length > rate, 'the run did send');
      assert.ok(busiestSecond(sends, T0, end) <= rate);
    });
  }
});

describe('LIM-2: per-pair rate', () => {
  it('LIM-2: a burst of 45 to one contact goes at once; the 46th waits 6 s', () => {
    let state = fullBucket(PAIR_RULE, T0);
    for (let n = 1; n <= 45; n++) {
      const r = takeTokens(state, PAIR_RULE, T0);
      assert.equal(r.ok, true, `message ${n} of the burst`);
      state = r.state;
    }
    const r = takeTokens(state, PAIR_RULE, T0);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.retryAt, T0 + 6 * SECOND);
  });

  it('LIM-2: after the burst the pair gets one message every 6 s', async () => {
    const clock = new ManualClock(T0);
    const sends = await fullDemand(PAIR_RULE, clock, T0 + 3600 * SECOND);
    assert.deepEqual(sends.slice(0, 45), new Array<number>(45).fill(T0), 'the burst goes at once');
    const after = sends.slice(45);
    assert.equal(after.length, 599, 'one at 6 s, 12 s … 3,594 s');
    let previous = T0;
    for (const t of after) {
      assert.equal(t - previous, 6 * SECOND);
      previous = t;
    }
  });

  it('LIM-2: a pair regains its full burst after 270 s of quiet, not before', () => {
    const burst = (from: ReturnType<typeof fullBucket>, at: number) => {
      let state = from;
      let sent = 0;
      for (;;) {
        const r = takeTokens(state, PAIR_RULE, at);
        state = r.state;
        if (!r.ok) return { sent, state };
        sent++;
      }
    };
    const first = burst(fullBucket(PAIR_RULE, T0), T0);
    assert.equal(first.sent, 45);
    assert.equal(burst(first.state, T0 + 269 * SECOND).sent, 44);
    assert.equal(burst(first.state, T0 + 270 * SECOND).sent, 45);
    assert.equal(burst(first.state, T0 + 3600 * SECOND).sent, 45, 'never more than 45 at once');
  });
});
