// POST /v1/notifications as a business system uses it: channel choice, consent and template
// checks, duplicate suppression across channels within the window (LIM-7), Idempotency-Key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestParley, type TestParley } from './helpers/parley.ts';

const MINUTE = 60_000;
const CUSTOMER = '447700900123';

const orderUpdate = (status = 'out for delivery', order = '1042') => ({
  name: 'order_update',
  language: { code: 'en' },
  components: [
    {
      type: 'body',
      parameters: [
        { type: 'text', text: 'Ada' },
        { type: 'text', text: order },
        { type: 'text', text: status },
      ],
    },
  ],
});

describe('notifications (POST /v1/notifications)', () => {
  let t: TestParley;
  let second = '';
  before(async () => {
    t = await startTestParley();
    await t.world.userWrites(t.channel.providerKey, { from: CUSTOMER, text: 'Hi' });
    await t.settle();
  });
  after(async () => t.close());

  const notify = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    t.api('POST', '/v1/notifications', { to: `+${CUSTOMER}`, ...body }, headers);
  const outboundTo = (waId: string) =>
    t.world.outbound(t.channel.providerKey).filter((o) => o.to === waId).length;

  it('uses the workspace’s only channel when none is named, and answers with the message id', async () => {
    const sent = await notify({ template: orderUpdate() });
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    assert.equal(sent.json.duplicate, false);
    assert.equal(sent.json.message.channelId, t.channel.id);
    assert.equal(
      sent.json.message.text,
      'Hi Ada, your order #1042 is now out for delivery. Reply here if you have any questions.\nParley Demo Shop',
    );
    await t.settle(15_000);
    const m = await t.api('GET', `/v1/messages/${sent.json.messageId}`);
    assert.ok(['delivered', 'read'].includes(m.json.status), m.json.status);
  });

  it('LIM-7: two identical notifications within the window produce one message', async () => {
    const first = await notify({ template: orderUpdate('ready', '2001') });
    assert.equal(first.status, 202);
    await t.settle(15_000);
    const before = outboundTo(CUSTOMER);
    await t.clock.advance(9 * MINUTE);
    const repeat = await notify({ template: orderUpdate('ready', '2001') });
    assert.equal(repeat.status, 200, JSON.stringify(repeat.json));
    assert.equal(repeat.json.duplicate, true);
    assert.equal(repeat.json.messageId, first.json.messageId);
    assert.equal(
      repeat.json.suppressedUntil,
      new Date(Date.parse(first.json.message.createdAt) + 10 * MINUTE).toISOString(),
    );
    await t.settle(15_000);
    assert.equal(outboundTo(CUSTOMER), before, 'nothing more went out');

    const other = await notify({ template: orderUpdate('ready', '2002') });
    assert.equal(other.status, 202, 'other parameters are another notification');
    await t.settle(15_000);
  });

  it('LIM-7: at the end of the window the same notification may go again', async () => {
    const first = await notify({ template: orderUpdate('delayed', '3001') });
    assert.equal(first.status, 202);
    await t.settle(15_000);
    await t.clock.advance(10 * MINUTE);
    const again = await notify({ template: orderUpdate('delayed', '3001') });
    assert.equal(again.status, 202);
    assert.notEqual(again.json.messageId, first.json.messageId);
    await t.settle(15_000);
  });

  it('LIM-7: duplicates are suppressed across the workspace’s channels; with two channels one must be named or set as default', async () => {
    const channel = await t.api('POST', '/v1/channels', {
      connectionId: t.channel.connectionId,
      name: 'Parley Demo Shop (returns)',
      providerKey: '106540352242999',
      phoneNumber: '+15550783999',
      wabaId: t.channel.wabaId ?? undefined,
    });
    assert.equal(channel.status, 201, JSON.stringify(channel.json));
    second = channel.json.id;
    await t.parley.templateSync.syncNew();
    const contact = (await t.api('GET', `/v1/contacts?search=${CUSTOMER}`)).json.items[0];
    const optIn = await t.api('POST', `/v1/contacts/${contact.id}/consent`, {
      kind: 'opt_in',
      purpose: 'utility',
      source: 'checkbox',
      evidence: { text: 'Send me order updates on WhatsApp', businessName: 'Parley Demo Shop' },
    });
    assert.equal(optIn.status, 201);

    const unnamed = await notify({ template: orderUpdate('packed', '4001') });
    assert.equal(unnamed.status, 400);
    assert.equal(unnamed.json.code, 'invalid_request');
    assert.match(unnamed.json.detail, /2 channels: name a channelId, or set a default/);

    const first = await notify({
      template: orderUpdate('packed', '4001'),
      channelId: t.channel.id,
    });
    assert.equal(first.status, 202, JSON.stringify(first.json));
    const elsewhere = await notify({ template: orderUpdate('packed', '4001'), channelId: second });
    assert.equal(elsewhere.status, 200);
    assert.equal(elsewhere.json.duplicate, true);
    assert.equal(elsewhere.json.messageId, first.json.messageId);
    await t.settle(15_000);

    const settings = await t.api('PATCH', '/v1/notifications/settings', {
      defaultChannelId: second,
      dedupeWindowMinutes: 30,
    });
    assert.equal(settings.status, 200);
    assert.deepEqual(settings.json, { defaultChannelId: second, dedupeWindowMinutes: 30 });
    const viaDefault = await notify({ template: orderUpdate('packed', '4002') });
    assert.equal(viaDefault.status, 202, JSON.stringify(viaDefault.json));
    assert.equal(viaDefault.json.message.channelId, second);
    await t.settle(15_000);
    await t.clock.advance(20 * MINUTE);
    const stillSuppressed = await notify({ template: orderUpdate('packed', '4002') });
    assert.equal(stillSuppressed.json.duplicate, true, 'the configured 30-minute window applies');
  });

  it('LIM-7: an Idempotency-Key repeats the first answer; reused for another notification it is a conflict', async () => {
    const headers = { 'idempotency-key': 'order-5001-shipped' };
    const first = await notify(
      { template: orderUpdate('shipped', '5001'), channelId: second },
      headers,
    );
    assert.equal(first.status, 202);
    const replay = await notify(
      { template: orderUpdate('shipped', '5001'), channelId: second },
      headers,
    );
    assert.equal(replay.status, 200);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(replay.json.messageId, first.json.messageId);
    const conflict = await notify(
      { template: orderUpdate('shipped', '5002'), channelId: second },
      headers,
    );
    assert.equal(conflict.status, 409);
    assert.equal(conflict.json.code, 'idempotency_conflict');
    await t.settle(15_000);
  });

  it('OPT-7/LIM-7: a refused notification is the precise refusal and does not suppress the next try', async () => {
    const stranger = '4915112345678';
    const refused = await t.api('POST', '/v1/notifications', {
      to: stranger,
      channelId: t.channel.id,
      template: orderUpdate('ready', '6001'),
    });
    assert.equal(refused.status, 422);
    assert.equal(refused.json.code, 'not_opted_in');
    assert.ok(refused.json.messageId);
    const contact = (await t.api('GET', `/v1/contacts?search=${stranger}`)).json.items[0];
    await t.api('POST', `/v1/contacts/${contact.id}/consent`, {
      kind: 'opt_in',
      purpose: 'utility',
      source: 'web_form',
      evidence: { text: 'Order updates by WhatsApp', businessName: 'Parley Demo Shop' },
    });
    const sent = await t.api('POST', '/v1/notifications', {
      to: stranger,
      channelId: t.channel.id,
      template: orderUpdate('ready', '6001'),
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
  });

  it('answers bad input precisely: unknown channel 404, bad number 400, unknown template fields 400', async () => {
    const unknown = await notify({ template: orderUpdate(), channelId: 'no-such-channel' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.code, 'not_found');
    const badNumber = await t.api('POST', '/v1/notifications', {
      to: '+00 12',
      channelId: t.channel.id,
      template: orderUpdate(),
    });
    assert.equal(badNumber.status, 400);
    const params = await notify({
      template: {
        ...orderUpdate(),
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ada' }] }],
      },
      channelId: second,
    });
    assert.equal(params.status, 422);
    assert.equal(params.json.code, 'template_params');
    assert.match(params.json.detail, /^body: template "order_update" \(en\) takes 3 parameter/);
    const junk = await notify({ template: { ...orderUpdate(), extra: true }, channelId: second });
    assert.equal(junk.status, 400);
    assert.equal(junk.json.code, 'validation_failed');
    const badDefault = await t.api('PATCH', '/v1/notifications/settings', {
      defaultChannelId: 'no-such-channel',
    });
    assert.equal(badDefault.status, 404);
  });
});
