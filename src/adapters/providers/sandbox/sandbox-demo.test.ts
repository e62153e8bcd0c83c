// Demo traffic: simulated customers write in over time, follow up and reply, and stop when told.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { InboundMessage } from '../../../core/inbound.ts';
import { MINUTE, SECOND } from '../../../core/time.ts';
import { systemClock, realTimeScheduler } from './sandbox-clock.ts';
import { DEMO_CUSTOMERS, startDemoTraffic } from './sandbox-demo.ts';
import { DEMO_NUMBER } from './sandbox-world.ts';
import { sandboxKit } from './testing/sandbox-kit.ts';

const pn = DEMO_NUMBER.phoneNumberId;

const inbound = (kit: ReturnType<typeof sandboxKit>) =>
  kit.events().filter((e): e is InboundMessage & { deliveredAt: number } => e.kind === 'message');

describe('sandbox demo traffic', () => {
  it('customers write in within seconds and keep writing every few seconds', async () => {
    const kit = sandboxKit();
    const start = kit.clock.now();
    const traffic = startDemoTraffic(kit.world, { phoneNumberId: pn, everyMs: 5_000 });
    await kit.clock.advance(2 * SECOND);
    assert.equal(inbound(kit).length, 1, 'the first customer writes within 2 s');
    await kit.clock.advance(5 * MINUTE);
    const messages = inbound(kit);
    // 0.5–1.5 × 5 s between messages: between 40 and 120 in five minutes
    assert.ok(messages.length >= 40 && messages.length <= 120, `${messages.length} messages`);
    assert.equal(traffic.written, messages.length);
    const gaps = messages.slice(1).map((m, i) => m.deliveredAt - messages[i]!.deliveredAt);
    assert.ok(
      gaps.every((g) => g >= 2_500 && g <= 7_500),
      'every pause is 0.5–1.5 × everyMs',
    );
    assert.ok(messages.every((m) => m.deliveredAt > start && m.channelKey === pn));
    traffic.stop();
  });

  it('customers are real people of several countries, with valid numbers and names', async () => {
    const kit = sandboxKit();
    startDemoTraffic(kit.world, { phoneNumberId: pn, everyMs: 2_000 });
    await kit.clock.advance(10 * MINUTE);
    const messages = inbound(kit);
    const senders = new Set(messages.map((m) => m.from));
    assert.equal(senders.size, DEMO_CUSTOMERS.length, 'every customer wrote');
    const countries = new Set(
      DEMO_CUSTOMERS.map((c) => parsePhoneNumberFromString(`+${c.waId}`)?.country),
    );
    for (const country of ['GB', 'DE', 'BR', 'IN', 'US'])
      assert.ok(countries.has(country as never));
    for (const c of DEMO_CUSTOMERS)
      assert.equal(parsePhoneNumberFromString(`+${c.waId}`)?.isValid(), true, c.waId);
    assert.ok(messages.every((m) => typeof m.profileName === 'string' && m.profileName.length > 0));
    assert.ok(
      messages.some(
        (m) => m.type === 'text' && /#\d{5}/.test((m.content as { body: string }).body),
      ),
      'questions name an order number',
    );
  });

  it('customers who came from an ad carry a referral on their first message only', async () => {
    const kit = sandboxKit();
    startDemoTraffic(kit.world, { phoneNumberId: pn, everyMs: 2_000 });
    await kit.clock.advance(10 * MINUTE);
    const messages = inbound(kit);
    for (const c of DEMO_CUSTOMERS) {
      const theirs = messages.filter((m) => m.from === c.waId);
      assert.equal(theirs[0]?.referral !== undefined, c.viaAd === true, c.name);
      assert.ok(theirs.slice(1).every((m) => m.referral === undefined));
    }
  });

  it('customers reply to the business, quoting its answer, once it has answered', async () => {
    const kit = sandboxKit();
    startDemoTraffic(kit.world, { phoneNumberId: pn, everyMs: 3_000 });
    // the business answers every customer message right away
    let answered = 0;
    for (let i = 0; i < 200; i++) {
      await kit.clock.advance(SECOND);
      for (const m of inbound(kit).slice(answered)) {
        await kit.text(m.from, 'Thanks for your message, we are on it.');
        answered++;
      }
    }
    const messages = inbound(kit);
    const answers = new Set(kit.world.outbound().map((o) => o.id));
    const replies = messages.filter(
      (m) => m.context?.id !== undefined && answers.has(m.context.id),
    );
    assert.ok(replies.length > 0, 'some messages quote an answer');
    for (const r of replies) assert.equal(r.context?.from, DEMO_NUMBER.displayPhoneNumber);
    assert.ok(
      messages.some((m) => m.type === 'reaction'),
      'some customers react',
    );
  });

  it('stop() ends the traffic; maxMessages ends it by itself', async () => {
    const kit = sandboxKit();
    const traffic = startDemoTraffic(kit.world, { phoneNumberId: pn, everyMs: 4_000 });
    await kit.clock.advance(MINUTE);
    traffic.stop();
    const count = inbound(kit).length;
    assert.ok(count > 0);
    await kit.clock.advance(10 * MINUTE);
    assert.equal(inbound(kit).length, count);

    const bounded = sandboxKit();
    const limited = startDemoTraffic(bounded.world, {
      phoneNumberId: pn,
      everyMs: 1_000,
      maxMessages: 5,
    });
    await bounded.clock.advance(10 * MINUTE);
    assert.equal(inbound(bounded).length, 5);
    assert.equal(limited.written, 5);
    assert.equal(bounded.clock.pending, 0, 'nothing left scheduled');
  });
});

describe('sandbox real-time scheduler', () => {
  it('runs callbacks on wall-clock time with timers that never keep the process alive', async () => {
    const schedule = realTimeScheduler(systemClock);
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const ran = new Promise<number>((resolve) => {
      schedule(systemClock.now() + 20, () => resolve(systemClock.now()));
    });
    assert.equal(
      process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length,
      before,
      'the timer is unref’d',
    );
    // keep the process alive ourselves while waiting
    const keepAlive = setTimeout(() => undefined, 1_000);
    const at = await ran;
    clearTimeout(keepAlive);
    assert.ok(at >= Date.now() - 1_000);
  });

  it('sends callback errors to onError instead of crashing', async () => {
    const errors: unknown[] = [];
    const schedule = realTimeScheduler(systemClock, (e) => errors.push(e));
    const keepAlive = setTimeout(() => undefined, 1_000);
    await new Promise<void>((resolve) => {
      schedule(systemClock.now(), () => Promise.reject(new Error('boom')));
      schedule(systemClock.now() + 5, () => {
        throw new Error('bang');
      });
      schedule(systemClock.now() + 30, resolve);
    });
    clearTimeout(keepAlive);
    assert.deepEqual(
      errors.map((e) => (e as Error).message),
      ['boom', 'bang'],
    );
  });
});
