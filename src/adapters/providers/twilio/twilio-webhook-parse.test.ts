// Twilio inbound webhooks and status callbacks normalised to Parley's InboundEvents.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InboundMessage, StatusUpdate } from '../../../core/inbound.ts';
import { parseTwilioWebhook } from './twilio-webhook-parse.ts';
import { NEEDS_TWILIO_FIXTURES, twilioFixtureParams } from './testing/twilio-fixtures.ts';

const RECEIVED_AT = Date.parse('2026-03-02T09:00:00Z');
const INBOUND_URL = 'https://parley.example.com/webhooks/twilio/conn_1';
const STATUS_URL = `${INBOUND_URL}/status`;

function body(params: Record<string, string>): Buffer {
  return Buffer.from(new URLSearchParams(params).toString());
}

function parseOne(params: Record<string, string>, url = INBOUND_URL) {
  const events = parseTwilioWebhook(body(params), { receivedAt: RECEIVED_AT, url });
  assert.equal(events.length, 1);
  return events[0]!;
}

function message(params: Record<string, string>): InboundMessage {
  const event = parseOne(params);
  assert.equal(event.kind, 'message');
  return event;
}

function status(params: Record<string, string>, url = STATUS_URL): StatusUpdate {
  const event = parseOne(params, url);
  assert.equal(event.kind, 'status');
  return event;
}

const BASE = {
  MessageSid: 'SM11111111111111111111111111111111',
  SmsMessageSid: 'SM11111111111111111111111111111111',
  AccountSid: 'AC00000000000000000000000000000001',
  From: 'whatsapp:+15551230000',
  To: 'whatsapp:+15559870000',
  WaId: '15551230000',
  ProfileName: 'Jane',
  NumMedia: '0',
  NumSegments: '1',
  SmsStatus: 'received',
  ApiVersion: '2010-04-01',
};

describe('Twilio inbound webhooks', () => {
  it('CSW-1: a text becomes a message routed by To, from the WaId, at the receive time', () => {
    const m = message({ ...BASE, MessageType: 'text', Body: 'Where is my order?' });
    assert.equal(m.channelKey, 'whatsapp:+15559870000');
    assert.equal(m.providerMessageId, BASE.MessageSid);
    assert.equal(m.from, '15551230000');
    assert.equal(m.profileName, 'Jane');
    assert.equal(m.type, 'text');
    assert.deepEqual(m.content, { body: 'Where is my order?' });
    // CSW-5 note (§1): Twilio sends no event time, so the receive time is the message's time.
    assert.equal(m.at, RECEIVED_AT);
    assert.equal(m.referral, undefined);
  });

  it(
    'CSW-1: the CTWA fixture keeps every Referral field, ctwa_clid included',
    { skip: NEEDS_TWILIO_FIXTURES },
    () => {
      const m = message(twilioFixtureParams('synthetic__inbound_whatsapp_ctwa.json'));
      assert.equal(m.type, 'text');
      assert.deepEqual(m.content, { body: 'Hi, saw your ad' });
      assert.equal(m.from, '61400000001');
      assert.equal(m.channelKey, 'whatsapp:+61400999999');
      assert.deepEqual(m.referral, {
        num_media: '0',
        ctwa_clid: 'ARAbc123ClickId',
        source_id: '120210000000000001',
        source_type: 'ad',
        source_url: 'https://fb.me/example-ad',
        headline: 'Example headline',
        body: 'Example body',
      });
    },
  );

  it('keeps referral media and any Referral field Twilio adds later', () => {
    const m = message({
      ...BASE,
      Body: 'Hi',
      ReferralNumMedia: '1',
      ReferralMediaId: 'media-9',
      ReferralMediaContentType: 'video/mp4',
      ReferralMediaUrl: 'https://api.twilio.com/media/ad.mp4',
      ReferralCtwaClid: 'clid-1',
      ReferralSomethingNew: 'kept',
    });
    assert.equal(m.referral?.media_type, 'video');
    assert.equal(m.referral?.video_url, 'https://api.twilio.com/media/ad.mp4');
    assert.equal(m.referral?.media_url, 'https://api.twilio.com/media/ad.mp4');
    assert.equal(m.referral?.media_id, 'media-9');
    assert.equal(m.referral?.media_content_type, 'video/mp4');
    assert.equal(m.referral?.something_new, 'kept');
    assert.equal(m.referral?.ctwa_clid, 'clid-1');
  });

  it(
    'CSW-1: the button fixture becomes a button reply quoting the template message',
    { skip: NEEDS_TWILIO_FIXTURES },
    () => {
      const m = message(twilioFixtureParams('synthetic__inbound_button_reply.json'));
      assert.equal(m.type, 'button');
      assert.deepEqual(m.content, { payload: 'confirm_order_42', text: 'Confirm' });
      assert.deepEqual(m.context, {
        id: 'MMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
        from: '15559870000',
      });
      assert.equal(m.profileName, 'Jane');
    },
  );

  it('CSW-1: quick-reply and list answers to Content templates become interactive replies', () => {
    const quick = message({
      ...BASE,
      MessageType: 'interactive',
      Body: 'Yes please',
      ButtonText: 'Yes please',
      ButtonPayload: 'yes',
    });
    assert.equal(quick.type, 'interactive');
    assert.deepEqual(quick.content, {
      type: 'button_reply',
      button_reply: { id: 'yes', title: 'Yes please' },
    });
    const list = message({ ...BASE, MessageType: 'interactive', Body: 'Blue', ListId: 'blue' });
    assert.deepEqual(list.content, {
      type: 'list_reply',
      list_reply: { id: 'blue', title: 'Blue' },
    });
  });

  it('CSW-1: a photo with a caption keeps the media URL (to fetch with credentials) and its type', () => {
    const m = message({
      ...BASE,
      MessageType: 'image',
      Body: 'The broken part',
      NumMedia: '1',
      MediaUrl0: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1',
      MediaContentType0: 'image/jpeg',
    });
    assert.equal(m.type, 'image');
    assert.deepEqual(m.content, {
      id: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1',
      url: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1',
      mime_type: 'image/jpeg',
      caption: 'The broken part',
    });
  });

  it('keeps every media item when Twilio reports several, and infers the type without MessageType', () => {
    const m = message({
      ...BASE,
      NumMedia: '2',
      MediaUrl0: 'https://api.twilio.com/m/0',
      MediaContentType0: 'application/pdf',
      MediaUrl1: 'https://api.twilio.com/m/1',
      MediaContentType1: 'image/png',
    });
    assert.equal(m.type, 'document');
    const content = m.content as { media: unknown[]; url: string };
    assert.equal(content.url, 'https://api.twilio.com/m/0');
    assert.deepEqual(content.media, [
      { url: 'https://api.twilio.com/m/0', mime_type: 'application/pdf' },
      { url: 'https://api.twilio.com/m/1', mime_type: 'image/png' },
    ]);
  });

  it('CSW-1: audio and video voice notes are typed by their content type', () => {
    const audio = message({
      ...BASE,
      NumMedia: '1',
      MediaUrl0: 'https://api.twilio.com/m/a',
      MediaContentType0: 'audio/ogg',
    });
    assert.equal(audio.type, 'audio');
    const video = message({
      ...BASE,
      MessageType: 'video',
      NumMedia: '1',
      MediaUrl0: 'https://api.twilio.com/m/v',
      MediaContentType0: 'video/mp4',
    });
    assert.equal(video.type, 'video');
  });

  it('CSW-1: a shared location becomes a location with numbers, label and address', () => {
    const m = message({
      ...BASE,
      MessageType: 'location',
      Latitude: '51.5074',
      Longitude: '-0.1278',
      Label: 'Head office',
      Address: '1 Main St',
    });
    assert.equal(m.type, 'location');
    assert.deepEqual(m.content, {
      latitude: 51.5074,
      longitude: -0.1278,
      name: 'Head office',
      address: '1 Main St',
    });
  });

  it('marks forwarded messages and keeps a reply context', () => {
    const m = message({
      ...BASE,
      Body: 'see this',
      Forwarded: 'true',
      FrequentlyForwarded: 'true',
      OriginalRepliedMessageSid: 'SM999',
      OriginalRepliedMessageSender: 'whatsapp:+15559870000',
    });
    assert.deepEqual(m.context, {
      id: 'SM999',
      from: '15559870000',
      forwarded: true,
      frequently_forwarded: true,
    });
  });

  it('keeps a message type Parley does not know, typed as Twilio named it', () => {
    const m = message({ ...BASE, MessageType: 'unknown', Body: '' });
    assert.equal(m.type, 'unknown');
    assert.deepEqual(m.content, {});
  });

  it('reads the sender from From when WaId is absent', () => {
    const params: Record<string, string> = { ...BASE, Body: 'hi' };
    delete params.WaId;
    const m = message(params);
    assert.equal(m.from, '15551230000');
  });

  it('reads a GET-configured inbound webhook from the query string of the URL Twilio called', () => {
    const query = new URLSearchParams({ ...BASE, Body: 'Hi by GET' }).toString();
    const [event] = parseTwilioWebhook(Buffer.alloc(0), {
      receivedAt: RECEIVED_AT,
      url: `${INBOUND_URL}?${query}`,
    });
    assert.equal(event?.kind, 'message');
    const m = event;
    assert.equal(m.providerMessageId, BASE.MessageSid);
    assert.deepEqual(m.content, { body: 'Hi by GET' });
  });

  it('throws on a body that is not a Twilio message webhook', () => {
    assert.throws(() => parseTwilioWebhook(Buffer.from(''), { receivedAt: RECEIVED_AT }));
    assert.throws(() =>
      parseTwilioWebhook(body({ hello: 'world' }), { receivedAt: RECEIVED_AT, url: INBOUND_URL }),
    );
  });
});

describe('Twilio status callbacks', () => {
  const CALLBACK = {
    MessageSid: 'SM22222222222222222222222222222222',
    SmsSid: 'SM22222222222222222222222222222222',
    AccountSid: 'AC00000000000000000000000000000001',
    From: 'whatsapp:+15559870000',
    To: 'whatsapp:+15551230000',
    ChannelPrefix: 'whatsapp',
    ApiVersion: '2010-04-01',
  };

  it('STA-1: delivered and read are routed by From (the business sender) at the receive time', () => {
    for (const value of ['delivered', 'read'] as const) {
      const s = status({ ...CALLBACK, MessageStatus: value, SmsStatus: value });
      assert.equal(s.channelKey, 'whatsapp:+15559870000');
      assert.equal(s.providerMessageId, CALLBACK.MessageSid);
      assert.equal(s.status, value);
      assert.equal(s.recipient, '15551230000');
      assert.equal(s.at, RECEIVED_AT);
      assert.equal(s.errors, undefined);
    }
  });

  it("STA-1: Twilio's queued, sending and scheduled are accepted; undelivered and canceled are failed", () => {
    const expected: Record<string, string> = {
      queued: 'accepted',
      sending: 'accepted',
      scheduled: 'accepted',
      accepted: 'accepted',
      sent: 'sent',
      undelivered: 'failed',
      canceled: 'failed',
    };
    for (const [twilioStatus, parley] of Object.entries(expected))
      assert.equal(
        status({ ...CALLBACK, MessageStatus: twilioStatus }).status,
        parley,
        twilioStatus,
      );
  });

  it(
    'CSW-5: the 63016 fixture fails with window_closed and keeps the Twilio code verbatim',
    { skip: NEEDS_TWILIO_FIXTURES },
    () => {
      const s = status(twilioFixtureParams('synthetic__status_callback_failed_63016.json'));
      assert.equal(s.status, 'failed');
      assert.equal(s.reason, 'window_closed');
      assert.deepEqual(s.errors, [{ code: 63016 }]);
      assert.equal(s.channelKey, 'whatsapp:+15559870000');
    },
  );

  it('§7: 63018 is throughput, or messaging_limit when its message names the messaging limit', () => {
    const plain = status({ ...CALLBACK, MessageStatus: 'failed', ErrorCode: '63018' });
    assert.equal(plain.reason, 'throughput');
    const limit = status({
      ...CALLBACK,
      MessageStatus: 'failed',
      ErrorCode: '63018',
      ErrorMessage: 'Your WhatsApp Sender has exceeded the messaging limit imposed by WhatsApp',
    });
    assert.equal(limit.reason, 'messaging_limit');
    assert.deepEqual(limit.errors, [
      {
        code: 63018,
        message: 'Your WhatsApp Sender has exceeded the messaging limit imposed by WhatsApp',
      },
    ]);
  });

  it('§7: the rest of the Twilio column maps to its reasons', () => {
    const expected: Record<string, string> = {
      '21610': 'opted_out',
      '63027': 'template_not_approved',
      '63028': 'template_params',
      '63003': 'recipient_unreachable',
      '63032': 'experiment',
      '63019': 'media',
      '21211': 'invalid_request',
      '20003': 'auth',
    };
    for (const [code, reason] of Object.entries(expected)) {
      const s = status({ ...CALLBACK, MessageStatus: 'undelivered', ErrorCode: code });
      assert.equal(s.reason, reason, code);
      assert.equal(s.errors?.[0]?.code, Number(code));
    }
  });

  it("carries back Parley's message id from the StatusCallback URL (unknown outcomes are claimed)", () => {
    const s = status({ ...CALLBACK, MessageStatus: 'sent' }, `${STATUS_URL}?ref=msg_01HXYZ`);
    assert.equal(s.callbackData, 'msg_01HXYZ');
  });

  it('recognises a status callback by its fields even on the inbound URL', () => {
    const s = status({ ...CALLBACK, MessageStatus: 'delivered' }, INBOUND_URL);
    assert.equal(s.status, 'delivered');
  });

  it('reads a GET-configured callback from the query, keeping the callback ref', () => {
    const query = new URLSearchParams({ ...CALLBACK, MessageStatus: 'read' }).toString();
    const [event] = parseTwilioWebhook(Buffer.alloc(0), {
      receivedAt: RECEIVED_AT,
      url: `${STATUS_URL}?ref=msg_01HXYZ&${query}`,
    });
    assert.equal(event?.kind, 'status');
    const s = event;
    assert.equal(s.status, 'read');
    assert.equal(s.providerMessageId, CALLBACK.MessageSid);
    assert.equal(s.callbackData, 'msg_01HXYZ');
  });

  it('keeps an inbound-side status (received) as a notice, never fatal', () => {
    const event = parseOne({ ...CALLBACK, MessageStatus: 'received' }, STATUS_URL);
    assert.equal(event.kind, 'notice');
    assert.equal(event.field, 'twilio_message_status');
  });
});
