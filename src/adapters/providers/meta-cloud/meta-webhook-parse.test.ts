// Meta-format webhooks → normalised InboundEvents: every shared fixture, and every shape of PROVIDERS.md B.4–B.6.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InboundEvent } from '../../../core/inbound.ts';
import { MetaWebhookFormatError, parseMetaWebhook } from './meta-webhook-parse.ts';
import {
  NEEDS_FIXTURES,
  listFixtures,
  readFixture,
  readFixtureJson,
} from './testing/shared-fixtures.ts';

const RECEIVED_AT = Date.parse('2026-01-15T10:00:00Z');
const parse = (body: Buffer | string): InboundEvent[] =>
  parseMetaWebhook(typeof body === 'string' ? Buffer.from(body) : body, {
    receivedAt: RECEIVED_AT,
  });

type Json = Record<string, unknown>;
/** The `value` of the first change of a fixture, for "kept whole" comparisons. */
function fixtureValue(file: string): Json {
  const doc = readFixtureJson(`meta/${file}`) as {
    entry: Array<{ changes: Array<{ value: Json }> }>;
  };
  const value = doc.entry[0]?.changes[0]?.value;
  assert.ok(value);
  return value;
}

const CONTACT = { profileName: 'Test Name', userId: 'US.13491208655302741918' };
const FROM = '972987654321';
const PNID = '1122334455667';

/** What each shared webhook fixture must become, field by field. */
const EXPECTED: Record<string, () => InboundEvent[]> = {
  'pywa__message__text.json': () => [
    {
      kind: 'message',
      channelKey: PNID,
      providerMessageId: 'wamid.xyzxyz',
      from: FROM,
      ...CONTACT,
      at: 1697043223_000,
      type: 'text',
      content: { body: 'Body Text' },
    },
  ],
  'pywa__message__reply.json': () => [
    {
      kind: 'message',
      channelKey: PNID,
      providerMessageId: 'wamid.xyzxyz',
      from: FROM,
      ...CONTACT,
      at: 1697044746_000,
      type: 'text',
      content: { body: 'replied text' },
      context: { from: '972123456789', id: 'wamid.xyzxyz==' },
    },
  ],
  'pywa__message__referral.json': () => [
    {
      kind: 'message',
      channelKey: PNID,
      providerMessageId: 'wamid.ID',
      from: FROM,
      ...CONTACT,
      at: 1697045000_000,
      type: 'text',
      content: { body: 'BODY' },
      referral: {
        source_url: 'AD_OR_POST_FB_URL',
        source_id: 'ADID',
        source_type: 'ad or post',
        headline: 'AD_TITLE',
        body: 'AD_DESCRIPTION',
        media_type: 'image or video',
        image_url: 'RAW_IMAGE_URL',
        video_url: 'RAW_VIDEO_URL',
        thumbnail_url: 'RAW_THUMBNAIL_URL',
        ctwa_clid: 'CTWA_CLID',
      },
    },
  ],
  'pywa__message__image.json': () => [
    {
      kind: 'message',
      channelKey: PNID,
      providerMessageId: 'wamid.xyzxyz',
      from: FROM,
      ...CONTACT,
      at: 1697043379_000,
      type: 'image',
      content: { mime_type: 'image/jpeg', sha256: '4654+8g=', id: '65463453' },
    },
  ],
  'pywa__message__video.json': () => [
    {
      kind: 'message',
      channelKey: PNID,
      providerMessageId: 'wamid.xyzxyz',
      from: FROM,
      ...CONTACT,
      at: 1697044362_000,
      type: 'video',
      content: {
        caption: 'caption',
        mime_type: 'video/mp4',
        sha256: 'Jh+2ij6PzUv/J2y+grrtegr/ZMzRxkEPwc24Oyib4s03w9Jc=',
        id: '765756756',
      },
      context: { forwarded: true },
    },
  ],
  'pywa__message__audio.json': () => [
    {
      kind: 'message',
      channelKey: PNID,
      providerMessageId: 'wamid.xyzxyz',
      from: FROM,
      ...CONTACT,
      at: 1697043509_000,
      type: 'audio',
      content: {
        mime_type: 'audio/ogg; codecs=opus',
        sha256: 'E3dxS/PdYZE7ppA3pQ4mpCFaXBJ8pX4SRN/dsfvds/iPGA=',
        id: '1234567890987654321',
        voice: false,
      },
      context: { forwarded: true },
    },
  ],
  'pywa__message__document.json': () => [
    {
      kind: 'message',
      channelKey: PNID,
      providerMessageId: 'wamid.xyzxyz',
      from: FROM,
      ...CONTACT,
      at: 1697043666_000,
      type: 'document',
      content: {
        caption: 'caption',
        filename: 'filename.pdf',
        mime_type: 'application/pdf',
        sha256: 'grwfwe/ZPx0wAbdfbdeFUNItPZ0RylL8gGUvdt3YFqc18SY=',
        id: '1234567890987654321',
      },
      context: { forwarded: true },
    },
  ],
  'pywa__message__static_sticker.json': () => [
    {
      kind: 'message',
      channelKey: PNID,
      providerMessageId: 'wamid.xyzxyz',
      from: FROM,
      ...CONTACT,
      at: 1697043760_000,
      type: 'sticker',
      content: {
        mime_type: 'image/webp',
        sha256: 'OmT4nhjUhCMIPNmj7eeOZeCYjTXkLxoOv85OMCFwSuc=',
        id: '1234567890987654321',
        animated: false,
      },
    },
  ],
  'pywa__message__current_location.json': () => [
    {
      kind: 'message',
      channelKey: PNID,
      providerMessageId: 'wamid.xyzxyz',
      from: FROM,
      ...CONTACT,
      at: 1697044557_000,
      type: 'location',
      content: { latitude: 12.25089, longitude: 43.90539 },
      context: { forwarded: true },
    },
  ],
  'pywa__message__contacts.json': () => [
    {
      kind: 'message',
      channelKey: PNID,
      providerMessageId: 'wamid.xyzxyz',
      from: FROM,
      ...CONTACT,
      at: 1697044621_000,
      type: 'contacts',
      content: [
        {
          name: { first_name: 'Chandler', last_name: 'Bing', formatted_name: 'Chandler Bing' },
          phones: [{ phone: '+1 555-555-5555', wa_id: FROM, type: 'CELL' }],
        },
        {
          name: { first_name: 'Monica', formatted_name: 'Monica' },
          phones: [{ phone: '+1 666-666-6666', wa_id: FROM, type: 'HOME' }],
        },
        {
          name: { first_name: 'Rachel', last_name: 'Green', formatted_name: 'Rachel Green' },
          phones: [{ phone: '+1 777-777-7777', wa_id: FROM, type: 'WORK' }],
        },
      ],
    },
  ],
  'pywa__message__reaction.json': () => [
    {
      kind: 'message',
      channelKey: PNID,
      providerMessageId: 'wamid.xyzxyz',
      from: FROM,
      ...CONTACT,
      at: 1697044456_000,
      type: 'reaction',
      content: { message_id: 'wamid.yzxyzx=', emoji: '😮' },
    },
  ],
  'pywa__callback_button__quick_reply.json': () => [
    {
      kind: 'message',
      channelKey: PNID,
      providerMessageId: 'wamid.xsidjw',
      from: FROM,
      ...CONTACT,
      at: 1698269027_000,
      type: 'button',
      content: { payload: 'callback_data', text: 'title' },
      context: { from: '972123456789', id: 'wamid.xyzxyz==' },
    },
  ],
  'pywa__callback_button__button.json': () => [
    {
      kind: 'message',
      channelKey: PNID,
      providerMessageId: 'wamid.xyzxyz',
      from: FROM,
      ...CONTACT,
      at: 1698266730_000,
      type: 'interactive',
      content: { type: 'button_reply', button_reply: { id: 'callback_data', title: 'title' } },
      context: { from: PNID, id: 'wamid.xyzxyz' },
    },
  ],
  'pywa__callback_selection__callback.json': () => [
    {
      kind: 'message',
      channelKey: PNID,
      providerMessageId: 'wamid.zyzxyz',
      from: FROM,
      ...CONTACT,
      at: 1698266905_000,
      type: 'interactive',
      content: { type: 'list_reply', list_reply: { id: 'callback_data', title: 'title' } },
      context: { from: PNID, id: 'wamid.xyzxyz' },
    },
  ],
  'pywa__message_status__sent.json': () => [
    {
      kind: 'status',
      channelKey: PNID,
      providerMessageId: 'wamid.xyzxyz',
      status: 'sent',
      at: 1698266945_000,
      recipient: FROM,
      pricing: { billable: true, pricing_model: 'CBP', category: 'service' },
      conversation: {
        id: '7270432eae37498234f4444b35ffc5',
        expiration_timestamp: '1698339900',
        origin: { type: 'service' },
      },
    },
  ],
  'pywa__message_status__delivered.json': () => [
    {
      kind: 'status',
      channelKey: PNID,
      providerMessageId: 'wamid.xyzxyz',
      status: 'delivered',
      at: 1698266945_000,
      recipient: FROM,
      pricing: { billable: true, pricing_model: 'CBP', category: 'service' },
      conversation: { id: '7270432eae37498234f4444b35ffc5', origin: { type: 'service' } },
    },
  ],
  'pywa__message_status__read.json': () => [
    {
      kind: 'status',
      channelKey: PNID,
      providerMessageId: 'wamid.xyzxyz',
      status: 'read',
      at: 1689380458_000,
      recipient: FROM,
      pricing: { billable: true, pricing_model: 'CBP', category: 'service' },
      conversation: { id: '7270432eae37498234f4444b35ffc5', origin: { type: 'service' } },
    },
  ],
  'pywa__message_status__failed.json': () => [
    {
      kind: 'status',
      channelKey: PNID,
      providerMessageId: 'wamid.xyzxyz',
      status: 'failed',
      at: 1689380458_000,
      recipient: FROM,
      reason: 'experiment',
      errors: [
        {
          code: 130472,
          title: "User's number is part of an experiment",
          message: "User's number is part of an experiment",
          details:
            "Failed to send message because this user's phone number is part of an experiment",
          href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
        },
      ],
    },
  ],
  'pywa__template_status_update__approved.json': () => [
    {
      kind: 'notice',
      channelKey: '102290129340398',
      field: 'message_template_status_update',
      at: 1751247548_000,
      value: fixtureValue('pywa__template_status_update__approved.json'),
    },
  ],
  'pywa__template_status_update__rejected.json': () => [
    {
      kind: 'notice',
      channelKey: '102290129340398',
      field: 'message_template_status_update',
      at: 1751247548_000,
      value: fixtureValue('pywa__template_status_update__rejected.json'),
    },
  ],
  'pywa__user_marketing_preferences__resume.json': () => [
    {
      kind: 'notice',
      channelKey: '106540352242922',
      field: 'user_preferences',
      at: 1731705721_000,
      value: fixtureValue('pywa__user_marketing_preferences__resume.json'),
    },
  ],
};

/** Files in the folder that are not webhook bodies. */
const NOT_WEBHOOKS = new Set([
  'meta_docs__error_response_130429.json',
  'synthetic__get_verification.json',
  'synthetic__x_hub_signature_256_vectors.json',
]);

describe('parseMetaWebhook: the shared fixtures', () => {
  it(
    'PROVIDERS B.4–B.6: knows what every webhook fixture in meta/ must become',
    { skip: NEEDS_FIXTURES },
    () => {
      const webhooks = listFixtures('meta').filter((f) => !NOT_WEBHOOKS.has(f));
      assert.deepEqual(webhooks, Object.keys(EXPECTED).sort());
    },
  );

  for (const [file, expected] of Object.entries(EXPECTED)) {
    it(
      `PROVIDERS B.4–B.6: ${file} parses into its normalised events`,
      { skip: NEEDS_FIXTURES },
      () => {
        assert.deepEqual(parse(readFixture(`meta/${file}`)), expected());
      },
    );
  }

  it(
    'PROVIDERS B.2: the signature vectors’ bodies parse too, \\u escapes decoded',
    { skip: NEEDS_FIXTURES },
    () => {
      const { vectors } = readFixtureJson('meta/synthetic__x_hub_signature_256_vectors.json') as {
        vectors: Array<{ raw_body: string }>;
      };
      const escaped = vectors[1];
      assert.ok(escaped);
      const [event] = parse(escaped.raw_body);
      assert.equal(event?.kind, 'message');
      assert.deepEqual(event.kind === 'message' ? event.content : undefined, {
        body: "J'ai mangé 😀",
      });
      assert.equal(event.kind === 'message' ? event.channelKey : undefined, '123456123');
    },
  );
});

/** A webhook body around one change, as Meta sends it. */
function webhook(field: string, value: unknown, entry: Json = { id: 'WABA1' }): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ ...entry, changes: [{ value, field }] }],
  });
}
const METADATA = { display_phone_number: '15550783881', phone_number_id: '106540352242922' };
function inbound(
  message: Json,
  contacts: unknown[] = [{ profile: { name: 'Ana' }, wa_id: '15551234567' }],
): string {
  return webhook('messages', {
    messaging_product: 'whatsapp',
    metadata: METADATA,
    contacts,
    messages: [{ from: '15551234567', id: 'wamid.IN1', timestamp: '1767225600', ...message }],
  });
}
function only(events: InboundEvent[]): InboundEvent {
  assert.equal(events.length, 1, JSON.stringify(events));
  const [event] = events;
  assert.ok(event);
  return event;
}
function onlyMessage(body: string): Extract<InboundEvent, { kind: 'message' }> {
  const event = only(parse(body));
  assert.ok(event.kind === 'message', `expected a message, got ${event.kind}`);
  return event;
}

describe('parseMetaWebhook: inbound message shapes (PROVIDERS B.4)', () => {
  it('B.4: a voice note keeps audio.voice and an animated sticker keeps sticker.animated', () => {
    const voice = onlyMessage(
      inbound({
        type: 'audio',
        audio: { id: 'm1', mime_type: 'audio/ogg; codecs=opus', sha256: 'x', voice: true },
      }),
    );
    assert.deepEqual(voice.content, {
      id: 'm1',
      mime_type: 'audio/ogg; codecs=opus',
      sha256: 'x',
      voice: true,
    });
    const sticker = onlyMessage(
      inbound({
        type: 'sticker',
        sticker: { id: 'm2', mime_type: 'image/webp', sha256: 'y', animated: true },
      }),
    );
    assert.deepEqual(sticker.content, {
      id: 'm2',
      mime_type: 'image/webp',
      sha256: 'y',
      animated: true,
    });
  });

  it('B.4: a message carries the profile name, wa_id and business-scoped user id of its sender', () => {
    const message = onlyMessage(
      inbound({ type: 'text', text: { body: 'hi' } }, [
        { profile: { name: 'Someone else' }, wa_id: '15550000000' },
        {
          profile: { name: 'Ana', username: 'ana' },
          wa_id: '15551234567',
          user_id: 'US.1',
          parent_user_id: 'US.ENT.1',
        },
      ]),
    );
    assert.equal(message.from, '15551234567');
    assert.equal(message.profileName, 'Ana');
    assert.equal(message.userId, 'US.1');
    assert.equal(message.at, Date.parse('2026-01-01T00:00:00Z'));
    assert.equal(message.channelKey, '106540352242922');
  });

  it('B.3: a sender known only by its business-scoped id still gets an identity', () => {
    const body = webhook('messages', {
      messaging_product: 'whatsapp',
      metadata: METADATA,
      contacts: [{ profile: { name: 'Ana' }, user_id: 'US.9' }],
      messages: [
        {
          from_user_id: 'US.9',
          id: 'wamid.B1',
          timestamp: '1767225600',
          type: 'text',
          text: { body: 'x' },
        },
      ],
    });
    const message = onlyMessage(body);
    assert.equal(message.from, 'US.9');
    assert.equal(message.userId, 'US.9');
    assert.equal(message.profileName, 'Ana');
  });

  it('B.4: an interactive Flow reply (nfm_reply) keeps its response JSON', () => {
    const nfm = {
      type: 'nfm_reply',
      nfm_reply: { name: 'flow', body: 'Sent', response_json: '{"flow_token":"t1","rating":"5"}' },
    };
    const message = onlyMessage(
      inbound({
        type: 'interactive',
        interactive: nfm,
        context: { from: '15550783881', id: 'wamid.FLOW' },
      }),
    );
    assert.equal(message.type, 'interactive');
    assert.deepEqual(message.content, nfm);
    assert.deepEqual(message.context, { from: '15550783881', id: 'wamid.FLOW' });
  });

  it('B.4: a list reply keeps its description', () => {
    const message = onlyMessage(
      inbound({
        type: 'interactive',
        interactive: {
          type: 'list_reply',
          list_reply: { id: 'r1', title: 'Row', description: 'More' },
        },
      }),
    );
    assert.deepEqual(message.content, {
      type: 'list_reply',
      list_reply: { id: 'r1', title: 'Row', description: 'More' },
    });
  });

  it('B.4: a removed reaction (emoji omitted or empty) reads as emoji ""', () => {
    const omitted = onlyMessage(
      inbound({ type: 'reaction', reaction: { message_id: 'wamid.OUT1' } }),
    );
    assert.deepEqual(omitted.content, { message_id: 'wamid.OUT1', emoji: '' });
    const empty = onlyMessage(
      inbound({ type: 'reaction', reaction: { message_id: 'wamid.OUT1', emoji: '' } }),
    );
    assert.deepEqual(empty.content, { message_id: 'wamid.OUT1', emoji: '' });
  });

  it('B.4: an order keeps its catalog, text and product items', () => {
    const order = {
      catalog_id: 'CAT1',
      text: 'Please hurry',
      product_items: [
        { product_retailer_id: 'SKU1', quantity: 2, item_price: 9.99, currency: 'EUR' },
      ],
    };
    const message = onlyMessage(inbound({ type: 'order', order }));
    assert.equal(message.type, 'order');
    assert.deepEqual(message.content, order);
  });

  it('B.4: a user_changed_number system message keeps the old number as sender and the new one in content', () => {
    const system = {
      body: 'User A changed from 15551234567 to 15559876543',
      wa_id: '15559876543',
      type: 'user_changed_number',
    };
    const message = onlyMessage(inbound({ type: 'system', system }, []));
    assert.equal(message.type, 'system');
    assert.equal(message.from, '15551234567');
    assert.equal(message.profileName, undefined);
    assert.deepEqual(message.content, system);
  });

  it('B.4: an unsupported message keeps its errors with code, title, message and details verbatim', () => {
    const message = onlyMessage(
      inbound({
        type: 'unsupported',
        errors: [
          {
            code: 131051,
            title: 'Message type unknown',
            message: 'Message type unknown',
            error_data: { details: 'Message type is currently not supported.' },
          },
        ],
      }),
    );
    assert.equal(message.type, 'unsupported');
    assert.deepEqual(message.content, {});
    assert.deepEqual(message.errors, [
      {
        code: 131051,
        title: 'Message type unknown',
        message: 'Message type unknown',
        details: 'Message type is currently not supported.',
      },
    ]);
  });

  it('B.4: a frequently forwarded message says so in its context', () => {
    const message = onlyMessage(
      inbound({
        type: 'text',
        text: { body: 'chain letter' },
        context: { forwarded: true, frequently_forwarded: true },
      }),
    );
    assert.deepEqual(message.context, { forwarded: true, frequently_forwarded: true });
  });

  it('FEP-1: a Click-to-WhatsApp referral keeps every field, ctwa_clid and newer ones included', () => {
    const referral = {
      source_url: 'https://fb.me/ad',
      source_id: '120200000',
      source_type: 'ad',
      headline: 'Spring sale',
      body: 'Tap to chat',
      media_type: 'video',
      video_url: 'https://video.example/v.mp4',
      thumbnail_url: 'https://img.example/t.jpg',
      ctwa_clid:
        'ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a',
      welcome_message: { text: 'Hi! How can we help?' },
    };
    const message = onlyMessage(inbound({ type: 'text', text: { body: 'Hello' }, referral }));
    assert.deepEqual(message.referral, referral);
  });

  it('B.4: an unknown message type keeps its own object, or every non-envelope field, as content', () => {
    const own = onlyMessage(inbound({ type: 'future_thing', future_thing: { a: 1 } }));
    assert.equal(own.type, 'future_thing');
    assert.deepEqual(own.content, { a: 1 });
    const bare = onlyMessage(inbound({ type: 'request_welcome', extra: 'kept' }));
    assert.deepEqual(bare.content, { extra: 'kept' });
  });

  it('B.4: a message without a usable timestamp takes the receive time', () => {
    const message = onlyMessage(inbound({ type: 'text', text: { body: 'x' }, timestamp: 'soon' }));
    assert.equal(message.at, RECEIVED_AT);
  });
});

describe('parseMetaWebhook: statuses (PROVIDERS B.5)', () => {
  const statusBody = (status: Json): string =>
    webhook('messages', {
      messaging_product: 'whatsapp',
      metadata: METADATA,
      statuses: [
        { id: 'wamid.OUT1', recipient_id: '15551234567', timestamp: '1767225660', ...status },
      ],
    });

  it('STA-1: a played status (voice) is a status event', () => {
    const event = only(parse(statusBody({ status: 'played' })));
    assert.deepEqual(event, {
      kind: 'status',
      channelKey: '106540352242922',
      providerMessageId: 'wamid.OUT1',
      status: 'played',
      at: 1767225660_000,
      recipient: '15551234567',
    });
  });

  it('PMP: a PMP-era sent status keeps pricing.type, the echoed callback data and unknown fields', () => {
    const pricing = {
      billable: true,
      pricing_model: 'PMP',
      type: 'regular',
      category: 'marketing',
      future: 1,
    };
    const event = only(
      parse(statusBody({ status: 'sent', pricing, biz_opaque_callback_data: 'campaign=42' })),
    );
    assert.equal(event.kind, 'status');
    assert.deepEqual(event.kind === 'status' && event.pricing, pricing);
    assert.equal(event.kind === 'status' && event.callbackData, 'campaign=42');
  });

  it('CSW-5: a failed status with 131047 carries window_closed and the error verbatim', () => {
    const error = {
      code: 131047,
      title: 'Re-engagement message',
      message: 'Re-engagement message',
      error_data: {
        details:
          'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
      },
      href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
    };
    const event = only(parse(statusBody({ status: 'failed', errors: [error] })));
    assert.equal(event.kind, 'status');
    if (event.kind !== 'status') return;
    assert.equal(event.reason, 'window_closed');
    assert.deepEqual(event.errors, [
      {
        code: 131047,
        title: 'Re-engagement message',
        message: 'Re-engagement message',
        details: error.error_data.details,
        href: error.href,
      },
    ]);
  });

  it('B.5: a status Parley does not know (e.g. deleted) becomes a statuses notice, never a failure', () => {
    const event = only(parse(statusBody({ status: 'deleted' })));
    assert.deepEqual(event, {
      kind: 'notice',
      channelKey: '106540352242922',
      field: 'statuses',
      at: 1767225660_000,
      value: {
        id: 'wamid.OUT1',
        recipient_id: '15551234567',
        timestamp: '1767225660',
        status: 'deleted',
      },
    });
  });

  it('B.5: messages, statuses and several entries in one delivery come out in order', () => {
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: 'WABA1',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: METADATA,
                messages: [
                  { from: '1', id: 'wamid.A', timestamp: '1', type: 'text', text: { body: 'a' } },
                ],
                statuses: [
                  { id: 'wamid.B', status: 'delivered', timestamp: '2', recipient_id: '1' },
                ],
              },
            },
          ],
        },
        {
          id: 'WABA2',
          changes: [
            {
              field: 'messages',
              value: {
                metadata: { phone_number_id: 'P2' },
                statuses: [{ id: 'wamid.C', status: 'read', timestamp: '3' }],
              },
            },
          ],
        },
      ],
    });
    const events = parse(body);
    assert.deepEqual(
      events.map((e) => [
        e.kind,
        e.channelKey,
        e.kind === 'notice' ? e.field : e.providerMessageId,
      ]),
      [
        ['message', '106540352242922', 'wamid.A'],
        ['status', '106540352242922', 'wamid.B'],
        ['status', 'P2', 'wamid.C'],
      ],
    );
  });
});

describe('parseMetaWebhook: errors and other fields (PROVIDERS A.5, B.6)', () => {
  it('A.5: value-level errors become an errors notice with the whole value', () => {
    const value = {
      messaging_product: 'whatsapp',
      metadata: METADATA,
      errors: [
        {
          code: 131000,
          title: 'Something went wrong',
          message: 'Something went wrong',
          error_data: { details: 'Internal error' },
        },
      ],
    };
    const event = only(parse(webhook('messages', value, { id: 'WABA1', time: 1767225700 })));
    assert.deepEqual(event, {
      kind: 'notice',
      channelKey: '106540352242922',
      field: 'errors',
      at: 1767225700_000,
      value,
    });
  });

  it('B.3: unknown keys in a messages value are kept in a messages notice, never dropped', () => {
    const value = {
      messaging_product: 'whatsapp',
      metadata: METADATA,
      message_echoes: [{ id: 'wamid.E' }],
    };
    const event = only(parse(webhook('messages', value)));
    assert.deepEqual(event, {
      kind: 'notice',
      channelKey: '106540352242922',
      field: 'messages',
      at: RECEIVED_AT,
      value,
    });
  });

  const others: Array<[string, Json]> = [
    [
      'message_template_quality_update',
      {
        previous_quality_score: 'GREEN',
        new_quality_score: 'YELLOW',
        message_template_id: 123,
        message_template_name: 'promo',
        message_template_language: 'en',
      },
    ],
    [
      'template_category_update',
      {
        message_template_id: 123,
        message_template_name: 'promo',
        message_template_language: 'en',
        previous_category: 'UTILITY',
        new_category: 'MARKETING',
      },
    ],
    [
      'phone_number_quality_update',
      {
        display_phone_number: '15550783881',
        event: 'THROUGHPUT_UPGRADE',
        current_limit: 'TIER_10K',
        max_daily_conversations_per_business: 10000,
      },
    ],
    [
      'account_update',
      {
        event: 'VOLUME_BASED_PRICING_TIER_UPDATE',
        volume_tier_info: {
          effective_month: '2026-02',
          pricing_category: 'UTILITY',
          region: 'India',
          tier: '1:2',
          tier_update_time: 1767225600,
        },
      },
    ],
    [
      'business_capability_update',
      { max_daily_conversations_per_business: 2000, max_phone_numbers_per_business: 2 },
    ],
    ['a_field_from_the_future', { anything: ['goes'] }],
  ];
  for (const [field, value] of others) {
    it(`B.6: ${field} becomes a notice keyed by the WABA id, its value kept whole`, () => {
      const event = only(parse(webhook(field, value, { id: '102290129340398', time: 1767225800 })));
      assert.deepEqual(event, {
        kind: 'notice',
        channelKey: '102290129340398',
        field,
        at: 1767225800_000,
        value,
      });
    });
  }

  it('B.6: a notice without any time of its own takes the receive time', () => {
    const event = only(parse(webhook('security', { event: 'PIN_CHANGED' })));
    assert.equal(event.at, RECEIVED_AT);
  });

  it('B.6: a change without a value, or an entry without changes, is not fatal', () => {
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: 'W' }, { id: 'W', changes: [{ field: 'flows' }] }, 'junk'],
    });
    assert.deepEqual(parse(body), [
      { kind: 'notice', channelKey: 'W', field: 'flows', at: RECEIVED_AT },
    ]);
  });
});

describe('parseMetaWebhook: bodies that are not Cloud API webhooks', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['an empty body', '  ', /webhook body is empty/],
    ['truncated JSON', '{"object":"whatsapp_business_account",', /webhook body is not JSON \(/],
    ['a JSON array', '[]', /webhook body is a JSON array; expected an object/],
    ['JSON null', 'null', /webhook body is a JSON null/],
    [
      'another product',
      '{"object":"page","entry":[]}',
      /webhook "object" is "page"; expected "whatsapp_business_account"/,
    ],
    [
      'no object at all',
      '{"entry":[]}',
      /webhook "object" is missing; expected "whatsapp_business_account"/,
    ],
    [
      'entry missing',
      '{"object":"whatsapp_business_account"}',
      /webhook "entry" is missing or not an array/,
    ],
  ];
  for (const [what, body, message] of cases) {
    it(`B.3: throws MetaWebhookFormatError with a precise message for ${what}`, () => {
      assert.throws(
        () => parse(body),
        (error: unknown) => {
          assert.ok(error instanceof MetaWebhookFormatError);
          assert.equal(error.name, 'MetaWebhookFormatError');
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  it('B.3: an envelope with no entries is simply no events', () => {
    assert.deepEqual(parse('{"object":"whatsapp_business_account","entry":[]}'), []);
  });
});
