// Twilio webhooks through the real HTTP ingress: X-Twilio-Signature over the public URL Twilio
// called (PARLEY_PUBLIC_URL, proxies, ports), stored before the acknowledgement, every fixture.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import twilio from 'twilio';
import {
  BUSINESS_SENDER,
  TWILIO_TOKEN,
  fakeTwilioConnection,
  getTwilio,
  inboundText,
  postTwilio,
  signTwilio,
  statusCallback,
  type FakeTwilio,
} from './helpers/twilio-webhooks.ts';
import {
  NEEDS_TWILIO_FIXTURES,
  twilioFixtureParams,
} from '../src/adapters/providers/twilio/testing/twilio-fixtures.ts';

const CUSTOMER = '61400000001';
const PUBLIC = 'https://parley.example.com';

/** How many webhooks the store holds, whatever their state. */
async function storedWebhooks(t: TestParley): Promise<number> {
  const states = ['received', 'processed', 'unrouted', 'failed'] as const;
  let total = 0;
  for (const s of states) total += await t.parley.deps.store.webhooks.countByState(s);
  return total;
}

describe('Twilio webhook ingress with PARLEY_PUBLIC_URL', () => {
  let t: TestParley;
  let tw: FakeTwilio;
  before(async () => {
    t = await startTestParley({ env: { PARLEY_PUBLIC_URL: PUBLIC } });
    tw = await fakeTwilioConnection(t, { sender: 'whatsapp:+61400999999' });
  });
  after(async () => {
    await tw.fake.close();
    await t.close();
  });

  /** A request that must be refused with `status` and leave no stored webhook behind. */
  async function refused(
    status: number,
    url: string,
    params: Record<string, string>,
    options: Parameters<typeof postTwilio>[3] = {},
  ): Promise<void> {
    const before = await storedWebhooks(t);
    const response = await postTwilio(t.parley.http, url, params, options);
    assert.equal(response.status, status, response.text);
    assert.match(String(response.headers['content-type']), /application\/problem\+json/);
    assert.equal(await storedWebhooks(t), before);
  }

  it('refuses a Twilio channel whose providerKey is not a whatsapp:+E164 sender', async () => {
    for (const providerKey of ['+61400999998', '61400999998', 'whatsapp:61400999998']) {
      const response = await t.api('POST', '/v1/channels', {
        connectionId: tw.connectionId,
        name: 'Wrong key',
        providerKey,
        phoneNumber: '+61400999998',
      });
      assert.equal(response.status, 400, JSON.stringify(response.json));
      assert.match(response.json.detail, /whatsapp:\+E164/);
    }
  });

  it('shows the webhook URL under the public URL', () => {
    assert.equal(tw.webhookUrl, `${PUBLIC}/webhooks/twilio/${tw.connectionId}`);
  });

  it(
    'CSW-1: the CTWA fixture signed by the twilio package is stored, acknowledged and keeps ctwa_clid',
    { skip: NEEDS_TWILIO_FIXTURES },
    async () => {
      const params = twilioFixtureParams('synthetic__inbound_whatsapp_ctwa.json');
      const before = await storedWebhooks(t);
      const response = await postTwilio(t.parley.http, tw.webhookUrl, params);
      assert.equal(response.status, 200, response.text);
      assert.equal(await storedWebhooks(t), before + 1, 'stored before the acknowledgement');
      await t.settle();
      const conversations = await t.api('GET', `/v1/conversations?channel=${tw.channelId}`);
      const conversation = conversations.json.items[0];
      assert.equal(conversation.contact.waId, CUSTOMER);
      assert.equal(conversation.contact.name, 'Ad Clicker');
      const transcript = await t.api('GET', `/v1/conversations/${conversation.id}/messages`);
      const message = transcript.json.items[0];
      assert.equal(message.text, 'Hi, saw your ad');
      assert.equal(message.content.referral.ctwa_clid, 'ARAbc123ClickId');
      assert.equal(message.content.referral.source_url, 'https://fb.me/example-ad');
    },
  );

  it(
    'STA-2: the failed-63016 fixture for a message Parley never sent is acknowledged and harmless',
    { skip: NEEDS_TWILIO_FIXTURES },
    async () => {
      const params = {
        ...twilioFixtureParams('synthetic__status_callback_failed_63016.json'),
        From: 'whatsapp:+61400999999',
      };
      const response = await postTwilio(t.parley.http, `${tw.webhookUrl}/status`, params);
      assert.equal(response.status, 200, response.text);
      await t.settle();
    },
  );

  it('refuses a tampered parameter (401 bad_signature) and stores nothing', async () => {
    const params = inboundText(CUSTOMER, 'Pay 10', { To: 'whatsapp:+61400999999' });
    await refused(
      401,
      tw.webhookUrl,
      { ...params, Body: 'Pay 1000' },
      {
        signature: signTwilio(tw.webhookUrl, params),
      },
    );
  });

  it('refuses a signature made for another URL: the status URL, another host, another connection', async () => {
    const params = inboundText(CUSTOMER, 'Hi', { To: 'whatsapp:+61400999999' });
    await refused(401, tw.webhookUrl, params, { signedUrl: `${tw.webhookUrl}/status` });
    await refused(401, tw.webhookUrl, params, {
      signedUrl: tw.webhookUrl.replace('parley.example.com', 'attacker.example.com'),
    });
    await refused(401, tw.webhookUrl, params, {
      signedUrl: `http://127.0.0.1:8080/webhooks/twilio/${tw.connectionId}`,
    });
  });

  it('ignores X-Forwarded-Host once a public URL is configured', async () => {
    const params = inboundText(CUSTOMER, 'Hi', { To: 'whatsapp:+61400999999' });
    const path = `/webhooks/twilio/${tw.connectionId}`;
    await refused(401, tw.webhookUrl, params, {
      signedUrl: `https://proxy.example.net${path}`,
      headers: { 'x-forwarded-host': 'proxy.example.net', 'x-forwarded-proto': 'https' },
    });
  });

  it('accepts the default port added by a load balancer and keeps the query string signed', async () => {
    const params = inboundText(CUSTOMER, 'Port?', { To: 'whatsapp:+61400999999' });
    const withPort = tw.webhookUrl.replace(PUBLIC, `${PUBLIC}:443`);
    const ok = await postTwilio(t.parley.http, tw.webhookUrl, params, { signedUrl: withPort });
    assert.equal(ok.status, 200, ok.text);
    const query = `${tw.webhookUrl}?source=console&x=a%20b`;
    const withQuery = await postTwilio(
      t.parley.http,
      query,
      inboundText(CUSTOMER, 'Query?', { To: 'whatsapp:+61400999999' }),
    );
    assert.equal(withQuery.status, 200, withQuery.text);
    const changed = inboundText(CUSTOMER, 'Query!', { To: 'whatsapp:+61400999999' });
    await refused(401, `${tw.webhookUrl}?source=attacker`, changed, {
      signedUrl: `${tw.webhookUrl}?source=console`,
    });
  });

  it('refuses a webhook without X-Twilio-Signature (401)', async () => {
    await refused(401, tw.webhookUrl, inboundText(CUSTOMER, 'Hi'), { signature: null });
  });

  it('answers 404 for an unknown connection and for a connection of another provider', async () => {
    await refused(
      404,
      `${PUBLIC}/webhooks/twilio/conn_does_not_exist`,
      inboundText(CUSTOMER, 'Hi'),
    );
    const sandboxConnection = t.channel.connectionId;
    await refused(
      404,
      `${PUBLIC}/webhooks/twilio/${sandboxConnection}`,
      inboundText(CUSTOMER, 'Hi'),
    );
  });

  it('keeps a signed webhook for a sender Parley does not know as unrouted (200)', async () => {
    const unrouted = await t.parley.deps.store.webhooks.countByState('unrouted');
    const response = await postTwilio(
      t.parley.http,
      tw.webhookUrl,
      inboundText(CUSTOMER, 'Hi', { To: 'whatsapp:+19998887777' }),
    );
    assert.equal(response.status, 200, response.text);
    await t.settle();
    assert.equal(await t.parley.deps.store.webhooks.countByState('unrouted'), unrouted + 1);
  });

  it('STA-2: an inbound webhook configured with GET is verified over its full URL, stored once and processed once', async () => {
    const params = inboundText(CUSTOMER, 'Sent by GET', { To: 'whatsapp:+61400999999' });
    const before = await storedWebhooks(t);
    const first = await getTwilio(t.parley.http, tw.webhookUrl, params);
    assert.equal(first.status, 200, first.text);
    // The signature Parley accepted is the one Twilio's own library checks: the URL, no params.
    const signature = signTwilio(first.url, {});
    assert.equal(twilio.validateRequest(TWILIO_TOKEN, signature, first.url, {}), true);
    assert.equal(await storedWebhooks(t), before + 1, 'stored before the acknowledgement');
    const again = await getTwilio(t.parley.http, tw.webhookUrl, params);
    assert.equal(again.status, 200, again.text);
    await t.settle();
    const conversations = await t.api('GET', `/v1/conversations?channel=${tw.channelId}`);
    const conversation = conversations.json.items.find(
      (c: { contact: { waId: string } }) => c.contact.waId === CUSTOMER,
    );
    const transcript = await t.api('GET', `/v1/conversations/${conversation.id}/messages`);
    const received = transcript.json.items.filter(
      (m: { providerMessageId: string }) => m.providerMessageId === params.MessageSid,
    );
    assert.equal(received.length, 1, 'a re-delivery changes nothing');
    assert.equal(received[0].text, 'Sent by GET');
    assert.equal(received[0].direction, 'inbound');
  });

  it('refuses a GET webhook whose query was tampered with (401) and stores nothing', async () => {
    const params = inboundText(CUSTOMER, 'Pay 10', { To: 'whatsapp:+61400999999' });
    const before = await storedWebhooks(t);
    const tampered = await getTwilio(t.parley.http, tw.webhookUrl, params, {
      tamper: (url) => url.replace('Pay+10', 'Pay+1000'),
    });
    assert.equal(tampered.status, 401, tampered.text);
    assert.match(String(tampered.headers['content-type']), /application\/problem\+json/);
    const added = await getTwilio(t.parley.http, tw.webhookUrl, params, {
      tamper: (url) => `${url}&Body=extra`,
    });
    assert.equal(added.status, 401, added.text);
    const unsigned = await getTwilio(t.parley.http, tw.webhookUrl, params, { signature: null });
    assert.equal(unsigned.status, 401, unsigned.text);
    assert.equal(await storedWebhooks(t), before);
  });

  it('answers 400 for a signed body that is not a Twilio webhook, storing nothing', async () => {
    await refused(400, tw.webhookUrl, { Hello: 'world' });
  });
});

describe('Twilio webhook ingress behind a proxy, no public URL configured', () => {
  let t: TestParley;
  let tw: FakeTwilio;
  before(async () => {
    t = await startTestParley();
    tw = await fakeTwilioConnection(t);
  });
  after(async () => {
    await tw.fake.close();
    await t.close();
  });

  it('verifies against the URL the proxy names in X-Forwarded-Proto and X-Forwarded-Host', async () => {
    const path = `/webhooks/twilio/${tw.connectionId}`;
    const tunnel = `https://abc123.ngrok.app${path}`;
    const response = await postTwilio(
      t.parley.http,
      tw.webhookUrl,
      inboundText('447700900123', 'Hi'),
      {
        signedUrl: tunnel,
        headers: { 'x-forwarded-host': 'abc123.ngrok.app', 'x-forwarded-proto': 'https' },
      },
    );
    assert.equal(response.status, 200, response.text);
    const forged = await postTwilio(
      t.parley.http,
      tw.webhookUrl,
      inboundText('447700900123', 'Hi'),
      {
        signedUrl: tunnel,
        headers: { 'x-forwarded-host': 'other.ngrok.app', 'x-forwarded-proto': 'https' },
      },
    );
    assert.equal(forged.status, 401);
  });

  it('verifies the local URL when no proxy headers come', async () => {
    const response = await postTwilio(
      t.parley.http,
      tw.webhookUrl,
      inboundText('447700900123', 'Hi'),
    );
    assert.equal(response.status, 200, response.text);
    assert.match(tw.webhookUrl, /^http:\/\/127\.0\.0\.1:8080\//);
  });

  it('STA-1: a status callback is routed by its From, the business sender', async () => {
    await t.settle();
    const sent = await t.api('POST', '/v1/messages', {
      channelId: tw.channelId,
      to: '447700900123',
      type: 'text',
      text: { body: 'Hello from Twilio' },
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    await t.settle();
    const message = (await t.api('GET', `/v1/messages/${sent.json.id}`)).json;
    const response = await postTwilio(
      t.parley.http,
      `${tw.webhookUrl}/status`,
      statusCallback(message.providerMessageId, '447700900123', 'delivered', {
        From: BUSINESS_SENDER,
      }),
    );
    assert.equal(response.status, 200, response.text);
    await t.settle();
    assert.equal((await t.api('GET', `/v1/messages/${sent.json.id}`)).json.status, 'delivered');
  });

  it('STA-1: a status callback configured with GET moves the message forward, once', async () => {
    const sent = await t.api('POST', '/v1/messages', {
      channelId: tw.channelId,
      to: '447700900123',
      type: 'text',
      text: { body: 'Read me' },
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    await t.settle(10_000);
    const message = (await t.api('GET', `/v1/messages/${sent.json.id}`)).json;
    const callbackUrl = tw.fake.messages.at(-1)?.form.get('StatusCallback')?.[0];
    assert.ok(callbackUrl, 'the send named its status callback');
    const params = statusCallback(message.providerMessageId, '447700900123', 'read');
    for (let i = 0; i < 2; i++) {
      const response = await getTwilio(t.parley.http, callbackUrl, params);
      assert.equal(response.status, 200, response.text);
    }
    await t.settle();
    const after = (await t.api('GET', `/v1/messages/${sent.json.id}`)).json;
    assert.equal(after.status, 'read');
    assert.equal(
      after.statuses.filter((s: { status: string }) => s.status === 'read').length,
      1,
      'STA-2: the repeated callback is recorded once',
    );
  });
});
