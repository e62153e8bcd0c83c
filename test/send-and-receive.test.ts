// End to end through the HTTP API and the sandbox: the 24-hour rule as a user meets it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestParley, type TestParley } from './helpers/parley.ts';

const HOUR = 3_600_000;
const CUSTOMER = '447700900123';

describe('a sandbox conversation through the API', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
  });
  after(async () => t.close());

  it('CSW-1: a customer message arrives as a conversation with an open window', async () => {
    await t.world.userWrites(t.channel.providerKey, {
      from: CUSTOMER,
      name: 'Ada',
      text: 'Where is my order #1042?',
    });
    await t.settle();
    const list = await t.api('GET', '/v1/conversations');
    assert.equal(list.status, 200);
    assert.equal(list.json.items.length, 1);
    const conversation = list.json.items[0];
    assert.equal(conversation.contact.waId, CUSTOMER);
    assert.equal(conversation.contact.name, 'Ada');
    assert.equal(conversation.window.open, true);
    const transcript = await t.api('GET', `/v1/conversations/${conversation.id}/messages`);
    assert.deepEqual(
      transcript.json.items.map((m: { text: string }) => m.text),
      ['Where is my order #1042?'],
    );
  });

  it('CSW-3: a free-form reply inside the window is delivered and its statuses recorded', async () => {
    const sent = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: `+${CUSTOMER}`,
      type: 'text',
      text: { body: 'It ships today.' },
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    assert.equal(sent.json.status, 'pending');
    await t.settle(15_000);
    const message = await t.api('GET', `/v1/messages/${sent.json.id}`);
    assert.equal(message.json.status, 'read');
    assert.match(message.json.providerMessageId, /^wamid\./);
    assert.deepEqual(
      message.json.statuses.map((s: { status: string }) => s.status),
      ['sent', 'delivered', 'read'],
    );
    assert.ok(message.json.deliveredAt);
  });

  it('CSW-2: after 24 h a free-form is refused with window_closed and stored as refused', async () => {
    await t.clock.advance(24 * HOUR + 1_000);
    const refused = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: CUSTOMER,
      type: 'text',
      text: { body: 'Anything else?' },
    });
    assert.equal(refused.status, 422);
    assert.equal(refused.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(refused.json.code, 'window_closed');
    const stored = await t.api('GET', `/v1/messages/${refused.json.messageId}`);
    assert.equal(stored.json.status, 'refused');
    assert.equal(stored.json.reason, 'window_closed');
  });

  it('CSW-3: a template may still be sent after the window closed', async () => {
    const sent = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: CUSTOMER,
      type: 'template',
      template: {
        name: 'order_update',
        language: { code: 'en' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Ada' },
              { type: 'text', text: '1042' },
              { type: 'text', text: 'out for delivery' },
            ],
          },
        ],
      },
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    await t.settle(15_000);
    const message = await t.api('GET', `/v1/messages/${sent.json.id}`);
    assert.ok(['delivered', 'read'].includes(message.json.status), JSON.stringify(message.json));
  });

  it('TPL-10: a template with the wrong parameter count is refused before it is queued, naming the component', async () => {
    const sent = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: CUSTOMER,
      type: 'template',
      template: {
        name: 'order_update',
        language: { code: 'en' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ada' }] }],
      },
    });
    assert.equal(sent.status, 422);
    assert.equal(sent.json.code, 'template_params');
    assert.match(sent.json.detail, /body: template "order_update" \(en\) takes 3 parameter/);
    assert.equal(t.world.outbound(t.channel.providerKey).length > 0, true);
    const message = await t.api('GET', `/v1/messages/${sent.json.messageId}`);
    assert.equal(message.json.status, 'refused');
  });

  it('TPL-10: a template the provider knows but Parley has not synced ends as failed with template_params (132000)', async () => {
    t.world.addTemplate(t.channel.providerKey, {
      name: 'pickup_ready',
      language: 'en',
      category: 'UTILITY',
      components: [{ type: 'BODY', text: 'Hi {{1}}, your order is ready at {{2}}.' }],
    });
    const sent = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: CUSTOMER,
      type: 'template',
      template: {
        name: 'pickup_ready',
        language: { code: 'en' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ada' }] }],
      },
    });
    assert.equal(sent.status, 202);
    await t.settle(15_000);
    const message = await t.api('GET', `/v1/messages/${sent.json.id}`);
    assert.equal(message.json.status, 'failed');
    assert.equal(message.json.reason, 'template_params');
    assert.equal(message.json.providerError.code, 132000);
  });

  it('a template the provider does not know fails with template_not_approved (132001)', async () => {
    const sent = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: CUSTOMER,
      type: 'template',
      template: { name: 'no_such_template', language: { code: 'en' } },
    });
    await t.settle(15_000);
    const message = await t.api('GET', `/v1/messages/${sent.json.id}`);
    assert.equal(message.json.status, 'failed');
    assert.equal(message.json.reason, 'template_not_approved');
  });

  it('CSW-5: a late 131047 from the provider ends as failed with window_closed', async () => {
    await t.world.userWrites(t.channel.providerKey, { from: CUSTOMER, text: 'Thanks!' });
    await t.settle();
    t.world.chaos({ lateFailures: 1, lateFailureCode: 131047 });
    const sent = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: CUSTOMER,
      type: 'text',
      text: { body: 'You are welcome.' },
    });
    assert.equal(sent.status, 202);
    await t.settle(15_000);
    const message = await t.api('GET', `/v1/messages/${sent.json.id}`);
    assert.equal(message.json.status, 'failed');
    assert.equal(message.json.reason, 'window_closed');
    assert.equal(message.json.providerError.code, 131047);
  });

  it('CSW-4: a free-form queued inside the window but dispatched after it closed fails with window_closed', async () => {
    await t.world.userWrites(t.channel.providerKey, { from: '4915112345678', text: 'Hallo' });
    await t.settle();
    await t.clock.advance(24 * HOUR - 2 * 60_000); // two minutes of window left at request time
    const sent = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: '4915112345678',
      type: 'text',
      text: { body: 'Guten Tag' },
    });
    assert.equal(sent.status, 202);
    await t.clock.advance(90_000); // the queue was slow: 30 s left, inside the 60 s margin
    await t.settle();
    const message = await t.api('GET', `/v1/messages/${sent.json.id}`);
    assert.equal(message.json.status, 'failed');
    assert.equal(message.json.reason, 'window_closed');
    assert.equal(message.json.providerMessageId, null);
  });
});
