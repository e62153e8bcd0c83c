// The outbound path under provider faults, pacing and stops: every message ends in the right
// stored outcome, retried with backoff when that can help and never sent twice.
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OutboundDispatcher } from '../src/workers/outbound-dispatcher.ts';
import { OUTBOUND_QUEUE } from '../src/app/send-message.ts';
import { IN_FLIGHT_GRACE_MS } from '../src/app/deliver-outbound.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';

const CUSTOMER = '447700900123';

async function customerWrites(t: TestParley, from = CUSTOMER): Promise<void> {
  await t.world.userWrites(t.channel.providerKey, { from, text: 'Hello' });
  await t.settle();
}

async function sendText(t: TestParley, body: string, to = CUSTOMER): Promise<string> {
  const sent = await t.api('POST', '/v1/messages', {
    channelId: t.channel.id,
    to,
    type: 'text',
    text: { body },
  });
  assert.equal(sent.status, 202, JSON.stringify(sent.json));
  return sent.json.id as string;
}

/** Runs one dispatcher pass while time moves on, for sends that wait on the provider's timeout. */
async function runOnceWhileTimePasses(t: TestParley, maxMs: number): Promise<void> {
  let done = false;
  const pass = t.parley.dispatcher.runOnce().finally(() => (done = true));
  for (let waited = 0; !done && waited < maxMs; waited += 500) {
    await new Promise((resolve) => setImmediate(resolve));
    await t.clock.advance(500);
  }
  await pass;
}

async function message(t: TestParley, id: string) {
  return (await t.api('GET', `/v1/messages/${id}`)).json;
}

describe('provider faults', () => {
  let t: TestParley;
  beforeEach(async () => {
    t = await startTestParley();
    await customerWrites(t);
  });
  afterEach(async () => t.close());

  it('LIM-1: a 429 (130429) is retried after Retry-After and then delivered', async () => {
    t.world.chaos({ rateLimitBurst: 1, retryAfterSeconds: 2 });
    const id = await sendText(t, 'Your parcel is on its way');
    await t.parley.dispatcher.runOnce();
    let m = await message(t, id);
    assert.equal(m.status, 'pending');
    assert.match(m.reasonDetail, /throughput/);
    await t.clock.advance(1_500);
    assert.equal(await t.parley.dispatcher.runOnce(), 0, 'not retried before Retry-After');
    await t.settle(1_000);
    await t.settle(10_000);
    m = await message(t, id);
    assert.ok(['delivered', 'read'].includes(m.status), m.status);
    assert.equal(
      t.world.outbound(t.channel.providerKey).filter((o) => o.callbackData === id).length,
      1,
    );
  });

  it('provider_unavailable: HTTP 5xx is retried with growing backoff until it goes through', async () => {
    t.world.chaos({ serverErrors: 3 });
    const id = await sendText(t, 'Retry me');
    const attemptsAt: number[] = [];
    for (let i = 0; i < 40 && (await message(t, id)).status === 'pending'; i++) {
      if ((await t.parley.dispatcher.runOnce()) > 0) attemptsAt.push(t.clock.now());
      await t.clock.advance(250);
      await t.parley.processor.drain();
    }
    await t.settle(10_000);
    assert.equal(attemptsAt.length, 4, 'three failures, then success');
    const gaps = attemptsAt.slice(1).map((at, i) => at - attemptsAt[i]!);
    assert.ok(
      gaps[0]! >= 750 && gaps[1]! > gaps[0]! && gaps[2]! > gaps[1]!,
      `backoff grows: ${gaps.join(', ')}`,
    );
    assert.ok(['delivered', 'read'].includes((await message(t, id)).status));
  });

  it('auth (190): an expired token fails the message at once, without retries', async () => {
    t.world.chaos({ authErrors: 1 });
    const id = await sendText(t, 'No token');
    await t.parley.dispatcher.runOnce();
    const m = await message(t, id);
    assert.equal(m.status, 'failed');
    assert.equal(m.reason, 'auth');
    assert.equal(await t.parley.deps.store.jobs.size(OUTBOUND_QUEUE), 0);
  });

  it('a timeout leaves the outcome unknown: flagged for review, never resent', async () => {
    t.world.chaos({ timeouts: 1, timeoutDelivers: false });
    const id = await sendText(t, 'Lost in the network');
    await runOnceWhileTimePasses(t, 30_000);
    await t.settle(30_000);
    const m = await message(t, id);
    assert.equal(m.needsReview, true);
    assert.equal(m.status, 'pending');
    assert.equal(await t.parley.deps.store.jobs.size(OUTBOUND_QUEUE), 0, 'not queued again');
  });

  it('a timed-out send that WhatsApp did process is reconciled by its first status webhook', async () => {
    t.world.chaos({ timeouts: 1, timeoutDelivers: true });
    const id = await sendText(t, 'Slow but sent');
    await runOnceWhileTimePasses(t, 30_000);
    await t.settle(30_000);
    const m = await message(t, id);
    assert.equal(m.needsReview, false);
    assert.match(m.providerMessageId, /^wamid\./);
    assert.ok(['delivered', 'read'].includes(m.status), m.status);
    assert.equal(
      t.world.outbound(t.channel.providerKey).filter((o) => o.callbackData === id).length,
      1,
    );
  });

  it('a crash between marking and sending is flagged for review after restart, not resent', async () => {
    const id = await sendText(t, 'In flight at the crash');
    // The previous process marked the message and died before the provider answered.
    await t.parley.deps.store.messages.update(id, { dispatchedAt: t.clock.now() }, t.clock.now());
    // Just after the mark, the sender may still be alive and waiting: the job is looked at again
    // once any live send would have ended.
    await t.parley.dispatcher.runOnce();
    assert.equal((await message(t, id)).needsReview, false);
    await t.clock.advance(IN_FLIGHT_GRACE_MS);
    await t.parley.dispatcher.runOnce();
    const m = await message(t, id);
    assert.equal(m.needsReview, true);
    assert.equal(
      t.world.outbound(t.channel.providerKey).filter((o) => o.callbackData === id).length,
      0,
    );
  });

  it('STA-1/STA-2: duplicated and reordered status webhooks leave one history and the furthest status', async () => {
    t.world.chaos({ duplicateWebhooks: 1, reorderWebhooks: true });
    const id = await sendText(t, 'Chaos');
    await t.settle(20_000);
    const m = await message(t, id);
    assert.equal(m.status, 'read');
    assert.deepEqual(m.statuses.map((s: { status: string }) => s.status).sort(), [
      'delivered',
      'read',
      'sent',
    ]);
  });

  it('STA-2: an inbound message delivered twice is stored once', async () => {
    t.world.chaos({ duplicateWebhooks: 1 });
    await t.world.userWrites(t.channel.providerKey, { from: '5511987654321', text: 'Olá' });
    await t.settle();
    const contacts = (await t.api('GET', '/v1/contacts?search=5511987654321')).json.items;
    const conversations = (await t.api('GET', `/v1/conversations?contact=${contacts[0].id}`)).json
      .items;
    const transcript = (await t.api('GET', `/v1/conversations/${conversations[0].id}/messages`))
      .json.items;
    assert.equal(transcript.length, 1);
  });
});

describe('pacing and stopping', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
  });
  after(async () => t.close());

  it('LIM-1: a 20 mps channel never sends more than 20 in any second', async () => {
    await t.api('PATCH', `/v1/channels/${t.channel.id}`, { throughputMps: 20 });
    const dispatcher = new OutboundDispatcher(t.parley.deps, { worker: 'pacing-test' });
    const customers = Array.from({ length: 30 }, (_, i) => `4477009${String(10000 + i)}`);
    for (const c of customers) await customerWrites(t, c);
    for (let round = 0; round < 3; round++)
      for (const c of customers) await sendText(t, `Update ${round}`, c);
    const start = t.clock.now();
    for (let ms = 0; ms < 8_000; ms += 5) {
      await dispatcher.runOnce();
      await t.clock.advance(5);
    }
    const sendTimes = t.world
      .outbound(t.channel.providerKey)
      .filter((o) => o.acceptedAt >= start)
      .map((o) => o.acceptedAt)
      .sort((a, b) => a - b);
    assert.equal(sendTimes.length, 90);
    for (let i = 0; i + 20 < sendTimes.length; i++)
      assert.ok(sendTimes[i + 20]! - sendTimes[i]! >= 1_000, `21 sends within one second at ${i}`);
    await dispatcher.stop();
  });

  it('LIM-2: a burst of 45 to one contact, then about one every 6 s', async () => {
    await t.api('PATCH', `/v1/channels/${t.channel.id}`, { throughputMps: 80 });
    const to = '447700977777';
    await customerWrites(t, to);
    const dispatcher = new OutboundDispatcher(t.parley.deps, { worker: 'pair-test' });
    for (let i = 0; i < 50; i++) await sendText(t, `Note ${i}`, to);
    const start = t.clock.now();
    for (let s = 0; s <= 32_000; s += 10) {
      await dispatcher.runOnce();
      await t.clock.advance(10);
    }
    const times = t.world
      .outbound(t.channel.providerKey)
      .filter((o) => o.to === to && o.acceptedAt >= start)
      .map((o) => o.acceptedAt - start)
      .sort((a, b) => a - b);
    assert.equal(times.filter((x) => x < 1_000).length, 45);
    assert.equal(times.length, 50, `five more within 32 s: ${times.slice(45).join(', ')}`);
    assert.ok(times[45]! >= 5_000, 'the 46th waits for the pair bucket');
    await dispatcher.stop();
  });

  it('a graceful stop returns waiting jobs to the queue and another dispatcher sends them once', async () => {
    await t.api('PATCH', `/v1/channels/${t.channel.id}`, { throughputMps: 1 });
    const customers = Array.from({ length: 5 }, (_, i) => `4477008${String(10000 + i)}`);
    for (const c of customers) await customerWrites(t, c);
    const first = new OutboundDispatcher(t.parley.deps, { worker: 'first' });
    const ids: string[] = [];
    for (const c of customers) ids.push(await sendText(t, 'Queued before the stop', c));
    assert.equal(await first.runOnce(), 1);
    assert.equal(first.held, 4);
    await first.stop();
    assert.equal(await t.parley.deps.store.jobs.size(OUTBOUND_QUEUE), 4);
    const second = new OutboundDispatcher(t.parley.deps, { worker: 'second' });
    for (let s = 0; s < 6; s++) {
      await second.runOnce();
      await t.clock.advance(1_000);
    }
    await second.stop();
    for (const id of ids)
      assert.equal(
        t.world.outbound(t.channel.providerKey).filter((o) => o.callbackData === id).length,
        1,
      );
  });
});
