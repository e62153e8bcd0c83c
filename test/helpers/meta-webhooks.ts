// Meta webhooks through the real HTTP ingress: a meta connection and channel made by API, signed
// bodies posted with inject, and the shared pywa fixtures (absent on a fresh clone).
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestParley } from './parley.ts';

/** `<repo>/../shared/fixtures/`: real provider payloads, read in place, never copied. */
export const SHARED_FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));
export const NEEDS_FIXTURES: string | false = existsSync(SHARED_FIXTURES)
  ? false
  : 'needs ../shared/fixtures (absent on a fresh clone)';

/** `X-Hub-Signature-256` for these exact bytes. */
export function signMeta(body: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}

export interface InjectedResponse {
  status: number;
  json: any;
  text: string;
  headers: Record<string, unknown>;
}

/** A raw POST to a webhook path: the body's bytes go out exactly as given. */
export async function postWebhook(
  t: TestParley,
  path: string,
  body: Buffer | string,
  headers: Record<string, string> = {},
): Promise<InjectedResponse> {
  const response = await t.parley.http.inject({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/json', ...headers },
    payload: body,
  });
  return toResult(response);
}

/** A signed Meta webhook to a connection's `/webhooks/meta/{id}`. */
export function postSigned(
  t: TestParley,
  connectionId: string,
  body: Buffer | string,
  appSecret: string,
): Promise<InjectedResponse> {
  return postWebhook(t, `/webhooks/meta/${connectionId}`, body, {
    'x-hub-signature-256': signMeta(body, appSecret),
  });
}

export function toResult(response: {
  statusCode: number;
  body: string;
  headers: Record<string, unknown>;
}): InjectedResponse {
  let json: unknown = null;
  try {
    json = response.body ? JSON.parse(response.body) : null;
  } catch {
    json = null;
  }
  return { status: response.statusCode, json, text: response.body, headers: response.headers };
}

/**
 * Acknowledged webhooks are handed to processing on the next turn of the event loop (after the
 * response is on its way); wait for that turn, then let the processor finish.
 */
export async function processAcknowledged(t: TestParley): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await t.settle();
}

export interface MetaSetup {
  connectionId: string;
  channelId: string;
  appSecret: string;
  verifyToken: string;
  accessToken: string;
}

let serial = 0;

/** A `meta` connection and one channel on it, created through the API with the given key. */
export async function createMetaChannel(
  t: TestParley,
  options: {
    providerKey: string;
    phoneNumber?: string;
    wabaId?: string;
    appSecret?: string;
    verifyToken?: string;
    apiKey?: string;
    name?: string;
  },
): Promise<MetaSetup> {
  serial++;
  const secrets = {
    accessToken: `EAAG-test-access-token-${serial}`,
    appSecret: options.appSecret ?? `app-secret-${serial}-${Math.random().toString(36).slice(2)}`,
    verifyToken: options.verifyToken ?? `verify-token-${serial}`,
  };
  const auth: Record<string, string> = options.apiKey
    ? { authorization: `Bearer ${options.apiKey}` }
    : {};
  const connection = await t.api(
    'POST',
    '/v1/connections',
    { provider: 'meta', name: options.name ?? `Meta ${serial}`, secrets },
    auth,
  );
  if (connection.status !== 201)
    throw new Error(`connection not created: ${JSON.stringify(connection.json)}`);
  const channel = await t.api(
    'POST',
    '/v1/channels',
    {
      connectionId: connection.json.id,
      name: `Number ${serial}`,
      providerKey: options.providerKey,
      phoneNumber: options.phoneNumber ?? '+15550783881',
      ...(options.wabaId ? { wabaId: options.wabaId } : {}),
    },
    auth,
  );
  if (channel.status !== 201)
    throw new Error(`channel not created: ${JSON.stringify(channel.json)}`);
  return {
    connectionId: connection.json.id,
    channelId: channel.json.id,
    ...secrets,
  };
}

/** A Meta-shaped inbound text webhook body (as Meta sends it: compact JSON). */
export function metaTextBody(input: {
  phoneNumberId: string;
  from: string;
  id: string;
  text: string;
  at: number;
  name?: string;
}): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: {
                display_phone_number: '15550783881',
                phone_number_id: input.phoneNumberId,
              },
              contacts: [{ profile: { name: input.name ?? 'Customer' }, wa_id: input.from }],
              messages: [
                {
                  from: input.from,
                  id: input.id,
                  timestamp: String(Math.floor(input.at / 1000)),
                  type: 'text',
                  text: { body: input.text },
                },
              ],
            },
          },
        ],
      },
    ],
  });
}

/** A Meta-shaped status webhook body for one message. */
export function metaStatusBody(input: {
  phoneNumberId: string;
  id: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  recipient: string;
  at: number;
  callbackData?: string;
}): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: {
                display_phone_number: '15550783881',
                phone_number_id: input.phoneNumberId,
              },
              statuses: [
                {
                  id: input.id,
                  status: input.status,
                  timestamp: String(Math.floor(input.at / 1000)),
                  recipient_id: input.recipient,
                  ...(input.callbackData ? { biz_opaque_callback_data: input.callbackData } : {}),
                },
              ],
            },
          },
        ],
      },
    ],
  });
}
