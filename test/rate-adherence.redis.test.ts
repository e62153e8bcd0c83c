// Rate adherence with an injected clock: real dispatchers over one store, as one process and as
// three nodes sharing their buckets in Redis, never exceed a channel's rate (LIM-1) or a pair's
// (LIM-2), and a 429 seen by one node pauses the channel for all of them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { OutboundDispatcher } from '../src/workers/outbound-dispatcher.ts';
import { createInProcessRateLimiter } from '../src/adapters/limits/in-process-rate-limiter.ts';
import { createRedisRateLimiter } from '../src/adapters/limits/redis-rate-limiter.ts';
import type { RateLimiter } from '../src/ports/rate-limiter.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { requireServerOrSkip } from './helpers/databases.ts';
import { connectRedis, dropPrefix, redisAvailable, uniquePrefix } from './helpers/redis.ts';
import { busiestSecond } from './contracts/rate-limiter-contract.ts';

const skip = requireServerOrSkip(await redisAvailable(), 'Redis');

interface Nodes {
  readonly label: string;
  readonly limiters: () => RateLimiter[];
}

const customers = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(10000 + i)}`);

async function customerWrites(t: TestParley, from: string): Promise<void> {
  await t.world.userWrites(t.channel.providerKey, { from, text: 'Hello' });
  await t.settle();
}

async function sendText(t: TestParley, body: string, to: string): Promise<string> {
  const sent = await t.api('POST', '/v1/messages', {
    channelId: t.channel.id,
    to,
    type: 'text',
    text: { body },
  });
  assert.equal(sent.status, 202, JSON.stringify(sent.json));
  return sent.json.id as string;
}

/**
 * Every node runs a pass at the same instant, then time moves on by `stepMs`. Returns how many
 * sends each node made, to show the work really was shared.
 */
async function runNodes(
  t: TestParley,
  dispatchers: readonly OutboundDispatcher[],
  forMs: number,
  stepMs: number,
): Promise<number[]> {
  const sent = dispatchers.map(() => 0);
  for (let ms = 0; ms < forMs; ms += stepMs) {
    const counts = await Promise.all(dispatchers.map((d) => d.runOnce()));
    counts.forEach((n, i) => (sent[i]! += n));
    await t.clock.advance(stepMs);
  }
  return sent;
}

/** A node holds few jobs at a time, so that every node gets a share of the queue. */
const NODE_OPTIONS = { maxHeld: 4 };

function sendsSince(t: TestParley, start: number, to?: string): number[] {
  return t.world
    .outbound(t.channel.providerKey)
    .filter((o) => o.acceptedAt >= start && (to === undefined || o.to === to))
    .map((o) => o.acceptedAt)
    .sort((a, b) => a - b);
}

describe('rate adherence across dispatchers', { skip }, () => {
  let t: TestParley;
  const redis: Redis[] = [];
  const prefix = uniquePrefix('adherence');
  before(async () => {
    t = await startTestParley();
  });
  after(async () => {
    await t.close();
    for (const client of redis) client.disconnect();
    await dropPrefix(prefix);
  });

  const setups: Nodes[] = [
    { label: 'one process', limiters: () => [createInProcessRateLimiter()] },
    {
      label: 'three nodes sharing Redis buckets',
      limiters: () =>
        [0, 1, 2].map(() => {
          const client = connectRedis();
          redis.push(client);
          return createRedisRateLimiter(client, { prefix });
        }),
    },
  ];
  let run = 0;
  const nodesFor = (setup: Nodes) => {
    run++;
    return setup
      .limiters()
      .map(
        (limits, i) =>
          new OutboundDispatcher(
            { ...t.parley.deps, limits },
            { ...NODE_OPTIONS, worker: `node-${run}-${i}` },
          ),
      );
  };

  for (const setup of setups) {
    it(`LIM-1: ${setup.label}: a 20 mps channel never sends more than 20 in any second, and keeps the rate`, async () => {
      await t.api('PATCH', `/v1/channels/${t.channel.id}`, { throughputMps: 20 });
      const to = customers(`4477009${run}`, 30);
      for (const c of to) await customerWrites(t, c);
      const dispatchers = nodesFor(setup);
      const ids: string[] = [];
      for (let round = 0; round < 3; round++)
        for (const c of to) ids.push(await sendText(t, `Update ${round}`, c));
      const start = t.clock.now();
      const perNode = await runNodes(t, dispatchers, 6_000, 10);
      for (const d of dispatchers) await d.stop();
      assert.ok(
        perNode.every((n) => n > 0),
        `every node sent: ${perNode.join(', ')}`,
      );
      const times = sendsSince(t, start);
      assert.equal(times.length, 90, 'every message sent');
      assert.ok(busiestSecond(times) <= 20, `busiest second: ${busiestSecond(times)}`);
      assert.ok(times.at(-1)! - times[0]! < 4_600, 'the rate was used, not wasted');
      for (const id of ids)
        assert.equal(
          t.world.outbound(t.channel.providerKey).filter((o) => o.callbackData === id).length,
          1,
          `${id} sent once`,
        );
    });

    it(`LIM-2: ${setup.label}: one contact gets a burst of 45 in all, then one about every 6 s`, async () => {
      await t.api('PATCH', `/v1/channels/${t.channel.id}`, { throughputMps: 80 });
      const to = `4477009${run}77777`;
      await customerWrites(t, to);
      const dispatchers = nodesFor(setup);
      for (let i = 0; i < 50; i++) await sendText(t, `Note ${i}`, to);
      const start = t.clock.now();
      await runNodes(t, dispatchers, 32_000, 50);
      for (const d of dispatchers) await d.stop();
      const times = sendsSince(t, start, to).map((at) => at - start);
      assert.equal(times.filter((at) => at < 5_000).length, 45, 'one burst, not one per node');
      assert.equal(times.length, 50, `five more within 32 s: ${times.slice(45).join(', ')}`);
      for (let i = 46; i < times.length; i++)
        assert.ok(times[i]! - times[i - 1]! >= 5_900, `pair paced: ${times.join(', ')}`);
    });

    it(`LIM-1: ${setup.label}: a 429 with Retry-After pauses the channel on every node`, async () => {
      await t.api('PATCH', `/v1/channels/${t.channel.id}`, { throughputMps: 80 });
      const to = customers(`4477008${run}`, 12);
      for (const c of to) await customerWrites(t, c);
      const dispatchers = nodesFor(setup);
      t.world.chaos({ rateLimitBurst: 1, retryAfterSeconds: 3 });
      for (const c of to) await sendText(t, 'After the pause', c);
      const start = t.clock.now();
      await runNodes(t, dispatchers, 5_000, 10);
      for (const d of dispatchers) await d.stop();
      const times = sendsSince(t, start);
      assert.equal(times.length, 12, 'all sent in the end');
      // The first send met the 429; anything accepted in the same instant left before it.
      const during = times.filter((at) => at > start && at < start + 3_000);
      assert.deepEqual(during, [], 'no node sent while the channel was paused');
    });
  }

  it('control: three nodes with private buckets do exceed the channel rate (what sharing prevents)', async () => {
    await t.api('PATCH', `/v1/channels/${t.channel.id}`, { throughputMps: 20 });
    const to = customers('4477007', 30);
    for (const c of to) await customerWrites(t, c);
    const dispatchers = [0, 1, 2].map(
      (i) =>
        new OutboundDispatcher(
          { ...t.parley.deps, limits: createInProcessRateLimiter() },
          { ...NODE_OPTIONS, worker: `private-${i}` },
        ),
    );
    for (let round = 0; round < 3; round++)
      for (const c of to) await sendText(t, `Update ${round}`, c);
    const start = t.clock.now();
    await runNodes(t, dispatchers, 3_000, 10);
    for (const d of dispatchers) await d.stop();
    assert.ok(busiestSecond(sendsSince(t, start)) > 20);
  });
});
