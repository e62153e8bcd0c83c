// Provider-contract harnesses for Cloud API dialects (Meta, 360dialog, generic): a fake Graph server
// behind the provider, and Meta-shaped webhooks made authentic the way the dialect requires.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChannelAddress, Provider, RawWebhook } from '../../../../ports/provider.ts';
import { signMetaBody } from '../meta-signature.ts';
import { FakeGraphServer, type RecordedRequest } from './fake-graph-server.ts';

export const CONTRACT_CHANNEL: ChannelAddress = {
  channelId: 'ch_contract',
  providerKey: '106540352242922',
  phoneNumber: '15550783881',
  wabaId: '102290129340398',
};

/** How a dialect makes a webhook authentic: Meta's signature, a secret header, or both. */
export interface WebhookAuth {
  /** Meta app secret: bodies go out escaped and signed with `X-Hub-Signature-256`. */
  readonly appSecret?: string;
  /** A secret header registered with the webhook (360dialog). */
  readonly secretHeader?: { readonly name: string; readonly value: string };
}

type Json = Record<string, unknown>;

function envelope(value: Json): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: CONTRACT_CHANNEL.wabaId, changes: [{ field: 'messages', value }] }],
  });
}

const metadata = {
  display_phone_number: CONTRACT_CHANNEL.phoneNumber,
  phone_number_id: CONTRACT_CHANNEL.providerKey,
};

/** A Cloud API webhook with one inbound text (B.3/B.4). */
export function inboundTextJson(input: { from: string; text: string; id: string; at: number }) {
  return envelope({
    messaging_product: 'whatsapp',
    metadata,
    contacts: [{ profile: { name: 'Ada' }, wa_id: input.from }],
    messages: [
      {
        from: input.from,
        id: input.id,
        timestamp: String(Math.floor(input.at / 1000)),
        type: 'text',
        text: { body: input.text },
      },
    ],
  });
}

/** A Cloud API status webhook (B.5); a window-closed failure carries error 131047. */
export function statusJson(input: {
  id: string;
  to: string;
  status: 'delivered' | 'read' | 'failed';
  at: number;
  windowClosed?: boolean;
}) {
  return envelope({
    messaging_product: 'whatsapp',
    metadata,
    statuses: [
      {
        id: input.id,
        status: input.status,
        timestamp: String(Math.floor(input.at / 1000)),
        recipient_id: input.to,
        ...(input.windowClosed
          ? {
              errors: [
                {
                  code: 131047,
                  title: 'Re-engagement message',
                  message: 'Re-engagement message',
                  error_data: {
                    details:
                      'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
                  },
                  href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
                },
              ],
            }
          : {}),
      },
    ],
  });
}

/** The webhook as the dialect's sender would post it. */
export function authenticWebhook(json: string, auth: WebhookAuth, path = '/webhooks'): RawWebhook {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  let body: Buffer = Buffer.from(json, 'utf8');
  if (auth.appSecret) {
    const signed = signMetaBody(json, auth.appSecret);
    body = signed.body;
    headers['x-hub-signature-256'] = signed.signature;
  }
  if (auth.secretHeader) headers[auth.secretHeader.name.toLowerCase()] = auth.secretHeader.value;
  return { method: 'POST', url: `https://parley.example${path}`, headers, query: {}, body };
}

/** What a `/messages` request asked for, in the contract's neutral words. */
export function sentView(request: RecordedRequest | undefined) {
  const json = (request?.json ?? null) as Json | null;
  if (!json) return null;
  const text = (json.text as Json | undefined)?.body;
  const template = (json.template as Json | undefined)?.name;
  return {
    to: String(json.to),
    ...(typeof text === 'string' ? { text } : {}),
    ...(typeof template === 'string' ? { templateRef: template } : {}),
  };
}

export function lastMessagesRequest(fake: FakeGraphServer): RecordedRequest | undefined {
  return fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/messages')).at(-1);
}

/** Meta's answer to a bad parameter (code 100), the usual synchronous client error. */
export function invalidParameterReply() {
  return {
    status: 400,
    body: {
      error: {
        message: '(#100) Invalid parameter',
        type: 'OAuthException',
        code: 100,
        error_data: { messaging_product: 'whatsapp', details: 'Parameter to is invalid.' },
        fbtrace_id: 'AbCdEf123',
      },
    },
  };
}

/** An outage as Meta reports it (HTTP 500, code 131000). */
export function outageReply() {
  return {
    status: 500,
    body: {
      error: {
        message: '(#131000) Something went wrong',
        type: 'OAuthException',
        code: 131000,
        error_data: { messaging_product: 'whatsapp', details: 'Something went wrong' },
        fbtrace_id: 'AbCdEf456',
      },
    },
  };
}

/** An address nothing listens on (a port just freed): connecting fails before any byte is sent. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** Removes a header whatever its case. */
export function withoutHeader(webhook: RawWebhook, name: string): RawWebhook {
  const headers = Object.fromEntries(
    Object.entries(webhook.headers).filter(([k]) => k.toLowerCase() !== name.toLowerCase()),
  );
  return { ...webhook, headers };
}

/** The body changed after it was signed: one character of the message text. */
export function tamperedBody(webhook: RawWebhook): RawWebhook {
  const text = webhook.body.toString('utf8');
  const changed = text.replace('"body":"', '"body":"!');
  if (changed === text) throw new Error('no text body to tamper with');
  return { ...webhook, body: Buffer.from(changed, 'utf8') };
}

export type { Provider };
