// Provider connections made through the API whose provider is a fake server on 127.0.0.1: a Meta
// connection against a fake Graph API, a 360dialog one against a fake 360dialog.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { FakeGraphServer } from '../../src/adapters/providers/meta-cloud/testing/fake-graph-server.ts';
import type { TestParley } from './parley.ts';

export interface FakeMeta {
  readonly fake: FakeGraphServer;
  readonly connectionId: string;
  readonly channelId: string;
  readonly phoneNumberId: string;
  readonly wabaId: string;
  readonly appSecret: string;
  readonly accessToken: string;
}

let serial = 0;

/** A `meta` connection whose Graph API is a fake server, and one channel on it. */
export async function fakeMetaConnection(
  t: TestParley,
  options: { apiKey?: string; phoneNumber?: string } = {},
): Promise<FakeMeta> {
  serial++;
  const fake = await FakeGraphServer.start();
  const auth: Record<string, string> = options.apiKey
    ? { authorization: `Bearer ${options.apiKey}` }
    : {};
  const secrets = {
    accessToken: `EAAG-fake-${String(serial)}`,
    appSecret: `app-secret-${String(serial)}`,
    verifyToken: `verify-${String(serial)}`,
  };
  const connection = await t.api(
    'POST',
    '/v1/connections',
    {
      provider: 'meta',
      name: `Meta (fake) ${String(serial)}`,
      config: { baseUrl: fake.url },
      secrets,
    },
    auth,
  );
  assert.equal(connection.status, 201, JSON.stringify(connection.json));
  const phoneNumberId = `10654035224${String(1000 + serial)}`;
  const wabaId = `10229012934${String(1000 + serial)}`;
  const channel = await t.api(
    'POST',
    '/v1/channels',
    {
      connectionId: connection.json.id,
      name: `Support ${String(serial)}`,
      providerKey: phoneNumberId,
      phoneNumber: options.phoneNumber ?? `+1555078${String(3800 + serial)}`,
      wabaId,
    },
    auth,
  );
  assert.equal(channel.status, 201, JSON.stringify(channel.json));
  return {
    fake,
    connectionId: connection.json.id,
    channelId: channel.json.id,
    phoneNumberId,
    wabaId,
    appSecret: secrets.appSecret,
    accessToken: secrets.accessToken,
  };
}

/** Serves one media file the Graph way: `GET /{v}/{media-id}` → URL, then the bytes at that URL. */
export function serveMedia(
  fake: FakeGraphServer,
  input: { mediaId: string; bytes: Buffer; mimeType: string },
): void {
  const sha256 = createHash('sha256').update(input.bytes).digest('hex');
  fake.on('GET', `/v23.0/${input.mediaId}`, {
    status: 200,
    body: {
      messaging_product: 'whatsapp',
      url: `${fake.url}/whatsapp_business/attachments/?mid=${input.mediaId}`,
      mime_type: input.mimeType,
      sha256,
      file_size: String(input.bytes.length),
      id: input.mediaId,
    },
  });
  fake.on('GET', '/whatsapp_business/attachments/', (request) =>
    request.query.mid === input.mediaId
      ? { status: 200, headers: { 'content-type': input.mimeType }, body: input.bytes }
      : { status: 404, body: { error: { code: 100, message: 'unknown media' } } },
  );
}

/** Meta's answer for an expired or revoked token. */
export const EXPIRED_TOKEN = {
  status: 401,
  body: {
    error: {
      message: 'Error validating access token: Session has expired on Sunday, 01-Mar-26.',
      type: 'OAuthException',
      code: 190,
      error_subcode: 463,
      fbtrace_id: 'AtokenExpired',
    },
  },
};

/** A Cloud API webhook envelope around one change. */
export function envelope(
  wabaId: string,
  field: string,
  value: Record<string, unknown>,
  time?: number,
): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: wabaId,
        ...(time === undefined ? {} : { time: Math.floor(time / 1000) }),
        changes: [{ field, value }],
      },
    ],
  });
}

/** One inbound message of any type as Meta sends it. */
export function inboundBody(
  meta: Pick<FakeMeta, 'phoneNumberId' | 'wabaId'>,
  input: {
    from: string;
    id: string;
    at: number;
    type: string;
    [type: string]: unknown;
    name?: string;
  },
): string {
  const { from, id, at, type, name, ...rest } = input;
  return envelope(meta.wabaId, 'messages', {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: '15550783881', phone_number_id: meta.phoneNumberId },
    contacts: [{ profile: { name: name ?? 'Customer' }, wa_id: from }],
    messages: [{ from, id, timestamp: String(Math.floor(at / 1000)), type, ...rest }],
  });
}

/** A `failed` status with one Meta error, as the late webhook reports it (B.5). */
export function failedStatusBody(
  meta: Pick<FakeMeta, 'phoneNumberId' | 'wabaId'>,
  input: {
    id: string;
    recipient: string;
    at: number;
    code: number;
    title: string;
    details: string;
  },
): string {
  return envelope(meta.wabaId, 'messages', {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: '15550783881', phone_number_id: meta.phoneNumberId },
    statuses: [
      {
        id: input.id,
        status: 'failed',
        timestamp: String(Math.floor(input.at / 1000)),
        recipient_id: input.recipient,
        errors: [
          {
            code: input.code,
            title: input.title,
            message: input.title,
            error_data: { details: input.details },
            href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
          },
        ],
      },
    ],
  });
}
