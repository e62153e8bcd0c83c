// Every outbound message type goes out through the API and the sandbox and is delivered;
// the operational endpoints answer as documented.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestParley, type TestParley } from './helpers/parley.ts';

const TO = '4915112345678';

describe('sending every message type', () => {
  let t: TestParley;
  let inboundProviderId = '';
  before(async () => {
    t = await startTestParley();
    const inbound = await t.world.userWrites(t.channel.providerKey, {
      from: TO,
      text: 'Hi, can you send me the details?',
    });
    inboundProviderId = inbound.id;
    await t.settle();
  });
  after(async () => t.close());

  const cases: Array<[string, Record<string, unknown>]> = [
    [
      'text with link preview',
      { type: 'text', text: { body: 'See https://example.com/track', preview_url: true } },
    ],
    [
      'image by link',
      {
        type: 'image',
        image: { link: 'https://example.com/receipt.png', caption: 'Your receipt' },
      },
    ],
    [
      'document by id',
      { type: 'document', document: { id: '1234567890', filename: 'invoice.pdf' } },
    ],
    ['audio', { type: 'audio', audio: { link: 'https://example.com/note.ogg' } }],
    ['video', { type: 'video', video: { link: 'https://example.com/how-to.mp4' } }],
    ['sticker', { type: 'sticker', sticker: { id: '987654321' } }],
    [
      'location',
      {
        type: 'location',
        location: { latitude: 52.52, longitude: 13.405, name: 'Parley Store Berlin' },
      },
    ],
    [
      'contacts',
      {
        type: 'contacts',
        contacts: [
          {
            name: { formatted_name: 'Parley Support' },
            phones: [{ phone: '+15550783881', type: 'WORK' }],
          },
        ],
      },
    ],
    [
      'interactive reply buttons',
      {
        type: 'interactive',
        interactive: {
          type: 'button',
          body: { text: 'Was this helpful?' },
          action: {
            buttons: [
              { type: 'reply', reply: { id: 'yes', title: 'Yes' } },
              { type: 'reply', reply: { id: 'no', title: 'No' } },
            ],
          },
        },
      },
    ],
    [
      'interactive list',
      {
        type: 'interactive',
        interactive: {
          type: 'list',
          body: { text: 'Pick a slot' },
          action: {
            button: 'Slots',
            sections: [
              {
                title: 'Tomorrow',
                rows: [
                  { id: 'am', title: 'Morning' },
                  { id: 'pm', title: 'Afternoon' },
                ],
              },
            ],
          },
        },
      },
    ],
    [
      'template with a header parameter',
      { type: 'template', template: { name: 'hello_world', language: { code: 'en_US' } } },
    ],
  ];

  for (const [name, content] of cases) {
    it(`delivers ${name}`, async () => {
      const sent = await t.api('POST', '/v1/messages', {
        channelId: t.channel.id,
        to: TO,
        ...content,
      });
      assert.equal(sent.status, 202, JSON.stringify(sent.json));
      await t.settle(12_000);
      const m = (await t.api('GET', `/v1/messages/${sent.json.id}`)).json;
      assert.ok(['delivered', 'read'].includes(m.status), `${m.status} ${m.reasonDetail ?? ''}`);
      const delivered = t.world
        .outbound(t.channel.providerKey)
        .find((o) => o.callbackData === sent.json.id);
      assert.equal(delivered?.type, content.type);
    });
  }

  it('delivers a reaction to the customer message and a quoted reply', async () => {
    const transcript = (await t.api('GET', '/v1/conversations')).json.items[0];
    const inbound = (
      await t.api('GET', `/v1/conversations/${transcript.id}/messages`)
    ).json.items.find((m: { direction: string }) => m.direction === 'inbound');
    const reaction = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: TO,
      type: 'reaction',
      reaction: { message_id: inboundProviderId, emoji: '👍' },
    });
    assert.equal(reaction.status, 202, JSON.stringify(reaction.json));
    const reply = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: TO,
      type: 'text',
      text: { body: 'Here you go' },
      replyTo: inbound.id,
    });
    assert.equal(reply.status, 202, JSON.stringify(reply.json));
    await t.settle(12_000);
    const quoted = t.world
      .outbound(t.channel.providerKey)
      .find((o) => o.callbackData === reply.json.id);
    assert.equal(quoted?.replyTo, inboundProviderId);
  });
});

describe('operational endpoints', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
  });
  after(async () => t.close());

  it('serves health, readiness, metrics and the OpenAPI description', async () => {
    assert.equal((await t.parley.http.inject({ url: '/healthz' })).statusCode, 200);
    assert.equal((await t.parley.http.inject({ url: '/readyz' })).json().status, 'ready');
    const metrics = await t.parley.http.inject({ url: '/metrics' });
    assert.match(metrics.body, /parley_outbound_queue_size \d+/);
    const openapi = (await t.parley.http.inject({ url: '/v1/openapi.json' })).json();
    assert.equal(openapi.openapi.startsWith('3.'), true);
    for (const path of [
      '/v1/messages',
      '/v1/conversations',
      '/v1/contacts/{id}/eligibility',
      '/v1/connections',
      '/v1/channels',
    ]) {
      assert.ok(openapi.paths[path], `OpenAPI documents ${path}`);
    }
  });

  it('answers eligibility: window open and until when, templates always allowed', async () => {
    await t.world.userWrites(t.channel.providerKey, { from: '447700900555', text: 'Hello' });
    await t.settle();
    const contact = (await t.api('GET', '/v1/contacts?search=447700900555')).json.items[0];
    const e = (await t.api('GET', `/v1/contacts/${contact.id}/eligibility?channel=${t.channel.id}`))
      .json;
    assert.equal(e.window.open, true);
    assert.equal(e.allowed.freeForm, true);
    assert.equal(e.allowed.template, true);
    assert.equal(Date.parse(e.window.closesAt) - Date.parse(e.lastInboundAt), 24 * 3_600_000);
  });
});
