// Two workers holding the same queued send (a lease that ran out while the job waited, as can
// happen across nodes): the message still goes out once and is not mistaken for a crashed send.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OutboundDispatcher } from '../src/workers/outbound-dispatcher.ts';
import { deliverOutbound, type OutboundJob } from '../src/app/deliver-outbound.ts';
import { OUTBOUND_QUEUE } from '../src/app/send-message.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';

const CUSTOMERS = ['447700900201', '447700900202', '447700900203'];

async function sendText(t: TestParley, to: string): Promise<string> {
  const sent = await t.api('POST', '/v1/messages', {
    channelId: t.channel.id,
    to,
    type: 'text',
    text: { body: 'Your table is ready' },
  });
  assert.equal(sent.status, 202, JSON.stringify(sent.json));
  return sent.json.id as string;
}

const sends = (t: TestParley, id: string) =>
  t.world.outbound(t.channel.providerKey).filter((o) => o.callbackData === id).length;

describe('sends held by two workers', () => {
  let t: TestParley;
  beforeEach(async () => {
    t = await startTestParley();
    for (const from of CUSTOMERS) {
      await t.world.userWrites(t.channel.providerKey, { from, text: 'Hi' });
      await t.settle();
    }
  });
  afterEach(async () => t.close());

  it('two workers delivering the same job at once send it once; the loser skips without flagging it', async () => {
    const id = await sendText(t, CUSTOMERS[0]!);
    const [job] = await t.parley.deps.store.jobs.claim<OutboundJob>(OUTBOUND_QUEUE, {
      now: t.clock.now(),
      limit: 1,
      leaseMs: 60_000,
      worker: 'a',
    });
    assert.ok(job);
    const results = await Promise.all([
      deliverOutbound(t.parley.deps, job),
      deliverOutbound(t.parley.deps, job),
    ]);
    assert.deepEqual(results.map((r) => r.kind).sort(), ['sent', 'skipped']);
    assert.equal(sends(t, id), 1);
    const message = (await t.api('GET', `/v1/messages/${id}`)).json;
    assert.equal(message.needsReview, false);
    assert.equal(message.status, 'accepted');
  });

  it('a job held past most of its lease goes back to the queue instead of racing its new holder', async () => {
    await t.api('PATCH', `/v1/channels/${t.channel.id}`, { throughputMps: 20 });
    const ids = [];
    for (const to of CUSTOMERS) ids.push(await sendText(t, to));
    const slow = new OutboundDispatcher(t.parley.deps, { worker: 'slow', leaseMs: 10_000 });
    // The channel has been paused by a 429 elsewhere: the slow node holds all three for 9 s.
    await t.parley.deps.limits.pause(t.channel.id, t.clock.now() + 9_000);
    assert.equal(await slow.runOnce(), 0);
    assert.equal(slow.held, 3);
    await t.clock.advance(9_000);
    // Past 80 % of the lease: handed back rather than sent on a lease about to run out.
    assert.equal(await slow.runOnce(), 0);
    assert.equal(slow.held, 0);
    const other = new OutboundDispatcher(t.parley.deps, { worker: 'other' });
    for (let i = 0; i < 5; i++) {
      await other.runOnce();
      await t.clock.advance(100);
    }
    await slow.stop();
    await other.stop();
    for (const id of ids) {
      assert.equal(sends(t, id), 1);
      assert.equal((await t.api('GET', `/v1/messages/${id}`)).json.needsReview, false);
    }
  });
});
