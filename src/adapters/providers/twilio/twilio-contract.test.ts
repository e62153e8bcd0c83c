// The shared provider contract run against the Twilio adapter and a local fake Twilio, with
// webhooks signed by the official twilio package.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import type { RawWebhook } from '../../../ports/provider.ts';
import {
  runProviderContract,
  type ProviderContractHarness,
  type SentRequestView,
} from '../../../../test/contracts/provider-contract.ts';
import { FakeTwilioServer, twilioError } from './testing/fake-twilio-server.ts';
import { createTwilioProvider } from './twilio-provider.ts';
import { waIdOf } from './twilio-request-build.ts';

const ACCOUNT = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'contract_auth_token_0123456789abc';
const HX = 'HX0123456789abcdef0123456789abcdef';
const PUBLIC = 'https://parley.example.com/webhooks/twilio/conn_contract';
const BUSINESS = 'whatsapp:+15559870000';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function signed(url: string, params: Record<string, string>): RawWebhook {
  return {
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=UTF-8',
      'x-twilio-signature': getExpectedTwilioSignature(TOKEN, url, params),
    },
    query: {},
    body: Buffer.from(new URLSearchParams(params).toString()),
  };
}

async function makeHarness(): Promise<ProviderContractHarness> {
  const fake = await FakeTwilioServer.start({ accountSid: ACCOUNT, authToken: TOKEN });
  fake.contents = [
    {
      sid: HX,
      friendly_name: 'order_update',
      language: 'en',
      variables: { '1': 'name' },
      types: { 'twilio/text': { body: 'Hi {{1}}, your order shipped.' } },
      approval_requests: { name: 'order_update', category: 'UTILITY', status: 'approved' },
    },
  ];
  const settings = {
    accountSid: ACCOUNT,
    authToken: TOKEN,
    baseUrl: fake.url,
    contentBaseUrl: fake.url,
    statusCallbackUrl: `${PUBLIC}/status`,
  };
  const provider = createTwilioProvider(settings);
  const unreachable = createTwilioProvider({
    ...settings,
    baseUrl: `http://127.0.0.1:${await closedPort()}`,
  });
  return {
    provider,
    channel: { channelId: 'ch_contract', providerKey: BUSINESS, phoneNumber: '15559870000' },
    template: { name: 'order_update', language: 'en', ref: HX },
    windowClosedCode: '63016',
    lastSent(): SentRequestView | null {
      const last = fake.messages.at(-1);
      if (!last) return null;
      const to = waIdOf(last.form.get('To')?.[0] ?? '');
      const contentSid = last.form.get('ContentSid')?.[0];
      if (contentSid !== undefined) return { to, templateRef: contentSid };
      return { to, text: last.form.get('Body')?.[0] ?? '' };
    },
    failNextSend() {
      fake.on(
        'POST',
        /Messages\.json$/,
        twilioError(400, 21211, "The 'To' number is not a valid phone number."),
        1,
      );
      return { reason: 'invalid_request', providerCode: '21211' };
    },
    breakNextSend() {
      fake.on('POST', /Messages\.json$/, twilioError(500, 20500, 'Internal Server Error'), 1);
    },
    unreachableProvider: () => unreachable,
    signedInbound: ({ from, text, id }) =>
      signed(PUBLIC, {
        MessageSid: id,
        SmsMessageSid: id,
        AccountSid: ACCOUNT,
        From: `whatsapp:+${from}`,
        To: BUSINESS,
        WaId: from,
        ProfileName: 'Ada',
        MessageType: 'text',
        Body: text,
        NumMedia: '0',
        ApiVersion: '2010-04-01',
      }),
    signedStatus: ({ id, to, status, windowClosed }) =>
      signed(`${PUBLIC}/status`, {
        MessageSid: id,
        SmsSid: id,
        AccountSid: ACCOUNT,
        From: BUSINESS,
        To: `whatsapp:+${to}`,
        MessageStatus: status,
        SmsStatus: status,
        ChannelPrefix: 'whatsapp',
        ApiVersion: '2010-04-01',
        ...(windowClosed ? { ErrorCode: '63016' } : {}),
      }),
    tamper: (webhook) => {
      const params = new URLSearchParams(webhook.body.toString());
      params.set('Body', `${params.get('Body') ?? ''}!`);
      return { ...webhook, body: Buffer.from(params.toString()) };
    },
    unsign: (webhook) => {
      const headers = { ...webhook.headers };
      delete headers['x-twilio-signature'];
      return { ...webhook, headers };
    },
    close: () => fake.close(),
  };
}

runProviderContract('twilio', makeHarness);
