// Live events across nodes: an event published on one node reaches every node's live
// subscribers once, and local-only subscribers (durable side effects) only on the node where it
// happened.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRedisEventBus, type RedisEventBus } from '../src/adapters/events/redis-event-bus.ts';
import type { DomainEvent } from '../src/ports/event-bus.ts';
import { requireServerOrSkip } from './helpers/databases.ts';
import { connectRedis, redisAvailable, uniquePrefix } from './helpers/redis.ts';

const skip = requireServerOrSkip(await redisAvailable(), 'Redis');

const event = (n: number): DomainEvent => ({
  type: 'message.status',
  workspaceId: 'ws-1',
  at: Date.parse('2026-03-02T09:00:00Z') + n,
  data: { messageId: `m-${n}`, status: 'delivered', note: 'ünïcødé 👋' },
});

/** Polls until `done()` or a deadline: pub/sub delivery is asynchronous. */
async function eventually(done: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!done() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
}

describe('Redis event bus', { skip }, () => {
  const nodes: Array<{ bus: RedisEventBus; close: () => Promise<void> }> = [];
  before(async () => {
    const channel = `${uniquePrefix('events')}events`;
    for (let i = 0; i < 3; i++) {
      const publisher = connectRedis();
      const subscriber = connectRedis();
      const bus = createRedisEventBus(publisher, subscriber, { channel });
      await bus.ready();
      nodes.push({
        bus,
        close: async () => {
          await bus.close();
          publisher.disconnect();
          subscriber.disconnect();
        },
      });
    }
  });
  after(async () => {
    for (const node of nodes) await node.close();
  });

  it('an event published on one node reaches the live subscribers of every node exactly once', async () => {
    const heard = nodes.map(() => [] as DomainEvent[]);
    const stops = nodes.map((node, i) => node.bus.subscribe((e) => heard[i]!.push(e)));
    nodes[1]!.bus.publish(event(1));
    nodes[2]!.bus.publish(event(2));
    await eventually(() => heard.every((h) => h.length >= 2));
    await new Promise((r) => setTimeout(r, 100)); // a duplicate would have arrived by now
    for (const h of heard) assert.deepEqual(h.map((e) => e.data.messageId).sort(), ['m-1', 'm-2']);
    assert.deepEqual(
      heard[0]!.find((e) => e.data.messageId === 'm-1'),
      event(1),
    );
    for (const stop of stops) stop();
  });

  it('the publishing node hears its own event synchronously, before any network round trip', () => {
    const heard: DomainEvent[] = [];
    const stop = nodes[0]!.bus.subscribe((e) => heard.push(e));
    nodes[0]!.bus.publish(event(3));
    assert.equal(heard.length, 1);
    stop();
  });

  it('a local-only subscriber hears only its own node’s events, so a durable effect happens once', async () => {
    const durable = nodes.map(() => [] as string[]);
    const live: string[] = [];
    const mine = (e: DomainEvent) => ['m-4', 'm-5'].includes(String(e.data.messageId));
    const stops = nodes.map((node, i) =>
      node.bus.subscribe((e) => mine(e) && durable[i]!.push(String(e.data.messageId)), {
        localOnly: true,
      }),
    );
    stops.push(nodes[2]!.bus.subscribe((e) => mine(e) && live.push(String(e.data.messageId))));
    nodes[0]!.bus.publish(event(4));
    nodes[1]!.bus.publish(event(5));
    await eventually(() => live.length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(durable, [['m-4'], ['m-5'], []]);
    assert.deepEqual(live.sort(), ['m-4', 'm-5']);
    for (const stop of stops) stop();
  });

  it('a failing subscriber does not stop the others or the publisher', async () => {
    const heard: string[] = [];
    const stops = [
      nodes[1]!.bus.subscribe(() => {
        throw new Error('boom');
      }),
      nodes[1]!.bus.subscribe((e) => heard.push(String(e.data.messageId))),
    ];
    assert.doesNotThrow(() => nodes[0]!.bus.publish(event(6)));
    await eventually(() => heard.length >= 1);
    assert.deepEqual(heard, ['m-6']);
    for (const stop of stops) stop();
  });
});
