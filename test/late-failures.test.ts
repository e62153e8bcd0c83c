// Late failures through a Meta connection over HTTP: sends go to a fake Graph API and are
// accepted; WhatsApp's verdict arrives afterwards as a signed `failed` status webhook at
// /webhooks/meta/{id}. A late 131047, 132015 and 131050 each end in the state the rules give.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { recordConsent } from '../src/app/consent-ledger.ts';
import type { DomainEvent } from '../src/ports/event-bus.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { postSigned, processAcknowledged } from './helpers/meta-webhooks.ts';
import {
  failedStatusBody,
  fakeMetaConnection,
  inboundBody,
  type FakeMeta,
} from './helpers/fake-provider-connections.ts';

const MINUTE = 60_000;
let serial = 0;

describe('late failures from Meta (status webhooks)', () => {
  let t: TestParley;
  let meta: FakeMeta;
  let published: DomainEvent[];
  before(async () => {
    t = await startTestParley();
    meta = await fakeMetaConnection(t);
    t.parley.deps.events.subscribe((e) => published.push(e));
  });
  beforeEach(() => {
    published = [];
  });
  after(async () => {
    await meta.fake.close();
    await t.close();
  });

  async function deliver(body: string): Promise<void> {
    const response = await postSigned(t, meta.connectionId, body, meta.appSecret);
    assert.equal(response.status, 200, response.text);
    await processAcknowledged(t);
    await t.parley.accountHealth.idle();
    await t.parley.consentSignals.idle();
  }

  async function customerWrites(from: string): Promise<void> {
    await deliver(
      inboundBody(meta, {
        from,
        id: `wamid.IN${String(++serial)}`,
        at: t.clock.now(),
        type: 'text',
        text: { body: 'Hello' },
      }),
    );
  }

  /** Sends through the API and the dispatcher; the fake Graph API accepts it. */
  async function sendAccepted(body: Record<string, unknown>): Promise<any> {
    const sent = await t.api('POST', '/v1/messages', { channelId: meta.channelId, ...body });
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    await t.parley.dispatcher.runOnce();
    const message = (await t.api('GET', `/v1/messages/${String(sent.json.id)}`)).json;
    assert.equal(message.status, 'accepted', JSON.stringify(message));
    assert.match(message.providerMessageId, /^wamid\.FAKE/);
    return message;
  }

  async function lateFailure(
    message: any,
    to: string,
    error: { code: number; title: string; details: string },
  ): Promise<any> {
    await t.clock.advance(2_000);
    await deliver(
      failedStatusBody(meta, {
        id: message.providerMessageId,
        recipient: to,
        at: t.clock.now(),
        ...error,
      }),
    );
    return (await t.api('GET', `/v1/messages/${String(message.id)}`)).json;
  }

  async function declareTemplate(name: string, category: string): Promise<void> {
    await t.parley.deps.store.templates.upsert({
      workspaceId: t.channel.workspaceId,
      channelId: meta.channelId,
      name,
      language: 'en',
      category,
      status: 'APPROVED',
      parameterFormat: 'POSITIONAL',
      components: [{ type: 'BODY', text: 'Your order has shipped and is on its way to you.' }],
      providerTemplateId: `tpl-${name}`,
      at: t.clock.now(),
    });
  }

  it('CSW-5: a late 131047 fails the free-form message with window_closed and closes the window; only a template goes out then', async () => {
    const customer = '447700900501';
    await customerWrites(customer);
    await t.clock.advance(5 * MINUTE);
    const text = await sendAccepted({ to: customer, type: 'text', text: { body: 'Any news?' } });
    const contactId: string = text.contactId;
    const before = await t.api(
      'GET',
      `/v1/contacts/${contactId}/eligibility?channel=${meta.channelId}`,
    );
    assert.equal(before.json.window.open, true, 'Parley thought the window was open');

    const failed = await lateFailure(text, customer, {
      code: 131047,
      title: 'Re-engagement message',
      details:
        'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
    });
    assert.equal(failed.status, 'failed');
    assert.equal(failed.reason, 'window_closed');
    assert.match(failed.explanation, /send an approved template/);
    assert.equal(failed.providerError.code, 131047);
    assert.ok(
      published.some((e) => e.type === 'message.failed' && e.data.reason === 'window_closed'),
    );

    const after = await t.api(
      'GET',
      `/v1/contacts/${contactId}/eligibility?channel=${meta.channelId}`,
    );
    assert.equal(after.json.window.open, false, 'the window is closed as of the failed send');
    assert.equal(after.json.allowed.freeForm, false);
    assert.equal(after.json.allowed.template, true);
    const refused = await t.api('POST', '/v1/messages', {
      channelId: meta.channelId,
      to: customer,
      type: 'text',
      text: { body: 'Hello again?' },
    });
    assert.equal(refused.status, 422);
    assert.equal(refused.json.code, 'window_closed');

    // CSW-1: the customer writing again reopens it.
    await customerWrites(customer);
    const reopened = await t.api(
      'GET',
      `/v1/contacts/${contactId}/eligibility?channel=${meta.channelId}`,
    );
    assert.equal(reopened.json.window.open, true);
  });

  it('CSW-5: a late 131047 for a template leaves the window as it was', async () => {
    const customer = '447700900502';
    await customerWrites(customer);
    await declareTemplate('shipping_update', 'UTILITY');
    const template = await sendAccepted({
      to: customer,
      type: 'template',
      template: { name: 'shipping_update', language: { code: 'en' } },
    });
    const failed = await lateFailure(template, customer, {
      code: 131047,
      title: 'Re-engagement message',
      details: 'More than 24 hours have passed.',
    });
    assert.equal(failed.reason, 'window_closed');
    const eligibility = await t.api(
      'GET',
      `/v1/contacts/${String(template.contactId)}/eligibility?channel=${meta.channelId}`,
    );
    assert.equal(eligibility.json.window.open, true);
  });

  it('TPL-9: a late 132015 fails the message with template_paused, pauses the local template and refuses the next send of it', async () => {
    const customer = '447700900503';
    await customerWrites(customer);
    await declareTemplate('order_ready', 'UTILITY');
    const template = await sendAccepted({
      to: customer,
      type: 'template',
      template: { name: 'order_ready', language: { code: 'en' } },
    });
    const failed = await lateFailure(template, customer, {
      code: 132015,
      title: 'Template is Paused',
      details: 'Template is paused due to low quality so it cannot be sent in a template message.',
    });
    assert.equal(failed.status, 'failed');
    assert.equal(failed.reason, 'template_paused');
    assert.equal(failed.providerError.code, 132015);

    const local = await t.parley.deps.store.templates.find(
      t.channel.workspaceId,
      'order_ready',
      'en',
      meta.channelId,
    );
    assert.equal(local?.status, 'PAUSED', 'the local template is marked paused');
    assert.ok(published.some((e) => e.type === 'template.status' && e.data.status === 'PAUSED'));
    const health = await t.api('GET', `/v1/channels/${meta.channelId}/health`);
    assert.ok(
      health.json.items.some(
        (e: any) =>
          e.kind === 'template_paused' && e.code === '132015' && /order_ready/.test(e.detail),
      ),
      JSON.stringify(health.json),
    );

    const next = await t.api('POST', '/v1/messages', {
      channelId: meta.channelId,
      to: customer,
      type: 'template',
      template: { name: 'order_ready', language: { code: 'en' } },
    });
    assert.equal(next.status, 422, JSON.stringify(next.json));
    assert.equal(next.json.code, 'template_paused');
  });

  it('OPT-5: a late 131050 fails the marketing template with opted_out', async () => {
    const customer = '447700900504';
    await customerWrites(customer);
    await declareTemplate('spring_sale', 'MARKETING');
    const contact = await t.parley.deps.store.contacts.findByWaId(t.channel.workspaceId, customer);
    assert.ok(contact);
    await recordConsent(t.parley.deps, t.channel.workspaceId, contact, {
      kind: 'opt_in',
      purpose: 'marketing',
      channelId: null,
      source: 'checkbox',
      recordedBy: 'api-key:test',
      evidence: { text: 'Send me offers on WhatsApp', businessName: 'Parley Demo Shop' },
    });
    const template = await sendAccepted({
      to: customer,
      type: 'template',
      template: { name: 'spring_sale', language: { code: 'en' } },
    });
    const failed = await lateFailure(template, customer, {
      code: 131050,
      title:
        'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.',
      details: 'The user has stopped marketing messages.',
    });
    assert.equal(failed.status, 'failed');
    assert.equal(failed.reason, 'opted_out');
    assert.equal(failed.providerError.code, 131050);
    assert.ok(published.some((e) => e.type === 'message.failed' && e.data.reason === 'opted_out'));
  });

  it('STA-1: a late failure after delivered changes nothing (failed overrides only accepted and sent)', async () => {
    const customer = '447700900505';
    await customerWrites(customer);
    const text = await sendAccepted({
      to: customer,
      type: 'text',
      text: { body: 'Delivered one' },
    });
    await deliver(
      JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: meta.wabaId,
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: {
                    display_phone_number: '15550783881',
                    phone_number_id: meta.phoneNumberId,
                  },
                  statuses: [
                    {
                      id: text.providerMessageId,
                      status: 'delivered',
                      timestamp: String(Math.floor(t.clock.now() / 1000)),
                      recipient_id: customer,
                    },
                  ],
                },
              },
            ],
          },
        ],
      }),
    );
    const failed = await lateFailure(text, customer, {
      code: 131047,
      title: 'Re-engagement message',
      details: 'More than 24 hours have passed.',
    });
    assert.equal(failed.status, 'delivered');
    assert.equal(failed.reason, null);
  });
});
