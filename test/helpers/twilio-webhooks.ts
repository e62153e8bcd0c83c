// Twilio as tests meet it: a connection and channel made through the API against a local fake
// Twilio, and webhooks signed by the official twilio package, posted through Parley's HTTP stack.
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { FakeTwilioServer } from '../../src/adapters/providers/twilio/testing/fake-twilio-server.ts';
import type { TestParley } from './parley.ts';

export const TWILIO_ACCOUNT = 'AC0123456789abcdef0123456789abcdef';
export const TWILIO_TOKEN = 'e2e_auth_token_0123456789abcdef0';
export const BUSINESS_SENDER = 'whatsapp:+15559870000';

export interface FakeTwilio {
  readonly fake: FakeTwilioServer;
  readonly connectionId: string;
  readonly channelId: string;
  /** The inbound webhook URL Parley shows for the connection (its public URL + path). */
  readonly webhookUrl: string;
}

/** A `twilio` connection whose API and Content API are a fake server, and one channel on it. */
export async function fakeTwilioConnection(
  t: TestParley,
  options: { sender?: string; config?: Record<string, unknown> } = {},
): Promise<FakeTwilio> {
  const fake = await FakeTwilioServer.start({
    accountSid: TWILIO_ACCOUNT,
    authToken: TWILIO_TOKEN,
  });
  const connection = await t.api('POST', '/v1/connections', {
    provider: 'twilio',
    name: 'Twilio (fake)',
    config: {
      baseUrl: fake.url,
      contentBaseUrl: fake.url,
      messagingBaseUrl: fake.url,
      ...options.config,
    },
    secrets: { accountSid: TWILIO_ACCOUNT, authToken: TWILIO_TOKEN },
  });
  assert.equal(connection.status, 201, JSON.stringify(connection.json));
  const sender = options.sender ?? BUSINESS_SENDER;
  const channel = await t.api('POST', '/v1/channels', {
    connectionId: connection.json.id,
    name: 'Support via Twilio',
    providerKey: sender,
    phoneNumber: sender.replace(/^whatsapp:/, ''),
  });
  assert.equal(channel.status, 201, JSON.stringify(channel.json));
  return {
    fake,
    connectionId: connection.json.id,
    channelId: channel.json.id,
    webhookUrl: connection.json.webhookUrl,
  };
}

/** The X-Twilio-Signature Twilio would send for this URL and these parameters. */
export function signTwilio(
  url: string,
  params: Record<string, string>,
  token = TWILIO_TOKEN,
): string {
  return getExpectedTwilioSignature(token, url, params);
}

export interface TwilioPost {
  readonly status: number;
  readonly text: string;
  readonly headers: Record<string, unknown>;
}

/**
 * Posts a form-encoded webhook to `url` (its path through Parley's HTTP stack), signed over
 * `signedUrl` (default: `url` itself, which is what Twilio called).
 */
export async function postTwilio(
  http: FastifyInstance,
  url: string,
  params: Record<string, string>,
  options: { signedUrl?: string; signature?: string | null; headers?: Record<string, string> } = {},
): Promise<TwilioPost> {
  const target = new URL(url);
  const signature =
    options.signature === undefined
      ? signTwilio(options.signedUrl ?? url, params)
      : options.signature;
  const response = await http.inject({
    method: 'POST',
    url: `${target.pathname}${target.search}`,
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=UTF-8',
      'user-agent': 'TwilioProxy/1.1',
      ...(signature === null ? {} : { 'x-twilio-signature': signature }),
      ...options.headers,
    },
    payload: new URLSearchParams(params).toString(),
  });
  // Processing is handed over right after the acknowledgement (setImmediate): let that happen.
  await new Promise((resolve) => setImmediate(resolve));
  return { status: response.statusCode, text: response.body, headers: response.headers };
}

/**
 * Calls a webhook configured with the GET method: `params` go in the query string, and the
 * signature covers that full URL with no POST parameters (as Twilio signs it).
 */
export async function getTwilio(
  http: FastifyInstance,
  url: string,
  params: Record<string, string>,
  options: { signature?: string | null; tamper?: (url: string) => string } = {},
): Promise<TwilioPost & { readonly url: string }> {
  const target = new URL(url);
  for (const [name, value] of Object.entries(params)) target.searchParams.append(name, value);
  const signed = target.toString();
  const signature = options.signature === undefined ? signTwilio(signed, {}) : options.signature;
  const called = new URL(options.tamper ? options.tamper(signed) : signed);
  const response = await http.inject({
    method: 'GET',
    url: `${called.pathname}${called.search}`,
    headers: {
      'user-agent': 'TwilioProxy/1.1',
      ...(signature === null ? {} : { 'x-twilio-signature': signature }),
    },
  });
  await new Promise((resolve) => setImmediate(resolve));
  return {
    status: response.statusCode,
    text: response.body,
    headers: response.headers,
    url: signed,
  };
}

let sid = 0;

/** A fresh Twilio message SID. */
export function nextSid(prefix = 'SM'): string {
  sid++;
  return `${prefix}${sid.toString(16).padStart(32, 'a')}`;
}

/** The fields of an inbound WhatsApp text as Twilio posts them. */
export function inboundText(from: string, body: string, extra: Record<string, string> = {}) {
  const id = nextSid();
  return {
    SmsMessageSid: id,
    NumMedia: '0',
    ProfileName: 'Ada',
    MessageType: 'text',
    SmsSid: id,
    WaId: from,
    SmsStatus: 'received',
    Body: body,
    To: BUSINESS_SENDER,
    NumSegments: '1',
    ReferralNumMedia: '0',
    MessageSid: id,
    AccountSid: TWILIO_ACCOUNT,
    From: `whatsapp:+${from}`,
    ApiVersion: '2010-04-01',
    ...extra,
  };
}

/** The fields of a status callback for a message Parley sent. */
export function statusCallback(
  messageSid: string,
  to: string,
  status: string,
  extra: Record<string, string> = {},
) {
  return {
    MessageSid: messageSid,
    SmsSid: messageSid,
    AccountSid: TWILIO_ACCOUNT,
    From: BUSINESS_SENDER,
    To: `whatsapp:+${to}`,
    MessageStatus: status,
    SmsStatus: status,
    ChannelPrefix: 'whatsapp',
    ApiVersion: '2010-04-01',
    ...extra,
  };
}
