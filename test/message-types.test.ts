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

  it('LIM-6: extraMedia goes as consecutive messages, one media each, the caption on the first', async () => {
    const sent = await t.api('POST', '/v1/messages', {
      channelId: t.channel.id,
      to: TO,
      type: 'image',
      image: { link: 'https://example.com/front.jpg', caption: 'Both sides' },
      extraMedia: [
        { link: 'https://example.com/back.jpg' },
        { type: 'document', link: 'https://example.com/manual.pdf', filename: 'manual.pdf' },
      ],
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    assert.equal(sent.json.messages.length, 3);
    assert.equal(sent.json.messages[0].id, sent.json.id);
    const ids: string[] = sent.json.messages.map((m: { id: string }) => m.id);
    const outboundOf = () => {
      const outbound = t.world.outbound(t.channel.providerKey);
      return ids.map((id) => outbound.find((o) => o.callbackData === id));
    };
    // LIM-2 paces the pair: each settle lets the next message of the group go.
    for (let i = 0; i < 6 && outboundOf().some((o) => o === undefined); i++) await t.settle(12_000);
    const delivered = outboundOf();
    const order = delivered.map((o) => t.world.outbound(t.channel.providerKey).indexOf(o!));
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      'sent in order',
    );
    assert.deepEqual(
      delivered.map((o: any) => [o?.type, o?.content?.link, o?.content?.caption]),
      [
        ['image', 'https://example.com/front.jpg', 'Both sides'],
        ['image', 'https://example.com/back.jpg', undefined],
        ['document', 'https://example.com/manual.pdf', undefined],
      ],
    );
  });

  it('refuses extraMedia it cannot send with a precise problem, storing nothing', async () => {
    const before = t.world.outbound(t.channel.providerKey).length;
    for (const [body, detail] of [
      [
        {
          type: 'image',
          image: { link: 'https://example.com/a.jpg' },
          extraMedia: [{ type: 'audio', link: 'https://example.com/a.ogg', caption: 'no' }],
        },
        /^extraMedia\[0\]: audio messages take no caption$/,
      ],
      [
        {
          type: 'image',
          image: { link: 'https://example.com/a.jpg' },
          extraMedia: Array.from({ length: 10 }, (_, n) => ({
            link: `https://example.com/${n}.jpg`,
          })),
        },
        /extraMedia/,
      ],
      [
        { type: 'text', text: { body: 'hi' }, extraMedia: [{ link: 'https://example.com/a.jpg' }] },
        /extraMedia/,
      ],
    ] as const) {
      const refused = await t.api('POST', '/v1/messages', {
        channelId: t.channel.id,
        to: TO,
        ...body,
      });
      assert.equal(refused.status, 400, JSON.stringify(refused.json));
      assert.match(refused.json.detail, detail);
    }
    await t.settle(12_000);
    assert.equal(t.world.outbound(t.channel.providerKey).length, before);
  });

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
