// Twilio webhooks through the real HTTP ingress: X-Twilio-Signature over the public URL Twilio
// called (PARLEY_PUBLIC_URL, proxies, ports), stored before the acknowledgement, every fixture.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import {
  BUSINESS_SENDER,
  fakeTwilioConnection,
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
});
