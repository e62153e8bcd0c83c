// The Twilio provider against a local fake Twilio: the official twilio client and Parley's own
// sender must produce the same requests; errors, templates, webhooks and media behave as Twilio's.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import type { OutboundContent } from '../../../core/messages.ts';
import type { InboundMessage } from '../../../core/inbound.ts';
import type { RawWebhook, SendResult } from '../../../ports/provider.ts';
import {
  FakeTwilioServer,
  twilioError,
  type RecordedTwilioRequest,
} from './testing/fake-twilio-server.ts';
import {
  createTwilioProvider,
  type TwilioProvider,
  type TwilioSettings,
} from './twilio-provider.ts';

const ACCOUNT = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'auth_token_for_tests_0123456789ab';
const CHANNEL = {
  channelId: 'ch_1',
  providerKey: 'whatsapp:+15559870000',
  phoneNumber: '15559870000',
};
const USER = '447700900123';
const STATUS_URL = 'https://parley.example.com/webhooks/twilio/conn_1/status';
const HX_ORDER = 'HX0123456789abcdef0123456789abcdef';
const HX_PROMO = 'HXfedcba9876543210fedcba9876543210';

/** A loopback port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** What makes two requests the same for Twilio: method, path, credentials, content type, fields. */
function shape(r: RecordedTwilioRequest) {
  const form = [...r.form]
    .map(([k, v]) => [k, [...v]] as const)
    .sort(([a], [b]) => a.localeCompare(b));
  return {
    method: r.method,
    path: r.path,
    authorization: r.headers.authorization,
    contentType: String(r.headers['content-type']).split(';')[0],
    accept: r.headers.accept,
    form,
  };
}

function contentRecord(sid: string, name: string, language: string, status: string, body: string) {
  return {
    sid,
    account_sid: ACCOUNT,
    friendly_name: `${name}_friendly`,
    language,
    variables: { '1': 'name' },
    types: { 'twilio/text': { body } },
    approval_requests: {
      name,
      category: 'UTILITY',
      content_type: 'twilio/text',
      status,
      rejection_reason: '',
      allow_category_change: true,
    },
    date_created: '2026-01-01T00:00:00Z',
    date_updated: '2026-01-01T00:00:00Z',
  };
}

describe('Twilio provider', () => {
  let fake: FakeTwilioServer;
  let provider: TwilioProvider;
  const make = (overrides: Partial<TwilioSettings> = {}, deps = {}) =>
    createTwilioProvider(
      {
        accountSid: ACCOUNT,
        authToken: TOKEN,
        baseUrl: fake.url,
        contentBaseUrl: fake.url,
        statusCallbackUrl: STATUS_URL,
        ...overrides,
      },
      { now: () => Date.parse('2026-03-02T09:00:00Z'), ...deps },
    );

  before(async () => {
    fake = await FakeTwilioServer.start({ accountSid: ACCOUNT, authToken: TOKEN });
  });
  after(async () => fake.close());
  beforeEach(() => {
    fake.requests.length = 0;
    fake.contents = [
      contentRecord(HX_ORDER, 'order_update', 'en', 'approved', 'Hi {{1}}, your order shipped.'),
      contentRecord(HX_PROMO, 'spring_sale', 'en', 'rejected', 'Spring sale, {{1}}!'),
    ];
    provider = make();
  });

  /** Sends the same message through the official client and through Parley; returns both requests. */
  async function bothWays(
    official: Parameters<ReturnType<typeof twilio>['messages']['create']>[0],
    content: OutboundContent,
    options: { messagingServiceSid?: string; callbackData?: string } = {},
  ) {
    const client = twilio(ACCOUNT, TOKEN);
    client.api.baseUrl = fake.url;
    const created = await client.messages.create(official);
    assert.match(created.sid, /^SM[0-9a-f]{32}$/);
    const fromClient = fake.last!;
    const sender = make(
      options.messagingServiceSid ? { messagingServiceSid: options.messagingServiceSid } : {},
    );
    const result = await sender.send({
      channel: CHANNEL,
      to: USER,
      content,
      ...(options.callbackData ? { callbackData: options.callbackData } : {}),
    });
    assert.equal(result.ok, true, JSON.stringify(result));
    const fromParley = fake.last!;
    return { fromClient: shape(fromClient), fromParley: shape(fromParley) };
  }

  it('sends free-form text exactly as the official twilio client does (Body, StatusCallback, MessagingServiceSid)', async () => {
    const { fromClient, fromParley } = await bothWays(
      {
        to: `whatsapp:+${USER}`,
        from: 'whatsapp:+15559870000',
        messagingServiceSid: 'MG0123456789abcdef0123456789abcdef',
        body: 'It ships today — 🚚 at 10:00 & “soon”.',
        statusCallback: `${STATUS_URL}?ref=msg_01`,
      },
      { type: 'text', text: { body: 'It ships today — 🚚 at 10:00 & “soon”.' } },
      { messagingServiceSid: 'MG0123456789abcdef0123456789abcdef', callbackData: 'msg_01' },
    );
    assert.deepEqual(fromParley, fromClient);
    assert.equal(fromParley.path, `/2010-04-01/Accounts/${ACCOUNT}/Messages.json`);
    assert.equal(fromParley.contentType, 'application/x-www-form-urlencoded');
  });

  it('sends media by MediaUrl with its caption exactly as the official client does', async () => {
    const { fromClient, fromParley } = await bothWays(
      {
        to: `whatsapp:+${USER}`,
        from: 'whatsapp:+15559870000',
        body: 'Your part',
        mediaUrl: ['https://cdn.example.com/part.jpg'],
        statusCallback: STATUS_URL,
      },
      {
        type: 'image',
        image: { link: 'https://cdn.example.com/part.jpg', caption: 'Your part' },
      },
    );
    assert.deepEqual(fromParley, fromClient);
  });

  it('sends a document without its caption and filename (Twilio carries neither for WhatsApp documents), as the official client sends a bare MediaUrl', async () => {
    const { fromClient, fromParley } = await bothWays(
      {
        to: `whatsapp:+${USER}`,
        from: 'whatsapp:+15559870000',
        mediaUrl: ['https://cdn.example.com/invoice.pdf'],
        statusCallback: STATUS_URL,
      },
      {
        type: 'document',
        document: {
          link: 'https://cdn.example.com/invoice.pdf',
          caption: 'Your invoice',
          filename: 'invoice-1042.pdf',
        },
      },
    );
    assert.deepEqual(fromParley, fromClient);
  });

  it('TPL-10: sends a template as ContentSid + ContentVariables exactly as the official client does', async () => {
    const { fromClient, fromParley } = await bothWays(
      {
        to: `whatsapp:+${USER}`,
        from: 'whatsapp:+15559870000',
        contentSid: HX_ORDER,
        contentVariables: JSON.stringify({ '1': 'Ada' }),
        statusCallback: STATUS_URL,
      },
      {
        type: 'template',
        template: {
          name: 'order_update',
          language: { code: 'en' },
          components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ada' }] }],
        },
      },
    );
    assert.deepEqual(fromParley, fromClient);
  });

  it('sends a location as a geo PersistentAction exactly as the official client does', async () => {
    const { fromClient, fromParley } = await bothWays(
      {
        to: `whatsapp:+${USER}`,
        from: 'whatsapp:+15559870000',
        body: 'Head office',
        persistentAction: ['geo:51.5074,-0.1278|Head office'],
        statusCallback: STATUS_URL,
      },
      {
        type: 'location',
        location: { latitude: 51.5074, longitude: -0.1278, name: 'Head office' },
      },
    );
    assert.deepEqual(fromParley, fromClient);
  });

  it('encodes repeated MediaUrl fields as the official client does', async () => {
    const client = twilio(ACCOUNT, TOKEN);
    client.api.baseUrl = fake.url;
    await client.messages.create({
      to: `whatsapp:+${USER}`,
      from: 'whatsapp:+15559870000',
      mediaUrl: ['https://cdn.example.com/1.jpg', 'https://cdn.example.com/2.jpg'],
    });
    assert.deepEqual(fake.last!.form.get('MediaUrl'), [
      'https://cdn.example.com/1.jpg',
      'https://cdn.example.com/2.jpg',
    ]);
  });

  it('marks an inbound message read through the typing indicator, exactly as the official client does', async () => {
    const inbound = `SM${'4'.repeat(32)}`;
    const client = twilio(ACCOUNT, TOKEN);
    client.messaging.baseUrl = fake.url;
    const answer = await client.messaging.v2.typingIndicator.create({
      channel: 'whatsapp',
      messageId: inbound,
    });
    assert.equal(answer.success, true);
    const fromClient = shape(fake.last!);
    const result = await make({ messagingBaseUrl: fake.url }).markRead(CHANNEL, inbound);
    assert.deepEqual(result, { ok: true, providerMessageId: inbound });
    const fromParley = shape(fake.last!);
    assert.deepEqual(fromParley, fromClient);
    assert.equal(fromParley.path, '/v2/Indicators/Typing.json');
  });

  it('refuses to mark read an id that is not a Twilio Message SID, without a request', async () => {
    const before = fake.requests.length;
    const result = await make({ messagingBaseUrl: fake.url }).markRead(CHANNEL, 'wamid.ABC');
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.failure.reason, 'invalid_request');
    assert.equal(fake.requests.length, before);
  });

  it('reports a refused read mark as a failure value carrying Twilio’s code', async () => {
    fake.on('POST', '/v2/Indicators/Typing.json', twilioError(404, 20404, 'Not found'), 1);
    const result = await make({ messagingBaseUrl: fake.url }).markRead(
      CHANNEL,
      `SM${'5'.repeat(32)}`,
    );
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.failure.providerCode, '20404');
  });

  it('authenticates with an API key sid and secret when given (Basic auth as the key)', async () => {
    fake.allow('SK0123456789abcdef0123456789abcdef', 'key_secret');
    const keyed = make({
      apiKeySid: 'SK0123456789abcdef0123456789abcdef',
      apiKeySecret: 'key_secret',
    });
    const result = await keyed.send({
      channel: CHANNEL,
      to: USER,
      content: { type: 'text', text: { body: 'Hi' } },
    });
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.equal(fake.last!.user, 'SK0123456789abcdef0123456789abcdef');
    // The account still names the URL.
    assert.equal(fake.last!.path, `/2010-04-01/Accounts/${ACCOUNT}/Messages.json`);
  });

  describe('templates', () => {
    it('TPL-9: resolves name + language to the ContentSid from the Content API listing', async () => {
      const result = await provider.send({
        channel: CHANNEL,
        to: USER,
        content: { type: 'template', template: { name: 'order_update', language: { code: 'en' } } },
      });
      assert.equal(result.ok, true);
      assert.deepEqual(fake.last!.form.get('ContentSid'), [HX_ORDER]);
      assert.ok(fake.requests.some((r) => r.path === '/v1/ContentAndApprovals'));
    });

    it("prefers Parley's stored mapping, and takes a ContentSid given as the name", async () => {
      const stored = make({}, { resolveContentSid: () => Promise.resolve(HX_PROMO) });
      await stored.send({
        channel: CHANNEL,
        to: USER,
        content: {
          type: 'template',
          template: { name: 'order_update', language: { code: 'en_US' } },
        },
      });
      assert.deepEqual(fake.last!.form.get('ContentSid'), [HX_PROMO]);
      assert.ok(!fake.requests.some((r) => r.path === '/v1/ContentAndApprovals'));
      await provider.send({
        channel: CHANNEL,
        to: USER,
        content: { type: 'template', template: { name: HX_ORDER, language: { code: 'en' } } },
      });
      assert.deepEqual(fake.last!.form.get('ContentSid'), [HX_ORDER]);
    });

    it('TPL-9: a template Twilio does not have fails as template_not_approved and sends nothing', async () => {
      const result = await provider.send({
        channel: CHANNEL,
        to: USER,
        content: { type: 'template', template: { name: 'no_such', language: { code: 'en' } } },
      });
      assert.equal(result.ok, false);
      if (!result.ok) assert.equal(result.failure.reason, 'template_not_approved');
      assert.equal(fake.messages.length, 0);
    });

    it('TPL-8: lists Content templates with their WhatsApp approval status, following every page on our host', async () => {
      fake.contents = Array.from({ length: 1203 }, (_, i) =>
        contentRecord(
          `HX${i.toString(16).padStart(32, '0')}`,
          `t_${i}`,
          i % 2 ? 'es' : 'en',
          ['approved', 'pending', 'rejected', 'paused', 'disabled', 'unsubmitted', 'received'][
            i % 7
          ]!,
          `Body ${i}`,
        ),
      );
      const templates = await provider.listTemplates();
      assert.equal(templates.length, 1203);
      assert.equal(fake.requests.filter((r) => r.path === '/v1/ContentAndApprovals').length, 3);
      assert.deepEqual(
        templates.slice(0, 7).map((t) => t.status),
        ['APPROVED', 'PENDING', 'REJECTED', 'PAUSED', 'DISABLED', 'DRAFT', 'PENDING'],
      );
      assert.deepEqual(templates[0], {
        providerTemplateId: `HX${'0'.repeat(32)}`,
        name: 't_0',
        language: 'en',
        category: 'UTILITY',
        status: 'APPROVED',
        components: [{ type: 'BODY', text: 'Body 0' }],
        parameterFormat: 'POSITIONAL',
      });
    });

    it('names content never submitted to WhatsApp by its friendly name', async () => {
      fake.contents = [
        {
          sid: HX_ORDER,
          friendly_name: 'draft_only',
          language: 'en',
          types: { 'twilio/text': { body: 'Hello' } },
          approval_requests: {},
        },
      ];
      const [t] = await provider.listTemplates();
      assert.equal(t?.name, 'draft_only');
      assert.equal(t?.status, 'DRAFT');
    });
  });

  describe('errors (§7, Twilio column)', () => {
    const send = (p = provider): Promise<SendResult> =>
      p.send({ channel: CHANNEL, to: USER, content: { type: 'text', text: { body: 'Hi' } } });

    it('§7: a synchronous Twilio error keeps its code verbatim beside the reason', async () => {
      const cases: Array<[number, number, string, string]> = [
        [400, 21211, "The 'To' number whatsapp:+1 is not a valid phone number.", 'invalid_request'],
        [
          400,
          63016,
          'Failed to send freeform message because you are outside the allowed window.',
          'window_closed',
        ],
        [400, 21610, 'Attempt to send to unsubscribed recipient', 'opted_out'],
        [429, 63018, 'Rate limit exceeded for Channel', 'throughput'],
        [429, 20429, 'Too Many Requests', 'throughput'],
        [400, 63027, 'Template does not exist for a language and locale', 'template_not_approved'],
        [500, 20500, 'Internal Server Error', 'provider_unavailable'],
        [503, 30001, 'Queue overflow', 'provider_unavailable'],
      ];
      for (const [status, code, message, reason] of cases) {
        fake.on('POST', /Messages\.json$/, twilioError(status, code, message), 1);
        const result = await send();
        assert.equal(result.ok, false);
        if (result.ok) continue;
        assert.equal(result.failure.reason, reason, String(code));
        assert.equal(result.failure.providerCode, String(code));
        assert.equal(result.failure.title, message);
        assert.equal(result.failure.httpStatus, status);
        assert.equal(result.failure.maybeSent, undefined);
      }
    });

    it('§7: 63018 naming the messaging limit is messaging_limit; Retry-After is honoured', async () => {
      fake.on(
        'POST',
        /Messages\.json$/,
        {
          ...twilioError(
            429,
            63018,
            'Your WhatsApp Sender has exceeded the messaging limit imposed by WhatsApp',
          ),
          headers: { 'retry-after': '30' },
        },
        1,
      );
      const result = await send();
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.failure.reason, 'messaging_limit');
      assert.equal(result.failure.retryAfterMs, 30_000);
    });

    it('§7: wrong credentials are auth (20003), and the secret never appears in the failure', async () => {
      const wrong = make({ authToken: 'not_the_token_at_all' });
      const result = await send(wrong);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.failure.reason, 'auth');
      assert.equal(result.failure.providerCode, '20003');
      assert.ok(!JSON.stringify(result).includes('not_the_token_at_all'));
    });

    it('§7: a timeout is provider_unavailable with an unknown outcome (maybeSent)', async () => {
      fake.on('POST', /Messages\.json$/, { status: 201, body: { sid: 'SMx' }, delayMs: 300 }, 1);
      const result = await send(make({}, { timeoutMs: 50 }));
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.failure.reason, 'provider_unavailable');
      assert.equal(result.failure.maybeSent, true);
    });

    it('§7: an unreachable Twilio is provider_unavailable and certainly not sent', async () => {
      const result = await send(make({ baseUrl: `http://127.0.0.1:${await closedPort()}` }));
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.failure.reason, 'provider_unavailable');
      assert.equal(result.failure.maybeSent, false);
    });

    it('a 2xx without a message sid is an unknown outcome, never a success', async () => {
      fake.on('POST', /Messages\.json$/, { status: 201, body: {} }, 1);
      const result = await send();
      assert.equal(result.ok, false);
      if (!result.ok) assert.equal(result.failure.maybeSent, true);
    });

    it('LIM-6: refuses what WhatsApp would refuse before any request', async () => {
      const result = await provider.send({
        channel: CHANNEL,
        to: USER,
        content: { type: 'text', text: { body: '   ' } },
      });
      assert.equal(result.ok, false);
      assert.equal(fake.messages.length, 0);
    });
  });

  describe('webhook verification', () => {
    const URL = 'https://parley.example.com/webhooks/twilio/conn_1';
    const params = {
      MessageSid: 'SM1',
      From: `whatsapp:+${USER}`,
      To: CHANNEL.providerKey,
      Body: 'Hi',
      NumMedia: '0',
    };
    const raw = (headers: Record<string, string>, url = URL, body = params): RawWebhook => ({
      method: 'POST',
      url,
      headers,
      query: {},
      body: Buffer.from(new URLSearchParams(body).toString()),
    });
    const signature = getExpectedTwilioSignature(TOKEN, URL, params);

    it('accepts a request signed by the twilio package and refuses tampering with 403', () => {
      assert.deepEqual(provider.verifyWebhook(raw({ 'X-Twilio-Signature': signature })), {
        ok: true,
      });
      const tampered = provider.verifyWebhook(
        raw({ 'x-twilio-signature': signature }, URL, { ...params, Body: 'Hi!' }),
      );
      assert.equal(tampered.ok, false);
      if (!tampered.ok) assert.equal(tampered.status, 403);
      const otherUrl = provider.verifyWebhook(raw({ 'x-twilio-signature': signature }, `${URL}x`));
      assert.equal(otherUrl.ok, false);
    });

    it('refuses a request without a signature (401), and every request when no Auth Token is set', () => {
      const missing = provider.verifyWebhook(raw({}));
      assert.equal(missing.ok, false);
      if (!missing.ok) assert.equal(missing.status, 401);
      const keyOnly = make({ authToken: undefined, apiKeySid: 'SK1', apiKeySecret: 's' });
      const verdict = keyOnly.verifyWebhook(raw({ 'x-twilio-signature': signature }));
      assert.equal(verdict.ok, false);
      if (!verdict.ok) assert.match(verdict.detail, /no Auth Token/);
    });
  });

  describe('media', () => {
    let storage: FakeTwilioServer;
    before(async () => {
      storage = await FakeTwilioServer.start({ accountSid: 'ACstorage', authToken: 'x' });
    });
    after(async () => storage.close());

    it('downloads inbound media by the URL the webhook named, with the account credentials', async () => {
      const path = `/2010-04-01/Accounts/${ACCOUNT}/Messages/MM1/Media/ME1`;
      const url = fake.addMedia(path, Buffer.from('jpeg bytes'), 'image/jpeg');
      // The parsed inbound message carries that URL as its media id, as every provider's does.
      const [event] = provider.parseWebhook({
        method: 'POST',
        url: 'https://parley.example.com/webhooks/twilio/conn_1',
        headers: {},
        query: {},
        body: Buffer.from(
          new URLSearchParams({
            MessageSid: 'MM1',
            From: `whatsapp:+${USER}`,
            To: CHANNEL.providerKey,
            MessageType: 'image',
            NumMedia: '1',
            MediaUrl0: url,
            MediaContentType0: 'image/jpeg',
          }).toString(),
        ),
      });
      const mediaId = (event as InboundMessage).content as { id: string };
      const media = await provider.downloadMedia(mediaId.id);
      assert.deepEqual(media, {
        bytes: Buffer.from('jpeg bytes'),
        fileSize: 10,
        mimeType: 'image/jpeg',
      });
      assert.equal(fake.last!.user, ACCOUNT);
      assert.equal(fake.last!.path, path);
    });

    it('follows a redirect to storage elsewhere without sending the credentials there', async () => {
      const target = storage.addMedia('/bucket/ME2', Buffer.from('pdf'), 'application/pdf');
      storage.on('GET', '/bucket/ME2', {
        status: 200,
        headers: { 'content-type': 'application/pdf' },
        body: 'pdf',
      });
      fake.on('GET', '/media/ME2', { status: 307, headers: { location: target } });
      const media = await provider.downloadMedia(`${fake.url}/media/ME2`);
      assert.equal(media.bytes.toString(), 'pdf');
      assert.equal(media.mimeType, 'application/pdf');
      assert.equal(storage.last!.headers.authorization, undefined);
      assert.ok(String(fake.last!.headers.authorization).startsWith('Basic '));
    });

    it('refuses to send credentials to a host that is not Twilio', async () => {
      await assert.rejects(
        provider.downloadMedia('https://evil.example.com/m.jpg'),
        /refusing to send Twilio credentials/,
      );
      await assert.rejects(provider.downloadMedia(`${storage.url}/bucket/ME2`), /refusing/);
    });

    it('a media fetch Twilio refuses fails as media, retryable only when Twilio was unavailable', async () => {
      type MediaError = { failure: { reason: string }; retryable: boolean };
      await assert.rejects(
        provider.downloadMedia(
          `${fake.url}/2010-04-01/Accounts/${ACCOUNT}/Messages/MM9/Media/NOPE`,
        ),
        (e: unknown) => {
          assert.equal((e as MediaError).failure.reason, 'media');
          assert.equal((e as MediaError).retryable, false);
          return true;
        },
      );
      fake.on('GET', '/media/busy', twilioError(503, 20503, 'Service Unavailable'), 1);
      await assert.rejects(provider.downloadMedia(`${fake.url}/media/busy`), (e: unknown) => {
        assert.equal((e as MediaError).failure.reason, 'media');
        assert.equal((e as MediaError).retryable, true);
        return true;
      });
    });
  });

  it('checks the credentials and says how to fix them', async () => {
    const good = await provider.checkConnection();
    assert.deepEqual(
      good.map((c) => [c.check, c.ok]),
      [
        ['token', true],
        ['webhook-verification', true],
      ],
    );
    const bad = await make({ authToken: 'wrong' }).checkConnection();
    assert.equal(bad[0]?.ok, false);
    assert.match(bad[0]?.fix ?? '', /Auth Token/);
  });
});
