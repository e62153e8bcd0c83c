// The Cloud API provider against a fake Graph server, run over three dialects: Meta, 360dialog, generic.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { OutboundContent, TemplateComponentParams } from '../../../core/messages.ts';
import type { ChannelAddress, RawWebhook, SendRequest } from '../../../ports/provider.ts';
import {
  CloudApiRequestError,
  createCloudApiProvider,
  dialog360Settings,
  metaSettings,
  type CloudApiProvider,
  type CloudApiSettings,
} from './meta-cloud-provider.ts';
import { signMetaBody } from './meta-signature.ts';
import { FakeGraphServer, type RecordedRequest } from './testing/fake-graph-server.ts';
import { loadMetaOpenApi } from './testing/meta-openapi-validator.ts';
import { NEEDS_FIXTURES, readFixtureJson } from './testing/shared-fixtures.ts';

const CHANNEL: ChannelAddress = {
  channelId: 'ch_1',
  providerKey: '106540352242922',
  phoneNumber: '15550783881',
  wabaId: '102290129340398',
};
const TO = '15551234567';
const MESSAGES_OPERATION = '/{Version}/{Phone-Number-ID}/messages';

interface Dialect {
  readonly name: string;
  settings(baseUrl: string): CloudApiSettings;
  readonly messagesPath: string;
  /** The auth header as Node lower-cases it, and its exact value. */
  readonly auth: readonly [string, string];
  /** Headers that make a webhook body authentic for this dialect. */
  authentic(body: Buffer): Record<string, string>;
  /** Headers that look right but carry the wrong secret. */
  forged(body: Buffer): Record<string, string>;
  /** How a webhook body is put on the wire (Meta escapes non-ASCII before signing). */
  wire(json: string): Buffer;
}

const DIALECTS: readonly Dialect[] = [
  {
    name: 'Meta',
    settings: (baseUrl) =>
      metaSettings({
        accessToken: 'EAAG-meta-token',
        appSecret: 'meta-app-secret',
        verifyToken: 'meatyhamhock',
        baseUrl,
      }),
    messagesPath: `/v23.0/${CHANNEL.providerKey}/messages`,
    auth: ['authorization', 'Bearer EAAG-meta-token'],
    authentic: (body) => ({
      'x-hub-signature-256': signMetaBody(body.toString('utf8'), 'meta-app-secret').signature,
    }),
    forged: (body) => ({
      'x-hub-signature-256': signMetaBody(body.toString('utf8'), 'not-the-secret').signature,
    }),
    wire: (json) => signMetaBody(json, 'meta-app-secret').body,
  },
  {
    name: '360dialog',
    settings: (baseUrl) =>
      dialog360Settings({ apiKey: 'd360-api-key', webhookSecret: 'hook-secret', baseUrl }),
    messagesPath: '/messages',
    auth: ['d360-api-key', 'd360-api-key'],
    authentic: () => ({ 'x-parley-webhook-secret': 'hook-secret' }),
    forged: () => ({ 'x-parley-webhook-secret': 'hook-secreT' }),
    wire: (json) => Buffer.from(json, 'utf8'),
  },
  {
    name: 'generic Cloud API (X-API-Key, no scheme, no phone number id in paths)',
    settings: (baseUrl) => ({
      kind: 'cloud',
      baseUrl,
      authHeader: 'X-API-Key',
      token: 'generic-key',
      pathStyle: 'none',
      webhookSecretHeader: { name: 'X-Webhook-Token', value: 'generic-secret' },
    }),
    messagesPath: '/messages',
    auth: ['x-api-key', 'generic-key'],
    authentic: () => ({ 'X-Webhook-Token': 'generic-secret' }),
    forged: () => ({ 'X-Webhook-Token': 'generic-secre' }),
    wire: (json) => Buffer.from(json, 'utf8'),
  },
];

interface SendCase {
  readonly name: string;
  readonly request: Omit<SendRequest, 'channel' | 'to'>;
  /** The body the provider must send (all of it). */
  readonly body: Record<string, unknown>;
}

const envelope = (type: string, payload: unknown, extra: Record<string, unknown> = {}) => ({
  messaging_product: 'whatsapp',
  recipient_type: 'individual',
  to: TO,
  type,
  [type]: payload,
  ...extra,
});
const plain = (content: OutboundContent): SendCase['request'] => ({ content });

const CONTACT_CARD = {
  name: { formatted_name: 'John Smith', first_name: 'John', last_name: 'Smith' },
  phones: [{ phone: '+1 (650) 555-1234', type: 'WORK', wa_id: '16505551234' }],
  emails: [{ email: 'john@example.com', type: 'WORK' }],
  addresses: [
    { street: '1 Hacker Way', city: 'Menlo Park', zip: '94025', country_code: 'us', type: 'WORK' },
  ],
  org: { company: 'Example', title: 'Manager' },
  urls: [{ url: 'https://www.example.com', type: 'WORK' }],
  birthday: '1990-08-18',
};
const BUTTONS = {
  type: 'button',
  header: { type: 'text', text: 'Your order' },
  body: { text: 'Shall we ship it today?' },
  footer: { text: 'Reply to choose' },
  action: {
    buttons: [
      { type: 'reply', reply: { id: 'ship_today', title: 'Yes' } },
      { type: 'reply', reply: { id: 'ship_later', title: 'Later' } },
    ],
  },
};
const LIST = {
  type: 'list',
  header: { type: 'text', text: 'Menu' },
  body: { text: 'Pick a slot' },
  footer: { text: 'Times are local' },
  action: {
    button: 'Choose',
    sections: [
      { title: 'Morning', rows: [{ id: 'm9', title: '9:00', description: 'Early bird' }] },
      { title: 'Afternoon', rows: [{ id: 'a14', title: '14:00' }] },
    ],
  },
};

/** A.3: one case per message type (and the envelope options: reply, callback data). */
const MESSAGE_CASES: readonly SendCase[] = [
  {
    name: 'text',
    request: plain({ type: 'text', text: { body: 'Hello from Parley' } }),
    body: envelope('text', { body: 'Hello from Parley' }),
  },
  {
    name: 'text with a link preview',
    request: plain({
      type: 'text',
      text: { body: 'See https://parley.example/x', preview_url: true },
    }),
    body: envelope('text', { body: 'See https://parley.example/x', preview_url: true }),
  },
  {
    name: 'image by media id with a caption',
    request: plain({ type: 'image', image: { id: '1479537139650973', caption: 'Receipt' } }),
    body: envelope('image', { id: '1479537139650973', caption: 'Receipt' }),
  },
  {
    name: 'image by link',
    request: plain({ type: 'image', image: { link: 'https://cdn.example/a.jpg' } }),
    body: envelope('image', { link: 'https://cdn.example/a.jpg' }),
  },
  {
    name: 'video by link with a caption',
    request: plain({
      type: 'video',
      video: { link: 'https://cdn.example/v.mp4', caption: 'Demo' },
    }),
    body: envelope('video', { link: 'https://cdn.example/v.mp4', caption: 'Demo' }),
  },
  {
    name: 'audio by media id',
    request: plain({ type: 'audio', audio: { id: '2222' } }),
    body: envelope('audio', { id: '2222' }),
  },
  {
    name: 'document by link with caption and filename',
    request: plain({
      type: 'document',
      document: {
        link: 'https://cdn.example/inv.pdf',
        caption: 'Invoice',
        filename: 'invoice-42.pdf',
      },
    }),
    body: envelope('document', {
      link: 'https://cdn.example/inv.pdf',
      caption: 'Invoice',
      filename: 'invoice-42.pdf',
    }),
  },
  {
    name: 'sticker by media id',
    request: plain({ type: 'sticker', sticker: { id: '3333' } }),
    body: envelope('sticker', { id: '3333' }),
  },
  {
    name: 'location',
    request: plain({
      type: 'location',
      location: {
        latitude: 37.758056,
        longitude: -122.425332,
        name: 'Meta HQ',
        address: '1 Hacker Way',
      },
    }),
    body: envelope('location', {
      latitude: 37.758056,
      longitude: -122.425332,
      name: 'Meta HQ',
      address: '1 Hacker Way',
    }),
  },
  {
    name: 'contacts',
    request: plain({ type: 'contacts', contacts: [CONTACT_CARD] }),
    body: envelope('contacts', [CONTACT_CARD]),
  },
  {
    name: 'interactive reply buttons',
    request: plain({ type: 'interactive', interactive: BUTTONS }),
    body: envelope('interactive', BUTTONS),
  },
  {
    name: 'interactive list',
    request: plain({ type: 'interactive', interactive: LIST }),
    body: envelope('interactive', LIST),
  },
  {
    name: 'reaction',
    request: plain({ type: 'reaction', reaction: { message_id: 'wamid.IN1', emoji: '👍' } }),
    body: envelope('reaction', { message_id: 'wamid.IN1', emoji: '👍' }),
  },
  {
    name: 'reaction removal (empty emoji)',
    request: plain({ type: 'reaction', reaction: { message_id: 'wamid.IN1', emoji: '' } }),
    body: envelope('reaction', { message_id: 'wamid.IN1', emoji: '' }),
  },
  {
    name: 'reply quoting an inbound message (context.message_id)',
    request: { content: { type: 'text', text: { body: 'Answering you' } }, replyTo: 'wamid.IN1' },
    body: envelope('text', { body: 'Answering you' }, { context: { message_id: 'wamid.IN1' } }),
  },
  {
    name: 'biz_opaque_callback_data',
    request: {
      content: { type: 'text', text: { body: 'Tracked' } },
      callbackData: 'campaign=42;step=1',
    },
    body: envelope('text', { body: 'Tracked' }, { biz_opaque_callback_data: 'campaign=42;step=1' }),
  },
];

const template = (components: TemplateComponentParams[], policy?: string): SendCase['request'] => ({
  content: {
    type: 'template',
    template: {
      name: 'order_update',
      language: policy ? { code: 'en_US', policy } : { code: 'en_US' },
      components,
    },
  },
});
const templateBody = (
  components: unknown[],
  language: Record<string, string> = { code: 'en_US' },
) => envelope('template', { name: 'order_update', language, components });

/** A.3: one case per template parameter kind. */
const TEMPLATE_CASES: readonly SendCase[] = [
  {
    name: 'body text (positional)',
    request: template([
      {
        type: 'body',
        parameters: [
          { type: 'text', text: 'Jane' },
          { type: 'text', text: '42' },
        ],
      },
    ]),
    body: templateBody([
      {
        type: 'body',
        parameters: [
          { type: 'text', text: 'Jane' },
          { type: 'text', text: '42' },
        ],
      },
    ]),
  },
  {
    name: 'named parameters (parameter_name)',
    request: template([
      { type: 'body', parameters: [{ type: 'text', parameter_name: 'first_name', text: 'Jane' }] },
    ]),
    body: templateBody([
      { type: 'body', parameters: [{ type: 'text', parameter_name: 'first_name', text: 'Jane' }] },
    ]),
  },
  {
    name: 'currency',
    request: template([
      {
        type: 'body',
        parameters: [
          {
            type: 'currency',
            currency: { fallback_value: '$10.50', code: 'USD', amount_1000: 10500 },
          },
        ],
      },
    ]),
    body: templateBody([
      {
        type: 'body',
        parameters: [
          {
            type: 'currency',
            currency: { fallback_value: '$10.50', code: 'USD', amount_1000: 10500 },
          },
        ],
      },
    ]),
  },
  {
    name: 'date_time',
    request: template([
      {
        type: 'body',
        parameters: [{ type: 'date_time', date_time: { fallback_value: 'May 1, 2026' } }],
      },
    ]),
    body: templateBody([
      {
        type: 'body',
        parameters: [{ type: 'date_time', date_time: { fallback_value: 'May 1, 2026' } }],
      },
    ]),
  },
  {
    name: 'text header',
    request: template([{ type: 'header', parameters: [{ type: 'text', text: 'Order 42' }] }]),
    body: templateBody([{ type: 'header', parameters: [{ type: 'text', text: 'Order 42' }] }]),
  },
  {
    name: 'image header by link',
    request: template([
      {
        type: 'header',
        parameters: [{ type: 'image', image: { link: 'https://cdn.example/h.jpg' } }],
      },
    ]),
    body: templateBody([
      {
        type: 'header',
        parameters: [{ type: 'image', image: { link: 'https://cdn.example/h.jpg' } }],
      },
    ]),
  },
  {
    name: 'video header by media id',
    request: template([{ type: 'header', parameters: [{ type: 'video', video: { id: '4444' } }] }]),
    body: templateBody([
      { type: 'header', parameters: [{ type: 'video', video: { id: '4444' } }] },
    ]),
  },
  {
    name: 'document header with a filename',
    request: template([
      {
        type: 'header',
        parameters: [
          {
            type: 'document',
            document: { link: 'https://cdn.example/t.pdf', filename: 'ticket.pdf' },
          },
        ],
      },
    ]),
    body: templateBody([
      {
        type: 'header',
        parameters: [
          {
            type: 'document',
            document: { link: 'https://cdn.example/t.pdf', filename: 'ticket.pdf' },
          },
        ],
      },
    ]),
  },
  {
    name: 'location header',
    request: template([
      {
        type: 'header',
        parameters: [
          {
            type: 'location',
            location: {
              latitude: 52.52,
              longitude: 13.405,
              name: 'Store',
              address: 'Alexanderplatz 1',
            },
          },
        ],
      },
    ]),
    body: templateBody([
      {
        type: 'header',
        parameters: [
          {
            type: 'location',
            location: {
              latitude: 52.52,
              longitude: 13.405,
              name: 'Store',
              address: 'Alexanderplatz 1',
            },
          },
        ],
      },
    ]),
  },
  {
    name: 'quick-reply payload (numeric index sent as a string)',
    request: template([
      {
        type: 'button',
        sub_type: 'quick_reply',
        index: 0,
        parameters: [{ type: 'payload', payload: 'CONFIRM_42' }],
      },
    ]),
    body: templateBody([
      {
        type: 'button',
        sub_type: 'quick_reply',
        index: '0',
        parameters: [{ type: 'payload', payload: 'CONFIRM_42' }],
      },
    ]),
  },
  {
    name: 'URL button suffix',
    request: template([
      {
        type: 'button',
        sub_type: 'url',
        index: '1',
        parameters: [{ type: 'text', text: 'order/42' }],
      },
    ]),
    body: templateBody([
      {
        type: 'button',
        sub_type: 'url',
        index: '1',
        parameters: [{ type: 'text', text: 'order/42' }],
      },
    ]),
  },
  {
    name: 'coupon code (copy_code button)',
    request: template([
      {
        type: 'button',
        sub_type: 'copy_code',
        index: '2',
        parameters: [{ type: 'coupon_code', coupon_code: 'SPRING25' }],
      },
    ]),
    body: templateBody([
      {
        type: 'button',
        sub_type: 'copy_code',
        index: '2',
        parameters: [{ type: 'coupon_code', coupon_code: 'SPRING25' }],
      },
    ]),
  },
  {
    name: 'upper-case component types from a definition, and the legacy language policy when asked for',
    request: template(
      [
        { type: 'BODY', parameters: [{ type: 'text', text: 'Jane' }] },
        {
          type: 'BUTTON',
          sub_type: 'QUICK_REPLY',
          index: '0',
          parameters: [{ type: 'payload', payload: 'P' }],
        },
      ],
      'deterministic',
    ),
    body: templateBody(
      [
        { type: 'body', parameters: [{ type: 'text', text: 'Jane' }] },
        {
          type: 'button',
          sub_type: 'quick_reply',
          index: '0',
          parameters: [{ type: 'payload', payload: 'P' }],
        },
      ],
      { code: 'en_US', policy: 'deterministic' },
    ),
  },
];

function assertValidBody(request: RecordedRequest): void {
  const errors = loadMetaOpenApi().validateBody(MESSAGES_OPERATION, 'post', request.json);
  assert.deepEqual(
    errors,
    [],
    `request body breaks Meta's OpenAPI description: ${JSON.stringify(request.json)}`,
  );
}

function webhookRequest(body: Buffer, headers: Record<string, string>): RawWebhook {
  return { method: 'POST', url: 'https://parley.example/webhooks/ch_1', headers, query: {}, body };
}

for (const dialect of DIALECTS) {
  describe(`Cloud API provider — ${dialect.name}`, () => {
    let server: FakeGraphServer;
    let provider: CloudApiProvider;
    before(async () => {
      server = await FakeGraphServer.start();
      provider = createCloudApiProvider(dialect.settings(server.url));
    });
    after(async () => {
      await server.close();
    });
    beforeEach(() => server.reset());

    async function sendAndCheck(c: SendCase): Promise<void> {
      const result = await provider.send({ channel: CHANNEL, to: TO, ...c.request });
      assert.equal(result.ok, true, JSON.stringify(result));
      assert.match(result.ok ? result.providerMessageId : '', /^wamid\.FAKE\d+$/);
      assert.equal(server.requests.length, 1);
      const sent = server.last!;
      assert.equal(sent.method, 'POST');
      assert.equal(sent.path, dialect.messagesPath);
      assert.equal(sent.headers[dialect.auth[0]], dialect.auth[1]);
      assert.match(String(sent.headers['content-type']), /^application\/json/);
      assert.deepEqual(sent.json, c.body);
      assertValidBody(sent);
    }

    for (const c of MESSAGE_CASES) {
      it(
        `A.3: sends ${c.name} as the exact Cloud API body, valid against Meta's OpenAPI`,
        { skip: NEEDS_FIXTURES },
        async () => {
          await sendAndCheck(c);
        },
      );
    }
    for (const c of TEMPLATE_CASES) {
      it(
        `A.3: sends a template with ${c.name}, valid against Meta's OpenAPI`,
        { skip: NEEDS_FIXTURES },
        async () => {
          await sendAndCheck(c);
        },
      );
    }

    it('A.4: reads the provider message id from messages[0].id', async () => {
      server.on('POST', dialect.messagesPath, {
        status: 200,
        body: {
          messaging_product: 'whatsapp',
          contacts: [{ input: TO, wa_id: TO }],
          messages: [{ id: 'wamid.HBgLMTY1MDUw', message_status: 'held_for_quality_assessment' }],
        },
      });
      const result = await provider.send({
        channel: CHANNEL,
        to: TO,
        content: { type: 'text', text: { body: 'x' } },
      });
      assert.deepEqual(result, { ok: true, providerMessageId: 'wamid.HBgLMTY1MDUw' });
    });

    it('A.4: a 200 without messages[0].id is an unknown outcome, not a success', async () => {
      server.on('POST', dialect.messagesPath, {
        status: 200,
        body: { messaging_product: 'whatsapp' },
      });
      const result = await provider.send({
        channel: CHANNEL,
        to: TO,
        content: { type: 'text', text: { body: 'x' } },
      });
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.failure.reason, 'provider_unavailable');
      assert.equal(!result.ok && result.failure.maybeSent, true);
    });

    it('LIM-6: refuses an over-long text before anything is sent', async () => {
      const result = await provider.send({
        channel: CHANNEL,
        to: TO,
        content: { type: 'text', text: { body: 'x'.repeat(4097) } },
      });
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.failure.reason, 'invalid_request');
      assert.match(
        !result.ok ? (result.failure.details ?? '') : '',
        /4097 characters; WhatsApp allows at most 4096/,
      );
      assert.equal(server.requests.length, 0);
    });

    it(
      'A.3: marks an inbound message read with the mark-as-read body',
      { skip: NEEDS_FIXTURES },
      async () => {
        const result = await provider.markRead(CHANNEL, 'wamid.IN1');
        assert.deepEqual(result, { ok: true, providerMessageId: 'wamid.IN1' });
        const sent = server.last!;
        assert.equal(sent.path, dialect.messagesPath);
        assert.equal(sent.headers[dialect.auth[0]], dialect.auth[1]);
        assert.deepEqual(sent.json, {
          messaging_product: 'whatsapp',
          status: 'read',
          message_id: 'wamid.IN1',
        });
        assertValidBody(sent);
      },
    );

    it('A.5: honours Retry-After on a 429, in seconds or as an HTTP date', async () => {
      const now = Date.parse('2026-01-15T10:00:00Z');
      const clocked = createCloudApiProvider(dialect.settings(server.url), { now: () => now });
      server.on('POST', dialect.messagesPath, { status: 429, headers: { 'retry-after': '7' } }, 1);
      const seconds = await clocked.send({
        channel: CHANNEL,
        to: TO,
        content: { type: 'text', text: { body: 'x' } },
      });
      assert.deepEqual(!seconds.ok && seconds.failure, {
        reason: 'throughput',
        details: 'HTTP 429 with no error body',
        httpStatus: 429,
        retryAfterMs: 7000,
      });
      server.on(
        'POST',
        dialect.messagesPath,
        { status: 429, headers: { 'retry-after': 'Thu, 15 Jan 2026 10:01:30 GMT' } },
        1,
      );
      const dated = await clocked.send({
        channel: CHANNEL,
        to: TO,
        content: { type: 'text', text: { body: 'x' } },
      });
      assert.equal(!dated.ok && dated.failure.retryAfterMs, 90_000);
    });

    it('§7: a timeout is provider_unavailable and maybe sent', async () => {
      const impatient = createCloudApiProvider(dialect.settings(server.url), { timeoutMs: 40 });
      server.on('POST', dialect.messagesPath, { status: 200, body: {}, delayMs: 400 });
      const result = await impatient.send({
        channel: CHANNEL,
        to: TO,
        content: { type: 'text', text: { body: 'x' } },
      });
      assert.deepEqual(!result.ok && result.failure, {
        reason: 'provider_unavailable',
        details: `no response from ${dialect.name === 'Meta' ? 'Meta' : dialect.settings('').kind} within 40 ms`,
        maybeSent: true,
      });
    });

    it('§7: a refused connection is provider_unavailable and certainly not sent', async () => {
      const closed = await FakeGraphServer.start();
      const url = closed.url;
      await closed.close();
      const unreachable = createCloudApiProvider(dialect.settings(url));
      const result = await unreachable.send({
        channel: CHANNEL,
        to: TO,
        content: { type: 'text', text: { body: 'x' } },
      });
      assert.equal(!result.ok && result.failure.reason, 'provider_unavailable');
      assert.equal(!result.ok && result.failure.maybeSent, false);
      assert.match(!result.ok ? (result.failure.details ?? '') : '', /ECONNREFUSED/);
    });

    describe('webhook ingress', () => {
      const payload = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: CHANNEL.wabaId,
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: {
                    display_phone_number: CHANNEL.phoneNumber,
                    phone_number_id: CHANNEL.providerKey,
                  },
                  contacts: [{ profile: { name: 'Zoë' }, wa_id: TO }],
                  messages: [
                    {
                      from: TO,
                      id: 'wamid.IN9',
                      timestamp: '1767225600',
                      type: 'text',
                      text: { body: 'Olá, café? 😀' },
                    },
                  ],
                },
              },
            ],
          },
        ],
      });

      it('B.2: accepts an authentic webhook and parses it back to the original text', () => {
        const body = dialect.wire(payload);
        assert.deepEqual(provider.verifyWebhook(webhookRequest(body, dialect.authentic(body))), {
          ok: true,
        });
        const events = provider.parseWebhook(webhookRequest(body, dialect.authentic(body)));
        assert.equal(events.length, 1);
        const [event] = events;
        assert.equal(event?.kind, 'message');
        assert.deepEqual(event?.kind === 'message' && event.content, { body: 'Olá, café? 😀' });
        assert.equal(event?.kind === 'message' && event.profileName, 'Zoë');
        assert.equal(event?.channelKey, CHANNEL.providerKey);
      });

      it('B.2: refuses a webhook without credentials with 401 and says what is missing', () => {
        const body = dialect.wire(payload);
        const result = provider.verifyWebhook(webhookRequest(body, {}));
        assert.equal(result.ok, false);
        assert.equal(!result.ok && result.status, 401);
        assert.match(
          !result.ok ? result.detail : '',
          /^missing (X-Hub-Signature-256|X-Parley-Webhook-Secret|X-Webhook-Token) header/,
        );
      });

      it('B.2: refuses a forged webhook with 401, without echoing any secret', () => {
        const body = dialect.wire(payload);
        const result = provider.verifyWebhook(webhookRequest(body, dialect.forged(body)));
        assert.equal(result.ok, false);
        assert.equal(!result.ok && result.status, 401);
        assert.match(!result.ok ? result.detail : '', /does not match/);
        for (const secret of ['meta-app-secret', 'hook-secret', 'generic-secret'])
          assert.ok(!(!result.ok && result.detail.includes(secret)));
      });
    });
  });
}

describe('Cloud API provider — Meta specifics', () => {
  let server: FakeGraphServer;
  let provider: CloudApiProvider;
  before(async () => {
    server = await FakeGraphServer.start();
    provider = createCloudApiProvider(
      metaSettings({
        accessToken: 'EAAG-meta-token',
        appSecret: 'meta-app-secret',
        verifyToken: 'meatyhamhock',
        baseUrl: server.url,
      }),
      { sleep: async () => {} },
    );
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => server.reset());

  it(
    'B.1: answers the GET verification fixture with its challenge, and refuses a wrong token',
    { skip: NEEDS_FIXTURES },
    () => {
      const fixture = readFixtureJson('meta/synthetic__get_verification.json') as {
        request: string;
        expected_response: { status: number; body: string };
      };
      const url = new URL(fixture.request.replace(/^GET /, ''));
      const query = Object.fromEntries(url.searchParams);
      assert.equal(provider.answerChallenge(query), fixture.expected_response.body);
      assert.equal(
        provider.answerChallenge({ ...query, 'hub.verify_token': 'meatyhamhocks' }),
        null,
      );
      assert.equal(provider.answerChallenge({ ...query, 'hub.verify_token': undefined }), null);
      assert.equal(provider.answerChallenge({ ...query, 'hub.mode': 'unsubscribe' }), null);
      assert.equal(provider.answerChallenge({ ...query, 'hub.challenge': undefined }), null);
    },
  );

  it('B.1: a connection without a verify token never answers the handshake', () => {
    const d360 = createCloudApiProvider(dialog360Settings({ apiKey: 'k', webhookSecret: 's' }));
    assert.equal(
      d360.answerChallenge({
        'hub.mode': 'subscribe',
        'hub.challenge': '1',
        'hub.verify_token': '',
      }),
      null,
    );
  });

  it('B.2: refuses a malformed signature header and a body changed after signing', () => {
    const { body, signature } = signMetaBody(
      '{"object":"whatsapp_business_account","entry":[]}',
      'meta-app-secret',
    );
    const malformed = provider.verifyWebhook(
      webhookRequest(body, { 'X-Hub-Signature-256': 'sha1=abc' }),
    );
    assert.deepEqual(malformed, {
      ok: false,
      status: 401,
      detail: 'malformed X-Hub-Signature-256 header: expected "sha256=" and 64 hex digits',
    });
    const changed = Buffer.from(body.toString('utf8').replace('[]', '[ ]'));
    const result = provider.verifyWebhook(
      webhookRequest(changed, { 'X-Hub-Signature-256': signature }),
    );
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.detail : '', /does not match the body/);
  });

  it('B.2: a connection with neither app secret nor secret header trusts no webhook', () => {
    const bare = createCloudApiProvider({
      kind: 'cloud',
      baseUrl: server.url,
      authHeader: 'Authorization',
      authScheme: 'Bearer',
      token: 't',
      pathStyle: 'phone-number-id',
      apiVersion: 'v23.0',
    });
    const result = bare.verifyWebhook(webhookRequest(Buffer.from('{}'), {}));
    assert.equal(result.ok, false);
    assert.match(
      !result.ok ? result.detail : '',
      /no app secret or webhook secret header is configured/,
    );
  });

  it('C: lists templates across Graph pages (cursors), keeping ids and parameter format', async () => {
    const path = `/v23.0/${CHANNEL.wabaId}/message_templates`;
    server.on('GET', path, (req) =>
      req.query.after === 'CURSOR2'
        ? {
            body: {
              data: [
                {
                  id: '2',
                  name: 'promo',
                  language: 'de',
                  category: 'MARKETING',
                  status: 'PAUSED',
                  components: [],
                },
              ],
              paging: { cursors: { before: 'B', after: 'CURSOR3' } },
            },
          }
        : {
            body: {
              data: [
                {
                  id: '1',
                  name: 'order_update',
                  language: 'en_US',
                  category: 'UTILITY',
                  status: 'APPROVED',
                  parameter_format: 'NAMED',
                  components: [{ type: 'BODY', text: 'Hi {{first_name}}' }],
                },
              ],
              paging: {
                cursors: { before: 'A', after: 'CURSOR2' },
                next: 'https://graph.facebook.com/v23.0/…&after=CURSOR2',
              },
            },
          },
    );
    const templates = await provider.listTemplates(CHANNEL);
    assert.deepEqual(templates, [
      {
        providerTemplateId: '1',
        name: 'order_update',
        language: 'en_US',
        category: 'UTILITY',
        status: 'APPROVED',
        parameterFormat: 'NAMED',
        components: [{ type: 'BODY', text: 'Hi {{first_name}}' }],
      },
      {
        providerTemplateId: '2',
        name: 'promo',
        language: 'de',
        category: 'MARKETING',
        status: 'PAUSED',
        components: [],
      },
    ]);
    assert.deepEqual(
      server.requests.map((r) => r.query),
      [{ limit: '100' }, { limit: '100', after: 'CURSOR2' }],
    );
    assert.equal(server.requests[0]?.headers.authorization, 'Bearer EAAG-meta-token');
  });

  it(
    'C: creates a template with a body valid against Meta’s OpenAPI, and deletes one language by hsm_id',
    { skip: NEEDS_FIXTURES },
    async () => {
      const path = `/v23.0/${CHANNEL.wabaId}/message_templates`;
      server.on('POST', path, {
        body: { id: '594425479261596', status: 'PENDING', category: 'UTILITY' },
      });
      server.on('DELETE', path, { body: { success: true } });
      const definition = {
        name: 'order_update',
        language: 'en_US',
        category: 'UTILITY',
        parameter_format: 'NAMED' as const,
        components: [
          {
            type: 'BODY',
            text: 'Hi {{first_name}}, order {{order_id}} ships today.',
            example: {
              body_text_named_params: [
                { param_name: 'first_name', example: 'Jane' },
                { param_name: 'order_id', example: '42' },
              ],
            },
          },
        ],
      };
      assert.deepEqual(await provider.createTemplate(CHANNEL, definition), {
        id: '594425479261596',
        status: 'PENDING',
        category: 'UTILITY',
      });
      const created = server.requests[0]!;
      assert.deepEqual(created.json, definition);
      const api = loadMetaOpenApi();
      const operation = api.operationFor('POST', created.path);
      assert.equal(operation, '/{Version}/{WABA-ID}/message_templates');
      assert.deepEqual(api.validateBody(operation, 'post', created.json), []);
      await provider.deleteTemplate(CHANNEL, { name: 'order_update', hsmId: '594425479261596' });
      const deleted = server.requests[1]!;
      assert.equal(deleted.method, 'DELETE');
      assert.equal(
        api.operationFor('DELETE', deleted.path),
        '/{Version}/{WABA-ID}/message_templates',
      );
      assert.deepEqual(deleted.query, { name: 'order_update', hsm_id: '594425479261596' });
    },
  );

  it('TPL-9: an edit posts the new content to the template id, without name or language, and the template goes back to review', async () => {
    server.on('POST', '/v23.0/594425479261596', { body: { success: true } });
    assert.equal(typeof provider.editTemplate, 'function', 'the Cloud API edits templates');
    const answer = await provider.editTemplate!(CHANNEL, '594425479261596', {
      name: 'order_update',
      language: 'en_US',
      category: 'UTILITY',
      components: [
        { type: 'BODY', text: 'Your order {{1}} ships today.', example: { body_text: [['42']] } },
      ],
    });
    assert.deepEqual(answer, { status: 'PENDING' });
    const request = server.requests[0]!;
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/v23.0/594425479261596');
    assert.deepEqual(request.json, {
      category: 'UTILITY',
      components: [
        { type: 'BODY', text: 'Your order {{1}} ships today.', example: { body_text: [['42']] } },
      ],
    });
  });

  it('TPL-9: an edit Meta does not confirm is an error, not a silent success', async () => {
    server.on('POST', '/v23.0/594425479261596', { body: { success: false } });
    await assert.rejects(
      provider.editTemplate!(CHANNEL, '594425479261596', {
        name: 'order_update',
        language: 'en_US',
        category: 'UTILITY',
        components: [{ type: 'BODY', text: 'Hi' }],
      }),
      /did not confirm the edit of order_update/,
    );
  });

  it('C: template calls without a WABA id fail with a precise error, before any request', async () => {
    await assert.rejects(
      provider.listTemplates({ ...CHANNEL, wabaId: undefined }),
      (e: unknown) => {
        assert.ok(e instanceof CloudApiRequestError);
        assert.match(e.message, /channel ch_1 has no WhatsApp Business Account id/);
        return true;
      },
    );
    assert.equal(server.requests.length, 0);
  });

  it('C: a failed management call throws CloudApiRequestError with Meta’s code and details', async () => {
    server.on('POST', `/v23.0/${CHANNEL.wabaId}/message_templates`, {
      status: 400,
      body: {
        error: {
          message: '(#2388019) Message template limit exceeded',
          type: 'OAuthException',
          code: 2388019,
          error_data: {
            details: 'A WhatsApp Business account can have up to 250 message templates',
          },
          fbtrace_id: 'X',
        },
      },
    });
    await assert.rejects(
      provider.createTemplate(CHANNEL, {
        name: 'x',
        language: 'en',
        category: 'UTILITY',
        components: [],
      }),
      (e: unknown) => {
        assert.ok(e instanceof CloudApiRequestError);
        assert.equal(e.failure.providerCode, '2388019');
        assert.equal(e.failure.title, 'Message template limit exceeded');
        assert.equal(
          e.failure.details,
          'A WhatsApp Business account can have up to 250 message templates',
        );
        assert.ok(!e.message.includes('EAAG-meta-token'));
        return true;
      },
    );
  });

  it('A.1: downloads media: looks up the URL, fetches the bytes with auth, checks sha256, retries a 5xx', async () => {
    const bytes = Buffer.from('fake jpeg bytes');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    server.on('GET', '/v23.0/MEDIA1', {
      body: {
        messaging_product: 'whatsapp',
        url: `${server.url}/whatsapp_business/attachments/?mid=MEDIA1`,
        mime_type: 'image/jpeg',
        sha256,
        file_size: bytes.length,
        id: 'MEDIA1',
      },
    });
    server.on('GET', '/whatsapp_business/attachments/', {
      status: 200,
      headers: { 'content-type': 'image/jpeg' },
      body: bytes,
    });
    server.on(
      'GET',
      '/whatsapp_business/attachments/',
      { status: 503, body: 'Service Unavailable' },
      1,
    );
    const media = await provider.downloadMedia('MEDIA1');
    assert.deepEqual(media, { bytes, mimeType: 'image/jpeg', sha256, fileSize: bytes.length });
    assert.deepEqual(
      server.requests.map((r) => `${r.method} ${r.path}`),
      [
        'GET /v23.0/MEDIA1',
        'GET /whatsapp_business/attachments/',
        'GET /v23.0/MEDIA1',
        'GET /whatsapp_business/attachments/',
      ],
    );
    assert.ok(server.requests.every((r) => r.headers.authorization === 'Bearer EAAG-meta-token'));
  });

  it('A.1: refuses to send credentials to a plain-http media URL on another host', async () => {
    server.on('GET', '/v23.0/MEDIA2', {
      body: { url: 'http://attacker.example/steal', mime_type: 'image/jpeg', id: 'MEDIA2' },
    });
    await assert.rejects(provider.downloadMedia('MEDIA2'), (e: unknown) => {
      assert.ok(e instanceof CloudApiRequestError);
      assert.equal(e.failure.reason, 'media');
      return true;
    });
  });

  it('A.1: retries a download whose bytes do not match the announced sha256, then gives up', async () => {
    const announced = createHash('sha256').update('the real bytes').digest('hex');
    server.on('GET', '/v23.0/MEDIA4', {
      body: {
        url: `${server.url}/corrupt`,
        mime_type: 'image/png',
        sha256: announced,
        id: 'MEDIA4',
      },
    });
    server.on('GET', '/corrupt', { body: Buffer.from('truncated') });
    await assert.rejects(provider.downloadMedia('MEDIA4'), (e: unknown) => {
      assert.ok(e instanceof CloudApiRequestError);
      assert.equal(e.failure.reason, 'media');
      assert.match(e.message, /does not match its sha256/);
      return true;
    });
    assert.equal(server.requests.filter((r) => r.path === '/corrupt').length, 3);
  });

  it('A.1: gives up on media after three failed attempts', async () => {
    server.on('GET', '/v23.0/MEDIA3', {
      status: 500,
      body: { error: { message: '(#131000) Something went wrong', code: 131000 } },
    });
    await assert.rejects(
      provider.downloadMedia('MEDIA3'),
      (e: unknown) =>
        e instanceof CloudApiRequestError && e.failure.reason === 'provider_unavailable',
    );
    assert.equal(server.requests.length, 3);
  });

  describe('checkConnection', () => {
    const healthy = (s: FakeGraphServer): void => {
      s.on('GET', '/v23.0/debug_token', {
        body: {
          data: {
            app_id: '7001',
            type: 'SYSTEM_USER',
            application: 'Parley',
            expires_at: 0,
            is_valid: true,
            scopes: ['whatsapp_business_messaging', 'whatsapp_business_management'],
          },
        },
      });
      s.on('GET', `/v23.0/${CHANNEL.wabaId}/subscribed_apps`, {
        body: {
          data: [
            {
              whatsapp_business_api_data: {
                id: '7001',
                name: 'Parley',
                link: 'https://www.facebook.com/games/?app_id=7001',
              },
            },
          ],
        },
      });
      s.on('GET', `/v23.0/${CHANNEL.providerKey}`, {
        body: {
          id: CHANNEL.providerKey,
          display_phone_number: '+1 555-078-3881',
          verified_name: 'Parley',
          status: 'CONNECTED',
          platform_type: 'CLOUD_API',
          quality_rating: 'GREEN',
          whatsapp_business_manager_messaging_limit: 'TIER_2K',
        },
      });
    };

    it('reports a healthy connection check by check', async () => {
      healthy(server);
      const checks = await provider.checkConnection(CHANNEL);
      assert.deepEqual(
        checks.map((c) => [c.check, c.ok]),
        [
          ['token', true],
          ['token-permissions', true],
          ['webhook-subscription', true],
          ['phone-number-registration', true],
          ['quality-rating', true],
          ['messaging-limit', true],
        ],
      );
      assert.match(checks[2]!.detail, /app Parley is subscribed to WABA 102290129340398/);
      assert.match(checks[5]!.detail, /TIER_2K/);
      const debug = server.requests.find((r) => r.path === '/v23.0/debug_token');
      assert.equal(debug?.query.input_token, 'EAAG-meta-token');
      const phone = server.requests.find((r) => r.path === `/v23.0/${CHANNEL.providerKey}`);
      assert.match(phone?.query.fields ?? '', /quality_rating/);
      assert.match(phone?.query.fields ?? '', /platform_type/);
    });

    it('says exactly what to fix: missing permission, no subscription, unregistered number, RED quality', async () => {
      healthy(server);
      server.on('GET', '/v23.0/debug_token', {
        body: {
          data: {
            app_id: '7001',
            type: 'USER',
            expires_at: 1768478400,
            is_valid: true,
            scopes: ['whatsapp_business_messaging'],
          },
        },
      });
      server.on('GET', `/v23.0/${CHANNEL.wabaId}/subscribed_apps`, { body: { data: [] } });
      server.on('GET', `/v23.0/${CHANNEL.providerKey}`, {
        body: {
          id: CHANNEL.providerKey,
          display_phone_number: '+1 555-078-3881',
          status: 'PENDING',
          platform_type: 'NOT_APPLICABLE',
          quality_rating: 'RED',
        },
      });
      const checks = Object.fromEntries(
        (await provider.checkConnection(CHANNEL)).map((c) => [c.check, c]),
      );
      assert.equal(checks.token?.ok, true);
      assert.match(checks.token?.detail ?? '', /expires on 2026-01-15T12:00:00.000Z/);
      assert.match(checks.token?.fix ?? '', /never expires/);
      assert.equal(checks['token-permissions']?.ok, false);
      assert.match(checks['token-permissions']?.detail ?? '', /lacks whatsapp_business_management/);
      assert.equal(checks['webhook-subscription']?.ok, false);
      assert.match(
        checks['webhook-subscription']?.detail ?? '',
        /no app is subscribed to WABA 102290129340398: no webhooks will arrive/,
      );
      assert.match(
        checks['webhook-subscription']?.fix ?? '',
        /POST .*\/v23.0\/102290129340398\/subscribed_apps/,
      );
      assert.equal(checks['phone-number-registration']?.ok, false);
      assert.match(
        checks['phone-number-registration']?.detail ?? '',
        /not registered on the Cloud API \(platform_type NOT_APPLICABLE\)/,
      );
      assert.match(checks['phone-number-registration']?.fix ?? '', /\/register/);
      assert.equal(checks['quality-rating']?.ok, false);
      assert.match(checks['quality-rating']?.fix ?? '', /Pause marketing campaigns/);
    });

    it('reports an invalid or expired token (190) with how to replace it', async () => {
      server.on('GET', '/v23.0/debug_token', {
        status: 401,
        body: {
          error: {
            message: 'Error validating access token: Session has expired',
            type: 'OAuthException',
            code: 190,
            error_subcode: 463,
          },
        },
      });
      const checks = await provider.checkConnection();
      assert.equal(checks.length, 1);
      assert.equal(checks[0]?.check, 'token');
      assert.equal(checks[0]?.ok, false);
      assert.match(
        checks[0]?.detail ?? '',
        /code 190: Error validating access token: Session has expired/,
      );
      assert.match(checks[0]?.fix ?? '', /system-user token/);
      assert.ok(!JSON.stringify(checks).includes('EAAG-meta-token'));
    });

    it('retries the phone number read with basic fields when a newer field is refused (#100)', async () => {
      healthy(server);
      server.on('GET', `/v23.0/${CHANNEL.providerKey}`, (req) =>
        (req.query.fields ?? '').includes('whatsapp_business_manager_messaging_limit')
          ? {
              status: 400,
              body: {
                error: {
                  message:
                    '(#100) Tried accessing nonexisting field (whatsapp_business_manager_messaging_limit)',
                  code: 100,
                },
              },
            }
          : {
              body: {
                id: CHANNEL.providerKey,
                status: 'CONNECTED',
                platform_type: 'CLOUD_API',
                quality_rating: 'YELLOW',
                messaging_limit_tier: 'TIER_1K',
              },
            },
      );
      const checks = Object.fromEntries(
        (await provider.checkConnection(CHANNEL)).map((c) => [c.check, c]),
      );
      assert.equal(checks['phone-number-registration']?.ok, true);
      assert.equal(checks['quality-rating']?.ok, true);
      assert.match(checks['quality-rating']?.fix ?? '', /Reduce marketing volume/);
      assert.match(checks['messaging-limit']?.detail ?? '', /TIER_1K/);
    });
  });
});

describe('Cloud API provider — 360dialog specifics', () => {
  let server: FakeGraphServer;
  let provider: CloudApiProvider;
  const settings = (url: string) =>
    dialog360Settings({ apiKey: 'd360-api-key', webhookSecret: 'hook-secret', baseUrl: url });
  before(async () => {
    server = await FakeGraphServer.start();
    provider = createCloudApiProvider(settings(server.url), { sleep: async () => {} });
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => server.reset());

  it('G: registers the webhook with the secret header Parley requires on ingress', async () => {
    server.on('POST', '/v1/configs/webhook', {
      body: { url: 'https://parley.example/webhooks/ch_1' },
    });
    await provider.registerDialog360Webhook('https://parley.example/webhooks/ch_1');
    const sent = server.last!;
    assert.equal(sent.headers['d360-api-key'], 'd360-api-key');
    assert.deepEqual(sent.json, {
      url: 'https://parley.example/webhooks/ch_1',
      headers: { 'X-Parley-Webhook-Secret': 'hook-secret' },
    });
    await provider.registerDialog360Webhook('https://parley.example/other', { 'X-Other': 'v' });
    assert.deepEqual(server.last!.json, {
      url: 'https://parley.example/other',
      headers: { 'X-Other': 'v' },
    });
  });

  it('G: lists, creates and deletes templates under /v1/configs/templates', async () => {
    server.on('GET', '/v1/configs/templates', (req) =>
      req.query.offset === '0'
        ? {
            body: {
              count: 1,
              total: 1,
              offset: 0,
              limit: 1000,
              waba_templates: [
                {
                  id: 'T1',
                  name: 'welcome',
                  language: 'en',
                  category: 'MARKETING',
                  status: 'approved',
                  components: [{ type: 'BODY', text: 'Hi' }],
                },
              ],
            },
          }
        : { body: { count: 0, total: 1, waba_templates: [] } },
    );
    server.on('POST', '/v1/configs/templates', {
      status: 201,
      body: { id: 'T2', status: 'PENDING', category: 'MARKETING' },
    });
    server.on('DELETE', '/v1/configs/templates/welcome', { body: { success: true } });
    assert.deepEqual(await provider.listTemplates({ ...CHANNEL, wabaId: undefined }), [
      {
        providerTemplateId: 'T1',
        name: 'welcome',
        language: 'en',
        category: 'MARKETING',
        status: 'approved',
        components: [{ type: 'BODY', text: 'Hi' }],
      },
    ]);
    assert.deepEqual(
      await provider.createTemplate(CHANNEL, {
        name: 'welcome',
        language: 'en',
        category: 'MARKETING',
        components: [{ type: 'BODY', text: 'Hi' }],
      }),
      { id: 'T2', status: 'PENDING', category: 'MARKETING' },
    );
    await provider.deleteTemplate(CHANNEL, { name: 'welcome' });
    assert.deepEqual(
      server.requests.map((r) => `${r.method} ${r.path}`),
      [
        'GET /v1/configs/templates',
        'POST /v1/configs/templates',
        'DELETE /v1/configs/templates/welcome',
      ],
    );
    assert.ok(server.requests.every((r) => r.headers['d360-api-key'] === 'd360-api-key'));
  });

  it('G: downloads media through its own host (the lookaside URL is rewritten)', async () => {
    server.on('GET', '/MEDIA1', {
      body: {
        url: 'https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=MEDIA1&ext=1',
        mime_type: 'audio/ogg',
        id: 'MEDIA1',
      },
    });
    server.on('GET', '/whatsapp_business/attachments/', { body: Buffer.from('ogg') });
    const media = await provider.downloadMedia('MEDIA1');
    assert.equal(media.bytes.toString(), 'ogg');
    assert.equal(media.mimeType, 'audio/ogg');
    assert.deepEqual(server.last!.query, { mid: 'MEDIA1', ext: '1' });
    assert.equal(server.last!.headers['d360-api-key'], 'd360-api-key');
  });

  it('G: maps 360dialog’s own error envelope', async () => {
    server.on('POST', '/messages', {
      status: 401,
      body: {
        meta: {
          api_status: 'stable',
          version: '2.0',
          httpCode: 401,
          developerMessage: 'Invalid api_key',
          success: false,
        },
      },
    });
    const result = await provider.send({
      channel: CHANNEL,
      to: TO,
      content: { type: 'text', text: { body: 'x' } },
    });
    assert.deepEqual(!result.ok && result.failure, {
      reason: 'auth',
      providerCode: '401',
      details: 'Invalid api_key',
      httpStatus: 401,
    });
  });

  it('checkConnection: checks the key and that the webhook carries the secret header', async () => {
    server.on('GET', '/v1/configs/webhook', {
      body: { url: 'https://parley.example/webhooks/ch_1' },
    });
    const missingHeader = await provider.checkConnection();
    assert.deepEqual(
      missingHeader.map((c) => [c.check, c.ok]),
      [
        ['token', true],
        ['webhook-config', false],
      ],
    );
    assert.match(missingHeader[1]!.detail, /registered without the X-Parley-Webhook-Secret header/);
    assert.match(missingHeader[1]!.fix ?? '', /POST \/v1\/configs\/webhook/);
    server.on('GET', '/v1/configs/webhook', {
      body: {
        url: 'https://parley.example/webhooks/ch_1',
        headers: { 'X-Parley-Webhook-Secret': 'hook-secret' },
      },
    });
    assert.deepEqual(
      (await provider.checkConnection()).map((c) => c.ok),
      [true, true],
    );
    server.on('GET', '/v1/configs/webhook', {
      status: 401,
      body: { meta: { httpCode: 401, developerMessage: 'Invalid api_key', success: false } },
    });
    const refused = await provider.checkConnection();
    assert.deepEqual(
      refused.map((c) => [c.check, c.ok]),
      [['token', false]],
    );
    assert.match(refused[0]!.detail, /refused the API key \(code 401: Invalid api_key\)/);
  });

  it('a generic provider with no known check endpoint reports no checks rather than guesses', async () => {
    const generic = createCloudApiProvider({
      kind: 'cloud',
      baseUrl: server.url,
      authHeader: 'X-API-Key',
      token: 'k',
      pathStyle: 'none',
    });
    assert.deepEqual(await generic.checkConnection(CHANNEL), []);
    assert.equal(server.requests.length, 0);
  });
});
