// A WhatsApp conversation end to end through the Twilio adapter and a local fake Twilio: webhooks
// signed by the official twilio package, sends read back from what the fake received.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RecordedTwilioRequest } from '../src/adapters/providers/twilio/testing/fake-twilio-server.ts';
import twilio from 'twilio';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import {
  BUSINESS_SENDER,
  TWILIO_ACCOUNT,
  TWILIO_TOKEN,
  fakeTwilioConnection,
  inboundText,
  nextSid,
  postTwilio,
  signTwilio,
  statusCallback,
  type FakeTwilio,
} from './helpers/twilio-webhooks.ts';

const HOUR = 3_600_000;
const CUSTOMER = '447700900123';
const HX_ORDER = 'HX0123456789abcdef0123456789abcdef';

const field = (r: RecordedTwilioRequest, name: string): string | undefined => r.form.get(name)?.[0];

/** What makes two requests the same for Twilio: method, path, credentials, content type, fields. */
function shape(r: RecordedTwilioRequest) {
  return {
    method: r.method,
    path: r.path,
    authorization: r.headers.authorization,
    contentType: String(r.headers['content-type']).split(';')[0],
    form: [...r.form].map(([k, v]) => [k, [...v]] as const).sort(([x], [y]) => x.localeCompare(y)),
  };
}

describe('a Twilio conversation through the API', () => {
  let t: TestParley;
  let tw: FakeTwilio;
  let conversationId: string;

  before(async () => {
    t = await startTestParley();
    tw = await fakeTwilioConnection(t);
    tw.fake.contents = [
      {
        sid: HX_ORDER,
        account_sid: TWILIO_ACCOUNT,
        friendly_name: 'order_update',
        language: 'en',
        variables: { '1': 'name' },
        types: { 'twilio/text': { body: 'Hi {{1}}, your order shipped.' } },
        approval_requests: {
          name: 'order_update',
          category: 'UTILITY',
          content_type: 'twilio/text',
          status: 'approved',
          rejection_reason: '',
          allow_category_change: true,
        },
      },
    ];
  });
  after(async () => {
    await tw.fake.close();
    await t.close();
  });

  /** Sends through the API and lets the dispatcher hand it to the fake Twilio. */
  async function send(body: Record<string, unknown>): Promise<any> {
    const sent = await t.api('POST', '/v1/messages', {
      channelId: tw.channelId,
      to: CUSTOMER,
      ...body,
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    await t.settle(10_000); // past the pair pacing (LIM-2) of the previous send
    return (await t.api('GET', `/v1/messages/${sent.json.id}`)).json;
  }

  /** Twilio calls the StatusCallback URL it was given for the message. */
  async function callback(
    request: RecordedTwilioRequest,
    status: string,
    extra: Record<string, string> = {},
  ) {
    const url = field(request, 'StatusCallback');
    assert.ok(url, 'every send names its status callback');
    const response = await postTwilio(
      t.parley.http,
      url,
      statusCallback(messageSidOf(request), CUSTOMER, status, extra),
    );
    assert.equal(response.status, 200, response.text);
    await t.settle();
  }

  const sids = new Map<RecordedTwilioRequest, string>();
  const messageSidOf = (r: RecordedTwilioRequest): string => sids.get(r) ?? '';

  it('shows the Twilio webhook URL and keeps the secrets write-only', async () => {
    const connection = await t.api('GET', `/v1/connections/${tw.connectionId}`);
    assert.equal(connection.json.provider, 'twilio');
    assert.equal(
      connection.json.webhookUrl,
      `${t.parley.config.publicUrl}/webhooks/twilio/${tw.connectionId}`,
    );
    assert.deepEqual(connection.json.secretsSet, ['accountSid', 'authToken']);
    assert.ok(!JSON.stringify(connection.json).includes('e2e_auth_token'));
  });

  it('TPL-8: syncs Content templates into the templates table: name + language → ContentSid, approval status', async () => {
    await t.parley.templateSync.syncAll();
    const stored = await t.parley.deps.store.templates.find(
      t.channel.workspaceId,
      'order_update',
      'en',
      tw.channelId,
    );
    assert.ok(stored);
    assert.equal(stored.providerTemplateId, HX_ORDER);
    assert.equal(stored.status, 'APPROVED');
    assert.equal(stored.channelId, tw.channelId);
  });

  it('CSW-1: an inbound message, signed as Twilio signs it, opens a conversation with an open window', async () => {
    const inbound = inboundText(CUSTOMER, 'Where is my order #1042?');
    const response = await postTwilio(t.parley.http, tw.webhookUrl, inbound);
    assert.equal(response.status, 200, response.text);
    assert.match(String(response.headers['content-type']), /^text\/xml/);
    assert.match(response.text, /<Response><\/Response>/);
    await t.settle();
    const list = await t.api('GET', `/v1/conversations?channel=${tw.channelId}`);
    assert.equal(list.json.items.length, 1);
    const conversation = list.json.items[0];
    conversationId = conversation.id;
    assert.equal(conversation.contact.waId, CUSTOMER);
    assert.equal(conversation.contact.name, 'Ada');
    assert.equal(conversation.window.open, true);
    const transcript = await t.api('GET', `/v1/conversations/${conversationId}/messages`);
    assert.deepEqual(
      transcript.json.items.map((m: any) => [m.direction, m.text, m.providerMessageId]),
      [['inbound', 'Where is my order #1042?', inbound.MessageSid]],
    );
  });

  it('STA-2: the same inbound webhook delivered again changes nothing', async () => {
    const before: number = (await t.api('GET', `/v1/conversations/${conversationId}/messages`)).json
      .items.length;
    const inbound = inboundText(CUSTOMER, 'Hello?');
    for (let i = 0; i < 2; i++) {
      const response = await postTwilio(t.parley.http, tw.webhookUrl, inbound);
      assert.equal(response.status, 200);
    }
    await t.settle();
    const afterwards = (await t.api('GET', `/v1/conversations/${conversationId}/messages`)).json
      .items;
    assert.equal(afterwards.length, before + 1);
  });

  it('refuses a webhook whose parameter was changed after Twilio signed it, storing nothing', async () => {
    const inbound = inboundText(CUSTOMER, 'Refund me 10 EUR');
    const signed = await postTwilio(t.parley.http, tw.webhookUrl, inbound, {
      signature: signTwilio(tw.webhookUrl, {
        ...inbound,
        Body: 'Refund me 10 EUR',
      }),
    });
    assert.equal(signed.status, 200);
    const forged = await postTwilio(
      t.parley.http,
      tw.webhookUrl,
      { ...inbound, MessageSid: nextSid(), Body: 'Refund me 1000 EUR' },
      { signature: signTwilio(tw.webhookUrl, inbound) },
    );
    assert.equal(forged.status, 401, forged.text);
    assert.equal(JSON.parse(forged.text).code, 'bad_signature');
    await t.settle();
    const texts = (
      await t.api('GET', `/v1/conversations/${conversationId}/messages?limit=100`)
    ).json.items.map((m: any) => m.text);
    assert.ok(!texts.includes('Refund me 1000 EUR'));
  });

  it('CSW-1: a photo is fetched from Twilio with the account credentials into the blob store', async () => {
    const photo = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(512, 0x5a)]);
    const mediaPath = `/2010-04-01/Accounts/${TWILIO_ACCOUNT}/Messages/MM${'7'.repeat(32)}/Media/ME${'7'.repeat(32)}`;
    const mediaUrl = tw.fake.addMedia(mediaPath, photo, 'image/jpeg');
    const inbound = inboundText(CUSTOMER, 'The parcel arrived like this', {
      MessageType: 'image',
      NumMedia: '1',
      MediaUrl0: mediaUrl,
      MediaContentType0: 'image/jpeg',
    });
    const response = await postTwilio(t.parley.http, tw.webhookUrl, inbound);
    assert.equal(response.status, 200, response.text);
    await t.settle();
    const transcript = await t.api('GET', `/v1/conversations/${conversationId}/messages?limit=100`);
    const message = transcript.json.items.find(
      (m: any) => m.providerMessageId === inbound.MessageSid,
    );
    assert.equal(message.type, 'image');
    assert.equal(message.text, 'The parcel arrived like this');
    assert.equal(await t.parley.media.runOnce(), 1);
    const fetched = tw.fake.requests.filter((r) => r.path === mediaPath);
    assert.equal(fetched.length, 1);
    assert.equal(fetched[0]!.user, TWILIO_ACCOUNT, 'fetched with the account credentials');
    const stored = (await t.api('GET', `/v1/messages/${message.id}`)).json;
    assert.equal(stored.content.media.state, 'stored');
    const served = await t.parley.http.inject({
      method: 'GET',
      url: stored.content.media.url,
      headers: { authorization: `Bearer ${t.apiKey}` },
    });
    assert.equal(served.statusCode, 200);
    assert.equal(served.headers['content-type'], 'image/jpeg');
    assert.ok(served.rawPayload.equals(photo), 'byte for byte');
  });

  it('every MediaUrl{N} of one message is fetched with credentials and stored with its own content type', async () => {
    const files = [
      {
        bytes: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(64, 1)]),
        type: 'image/jpeg',
      },
      {
        bytes: Buffer.concat([Buffer.from('\x89PNG\r\n'), Buffer.alloc(64, 2)]),
        type: 'image/png',
      },
      { bytes: Buffer.from('%PDF-1.4 receipt'), type: 'application/pdf' },
    ];
    const paths = files.map(
      (_, n) =>
        `/2010-04-01/Accounts/${TWILIO_ACCOUNT}/Messages/MM${'8'.repeat(32)}/Media/ME${String(n).repeat(32)}`,
    );
    const fields: Record<string, string> = { MessageType: 'image', NumMedia: String(files.length) };
    files.forEach((file, n) => {
      fields[`MediaUrl${n}`] = tw.fake.addMedia(paths[n]!, file.bytes, file.type);
      fields[`MediaContentType${n}`] = file.type;
    });
    const inbound = inboundText(CUSTOMER, 'Photos and the receipt', fields);
    const heard: any[] = [];
    const stop = t.parley.deps.events.subscribe((e) => {
      if (e.type === 'message.received') heard.push(e);
    });
    const response = await postTwilio(t.parley.http, tw.webhookUrl, inbound);
    assert.equal(response.status, 200, response.text);
    await t.settle();
    stop();
    assert.equal(await t.parley.media.runOnce(), files.length);
    for (const path of paths) {
      const fetched = tw.fake.requests.filter((r) => r.path === path);
      assert.equal(fetched.length, 1, `${path} fetched once`);
      assert.equal(fetched[0]!.user, TWILIO_ACCOUNT, 'fetched with the account credentials');
    }
    const transcript = await t.api('GET', `/v1/conversations/${conversationId}/messages?limit=100`);
    const listed = transcript.json.items.find(
      (m: any) => m.providerMessageId === inbound.MessageSid,
    );
    const message = (await t.api('GET', `/v1/messages/${listed.id}`)).json;
    assert.equal(message.text, 'Photos and the receipt');
    const copies = [message.content.media, ...message.content.extraMedia];
    assert.deepEqual(
      copies.map((c: any) => [c.state, c.contentType, c.size]),
      files.map((f) => ['stored', f.type, f.bytes.length]),
    );
    assert.equal(heard.length, 1);
    assert.equal(heard[0].data.mediaId, message.content.media.id, 'the first, as before');
    assert.deepEqual(
      heard[0].data.mediaIds,
      copies.map((c: any) => c.id),
      'message.received names every media of the message, in order',
    );
    const after = await t.api('GET', `/v1/conversations/${conversationId}/messages?limit=100`);
    const item = after.json.items.find((m: any) => m.id === listed.id);
    assert.deepEqual(
      [item.media, ...item.extraMedia].map((m: any) => [m.id, m.state, m.mime, m.url]),
      copies.map((c: any) => [c.id, 'stored', c.contentType, c.url]),
      'the transcript lists every media, each like the first',
    );
    for (const [n, copy] of copies.entries()) {
      const served = await t.parley.http.inject({
        method: 'GET',
        url: copy.url,
        headers: { authorization: `Bearer ${t.apiKey}` },
      });
      assert.equal(served.statusCode, 200);
      assert.equal(served.headers['content-type'], files[n]!.type);
      assert.ok(served.rawPayload.equals(files[n]!.bytes), 'byte for byte');
    }
  });

  it("an agent opening the conversation marks the customer's latest message read through Twilio's typing indicator", async () => {
    const transcript = await t.api('GET', `/v1/conversations/${conversationId}/messages?limit=100`);
    const latest = transcript.json.items.filter((m: any) => m.direction === 'inbound').at(-1);
    const read = await t.api('POST', `/v1/conversations/${conversationId}/read`);
    assert.equal(read.status, 200, JSON.stringify(read.json));
    assert.deepEqual(read.json, { markedOnWhatsApp: true, messageId: latest.id });
    const indicator = tw.fake.typingIndicators.at(-1)!;
    assert.equal(field(indicator, 'messageId'), latest.providerMessageId);
    assert.equal(field(indicator, 'channel'), 'whatsapp');
    assert.equal(indicator.user, TWILIO_ACCOUNT);
  });

  it('a read mark Twilio refuses leaves the agent’s read mark standing (no error)', async () => {
    tw.fake.on('POST', '/v2/Indicators/Typing.json', { status: 503, body: {} }, 1);
    const read = await t.api('POST', `/v1/conversations/${conversationId}/read`);
    assert.equal(read.status, 200, JSON.stringify(read.json));
    assert.equal(read.json.markedOnWhatsApp, false);
  });

  it('CSW-3: a free-form reply goes to Twilio with the sender, recipient and a status callback', async () => {
    const message = await send({ type: 'text', text: { body: 'It ships today.' } });
    const request = tw.fake.messages.at(-1)!;
    assert.equal(field(request, 'To'), `whatsapp:+${CUSTOMER}`);
    assert.equal(field(request, 'From'), BUSINESS_SENDER);
    assert.equal(field(request, 'Body'), 'It ships today.');
    assert.equal(
      field(request, 'StatusCallback'),
      `${t.parley.config.publicUrl}/webhooks/twilio/${tw.connectionId}/status?ref=${message.id}`,
    );
    assert.equal(request.user, TWILIO_ACCOUNT);
    assert.match(message.providerMessageId, /^SM[0-9a-f]{32}$/);
    assert.equal(message.status, 'accepted');
    sids.set(request, message.providerMessageId);
  });

  it('STA-1: delivered and read callbacks move the message forward, each once', async () => {
    const request = tw.fake.messages.at(-1)!;
    await callback(request, 'sent');
    await callback(request, 'delivered');
    await callback(request, 'read');
    await callback(request, 'delivered'); // late and duplicated: changes nothing
    const id = (
      await t.api('GET', `/v1/conversations/${conversationId}/messages?limit=100`)
    ).json.items.find((m: any) => m.providerMessageId === messageSidOf(request)).id;
    const message = (await t.api('GET', `/v1/messages/${id}`)).json;
    assert.equal(message.status, 'read');
    assert.deepEqual(
      message.statuses.map((s: { status: string }) => s.status),
      ['sent', 'delivered', 'read'],
    );
    assert.ok(message.deliveredAt);
    assert.ok(message.readAt);
  });

  it('a customer reply names the message it answers: Twilio’s OriginalRepliedMessageSid, linked to Parley’s message', async () => {
    const answered = tw.fake.messages.at(-1)!;
    const inbound = inboundText(CUSTOMER, 'Great, thanks!', {
      OriginalRepliedMessageSid: messageSidOf(answered),
      OriginalRepliedMessageSender: BUSINESS_SENDER,
    });
    const response = await postTwilio(t.parley.http, tw.webhookUrl, inbound);
    assert.equal(response.status, 200, response.text);
    await t.settle();
    const items = (await t.api('GET', `/v1/conversations/${conversationId}/messages?limit=100`))
      .json.items;
    const ours = items.find((m: any) => m.providerMessageId === messageSidOf(answered));
    const reply = items.find((m: any) => m.providerMessageId === inbound.MessageSid);
    assert.deepEqual(reply.content.context, {
      id: messageSidOf(answered),
      from: BUSINESS_SENDER.replace('whatsapp:+', ''),
      messageId: ours.id,
    });
    assert.equal(reply.quotedMessageId, messageSidOf(answered));
    // A reply to a message Parley never saw keeps Twilio's id, with no link.
    const unseen = nextSid();
    const unknown = inboundText(CUSTOMER, 'And this?', {
      OriginalRepliedMessageSid: unseen,
      OriginalRepliedMessageSender: BUSINESS_SENDER,
    });
    await postTwilio(t.parley.http, tw.webhookUrl, unknown);
    await t.settle();
    const loose = (
      await t.api('GET', `/v1/conversations/${conversationId}/messages?limit=100`)
    ).json.items.find((m: any) => m.providerMessageId === unknown.MessageSid);
    assert.equal(loose.content.context.id, unseen);
    assert.equal(loose.content.context.messageId, undefined);
  });

  it('a quote-reply on Twilio goes without the quote (the Messages API has none) and says so', async () => {
    const items = (await t.api('GET', `/v1/conversations/${conversationId}/messages?limit=100`))
      .json.items;
    const quoted = items.filter((m: any) => m.direction === 'inbound').at(-1);
    const before = tw.fake.messages.length;
    const message = await send({
      type: 'text',
      text: { body: 'You are welcome.' },
      replyTo: quoted.id,
    });
    assert.equal(message.status, 'accepted', JSON.stringify(message));
    assert.match(
      message.reasonDetail,
      /^Sent without the quote: Twilio's Messages API has no field/,
    );
    assert.equal(tw.fake.messages.length, before + 1);
    const request = tw.fake.messages.at(-1)!;
    assert.deepEqual(
      [...request.form.keys()].sort(),
      ['Body', 'From', 'StatusCallback', 'To'],
      'nothing Twilio does not know is sent',
    );
    sids.set(request, message.providerMessageId);
  });

  it('a document goes to Twilio without its caption and filename (Twilio carries neither) and the message says so', async () => {
    const INVOICE = 'https://cdn.example.com/invoice-1042.pdf';
    const message = await send({
      type: 'document',
      document: { link: INVOICE, caption: 'Your invoice', filename: 'invoice-1042.pdf' },
    });
    const request = tw.fake.messages.at(-1)!;
    assert.deepEqual(request.form.get('MediaUrl'), [INVOICE]);
    assert.equal(field(request, 'Body'), undefined, 'no Body beside a document');
    assert.ok(!['refused', 'failed'].includes(message.status), message.status);
    assert.ok(message.providerMessageId, 'Twilio accepted it');
    assert.equal(
      message.reasonDetail,
      'Sent without the caption and filename: Twilio does not carry a caption or filename for WhatsApp documents, so the customer sees the document alone.',
    );
    sids.set(request, message.providerMessageId);
    // An image's caption still travels as Body, and nothing is noted.
    const photo = await send({
      type: 'image',
      image: { link: 'https://cdn.example.com/shelf.jpg', caption: 'On the shelf' },
    });
    assert.equal(field(tw.fake.messages.at(-1)!, 'Body'), 'On the shelf');
    assert.equal(photo.reasonDetail, null);
  });

  it('LIM-6: extraMedia goes as one Twilio request per media, each exactly as the official client sends it', async () => {
    const FRONT = 'https://cdn.example.com/front.jpg';
    const BACK = 'https://cdn.example.com/back.jpg';
    const MANUAL = 'https://cdn.example.com/manual.pdf';
    const group = {
      channelId: tw.channelId,
      to: CUSTOMER,
      type: 'image',
      image: { link: FRONT, caption: 'Both sides and the manual' },
      extraMedia: [{ link: BACK }, { type: 'document', link: MANUAL }],
    };
    const key = { 'idempotency-key': 'album-1042' };
    const before = tw.fake.messages.length;
    const sent = await t.api('POST', '/v1/messages', group, key);
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    assert.equal(sent.json.messages.length, 3);
    for (let i = 0; i < 4 && tw.fake.messages.length < before + 3; i++) await t.settle(10_000);
    const fromParley = tw.fake.messages.slice(before);
    assert.equal(fromParley.length, 3, 'one request per media');
    // Twilio ignores every MediaUrl of a WhatsApp request after the first: never more than one.
    assert.deepEqual(
      fromParley.map((r) => r.form.get('MediaUrl')),
      [[FRONT], [BACK], [MANUAL]],
    );
    // What the official client sends for the same album, sent the way Twilio advises.
    const client = twilio(TWILIO_ACCOUNT, TWILIO_TOKEN);
    client.api.baseUrl = tw.fake.url;
    const album: Array<{ body?: string; mediaUrl: string[] }> = [
      { body: 'Both sides and the manual', mediaUrl: [FRONT] },
      { mediaUrl: [BACK] },
      { mediaUrl: [MANUAL] },
    ];
    for (const [n, item] of album.entries()) {
      await client.messages.create({
        to: `whatsapp:+${CUSTOMER}`,
        from: BUSINESS_SENDER,
        ...item,
        statusCallback: field(fromParley[n]!, 'StatusCallback')!,
      });
      assert.deepEqual(shape(fromParley[n]!), shape(tw.fake.last!));
    }
    // The same Idempotency-Key again: every message of the group is a replay, nothing is resent.
    const replay = await t.api('POST', '/v1/messages', group, key);
    assert.equal(replay.status, 200, JSON.stringify(replay.json));
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.deepEqual(
      replay.json.messages.map((m: { id: string }) => m.id),
      sent.json.messages.map((m: { id: string }) => m.id),
    );
    await t.settle(10_000);
    assert.equal(tw.fake.messages.length, before + 3 + album.length);
  });

  it('CSW-5: a late 63016 callback fails the message with window_closed and Twilio code 63016', async () => {
    const message = await send({ type: 'text', text: { body: 'Anything else I can help with?' } });
    const request = tw.fake.messages.at(-1)!;
    sids.set(request, message.providerMessageId);
    await callback(request, 'failed', {
      ErrorCode: '63016',
      ErrorMessage: 'Failed to send freeform message because you are outside the allowed window.',
    });
    const failed = (await t.api('GET', `/v1/messages/${message.id}`)).json;
    assert.equal(failed.status, 'failed');
    assert.equal(failed.reason, 'window_closed');
    assert.equal(failed.providerError.code, 63016);
    assert.match(failed.explanation, /send an approved template/);
    // CSW-5: a free-form refused late with no newer inbound proves the window closed.
    const conversation = (await t.api('GET', `/v1/conversations/${conversationId}`)).json;
    assert.equal(conversation.window.open, false);
  });

  it('CSW-2: after 24 h a free-form reply is refused with window_closed before reaching Twilio', async () => {
    await t.clock.advance(24 * HOUR + 1_000);
    const requestsBefore = tw.fake.messages.length;
    const refused = await t.api('POST', '/v1/messages', {
      channelId: tw.channelId,
      to: CUSTOMER,
      type: 'text',
      text: { body: 'Are you still there?' },
    });
    assert.equal(refused.status, 422, JSON.stringify(refused.json));
    assert.equal(refused.json.code, 'window_closed');
    await t.settle();
    assert.equal(tw.fake.messages.length, requestsBefore);
  });

  it('CSW-3, TPL-10: a template still goes out after the window closed, as ContentSid with its variables', async () => {
    const message = await send({
      type: 'template',
      template: {
        name: 'order_update',
        language: { code: 'en' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ada' }] }],
      },
    });
    const request = tw.fake.messages.at(-1)!;
    assert.equal(field(request, 'ContentSid'), HX_ORDER);
    assert.equal(field(request, 'ContentVariables'), '{"1":"Ada"}');
    assert.equal(field(request, 'Body'), undefined);
    assert.equal(message.status, 'accepted', JSON.stringify(message));
    assert.equal(message.text, 'Hi Ada, your order shipped.');
    sids.set(request, message.providerMessageId);
    await callback(request, 'delivered');
    assert.equal((await t.api('GET', `/v1/messages/${message.id}`)).json.status, 'delivered');
  });

  it('CSW-1: the customer answering by quick-reply button reopens the window', async () => {
    const response = await postTwilio(
      t.parley.http,
      tw.webhookUrl,
      inboundText(CUSTOMER, 'Track it', {
        MessageType: 'button',
        ButtonText: 'Track it',
        ButtonPayload: 'track_1042',
        OriginalRepliedMessageSid: messageSidOf(tw.fake.messages.at(-1)!),
        OriginalRepliedMessageSender: BUSINESS_SENDER,
      }),
    );
    assert.equal(response.status, 200);
    await t.settle();
    const conversation = (await t.api('GET', `/v1/conversations/${conversationId}`)).json;
    assert.equal(conversation.window.open, true);
    const message = await send({ type: 'text', text: { body: 'Here is your tracking link.' } });
    assert.equal(message.status, 'accepted');
  });
});
