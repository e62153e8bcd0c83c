// The simulated WhatsApp: care window, template approval, statuses with pricing, as Meta reports them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InboundMessage, OtherNotice, StatusUpdate } from '../../../core/inbound.ts';
import { DAY, HOUR, MINUTE, SECOND } from '../../../core/time.ts';
import { DEMO_NUMBER } from './sandbox-world.ts';
import { sandboxKit, idOf } from './testing/sandbox-kit.ts';

const pn = DEMO_NUMBER.phoneNumberId;
const AMELIA = '447700123456';

function failureOf(statuses: StatusUpdate[]) {
  const failed = statuses.filter((s) => s.status === 'failed');
  assert.equal(failed.length, 1, 'exactly one failed status');
  return failed[0]!;
}

describe('sandbox world: the customer service window', () => {
  it('CSW-5: a free-form message to a user who never wrote is accepted, then fails late with 131047', async () => {
    const kit = sandboxKit();
    const result = await kit.text(AMELIA, 'Hello there');
    const id = idOf(result);
    assert.match(id, /^wamid\./);
    assert.equal(kit.statusesOf(id).length, 0, 'nothing is reported at acceptance');

    await kit.clock.advance(2 * SECOND);
    const statuses = kit.statusesOf(id);
    assert.deepEqual(
      statuses.map((s) => s.status),
      ['failed'],
    );
    const error = failureOf(statuses).errors?.[0];
    assert.equal(error?.code, 131047);
    assert.equal(error?.title, 'Re-engagement message');
    assert.match(error?.details ?? '', /more than 24 hours have passed/);
    assert.equal(kit.world.message(id)?.status, 'failed');
  });

  it('CSW-2: free-form goes through 23:59 after the user wrote and fails at exactly 24 h', async () => {
    const kit = sandboxKit();
    await kit.world.userWrites(pn, { from: AMELIA, name: 'Amelia', text: 'Where is my order?' });

    await kit.clock.advance(DAY - MINUTE);
    const inside = idOf(await kit.text(AMELIA, 'It ships today'));
    await kit.clock.advance(MINUTE);
    const atClose = idOf(await kit.text(AMELIA, 'Any more questions?'));
    await kit.clock.advance(20 * SECOND);

    assert.deepEqual(
      kit.statusesOf(inside).map((s) => s.status),
      ['sent', 'delivered', 'read'],
    );
    assert.equal(failureOf(kit.statusesOf(atClose)).errors?.[0]?.code, 131047);
  });

  it('CSW-1: every user message restarts the full 24 hours', async () => {
    const kit = sandboxKit();
    await kit.world.userWrites(pn, { from: AMELIA, text: 'Hi' });
    await kit.clock.advance(20 * HOUR);
    await kit.world.userWrites(pn, { from: AMELIA, type: 'image' });
    await kit.clock.advance(10 * HOUR); // 30 h after the first message, 10 h after the second
    const id = idOf(await kit.text(AMELIA, 'Thanks for the photo'));
    await kit.clock.advance(20 * SECOND);
    assert.equal(kit.world.message(id)?.status, 'read');
  });

  it('CSW-1: a system notice does not open the window', async () => {
    const kit = sandboxKit();
    await kit.world.userWrites(pn, { from: AMELIA, type: 'system' });
    assert.equal(kit.world.windowOf(pn, AMELIA).open, false);
    const id = idOf(await kit.text(AMELIA, 'Hello'));
    await kit.clock.advance(2 * SECOND);
    assert.equal(failureOf(kit.statusesOf(id)).errors?.[0]?.code, 131047);
  });

  it('CSW-3: an approved template goes through while the window is closed', async () => {
    const kit = sandboxKit();
    const id = idOf(
      await kit.template(AMELIA, 'order_update', 'en', ['Amelia', '48213', 'shipped']),
    );
    await kit.clock.advance(20 * SECOND);
    assert.deepEqual(
      kit.statusesOf(id).map((s) => s.status),
      ['sent', 'delivered', 'read'],
    );
  });
});

describe('sandbox world: template approval and parameters', () => {
  it('TPL-9: an unknown template is accepted, then fails late with 132001 naming it and its language', async () => {
    const kit = sandboxKit();
    const id = idOf(await kit.template(AMELIA, 'black_friday', 'en'));
    await kit.clock.advance(2 * SECOND);
    const error = failureOf(kit.statusesOf(id)).errors?.[0];
    assert.equal(error?.code, 132001);
    assert.equal(error?.details, 'template name (black_friday) does not exist in en');
  });

  it('TPL-9: a template in another language than the approved one fails with 132001', async () => {
    const kit = sandboxKit();
    const id = idOf(await kit.template(AMELIA, 'order_update', 'fr', ['a', 'b', 'c']));
    await kit.clock.advance(2 * SECOND);
    assert.equal(failureOf(kit.statusesOf(id)).errors?.[0]?.code, 132001);
  });

  it('TPL-9: a PENDING or REJECTED template fails with 132001, PAUSED with 132015, DISABLED with 132016', async () => {
    const kit = sandboxKit();
    const body = { type: 'BODY' as const, text: 'Your code is ready, {{1}}.' };
    const cases = [
      ['PENDING', 132001],
      ['REJECTED', 132001],
      ['PAUSED', 132015],
      ['DISABLED', 132016],
    ] as const;
    for (const [status, code] of cases) {
      const name = `probe_${status.toLowerCase()}`;
      kit.world.addTemplate(pn, {
        name,
        language: 'en',
        category: 'UTILITY',
        components: [body],
        status,
      });
      const id = idOf(await kit.template(AMELIA, name, 'en', ['Amelia']));
      await kit.clock.advance(2 * SECOND);
      assert.equal(failureOf(kit.statusesOf(id)).errors?.[0]?.code, code, status);
    }
  });

  it('TPL-9: with templateErrors "sync" the refusal is Meta\'s HTTP error instead of a late status', async () => {
    const kit = sandboxKit({ templateErrors: 'sync' });
    const result = await kit.template(AMELIA, 'black_friday', 'en');
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.failure.reason, 'template_not_approved');
    assert.equal(result.failure.providerCode, '132001');
    assert.equal(result.failure.httpStatus, 404);
    assert.equal(result.failure.details, 'template name (black_friday) does not exist in en');
  });

  it('TPL-10: a wrong number of body parameters fails with 132000', async () => {
    const kit = sandboxKit();
    const id = idOf(await kit.template(AMELIA, 'order_update', 'en', ['Amelia', '48213']));
    await kit.clock.advance(2 * SECOND);
    const error = failureOf(kit.statusesOf(id)).errors?.[0];
    assert.equal(error?.code, 132000);
    assert.equal(
      error?.details,
      'body: number of localizable_params (2) does not match the expected number of params (3)',
    );
  });

  it('TPL-10: a named template needs its parameter names; a media header needs its media', async () => {
    const kit = sandboxKit();
    const named = idOf(
      await kit.send(AMELIA, {
        type: 'template',
        template: {
          name: 'delivery_update',
          language: { code: 'en_GB' },
          components: [
            {
              type: 'body',
              parameters: [
                { type: 'text', parameter_name: 'customer_name', text: 'Oliver' },
                { type: 'text', parameter_name: 'parcel', text: 'PX-1' },
                { type: 'text', parameter_name: 'delivery_date', text: '14 March' },
              ],
            },
          ],
        },
      }),
    );
    const headerless = idOf(await kit.template(AMELIA, 'spring_sale', 'es', ['Lucía', '30%']));
    await kit.clock.advance(2 * SECOND);
    const namedError = failureOf(kit.statusesOf(named)).errors?.[0];
    assert.equal(namedError?.code, 132000);
    assert.match(namedError?.details ?? '', /tracking_number/);
    assert.equal(failureOf(kit.statusesOf(headerless)).errors?.[0]?.code, 132000);
  });

  it('TPL-11: a text parameter with a newline fails with 132012', async () => {
    const kit = sandboxKit();
    const id = idOf(await kit.template(AMELIA, 'order_update', 'en', ['Amelia\nClarke', '1', 'x']));
    await kit.clock.advance(2 * SECOND);
    assert.equal(failureOf(kit.statusesOf(id)).errors?.[0]?.code, 132012);
  });

  it('TPL-10: an authentication template takes the code as body and button parameter', async () => {
    const kit = sandboxKit();
    const id = idOf(
      await kit.send(AMELIA, {
        type: 'template',
        template: {
          name: 'verification_code',
          language: { code: 'en' },
          components: [
            { type: 'body', parameters: [{ type: 'text', text: '482913' }] },
            {
              type: 'button',
              sub_type: 'url',
              index: 0,
              parameters: [{ type: 'text', text: '482913' }],
            },
          ],
        },
      }),
    );
    await kit.clock.advance(20 * SECOND);
    const statuses = kit.statusesOf(id);
    assert.deepEqual(
      statuses.map((s) => s.status),
      ['sent', 'delivered', 'read'],
    );
    assert.equal(statuses[0]?.pricing?.category, 'authentication');
  });

  it('TPL-8: a submitted template is PENDING, then APPROVED with a status webhook, and only then sendable', async () => {
    const kit = sandboxKit();
    kit.world.submitTemplate(
      pn,
      {
        name: 'back_in_stock',
        language: 'en',
        category: 'MARKETING',
        components: [{ type: 'BODY', text: 'Good news {{1}}: it is back in stock.' }],
      },
      { reviewMs: 60 * SECOND },
    );
    assert.equal(kit.world.template(pn, 'back_in_stock', 'en')?.status, 'PENDING');
    const early = idOf(await kit.template(AMELIA, 'back_in_stock', 'en', ['Amelia']));
    await kit.clock.advance(61 * SECOND);
    const late = idOf(await kit.template(AMELIA, 'back_in_stock', 'en', ['Amelia']));
    await kit.clock.advance(20 * SECOND);

    assert.equal(failureOf(kit.statusesOf(early)).errors?.[0]?.code, 132001);
    assert.equal(kit.world.message(late)?.status, 'read');
    const notices = kit
      .events()
      .filter((e): e is OtherNotice & { deliveredAt: number } => e.kind === 'notice');
    assert.equal(notices.length, 1);
    assert.equal(notices[0]?.field, 'message_template_status_update');
    assert.deepEqual(
      {
        event: (notices[0]?.value as Record<string, unknown>).event,
        name: (notices[0]?.value as Record<string, unknown>).message_template_name,
      },
      { event: 'APPROVED', name: 'back_in_stock' },
    );
  });
});

describe('sandbox world: statuses and pricing', () => {
  it('STA-1: sent, delivered and read arrive in order, each within its configured delay', async () => {
    const kit = sandboxKit({
      statusDelays: { sent: [300, 300], delivered: [1_500, 1_500], read: [4_000, 4_000] },
    });
    await kit.world.userWrites(pn, { from: AMELIA, text: 'Hi' });
    const acceptedAt = kit.clock.now();
    const id = idOf(await kit.text(AMELIA, 'Hello Amelia'));

    await kit.clock.advance(299);
    assert.equal(kit.statusesOf(id).length, 0);
    await kit.clock.advance(10 * SECOND);
    const statuses = kit.statusesOf(id);
    assert.deepEqual(
      statuses.map((s) => [s.status, s.deliveredAt - acceptedAt]),
      [
        ['sent', 300],
        ['delivered', 1_800],
        ['read', 5_800],
      ],
    );
    // webhook timestamps are whole seconds of the event time
    for (const s of statuses) assert.equal(s.at, Math.floor(s.deliveredAt / 1000) * 1000);
    assert.ok(statuses.every((s) => s.recipient === AMELIA));
  });

  it('STA-1: jittered delays stay inside the default ranges', async () => {
    const kit = sandboxKit();
    await kit.world.userWrites(pn, { from: AMELIA, text: 'Hi' });
    const ids: Array<[string, number]> = [];
    for (let i = 0; i < 20; i++) {
      ids.push([idOf(await kit.text(AMELIA, `Message ${i}`)), kit.clock.now()]);
      await kit.clock.advance(137);
    }
    await kit.clock.advance(15 * SECOND);
    for (const [id, acceptedAt] of ids) {
      const [sent, delivered, read] = kit.statusesOf(id);
      assert.ok(sent && delivered && read);
      assert.ok(sent.deliveredAt - acceptedAt >= 200 && sent.deliveredAt - acceptedAt <= 500);
      const d = delivered.deliveredAt - sent.deliveredAt;
      assert.ok(d >= 800 && d <= 2_000, `delivered after ${d} ms`);
      const r = read.deliveredAt - delivered.deliveredAt;
      assert.ok(r >= 2_000 && r <= 8_000, `read after ${r} ms`);
    }
  });

  it('PMP-3/PMP-2: free-form and utility templates inside the window are free_customer_service', async () => {
    const kit = sandboxKit();
    await kit.world.userWrites(pn, { from: AMELIA, text: 'Hi' });
    const reply = idOf(await kit.text(AMELIA, 'Hello!'));
    const utility = idOf(await kit.template(AMELIA, 'order_update', 'en', ['A', '1', 'packed']));
    await kit.clock.advance(20 * SECOND);
    for (const [id, category] of [
      [reply, 'service'],
      [utility, 'utility'],
    ] as const) {
      const statuses = kit.statusesOf(id);
      assert.equal(statuses.length, 3);
      for (const s of statuses)
        assert.deepEqual(s.pricing, {
          billable: false,
          pricing_model: 'PMP',
          type: 'free_customer_service',
          category,
        });
      assert.equal(statuses[0]?.conversation, undefined, 'PMP omits conversation outside an FEP');
    }
  });

  it('PMP-1: a marketing template, and a utility template outside the window, are regular', async () => {
    const kit = sandboxKit();
    await kit.world.userWrites(pn, { from: AMELIA, text: 'Hi' });
    const marketing = idOf(await kit.template(AMELIA, 'welcome_offer', 'en', ['Amelia', '15%']));
    await kit.clock.advance(DAY + SECOND);
    const utility = idOf(await kit.template(AMELIA, 'order_update', 'en', ['A', '1', 'packed']));
    await kit.clock.advance(20 * SECOND);
    assert.deepEqual(kit.statusesOf(marketing)[1]?.pricing, {
      billable: true,
      pricing_model: 'PMP',
      type: 'regular',
      category: 'marketing',
    });
    assert.deepEqual(kit.statusesOf(utility)[1]?.pricing, {
      billable: true,
      pricing_model: 'PMP',
      type: 'regular',
      category: 'utility',
    });
  });

  it('PMP-4/FEP-3: after a referral the reply opens a 72 h free entry point, templates included', async () => {
    const kit = sandboxKit();
    await kit.world.userWrites(pn, { from: AMELIA, text: 'I saw your ad', referral: true });
    await kit.clock.advance(HOUR);
    const reply = idOf(await kit.text(AMELIA, 'Welcome! Here is your code.'));
    await kit.clock.advance(48 * HOUR);
    const insideFep = idOf(await kit.template(AMELIA, 'welcome_offer', 'en', ['Amelia', '10%']));
    await kit.clock.advance(24 * HOUR);
    const afterFep = idOf(await kit.template(AMELIA, 'welcome_offer', 'en', ['Amelia', '10%']));
    await kit.clock.advance(20 * SECOND);

    const first = kit.statusesOf(reply)[0];
    assert.deepEqual(first?.pricing, {
      billable: false,
      pricing_model: 'PMP',
      type: 'free_entry_point',
      category: 'referral_conversion',
    });
    assert.equal(
      (first?.conversation?.origin as { type?: string } | undefined)?.type,
      'referral_conversion',
    );
    assert.equal(kit.statusesOf(insideFep)[0]?.pricing?.type, 'free_entry_point');
    assert.equal(kit.statusesOf(insideFep)[0]?.conversation?.id, first?.conversation?.id);
    assert.equal(kit.statusesOf(afterFep)[0]?.pricing?.type, 'regular');
  });

  it('FEP-2: a first reply more than 24 h after the referral opens no free entry point', async () => {
    const kit = sandboxKit();
    await kit.world.userWrites(pn, { from: AMELIA, text: 'I saw your ad', referral: true });
    await kit.clock.advance(DAY + HOUR);
    const id = idOf(await kit.template(AMELIA, 'welcome_offer', 'en', ['Amelia', '10%']));
    await kit.clock.advance(20 * SECOND);
    assert.equal(kit.statusesOf(id)[0]?.pricing?.type, 'regular');
  });

  it('S26-1/S26-2: from 2026-10-01 free-form and in-window utility templates are regular', async () => {
    const kit = sandboxKit({ start: '2026-10-02T09:00:00Z' });
    await kit.world.userWrites(pn, { from: AMELIA, text: 'Hi' });
    const reply = idOf(await kit.text(AMELIA, 'Hello!'));
    const utility = idOf(await kit.template(AMELIA, 'order_update', 'en', ['A', '1', 'packed']));
    await kit.clock.advance(20 * SECOND);
    assert.deepEqual(kit.statusesOf(reply)[0]?.pricing, {
      billable: true,
      pricing_model: 'PMP',
      type: 'regular',
      category: 'service',
    });
    assert.equal(kit.statusesOf(utility)[0]?.pricing?.type, 'regular');
  });

  it('CAT-2/CAT-3: in 2024 a utility template opens a 24 h conversation that free-form joins', async () => {
    const kit = sandboxKit({ start: '2024-03-01T10:00:00Z' });
    await kit.world.userWrites(pn, { from: AMELIA, text: 'Hi' });
    const template = idOf(await kit.template(AMELIA, 'order_update', 'en', ['A', '1', 'packed']));
    await kit.clock.advance(MINUTE);
    const reply = idOf(await kit.text(AMELIA, 'Anything else?'));
    await kit.clock.advance(20 * SECOND);

    const [sent, delivered] = kit.statusesOf(template);
    assert.deepEqual(sent?.pricing, { billable: true, pricing_model: 'CBP', category: 'utility' });
    const expires = Number(sent?.conversation?.expiration_timestamp) * 1000;
    assert.equal(expires, Date.parse('2024-03-01T10:00:00Z') + DAY);
    assert.equal(delivered?.conversation?.expiration_timestamp, undefined, 'only on sent');
    const joined = kit.statusesOf(reply)[0];
    assert.equal(joined?.conversation?.id, sent?.conversation?.id);
    assert.equal(joined?.pricing?.category, 'utility');
  });

  it('CBP-2: in 2022 a reply inside the window opens a user-initiated conversation', async () => {
    const kit = sandboxKit({ start: '2022-09-01T10:00:00Z' });
    await kit.world.userWrites(pn, { from: AMELIA, text: 'Hi' });
    const id = idOf(await kit.text(AMELIA, 'Hello!'));
    await kit.clock.advance(20 * SECOND);
    assert.deepEqual(kit.statusesOf(id)[0]?.pricing, {
      billable: true,
      pricing_model: 'CBP',
      category: 'user_initiated',
    });
  });

  it('STA-1: with readProbability 0 messages stay delivered until the user reads them', async () => {
    const kit = sandboxKit({ readProbability: 0 });
    await kit.world.userWrites(pn, { from: AMELIA, text: 'Hi' });
    const a = idOf(await kit.text(AMELIA, 'One'));
    const b = idOf(await kit.text(AMELIA, 'Two'));
    await kit.clock.advance(MINUTE);
    assert.equal(kit.world.message(a)?.status, 'delivered');
    const read = await kit.world.userReads(pn, AMELIA);
    assert.deepEqual(read.sort(), [a, b].sort());
    assert.equal(kit.statusesOf(a).at(-1)?.status, 'read');
    assert.equal(kit.statusesOf(a).at(-1)?.pricing?.type, 'free_customer_service');
    assert.deepEqual(await kit.world.userReads(pn, AMELIA), [], 'nothing left to read');
  });

  it('echoes biz_opaque_callback_data in every status', async () => {
    const kit = sandboxKit();
    await kit.world.userWrites(pn, { from: AMELIA, text: 'Hi' });
    const result = await kit.provider.send({
      channel: { channelId: 'c', providerKey: pn, phoneNumber: '15550783881' },
      to: AMELIA,
      content: { type: 'text', text: { body: 'Tracked' } },
      callbackData: 'msg_01J2',
    });
    await kit.clock.advance(20 * SECOND);
    const statuses = kit.statusesOf(idOf(result));
    assert.equal(statuses.length, 3);
    assert.ok(statuses.every((s) => s.callbackData === 'msg_01J2'));
  });
});

describe('sandbox world: users', () => {
  it('OPT-5: a user who stops marketing sends user_preferences; marketing then fails with 131050', async () => {
    const kit = sandboxKit();
    await kit.world.userStopsMarketing(pn, AMELIA);
    const marketing = idOf(await kit.template(AMELIA, 'welcome_offer', 'en', ['Amelia', '15%']));
    const utility = idOf(await kit.template(AMELIA, 'order_update', 'en', ['A', '1', 'packed']));
    await kit.clock.advance(20 * SECOND);
    const notice = kit.events().find((e) => e.kind === 'notice');
    assert.equal(notice?.kind === 'notice' ? notice.field : '', 'user_preferences');
    assert.equal(failureOf(kit.statusesOf(marketing)).errors?.[0]?.code, 131050);
    assert.equal(kit.world.message(utility)?.status, 'read');
  });

  it('a number that is not on WhatsApp fails late with 131026', async () => {
    const kit = sandboxKit();
    kit.world.setUnreachable('+49 151 23456789');
    const id = idOf(await kit.template('4915123456789', 'order_update', 'en', ['J', '1', 'x']));
    await kit.clock.advance(2 * SECOND);
    assert.equal(failureOf(kit.statusesOf(id)).errors?.[0]?.code, 131026);
  });

  it('a reply quotes the business message with the business number as context.from', async () => {
    const kit = sandboxKit();
    await kit.world.userWrites(pn, { from: AMELIA, text: 'Hi' });
    const answer = idOf(await kit.text(AMELIA, 'Your parcel is on its way'));
    await kit.clock.advance(20 * SECOND);
    await kit.world.userWrites(pn, { from: AMELIA, text: 'Great!', context: { id: answer } });
    const message = kit
      .events()
      .filter((e): e is InboundMessage & { deliveredAt: number } => e.kind === 'message')
      .at(-1);
    assert.deepEqual(message?.context, { from: DEMO_NUMBER.displayPhoneNumber, id: answer });
    assert.deepEqual(kit.world.lastBusinessMessage(pn, AMELIA)?.id, answer);
  });
});

describe('sandbox world: its own failures', () => {
  it('an error inside a simulated event goes to onError and later events still run', async () => {
    const errors: unknown[] = [];
    const kit = sandboxKit({ onError: (e) => errors.push(e) });
    const now = kit.clock.now();
    let ranAfter = false;
    kit.world.schedule(now + 10, () => {
      throw new Error('broken event');
    });
    kit.world.schedule(now + 20, () => {
      ranAfter = true;
    });
    await kit.clock.advance(SECOND);
    assert.deepEqual(
      errors.map((e) => (e as Error).message),
      ['broken event'],
    );
    assert.equal(ranAfter, true);
  });
});
