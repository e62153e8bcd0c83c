// Several nodes on BullMQ: two consumers (two processes' queues) never lease one job twice, a dead
// consumer's leases are taken over, and the relay from the store to BullMQ is crash-safe — a
// kill between adding a batch to BullMQ and completing it locally neither sends twice nor loses.
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  createBullmqJobQueue,
  type BullmqJobQueue,
} from '../src/adapters/queue/bullmq/bullmq-job-queue.ts';
import { OUTBOUND_QUEUE } from '../src/app/send-message.ts';
import { OutboundRelay } from '../src/workers/outbound-relay.ts';
import type { JobQueue } from '../src/ports/job-queue.ts';
import type { Store } from '../src/ports/store.ts';
import { freshPostgresUrl, postgresAvailable, requireServerOrSkip } from './helpers/databases.ts';
import {
  connectRedis,
  dropPrefix,
  redisAvailable,
  testRedisUrl,
  uniquePrefix,
} from './helpers/redis.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';

const redisSkip = requireServerOrSkip(await redisAvailable(), 'Redis');
const bothSkip = redisSkip ?? requireServerOrSkip(await postgresAvailable(), 'PostgreSQL');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('two BullMQ consumers (two nodes)', { skip: redisSkip }, () => {
  const prefix = uniquePrefix('bullmq-nodes');
  const opened: Array<{ queue: BullmqJobQueue; close: () => Promise<void> }> = [];
  const open = () => {
    const connection = connectRedis();
    const queue = createBullmqJobQueue(connection, { prefix, stalledCheckMs: 20 });
    const node = {
      queue,
      close: async () => {
        await queue.close();
        connection.disconnect();
      },
    };
    opened.push(node);
    return node;
  };
  after(async () => {
    for (const node of opened) await node.close();
    await dropPrefix(prefix);
  });

  it('work through one queue together: every job handled once, a dead node’s leases taken over', async () => {
    const [a, b, dying] = [open(), open(), open()];
    const q = 'outbound-two-nodes';
    const enqueued = new Set<string>();
    for (let i = 0; i < 240; i++) {
      enqueued.add(await a.queue.enqueue(q, { i }, { key: `channel-${i % 3}`, runAt: Date.now() }));
    }
    // A third node leases some jobs and dies holding them (never completes, never releases).
    const lost = await dying.queue.claim(q, {
      now: Date.now(),
      limit: 12,
      leaseMs: 300,
      worker: 'dying',
    });
    assert.equal(lost.length, 12);
    const handled = new Map<string, { by: string; attempts: number }[]>();
    const consume = async (node: { queue: JobQueue }, worker: string) => {
      let idle = 0;
      while (idle < 20) {
        const jobs = await node.queue.claim(q, {
          now: Date.now(),
          limit: 15,
          leaseMs: 10_000,
          worker,
        });
        if (jobs.length === 0) {
          idle++;
          await sleep(50);
          continue;
        }
        idle = 0;
        for (const job of jobs) {
          handled.set(job.id, [
            ...(handled.get(job.id) ?? []),
            { by: worker, attempts: job.attempts },
          ]);
          await node.queue.complete(job.id);
        }
      }
    };
    await Promise.all([consume(a, 'node-a'), consume(b, 'node-b')]);
    assert.deepEqual(new Set(handled.keys()), enqueued, 'every job was handled');
    const twice = [...handled].filter(([, by]) => by.length > 1);
    assert.deepEqual(twice, [], 'no job was leased by two live nodes');
    const byNode = [...handled.values()].map(([first]) => first!.by);
    assert.ok(byNode.includes('node-a') && byNode.includes('node-b'), 'both nodes took a share');
    for (const job of lost)
      assert.equal(handled.get(job.id)?.[0]?.attempts, 1, 'the lost lease counts');
    assert.equal(await a.queue.size(q), 0);
  });

  it('a node whose lease ran out settles the job without error and without disturbing its new holder', async () => {
    const [slow, fast] = [open(), open()];
    const q = 'outbound-late-settle';
    const id = await slow.queue.enqueue(q, { n: 1 }, { key: 'channel-1', runAt: Date.now() });
    const claim = (node: { queue: JobQueue }, worker: string, leaseMs: number) =>
      node.queue.claim(q, { now: Date.now(), limit: 5, leaseMs, worker });
    assert.equal((await claim(slow, 'slow', 200)).length, 1);
    await sleep(400);
    const [taken] = await claim(fast, 'fast', 10_000);
    assert.equal(taken?.id, id);
    // The slow node comes back and settles what it thinks it still holds: all no-ops now.
    await slow.queue.release(id, Date.now());
    await slow.queue.retry(id, Date.now(), 'late');
    await slow.queue.complete(id);
    await slow.queue.fail(id, 'late');
    assert.equal(await fast.queue.size(q), 1, 'still leased by its new holder');
    assert.deepEqual(await claim(fast, 'fast', 10_000), []);
    await fast.queue.complete(id);
    assert.equal(await fast.queue.size(q), 0);
  });
});

/** A store whose local queue fails where a kill would stop the relay. */
function crashing(store: Store, at: 'complete'): Store {
  const jobs: JobQueue = Object.create(store.jobs) as JobQueue;
  jobs[at] = () => Promise.reject(new Error('killed'));
  return Object.create(store, { jobs: { value: jobs } }) as Store;
}

/** A shared queue that is unreachable when the relay adds to it. */
function unreachable(queue: BullmqJobQueue): BullmqJobQueue {
  const broken = Object.create(queue) as BullmqJobQueue;
  broken.enqueueMany = () => Promise.reject(new Error('connect ECONNREFUSED'));
  return broken;
}

describe('the outbound relay across a crash', { skip: bothSkip }, () => {
  let t: TestParley;
  let prefix = '';
  let drop: () => Promise<void> = () => Promise.resolve();
  const customers = Array.from({ length: 12 }, (_, i) => `4477009003${String(i).padStart(2, '0')}`);

  beforeEach(async () => {
    prefix = uniquePrefix('relay');
    const database = await freshPostgresUrl();
    drop = database.drop;
    t = await startTestParley({
      databaseUrl: database.url,
      env: { PARLEY_REDIS_URL: testRedisUrl(), PARLEY_REDIS_PREFIX: prefix },
    });
    for (const from of customers) {
      await t.world.userWrites(t.channel.providerKey, { from, text: 'Hi' });
    }
    await t.settle();
  });
  afterEach(async () => {
    await t.close();
    await drop();
    await dropPrefix(prefix);
  });

  const sendAll = async (): Promise<string[]> => {
    const ids: string[] = [];
    for (const to of customers) {
      const sent = await t.api('POST', '/v1/messages', {
        channelId: t.channel.id,
        to,
        type: 'text',
        text: { body: 'Your order has shipped' },
      });
      assert.equal(sent.status, 202, JSON.stringify(sent.json));
      ids.push(sent.json.id as string);
    }
    return ids;
  };
  const relayWith = (overrides: { store?: Store; outboundQueue?: JobQueue }) =>
    new OutboundRelay(
      { ...t.parley.deps, ...overrides },
      { worker: 'killed-node', leaseMs: 30_000 },
    );
  /** Dispatch passes (the manual clock paces them) until both queues are empty. */
  const dispatchAll = async () => {
    const { store, outboundQueue } = t.parley.deps;
    for (let pass = 0; pass < 60; pass++) {
      await t.parley.dispatcher.runOnce();
      await t.clock.advance(1_000);
      const left =
        (await store.jobs.size(OUTBOUND_QUEUE)) + (await outboundQueue.size(OUTBOUND_QUEUE));
      if (left === 0 && t.parley.dispatcher.held === 0) return;
    }
  };
  const outcome = async (ids: string[]) => {
    const sends = t.world.outbound(t.channel.providerKey);
    const messages = await Promise.all(ids.map((id) => t.api('GET', `/v1/messages/${id}`)));
    return {
      sendsPerMessage: ids.map((id) => sends.filter((o) => o.callbackData === id).length),
      unsent: messages.filter((m) => ['pending', 'failed'].includes(m.json.status as string))
        .length,
      review: messages.filter((m) => m.json.needsReview === true).length,
      local: await t.parley.deps.store.jobs.size(OUTBOUND_QUEUE),
      shared: await t.parley.deps.outboundQueue.size(OUTBOUND_QUEUE),
    };
  };
  /** Every message went to the provider exactly once and none is left queued or under review. */
  const assertEachSentOnce = async (ids: string[]) =>
    assert.deepEqual(await outcome(ids), {
      sendsPerMessage: ids.map(() => 1),
      unsent: 0,
      review: 0,
      local: 0,
      shared: 0,
    });

  it('a kill after the batch reached BullMQ, before it was completed locally: sent once (it was sent before the batch is relayed again)', async () => {
    const ids = await sendAll();
    const killed = relayWith({ store: crashing(t.parley.deps.store, 'complete') });
    await assert.rejects(killed.runOnce(), /killed/);
    assert.equal(await t.parley.deps.outboundQueue.size(OUTBOUND_QUEUE), ids.length);
    await dispatchAll();
    // The killed relay's lease runs out; another node relays the same jobs again.
    await t.clock.advance(30_000);
    assert.equal(await t.parley.relay!.runOnce(), ids.length);
    await dispatchAll();
    await assertEachSentOnce(ids);
  });

  it('a kill after the batch reached BullMQ, relayed again before any dispatch: the second add is a no-op', async () => {
    const ids = await sendAll();
    const killed = relayWith({ store: crashing(t.parley.deps.store, 'complete') });
    await assert.rejects(killed.runOnce(), /killed/);
    await t.clock.advance(30_000);
    assert.equal(await t.parley.relay!.runOnce(), ids.length);
    assert.equal(await t.parley.deps.outboundQueue.size(OUTBOUND_QUEUE), ids.length, 'not twice');
    await dispatchAll();
    await assertEachSentOnce(ids);
  });

  it('Redis loses the queue: the sweep re-offers the sends still waiting after 10 minutes; each is sent once', async () => {
    const ids = await sendAll();
    assert.equal(await t.parley.relay!.runOnce(), ids.length);
    await dropPrefix(`${prefix}bullmq`); // a Redis restarted without persistence
    assert.equal(await t.parley.deps.outboundQueue.size(OUTBOUND_QUEUE), 0);
    assert.equal(await t.parley.deps.store.jobs.size(OUTBOUND_QUEUE), 0);
    assert.equal(await t.parley.relay!.sweepOnce(), 0, 'young sends are left to the queue');
    await t.clock.advance(10 * 60_000 + 1_000);
    assert.equal(await t.parley.relay!.sweepOnce(), ids.length);
    await dispatchAll();
    await assertEachSentOnce(ids);
    assert.equal(await t.parley.relay!.sweepOnce(), 0, 'nothing left to re-offer');
  });

  it('the sweep re-offering sends whose jobs are still queued adds nothing: no double send', async () => {
    const ids = await sendAll();
    assert.equal(await t.parley.relay!.runOnce(), ids.length);
    await t.clock.advance(10 * 60_000 + 1_000);
    assert.equal(await t.parley.relay!.sweepOnce(), ids.length);
    assert.equal(await t.parley.deps.outboundQueue.size(OUTBOUND_QUEUE), ids.length, 'not twice');
    await dispatchAll();
    await assertEachSentOnce(ids);
  });

  it('Redis unreachable when the relay adds the batch: nothing lost, relayed and sent once later', async () => {
    const ids = await sendAll();
    const queue = t.parley.deps.outboundQueue as BullmqJobQueue;
    const killed = relayWith({ outboundQueue: unreachable(queue) });
    await assert.rejects(killed.runOnce(), /ECONNREFUSED/);
    assert.equal(await queue.size(OUTBOUND_QUEUE), 0);
    assert.equal(await t.parley.deps.store.jobs.size(OUTBOUND_QUEUE), ids.length);
    await t.clock.advance(30_000);
    await t.settle();
    await dispatchAll();
    await assertEachSentOnce(ids);
  });
});
