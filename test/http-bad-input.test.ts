// Bad input to the HTTP API as a client meets it: a precise 4xx problem+json that says what is
// wrong, nothing written to the store, and never a 500 — whatever arrives.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { loadConfig } from '../src/app/config.ts';
import { buildHttpServer } from '../src/http/server.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { assertProblem, rawRequest, type Method } from './helpers/http-assert.ts';
import { describeChanges, snapshotStore } from './helpers/store-snapshot.ts';
import { freshPostgresUrl, postgresAvailable, requireServerOrSkip } from './helpers/databases.ts';
import type { InjectedResponse } from './helpers/meta-webhooks.ts';

const CUSTOMER = '447700900123';
const JSON_TYPE = { 'content-type': 'application/json' };

/** Runs a request that must be refused, and proves the store is byte-for-byte unchanged after it. */
async function refusedWithoutWrites(
  t: TestParley,
  request: () => Promise<{ status: number; json: any; headers: Record<string, unknown> }>,
  status: number,
  code: string,
  detail?: RegExp,
) {
  const before = snapshotStore(t);
  const response = await request();
  assertProblem(response, status, code, detail);
  const after = snapshotStore(t);
  assert.deepEqual(after, before, `a refused request wrote: ${describeChanges(before, after)}`);
  return response;
}

const textTo = (channelId: string, body = 'Your order ships today.', to = CUSTOMER) => ({
  channelId,
  to,
  type: 'text',
  text: { body },
});

describe('bad input to the /v1 API', () => {
  let t: TestParley;
  let conversationId: string;
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    t.api('POST', '/v1/messages', body, headers);

  before(async () => {
    t = await startTestParley();
    // An open window, so the very same request with good input would be accepted and stored.
    await t.world.userWrites(t.channel.providerKey, { from: CUSTOMER, name: 'Ada', text: 'Hi' });
    await t.settle();
    const list = await t.api('GET', '/v1/conversations');
    conversationId = list.json.items[0].id;
  });
  after(async () => t.close());

  describe('bodies that are not the JSON object the route takes', () => {
    it('malformed JSON is 400 malformed_json and writes nothing', async () => {
      await refusedWithoutWrites(
        t,
        () =>
          rawRequest(t, {
            method: 'POST',
            url: '/v1/messages',
            headers: JSON_TYPE,
            payload: `{"channelId":"${t.channel.id}","to":"${CUSTOMER}","type":"text",`,
          }),
        400,
        'malformed_json',
        /not valid JSON/,
      );
    });

    it('an empty body with Content-Type application/json is 400 malformed_json', async () => {
      await refusedWithoutWrites(
        t,
        () =>
          rawRequest(t, { method: 'POST', url: '/v1/messages', headers: JSON_TYPE, payload: '' }),
        400,
        'malformed_json',
        /body is empty/,
      );
    });

    it('a Content-Length that does not match the body is 400 malformed_json', async () => {
      await refusedWithoutWrites(
        t,
        () =>
          rawRequest(t, {
            method: 'POST',
            url: '/v1/messages',
            headers: { ...JSON_TYPE, 'content-length': '5' },
            payload: JSON.stringify(textTo(t.channel.id)),
          }),
        400,
        'malformed_json',
        /Content-Length/,
      );
    });

    for (const [what, payload] of [
      ['an array', '[]'],
      ['null', 'null'],
      ['a string', '"send it"'],
      ['a number', '42'],
    ] as const) {
      it(`JSON that is ${what} instead of an object is 400 validation_failed at "body"`, async () => {
        await refusedWithoutWrites(
          t,
          () => rawRequest(t, { method: 'POST', url: '/v1/messages', headers: JSON_TYPE, payload }),
          400,
          'validation_failed',
          /^body: .*expected object/,
        );
      });
    }

    it('a prototype-polluting body is refused and pollutes nothing', async () => {
      await refusedWithoutWrites(
        t,
        () =>
          rawRequest(t, {
            method: 'POST',
            url: '/v1/messages',
            headers: JSON_TYPE,
            payload: `{"__proto__":{"polluted":true},"channelId":"${t.channel.id}"}`,
          }),
        400,
        'malformed_json',
      );
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  });

  describe('fields of the wrong type, missing or unknown: 400 validation_failed naming the field', () => {
    it('wrong types name every offending field', async () => {
      const r = await refusedWithoutWrites(
        t,
        () => post({ channelId: t.channel.id, to: 447700900123, type: 'text', text: { body: 5 } }),
        400,
        'validation_failed',
        /body\.to: .*expected string.*body\.text\.body: .*expected string/,
      );
      assert.deepEqual(
        r.json.issues.map((i: { where: string }) => i.where),
        ['body.to', 'body.text.body'],
      );
    });

    it('a missing channelId is named', async () => {
      await refusedWithoutWrites(
        t,
        () => post({ to: CUSTOMER, type: 'text', text: { body: 'Hi' } }),
        400,
        'validation_failed',
        /body\.channelId/,
      );
    });

    it('a missing type is named, with the types that exist', async () => {
      await refusedWithoutWrites(
        t,
        () => post({ channelId: t.channel.id, to: CUSTOMER }),
        400,
        'validation_failed',
        /body\.type: .*'text'.*'template'/,
      );
    });

    it("a message type without its object is named (type text, no 'text')", async () => {
      await refusedWithoutWrites(
        t,
        () => post({ channelId: t.channel.id, to: CUSTOMER, type: 'text' }),
        400,
        'validation_failed',
        /body\.text: .*expected object/,
      );
    });

    it('an unknown message type is refused naming body.type', async () => {
      await refusedWithoutWrites(
        t,
        () => post({ channelId: t.channel.id, to: CUSTOMER, type: 'fax', fax: { pages: 3 } }),
        400,
        'validation_failed',
        /body\.type: Invalid discriminator value/,
      );
    });

    it('unknown fields are named, nested or at the top', async () => {
      await refusedWithoutWrites(
        t,
        () =>
          post({
            channelId: t.channel.id,
            to: CUSTOMER,
            type: 'text',
            text: { body: 'Hi', colour: 'red' },
          }),
        400,
        'validation_failed',
        /body\.text: Unrecognized key: "colour"/,
      );
      await refusedWithoutWrites(
        t,
        () => post({ ...textTo(t.channel.id), priority: 'high' }),
        400,
        'validation_failed',
        /^body: Unrecognized key: "priority"/,
      );
    });

    it('a recipient that cannot be an E.164 number is 400 invalid_request', async () => {
      await refusedWithoutWrites(
        t,
        () => post(textTo(t.channel.id, 'Hi', 'call-me-maybe')),
        400,
        'invalid_request',
        /"call-me-maybe" is not an E\.164 phone number/,
      );
    });

    it('query parameters out of range name the parameter', async () => {
      const huge = await t.api('GET', '/v1/conversations?limit=99999999999999999999');
      assertProblem(huge, 400, 'validation_failed', /querystring\.limit: .*<=200/);
      assertProblem(
        await t.api('GET', '/v1/conversations?limit=abc'),
        400,
        'validation_failed',
        /querystring\.limit/,
      );
      assertProblem(
        await t.api('GET', '/v1/conversations?limit=0'),
        400,
        'validation_failed',
        /querystring\.limit: .*>=1/,
      );
      assertProblem(
        await t.api('GET', '/v1/conversations?state=snoozed'),
        400,
        'validation_failed',
        /querystring\.state: .*"open"\|"closed"/,
      );
      assertProblem(
        await t.api('GET', `/v1/contacts/${t.channel.id}/eligibility`),
        400,
        'validation_failed',
        /querystring\.channel/,
      );
    });

    it('admin bodies are checked the same way (channel number, provider, throughput)', async () => {
      const connectionId = t.channel.connectionId;
      await refusedWithoutWrites(
        t,
        () =>
          t.api('POST', '/v1/channels', {
            connectionId,
            name: 'Sales',
            providerKey: '555',
            phoneNumber: 'not-a-number',
          }),
        400,
        'validation_failed',
        /body\.phoneNumber: an E\.164 number/,
      );
      await refusedWithoutWrites(
        t,
        () => t.api('POST', '/v1/connections', { provider: 'telegram', name: 'TG' }),
        400,
        'validation_failed',
        /body\.provider: .*"meta"/,
      );
      await refusedWithoutWrites(
        t,
        () => t.api('PATCH', `/v1/channels/${t.channel.id}`, { throughputMps: 1e308 }),
        400,
        'validation_failed',
        /body\.throughputMps/,
      );
      await refusedWithoutWrites(
        t,
        () =>
          t.api('POST', '/v1/connections', {
            provider: 'meta',
            name: 'Meta',
            secrets: { appSecret: 'x' },
          }),
        400,
        'invalid_request',
        /needs secrets: accessToken, verifyToken/,
      );
    });
  });

  describe('size and media type', () => {
    it('a body over PARLEY_BODY_LIMIT is 413 payload_too_large naming the limit', async () => {
      const limit = t.parley.config.bodyLimit;
      assert.equal(limit, 1_048_576, 'the documented default');
      const body = JSON.stringify(textTo(t.channel.id, 'x'.repeat(limit)));
      await refusedWithoutWrites(
        t,
        () =>
          rawRequest(t, { method: 'POST', url: '/v1/messages', headers: JSON_TYPE, payload: body }),
        413,
        'payload_too_large',
        new RegExp(`larger than the ${limit} bytes`),
      );
    });

    it('PARLEY_BODY_LIMIT sets the limit of the API and of webhook ingress alike', async () => {
      const config = loadConfig({ PARLEY_DATA_DIR: '/nonexistent', PARLEY_BODY_LIMIT: '2048' });
      assert.equal(config.bodyLimit, 2048);
      const http = await buildHttpServer({
        deps: t.parley.deps,
        bodyLimit: config.bodyLimit,
        version: 'test',
        onWebhookStored: () => undefined,
        onMessageQueued: () => undefined,
      });
      try {
        const before = snapshotStore(t);
        const big = JSON.stringify(textTo(t.channel.id, 'x'.repeat(2100)));
        const api = await http.inject({
          method: 'POST',
          url: '/v1/messages',
          headers: { ...JSON_TYPE, authorization: `Bearer ${t.apiKey}` },
          payload: big,
        });
        assert.equal(api.statusCode, 413);
        assert.match(api.json<{ detail: string }>().detail, /larger than the 2048 bytes/);
        const webhook = await http.inject({
          method: 'POST',
          url: `/webhooks/meta/${t.channel.connectionId}`,
          headers: JSON_TYPE,
          payload: big,
        });
        assert.equal(webhook.statusCode, 413);
        assert.equal(webhook.json<{ code: string }>().code, 'payload_too_large');
        // Just under the limit is read and judged on its content (here: an unknown channel).
        const under = await http.inject({
          method: 'POST',
          url: '/v1/messages',
          headers: { ...JSON_TYPE, authorization: `Bearer ${t.apiKey}` },
          payload: JSON.stringify(textTo('no-such-channel', 'x'.repeat(1900))),
        });
        assert.equal(under.statusCode, 404);
        assert.deepEqual(snapshotStore(t), before);
      } finally {
        await http.close();
      }
    });

    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/xml',
      'application/octet-stream',
      'multipart/form-data; boundary=x',
    ]) {
      it(`a ${type.split(';')[0]} body is 415 unsupported_media_type`, async () => {
        await refusedWithoutWrites(
          t,
          () =>
            rawRequest(t, {
              method: 'POST',
              url: '/v1/messages',
              headers: { 'content-type': type },
              payload: type.startsWith('text/')
                ? JSON.stringify(textTo(t.channel.id))
                : 'channelId=x&to=y',
            }),
          415,
          'unsupported_media_type',
          new RegExp(
            `Content-Type ${type.split(';')[0]!.replace(/[+/]/g, '\\$&')}.*application/json`,
          ),
        );
      });
    }
  });

  describe('authentication: 401 unauthenticated', () => {
    it('no Authorization header, another scheme, or an unknown key is refused and writes nothing', async () => {
      await refusedWithoutWrites(
        t,
        () =>
          rawRequest(t, {
            method: 'POST',
            url: '/v1/messages',
            headers: JSON_TYPE,
            payload: JSON.stringify(textTo(t.channel.id)),
            auth: null,
          }),
        401,
        'unauthenticated',
        /Authorization: Bearer <key>/,
      );
      await refusedWithoutWrites(
        t,
        () =>
          rawRequest(t, {
            method: 'GET',
            url: '/v1/conversations',
            auth: null,
            headers: { authorization: `Basic ${Buffer.from('user:pass').toString('base64')}` },
          }),
        401,
        'unauthenticated',
        /Bearer/,
      );
      await refusedWithoutWrites(
        t,
        () =>
          post(textTo(t.channel.id), { authorization: 'Bearer pk_definitely_not_a_real_key_0000' }),
        401,
        'unauthenticated',
        /not valid \(unknown or revoked\)/,
      );
    });

    it('every /v1 route asks for a key before looking at anything else', async () => {
      const routes: Array<[Method, string]> = [
        ['GET', '/v1/conversations'],
        ['GET', `/v1/conversations/${conversationId}`],
        ['PATCH', `/v1/conversations/${conversationId}`],
        ['GET', `/v1/conversations/${conversationId}/messages`],
        ['GET', '/v1/contacts'],
        ['GET', '/v1/connections'],
        ['POST', '/v1/connections'],
        ['GET', `/v1/channels/${t.channel.id}`],
        ['PATCH', `/v1/channels/${t.channel.id}`],
        ['GET', '/v1/api-keys'],
        ['POST', '/v1/api-keys'],
        ['DELETE', '/v1/api-keys/some-id'],
        ['POST', '/v1/messages'],
        ['GET', '/v1/messages/some-id'],
      ];
      for (const [method, url] of routes) {
        const body = method === 'POST' || method === 'PATCH' ? '{"name":"x"}' : undefined;
        const response = await rawRequest(t, {
          method,
          url,
          auth: null,
          ...(body ? { payload: body, headers: JSON_TYPE } : {}),
        });
        assertProblem(response, 401, 'unauthenticated');
      }
    });

    it('a revoked key stops working at once, even right after it was used', async () => {
      const created = await t.api('POST', '/v1/api-keys', { name: 'CI robot' });
      assert.equal(created.status, 201);
      const key: string = created.json.key;
      const use = () =>
        t.api('GET', '/v1/conversations', undefined, { authorization: `Bearer ${key}` });
      assert.equal((await use()).status, 200);
      const revoked = await t.api('DELETE', `/v1/api-keys/${created.json.id}`);
      assert.equal(revoked.status, 204);
      assertProblem(await use(), 401, 'unauthenticated', /revoked/);
      await refusedWithoutWrites(
        t,
        () => post(textTo(t.channel.id), { authorization: `Bearer ${key}` }),
        401,
        'unauthenticated',
      );
      const keys = await t.api('GET', '/v1/api-keys');
      const listed = keys.json.items.find((k: { id: string }) => k.id === created.json.id);
      assert.ok(listed.revokedAt, 'the list shows when it was revoked');
      assertProblem(
        await t.api('DELETE', `/v1/api-keys/${created.json.id}`),
        404,
        'not_found',
        /No API key/,
      );
    });
  });

  describe('unknown things: 404 not_found', () => {
    it('sending from an unknown channel is 404 and writes nothing', async () => {
      await refusedWithoutWrites(
        t,
        () => post(textTo('no-such-channel')),
        404,
        'not_found',
        /No channel no-such-channel in this workspace/,
      );
    });

    it('unknown ids on every read and change route are 404 naming what is missing', async () => {
      const cases: Array<[Method, string, RegExp, unknown?]> = [
        ['GET', '/v1/messages/m-404', /No message m-404/],
        ['GET', '/v1/conversations/c-404', /No conversation c-404/],
        ['PATCH', '/v1/conversations/c-404', /No conversation c-404/, { state: 'closed' }],
        ['GET', '/v1/conversations/c-404/messages', /No conversation c-404/],
        ['GET', '/v1/contacts/k-404', /No contact k-404/],
        ['GET', `/v1/contacts/k-404/eligibility?channel=${t.channel.id}`, /No contact k-404/],
        ['GET', '/v1/connections/x-404', /No connection x-404/],
        ['PATCH', '/v1/connections/x-404', /No connection x-404/, { name: 'renamed' }],
        ['GET', '/v1/channels/ch-404', /No channel ch-404/],
        ['PATCH', '/v1/channels/ch-404', /No channel ch-404/, { name: 'renamed' }],
        ['DELETE', '/v1/api-keys/key-404', /No API key key-404/],
      ];
      for (const [method, url, detail, body] of cases)
        await refusedWithoutWrites(
          t,
          () => t.api(method as 'GET', url, body),
          404,
          'not_found',
          detail,
        );
      await refusedWithoutWrites(
        t,
        () =>
          t.api('POST', '/v1/channels', {
            connectionId: 'x-404',
            name: 'Sales',
            providerKey: '555',
            phoneNumber: '+15550001111',
          }),
        404,
        'not_found',
        /No connection x-404/,
      );
    });

    it('an unknown route or a wrong method is a 404 problem naming the request', async () => {
      assertProblem(
        await t.api('GET', '/v1/unicorns'),
        404,
        'not_found',
        /No route for GET \/v1\/unicorns/,
      );
      assertProblem(
        await rawRequest(t, {
          method: 'PUT',
          url: '/v1/messages',
          headers: JSON_TYPE,
          payload: '{}',
        }),
        404,
        'not_found',
        /PUT \/v1\/messages/,
      );
    });
  });

  describe('page cursors', () => {
    it('an invalid cursor is 400 invalid_request on every paged list, not a 500', async () => {
      const forged = Buffer.from('[1,2]').toString('base64url'); // decodes, but is not a cursor
      for (const cursor of ['garbage', forged, '%25%25%25', '🙃']) {
        const q = `cursor=${encodeURIComponent(cursor)}`;
        for (const url of [
          `/v1/conversations?${q}`,
          `/v1/contacts?${q}`,
          `/v1/conversations/${conversationId}/messages?${q}`,
        ])
          assertProblem(
            await t.api('GET', url),
            400,
            'invalid_request',
            /cursor is not a valid page cursor/,
          );
      }
    });

    it('the cursor a page hands out leads to the next page', async () => {
      await t.world.userWrites(t.channel.providerKey, { from: '4915112345678', text: 'Hallo' });
      await t.settle();
      const first = await t.api('GET', '/v1/conversations?limit=1');
      assert.equal(first.json.items.length, 1);
      assert.ok(first.json.nextCursor);
      const second = await t.api(
        'GET',
        `/v1/conversations?limit=1&cursor=${encodeURIComponent(first.json.nextCursor)}`,
      );
      assert.equal(second.status, 200);
      assert.equal(second.json.items.length, 1);
      assert.notEqual(second.json.items[0].id, first.json.items[0].id);
    });
  });

  describe("LIM-6: WhatsApp's limits, checked before anything is stored (400 invalid_request)", () => {
    const interactiveButtons = (n: number, title = (i: number) => `Option ${i}`) => ({
      channelId: t.channel.id,
      to: CUSTOMER,
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'Pick one' },
        action: {
          buttons: Array.from({ length: n }, (_, i) => ({
            type: 'reply',
            reply: { id: `b${i}`, title: title(i) },
          })),
        },
      },
    });

    it('LIM-6: 4 reply buttons are refused with the 1 to 3 limit in the detail', async () => {
      await refusedWithoutWrites(
        t,
        () => post(interactiveButtons(4)),
        400,
        'invalid_request',
        /reply buttons: 4 given; WhatsApp allows 1 to 3/,
      );
    });

    it('LIM-6: a reply button title over 20 characters is refused naming the button', async () => {
      await refusedWithoutWrites(
        t,
        () => post(interactiveButtons(2, (i) => (i === 1 ? 'A very long button title' : 'Yes'))),
        400,
        'invalid_request',
        /interactive\.action\.buttons\[1\]\.reply\.title is 24 characters; WhatsApp allows at most 20/,
      );
    });

    it('LIM-6: a text of 4097 characters is refused with the 4096 limit in the detail', async () => {
      await refusedWithoutWrites(
        t,
        () => post(textTo(t.channel.id, 'x'.repeat(4097))),
        400,
        'invalid_request',
        /text\.body is 4097 characters; WhatsApp allows at most 4096/,
      );
    });

    it('LIM-6: 4096 characters are accepted, counting an emoji once', async () => {
      const sent = await post(textTo(t.channel.id, '👍'.repeat(4096)));
      assert.equal(sent.status, 202, JSON.stringify(sent.json));
    });

    it('LIM-6: a list of 11 rows is refused with the 10-row limit', async () => {
      await refusedWithoutWrites(
        t,
        () =>
          post({
            channelId: t.channel.id,
            to: CUSTOMER,
            type: 'interactive',
            interactive: {
              type: 'list',
              body: { text: 'Choose a slot' },
              action: {
                button: 'Slots',
                sections: [
                  {
                    title: 'Monday',
                    rows: Array.from({ length: 11 }, (_, i) => ({
                      id: `r${i}`,
                      title: `${9 + i}:00`,
                    })),
                  },
                ],
              },
            },
          }),
        400,
        'invalid_request',
        /list rows: 11 given in all; WhatsApp allows 1 to 10/,
      );
    });

    it('LIM-6: a caption over 1024 characters and a media with both id and link are refused', async () => {
      await refusedWithoutWrites(
        t,
        () =>
          post({
            channelId: t.channel.id,
            to: CUSTOMER,
            type: 'image',
            image: { link: 'https://example.com/a.jpg', caption: 'c'.repeat(1025) },
          }),
        400,
        'invalid_request',
        /image\.caption is 1025 characters; WhatsApp allows at most 1024/,
      );
      await refusedWithoutWrites(
        t,
        () =>
          post({
            channelId: t.channel.id,
            to: CUSTOMER,
            type: 'image',
            image: { id: '1234', link: 'https://example.com/a.jpg' },
          }),
        400,
        'invalid_request',
        /image needs exactly one of id or link/,
      );
    });
  });

  describe('LIM-6: POST /v1/media refuses a file WhatsApp would not take, before anything is stored', () => {
    const PNG = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
      'base64',
    );
    const upload = (payload: Buffer, type: string, query = '') =>
      rawRequest(t, {
        method: 'POST',
        url: `/v1/media?channelId=${t.channel.id}${query}`,
        payload,
        headers: { 'content-type': type, 'x-filename': 'file.bin' },
      });

    it('LIM-6: an image over 5 MB is 413 payload_too_large with the limit in the detail', async () => {
      await refusedWithoutWrites(
        t,
        () => upload(Buffer.alloc(5 * 1024 * 1024 + 1), 'image/jpeg'),
        413,
        'payload_too_large',
        /image file is 5242881 bytes; WhatsApp allows at most 5242880/,
      );
    });

    it('LIM-6: a sticker over 500 KB is 413; an audio file of 17 MB too', async () => {
      await refusedWithoutWrites(
        t,
        () => upload(Buffer.alloc(500 * 1024 + 1), 'image/webp'),
        413,
        'payload_too_large',
        /sticker file is 512001 bytes/,
      );
      await refusedWithoutWrites(
        t,
        () => upload(Buffer.alloc(17 * 1024 * 1024), 'audio/mpeg'),
        413,
        'payload_too_large',
        /audio file is 17825792 bytes; WhatsApp allows at most 16777216/,
      );
    });

    it('LIM-6: a type WhatsApp does not take for that message type is 415 naming the types it takes', async () => {
      await refusedWithoutWrites(
        t,
        () => upload(PNG, 'image/gif', '&type=image'),
        415,
        'unsupported_media_type',
        /image files must be image\/jpeg, image\/png; got image\/gif/,
      );
      await refusedWithoutWrites(
        t,
        () => upload(PNG, 'audio/ogg; codecs=vorbis'),
        415,
        'unsupported_media_type',
        /ogg audio must use the Opus codec/,
      );
    });

    it('an empty file is 400 invalid_request, and a body with no Content-Type is 415', async () => {
      await refusedWithoutWrites(
        t,
        () => upload(Buffer.alloc(0), 'image/png'),
        400,
        'invalid_request',
        /The uploaded file is empty/,
      );
      await refusedWithoutWrites(
        t,
        () =>
          rawRequest(t, {
            method: 'POST',
            url: `/v1/media?channelId=${t.channel.id}`,
            payload: PNG,
          }),
        415,
        'unsupported_media_type',
        /own Content-Type/,
      );
    });

    it('a multipart form without a file part is 400, and an unknown channel 404', async () => {
      const form = new FormData();
      form.set('note', 'no file here');
      const encoded = new Response(form);
      const body = Buffer.from(await encoded.arrayBuffer());
      await refusedWithoutWrites(
        t,
        () =>
          rawRequest(t, {
            method: 'POST',
            url: `/v1/media?channelId=${t.channel.id}`,
            payload: body,
            headers: { 'content-type': encoded.headers.get('content-type') ?? '' },
          }),
        400,
        'invalid_request',
        /no "file" part/,
      );
      await refusedWithoutWrites(
        t,
        () =>
          rawRequest(t, {
            method: 'POST',
            url: '/v1/media?channelId=nope',
            payload: PNG,
            headers: { 'content-type': 'image/png' },
          }),
        404,
        'not_found',
        /No channel nope/,
      );
      await refusedWithoutWrites(
        t,
        () =>
          rawRequest(t, {
            method: 'POST',
            url: '/v1/media',
            payload: PNG,
            headers: { 'content-type': 'image/png' },
          }),
        400,
        'validation_failed',
        /channelId/,
      );
    });

    it('a good file is 201 with its id; /v1/messages sends it by id as its link, and the file reads back', async () => {
      const ok = await upload(PNG, 'image/png');
      assert.equal(ok.status, 201, JSON.stringify(ok.json));
      assert.equal(ok.json.type, 'image');
      assert.equal(ok.json.size, PNG.length);
      const back = await rawRequest(t, { method: 'GET', url: `/v1/media/${ok.json.id}` });
      assert.equal(back.status, 200);
      assert.equal(back.headers['content-type'], 'image/png');
      const sent = await post({
        channelId: t.channel.id,
        to: CUSTOMER,
        type: 'image',
        image: { id: ok.json.id, caption: 'Your receipt' },
      });
      assert.equal(sent.status, 202, JSON.stringify(sent.json));
      assert.match(sent.json.content.image.link, new RegExp(`/graph/files/${ok.json.id}\\?token=`));
      // The same upload sent as what it cannot be: refused before anything is stored (LIM-6).
      await refusedWithoutWrites(
        t,
        () =>
          post({
            channelId: t.channel.id,
            to: CUSTOMER,
            type: 'sticker',
            sticker: { id: ok.json.id },
          }),
        400,
        'invalid_request',
        /sticker files must be image\/webp; got image\/png/,
      );
    });
    it('extraMedia named by upload ids go out as their links; one that cannot be its type is refused naming extraMedia[n]', async () => {
      const first = await upload(PNG, 'image/png');
      const second = await upload(PNG, 'image/png');
      assert.equal(second.status, 201, JSON.stringify(second.json));
      await refusedWithoutWrites(
        t,
        () =>
          post({
            channelId: t.channel.id,
            to: CUSTOMER,
            type: 'image',
            image: { id: first.json.id },
            extraMedia: [{ type: 'sticker', id: second.json.id }],
          }),
        400,
        'invalid_request',
        /^extraMedia\[0\]: sticker files must be image\/webp; got image\/png$/,
      );
      const sent = await post({
        channelId: t.channel.id,
        to: CUSTOMER,
        type: 'image',
        image: { id: first.json.id, caption: 'Front' },
        extraMedia: [{ id: second.json.id }],
      });
      assert.equal(sent.status, 202, JSON.stringify(sent.json));
      assert.deepEqual(
        sent.json.messages.map((m: { content: { image: { link: string } } }) =>
          new URL(m.content.image.link).pathname.split('/').pop(),
        ),
        [first.json.id, second.json.id],
      );
    });
  });

  describe('LIM-7: Idempotency-Key', () => {
    it('LIM-7: a repeat returns the first result with Idempotent-Replayed: true and creates nothing', async () => {
      const body = textTo(t.channel.id, 'Your refund was issued.');
      const first = await post(body, { 'idempotency-key': 'refund-1042' });
      assert.equal(first.status, 202, JSON.stringify(first.json));
      assert.equal(first.headers['idempotent-replayed'], undefined);
      const before = snapshotStore(t);
      const again = await post(body, { 'idempotency-key': 'refund-1042' });
      assert.equal(again.status, 200);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal(again.json.id, first.json.id);
      assert.equal(again.json.idempotencyKey, 'refund-1042');
      assert.deepEqual(snapshotStore(t), before, 'a replay writes nothing');
    });

    it('LIM-7: a replayed refusal answers the same stored refusal again', async () => {
      // A number that never wrote in: free-form is refused (window_closed) and stored as refused.
      const body = textTo(t.channel.id, 'Hello there', '12025550123');
      const first = await post(body, { 'idempotency-key': 'cold-hello' });
      assertProblem(first, 422, 'window_closed');
      const before = snapshotStore(t);
      const again = await post(body, { 'idempotency-key': 'cold-hello' });
      assertProblem(again, 422, 'window_closed');
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal(again.json.messageId, first.json.messageId);
      assert.deepEqual(snapshotStore(t), before);
    });

    it('LIM-7: the same key with a different body is 409 idempotency_conflict and writes nothing', async () => {
      const first = await post(textTo(t.channel.id, 'Order 1 shipped'), {
        'idempotency-key': 'ship-1',
      });
      assert.equal(first.status, 202);
      await refusedWithoutWrites(
        t,
        () => post(textTo(t.channel.id, 'Order 2 shipped'), { 'idempotency-key': 'ship-1' }),
        409,
        'idempotency_conflict',
        /Idempotency-Key "ship-1" was already used with a different request/,
      );
    });

    it('LIM-7: the same key sent eight times at once creates one message', async () => {
      const customer = '33612345678';
      await t.world.userWrites(t.channel.providerKey, { from: customer, text: 'Bonjour' });
      await t.settle();
      const body = textTo(t.channel.id, 'Parallel hello', customer);
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => post(body, { 'idempotency-key': 'burst-1' })),
      );
      assertOneMessageForBurst(answers);
      const conversations = await t.api('GET', `/v1/conversations?channel=${t.channel.id}`);
      const conversation = conversations.json.items.find(
        (c: { contact: { waId: string } }) => c.contact.waId === customer,
      );
      const transcript = await t.api('GET', `/v1/conversations/${conversation.id}/messages`);
      assert.deepEqual(
        transcript.json.items.map((m: { text: string }) => m.text),
        ['Bonjour', 'Parallel hello'],
      );
      // Earlier sends to another customer are paced ahead of it (LIM-2); give the queue time.
      for (let round = 0; round < 20 && receivedByCustomer(t, 'Parallel hello') === 0; round++)
        await t.settle(15_000);
      assert.equal(receivedByCustomer(t, 'Parallel hello'), 1, 'the customer got it once');
    });
  });
});

/** How many texts with this body WhatsApp (the sandbox) accepted for delivery. */
function receivedByCustomer(t: TestParley, body: string): number {
  return t.world
    .outbound(t.channel.providerKey)
    .filter((m) => (m.content as { body?: string } | null)?.body === body).length;
}

/** One request created the message; the others are replays of it. */
function assertOneMessageForBurst(
  answers: Array<{ status: number; json: any; headers: Record<string, unknown> }>,
) {
  const ids = new Set(answers.map((a) => a.json.id as string));
  assert.equal(
    ids.size,
    1,
    `one message id for one key: ${JSON.stringify(answers.map((a) => a.json))}`,
  );
  assert.equal(answers.filter((a) => a.status === 202).length, 1);
  assert.equal(
    answers.filter((a) => a.status === 200 && a.headers['idempotent-replayed'] === 'true').length,
    answers.length - 1,
  );
}

/**
 * The store's close() resolves once its pool has let go of every client, but a client's socket
 * may still be saying goodbye; dropping the database "with (force)" at that instant makes the
 * server kill it, and pg raises that as an uncaught error. Wait until the server has seen them go.
 */
async function untilDisconnected(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    for (let i = 0; i < 100; i++) {
      const r = await client.query<{ n: string }>(
        'select count(*) as n from pg_stat_activity where datname = $1',
        [name],
      );
      if (Number(r.rows[0]?.n ?? 0) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await client.end();
  }
}

const postgresSkip = requireServerOrSkip(await postgresAvailable(), 'PostgreSQL');

describe(
  'LIM-7 on PostgreSQL, where concurrent transactions really overlap',
  { skip: postgresSkip },
  () => {
    it('LIM-7: the same key sent eight times at once creates one message and queues one send', async () => {
      const db = await freshPostgresUrl();
      const t = await startTestParley({ databaseUrl: db.url });
      try {
        await t.world.userWrites(t.channel.providerKey, { from: CUSTOMER, text: 'Hi' });
        await t.settle();
        const body = textTo(t.channel.id, 'Parallel hello');
        const answers = await Promise.all(
          Array.from({ length: 8 }, () =>
            t.api('POST', '/v1/messages', body, { 'idempotency-key': 'burst-pg' }),
          ),
        );
        assertOneMessageForBurst(answers);
        const conversation = (await t.api('GET', '/v1/conversations')).json.items[0];
        const transcript = await t.api('GET', `/v1/conversations/${conversation.id}/messages`);
        assert.equal(
          transcript.json.items.filter((m: { text: string }) => m.text === 'Parallel hello').length,
          1,
        );
        await t.settle(15_000);
        assert.equal(receivedByCustomer(t, 'Parallel hello'), 1, 'the customer got it once');
      } finally {
        await t.close();
        await untilDisconnected(db.url);
        await db.drop();
      }
    });
  },
);

// ---------------------------------------------------------------------------------------------

/** A small deterministic generator, so a failing junk request can be reproduced. */
function prng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256))),
  };
}

describe('junk at every route', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
    await t.world.userWrites(t.channel.providerKey, { from: CUSTOMER, name: 'Ada', text: 'Hi' });
    await t.settle();
  });
  after(async () => t.close());

  it('never answers 5xx, and every error is problem+json', async () => {
    const conversation = (await t.api('GET', '/v1/conversations')).json.items[0];
    const message = (await t.api('GET', `/v1/conversations/${conversation.id}/messages`)).json
      .items[0];
    const spareKey = (await t.api('POST', '/v1/api-keys', { name: 'spare' })).json;
    const ids = [
      t.channel.id,
      t.channel.connectionId,
      conversation.id,
      conversation.contactId,
      message.id,
      spareKey.id,
      'x',
      '0',
      '-1',
      '9'.repeat(40),
      '1e309',
      '%00',
      '..%2F..%2Fetc%2Fpasswd',
      encodeURIComponent('💥🙃 ünïcödé'),
      encodeURIComponent("' or 1=1 --"),
      '%E0%A4%A', // broken percent-encoding
      'a'.repeat(150), // longer than the router takes
      '%F0%9F%92',
    ];
    const paths = [
      '/healthz',
      '/readyz',
      '/metrics',
      '/v1/openapi.json',
      '/v1/messages',
      '/v1/messages/:id',
      '/v1/conversations',
      '/v1/conversations/:id',
      '/v1/conversations/:id/messages',
      '/v1/contacts',
      '/v1/contacts/:id',
      '/v1/contacts/:id/eligibility',
      '/v1/connections',
      '/v1/connections/:id',
      '/v1/channels',
      '/v1/channels/:id',
      '/v1/api-keys',
      '/v1/api-keys/:id',
      '/v1/media',
      '/v1/media/:id',
      '/v1/webhook-endpoints',
      '/v1/webhook-endpoints/:id',
      '/v1/webhook-endpoints/:id/deliveries',
      '/v1/webhook-endpoints/:id/replay',
      '/v1/webhook-endpoints/:id/ping',
      '/v1/webhook-endpoints/:id/rotate-secret',
      '/webhooks/meta/:id',
      '/webhooks/360dialog/:id',
      '/webhooks/cloud/:id',
      '/webhooks/twilio/:id',
      '/v1',
      '/',
    ];
    const methods: Method[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
    const queries = [
      '',
      '?limit=1e309',
      '?limit=-5',
      '?limit=99999999999999999999999',
      '?limit=1&limit=2',
      '?cursor=' + 'A'.repeat(600),
      '?cursor=eyJ9',
      `?channel=${t.channel.id}&contact=x&state=open&assignee=none`,
      '?channel[]=1&channel[]=2',
      '?hub.mode=subscribe&hub.challenge=1&hub.challenge=2&hub.verify_token=x',
      '?hub.mode=subscribe&hub.challenge=%00&hub.verify_token=',
      '?search=' + encodeURIComponent('%_\\\'"'),
      '?__proto__[x]=1&constructor[prototype][y]=2',
    ];
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const jsonJunk = [
      '{}',
      '[]',
      'null',
      'true',
      '1e309',
      '-0',
      '"\\ud800"',
      deep(5_000),
      `{"config":${'{"a":'.repeat(2_000)}1${'}'.repeat(2_000)}}`,
      '{"name":"💥","throughputMps":1e308,"environment":"prod"}',
      '{"name":"\\u0000\\u202e","state":"closed","assigneeId":null}',
      `{"channelId":"${t.channel.id}","to":"+${'9'.repeat(300)}","type":"text","text":{"body":"hi"}}`,
      `{"channelId":"${t.channel.id}","to":"${CUSTOMER}","type":"location","location":{"latitude":1e309,"longitude":"x"}}`,
      `{"channelId":"${t.channel.id}","to":"${CUSTOMER}","type":"template","template":{"name":"","language":{"code":"e"}}}`,
      `{"channelId":"${t.channel.id}","to":"${CUSTOMER}","type":"contacts","contacts":[]}`,
      '{"provider":"meta","name":"x","secrets":{"accessToken":"","appSecret":"a","verifyToken":"v"}}',
      '{"provider":"cloud","name":"x","secrets":{"token":"t"}}',
      '{"provider":"twilio","name":"x","secrets":{"accountSid":"a","authToken":"b"}}',
      '{"connectionId":{"$ne":null},"name":"x","providerKey":"1","phoneNumber":"+15550001111"}',
      `{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"id":null}]}}]}]}`,
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"admin":true}}}',
      JSON.stringify(Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, i]))),
    ];
    const contentTypes = [
      'application/json',
      'application/json; charset=utf-16',
      'text/plain',
      'application/octet-stream',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=----x',
      'application/problem+json',
      '',
      '💥/💥',
    ];
    const rnd = prng(20_260_302);
    const requests: Array<{
      method: Method;
      url: string;
      payload?: string | Buffer;
      headers: Record<string, string>;
      auth?: string | null;
    }> = [];
    // The id a path really takes, so junk reaches past the "not found" check.
    const realId = (path: string): string =>
      path.startsWith('/v1/messages/')
        ? message.id
        : path.startsWith('/v1/conversations/')
          ? conversation.id
          : path.startsWith('/v1/contacts/')
            ? conversation.contactId
            : path.startsWith('/v1/channels/')
              ? t.channel.id
              : path.startsWith('/v1/api-keys/')
                ? spareKey.id
                : t.channel.connectionId;
    // Every path × method with every junk body, every path × query on GET, then a seeded
    // random mix of everything.
    for (const path of paths)
      for (const method of methods) {
        if (method === 'GET' || method === 'HEAD') {
          for (const query of queries)
            requests.push({ method, url: path.replace(':id', realId(path)) + query, headers: {} });
          continue;
        }
        for (const payload of jsonJunk)
          requests.push({
            method,
            url: path.replace(':id', realId(path)),
            payload,
            headers: { 'content-type': 'application/json' },
          });
      }
    for (let i = 0; i < 800; i++) {
      const method = rnd.pick(methods);
      const url = rnd.pick(paths).replace(':id', rnd.pick(ids)) + rnd.pick(queries);
      const kind = rnd.int(4);
      const payload =
        method === 'GET' || method === 'HEAD'
          ? undefined
          : kind === 0
            ? rnd.bytes(rnd.int(2_000))
            : kind === 1
              ? rnd.bytes(8).toString('latin1') + rnd.pick(jsonJunk)
              : rnd.pick(jsonJunk);
      const contentType = rnd.pick(contentTypes);
      const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
      if (rnd.int(5) === 0) headers['idempotency-key'] = rnd.pick(['k', '💥', 'x'.repeat(300)]);
      if (rnd.int(6) === 0)
        headers['x-hub-signature-256'] = rnd.pick(['sha256=', 'sha256=zz', 'md5=1']);
      const auth = rnd.pick([undefined, undefined, undefined, null, 'bogus', '💥']);
      requests.push({ method, url, headers, ...(payload !== undefined ? { payload } : {}), auth });
    }
    const failures: string[] = [];
    for (const r of requests) {
      let response: InjectedResponse;
      try {
        response = await rawRequest(t, r);
      } catch (error) {
        // inject itself refuses headers Node would never send (e.g. non-ASCII): not a server answer.
        if (error instanceof TypeError && /header/i.test(error.message)) continue;
        throw error;
      }
      const what = `${r.method} ${r.url.slice(0, 120)} [${r.headers['content-type'] ?? 'no type'}]`;
      if (response.status >= 500)
        failures.push(`${what} → ${response.status} ${response.text.slice(0, 200)}`);
      else if (
        response.status >= 400 &&
        r.method !== 'HEAD' &&
        !/^application\/problem\+json/.test(String(response.headers['content-type']))
      )
        failures.push(
          `${what} → ${response.status} not problem+json: ${response.text.slice(0, 200)}`,
        );
      if (/\bat .+\.(?:ts|js):\d+/.test(response.text))
        failures.push(`${what} leaks a stack trace`);
    }
    assert.deepEqual(
      failures,
      [],
      `${failures.length} of ${requests.length} junk requests misbehaved`,
    );
    // And Parley still works afterwards.
    assert.equal((await rawRequest(t, { method: 'GET', url: '/healthz' })).status, 200);
    const sent = await t.api('POST', '/v1/messages', textTo(t.channel.id, 'Still here'));
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
  });
});
