// The Cloud-API-compatible endpoint driven by the real whatsapp-api-js client: sends take Parley's
// policy and queue and go out through the sandbox provider; refusals come back in Meta's envelope.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { WhatsAppAPI } from 'whatsapp-api-js';
import type { ClientMessage } from 'whatsapp-api-js/types';
import { BodyComponent, BodyParameter, Image, Template, Text } from 'whatsapp-api-js/messages';
import { createApiKey } from '../src/app/admin.ts';
import { resolveUploads } from '../src/app/graph-media.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { GRAPH_VERSION, cloudApiClient, parleyFetch } from './helpers/cloud-api-client.ts';

const HOUR = 3_600_000;

/** The string-recipient form existing Cloud API client code is written with (deprecated in v6). */
function send(
  client: WhatsAppAPI,
  phoneId: string,
  to: string,
  message: ClientMessage,
  context?: string,
) {
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- what deployed code calls today
  return client.sendMessage(phoneId, to, message, context);
}
const CUSTOMER = '447700900123';

describe('Cloud-API-compatible messages through whatsapp-api-js', () => {
  let t: TestParley;
  let inboundWamid: string;
  before(async () => {
    t = await startTestParley();
    const inbound = await t.world.userWrites(t.channel.providerKey, {
      from: CUSTOMER,
      name: 'Ada',
      text: 'Where is my order #1042?',
    });
    inboundWamid = inbound.id;
    await t.settle();
  });
  after(async () => t.close());

  it('CSW-3: a text sent by the client is queued by Parley, answered Meta-shaped and delivered through the provider', async () => {
    const client = cloudApiClient(t);
    const response = await send(
      client,
      t.channel.providerKey,
      `+${CUSTOMER}`,
      new Text('It ships today.'),
    );
    assert.ok('messages' in response, JSON.stringify(response));
    assert.equal(response.messaging_product, 'whatsapp');
    assert.deepEqual(response.contacts, [{ input: `+${CUSTOMER}`, wa_id: CUSTOMER }]);
    const id = response.messages[0].id;
    await t.settle(15_000);
    const stored = await t.api('GET', `/v1/messages/${id}`);
    assert.equal(stored.status, 200, 'the id answered is the Parley message id');
    assert.ok(['delivered', 'read'].includes(stored.json.status), JSON.stringify(stored.json));
    const out = t.world.message(stored.json.providerMessageId);
    assert.deepEqual(out?.content, { body: 'It ships today.' });
  });

  it('the Parley channel id works as the phone-number-id too', async () => {
    const client = cloudApiClient(t);
    const response = await send(client, t.channel.id, CUSTOMER, new Text('Same thread.'));
    assert.ok('messages' in response, JSON.stringify(response));
  });

  it('a reply with context quotes the inbound message by the wamid the client saw in its webhook', async () => {
    const client = cloudApiClient(t);
    const response = await send(
      client,
      t.channel.providerKey,
      CUSTOMER,
      new Text('About #1042: it left the warehouse.'),
      inboundWamid,
    );
    assert.ok('messages' in response, JSON.stringify(response));
    await t.settle(15_000);
    const stored = await t.api('GET', `/v1/messages/${response.messages[0].id}`);
    assert.equal(t.world.message(stored.json.providerMessageId)?.replyTo, inboundWamid);
  });

  it('mark-as-read by the inbound wamid turns the blue ticks on at the provider', async () => {
    const client = cloudApiClient(t);
    assert.equal(t.world.readByBusiness(inboundWamid), false);
    const response = await client.markAsRead(t.channel.providerKey, inboundWamid);
    assert.deepEqual(response, { success: true });
    assert.equal(t.world.readByBusiness(inboundWamid), true);
  });

  it('mark-as-read of an id this number never received is a Meta code 100 error', async () => {
    const client = cloudApiClient(t);
    const response = await client.markAsRead(t.channel.providerKey, 'wamid.nope');
    assert.ok('error' in response);
    assert.equal(response.error?.code, 100);
  });

  it('CSW-2: after 24 h a free-form text is refused with Meta 131047 in Meta’s error envelope', async () => {
    await t.clock.advance(24 * HOUR + 1_000);
    const client = cloudApiClient(t);
    const response = await send(client, t.channel.providerKey, CUSTOMER, new Text('Hello?'));
    assert.ok('error' in response, JSON.stringify(response));
    const error = response.error as unknown as Record<string, unknown>;
    assert.equal(error.code, 131047);
    assert.equal(error.type, 'OAuthException');
    assert.equal(error.message, '(#131047) Re-engagement message');
    assert.deepEqual(Object.keys(error.error_data as object).sort(), [
      'details',
      'messaging_product',
    ]);
    assert.match(String(error.fbtrace_id), /^\S{8,}$/);
    const parley = error.parley as { code: string; message_id: string };
    assert.equal(parley.code, 'window_closed');
    const stored = await t.api('GET', `/v1/messages/${parley.message_id}`);
    assert.equal(stored.json.status, 'refused', 'the refusal is stored like any other send');
  });

  it('CSW-3: a template goes out after the window closed, answered with message_status accepted', async () => {
    const client = cloudApiClient(t);
    const response = await send(
      client,
      t.channel.providerKey,
      CUSTOMER,
      new Template(
        'order_update',
        'en',
        new BodyComponent(
          new BodyParameter('Ada'),
          new BodyParameter('1042'),
          new BodyParameter('out for delivery'),
        ),
      ),
    );
    assert.ok('messages' in response, JSON.stringify(response));
    assert.equal(response.messages[0].message_status, 'accepted');
    await t.settle(15_000);
    const stored = await t.api('GET', `/v1/messages/${response.messages[0].id}`);
    assert.ok(['delivered', 'read'].includes(stored.json.status), JSON.stringify(stored.json));
    assert.match(stored.json.text, /1042/);
  });

  it('TPL-9: a template that is not approved is refused with Meta 132001', async () => {
    const created = await t.api('POST', '/v1/templates', {
      name: 'pickup_notice',
      language: 'en_GB',
      category: 'UTILITY',
      channelId: t.channel.id,
      components: [
        {
          type: 'BODY',
          text: 'Hi {{1}}, your order {{2}} is ready for pickup.',
          example: { body_text: [['Ada', '1042']] },
        },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const client = cloudApiClient(t);
    const response = await send(
      client,
      t.channel.providerKey,
      CUSTOMER,
      new Template(
        'pickup_notice',
        'en_GB',
        new BodyComponent(new BodyParameter('Ada'), new BodyParameter('1042')),
      ),
    );
    assert.ok('error' in response, JSON.stringify(response));
    assert.equal(response.error?.code, 132001);
  });

  it('TPL-10: a template with the wrong parameter count is refused with Meta 132000', async () => {
    const client = cloudApiClient(t);
    const response = await send(
      client,
      t.channel.providerKey,
      CUSTOMER,
      new Template('order_update', 'en', new BodyComponent(new BodyParameter('Ada'))),
    );
    assert.ok('error' in response, JSON.stringify(response));
    assert.equal(response.error?.code, 132000);
  });
});

describe('Cloud-API-compatible endpoint: bad input and tenancy', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
  });
  after(async () => t.close());

  const post = (path: string, payload: string, headers: Record<string, string> = {}) =>
    t.parley.http.inject({
      method: 'POST',
      url: `/graph/${GRAPH_VERSION}/${path}`,
      headers: {
        authorization: `Bearer ${t.apiKey}`,
        'content-type': 'application/json',
        ...headers,
      },
      payload,
    });
  const metaError = (body: string) =>
    (JSON.parse(body) as { error: { code: number; error_subcode?: number; type: string } }).error;

  it('answers a missing or unknown Bearer token with Meta 190 and HTTP 401', async () => {
    const response = await post(`${t.channel.providerKey}/messages`, '{}', {
      authorization: 'Bearer not-a-key',
    });
    assert.equal(response.statusCode, 401);
    assert.equal(metaError(response.body).code, 190);
    const none = await t.parley.http.inject({
      method: 'POST',
      url: `/graph/${GRAPH_VERSION}/${t.channel.providerKey}/messages`,
    });
    assert.equal(none.statusCode, 401);
    assert.equal(metaError(none.body).type, 'OAuthException');
  });

  it('answers malformed JSON, unknown types, missing fields and unknown paths with Meta errors, never a 500', async () => {
    const path = `${t.channel.providerKey}/messages`;
    const cases: ReadonlyArray<readonly [string, string, number]> = [
      [path, '{"messaging_product":"whatsapp",', 100],
      [path, '[]', 100],
      [path, '"text"', 100],
      [path, JSON.stringify({ to: CUSTOMER, type: 'text', text: { body: 'x' } }), 100],
      [
        path,
        JSON.stringify({ messaging_product: 'whatsapp', type: 'text', text: { body: 'x' } }),
        100,
      ],
      [
        path,
        JSON.stringify({ messaging_product: 'whatsapp', to: CUSTOMER, type: 'hologram' }),
        131051,
      ],
      [path, JSON.stringify({ messaging_product: 'whatsapp', to: CUSTOMER, type: 'text' }), 100],
      [
        path,
        JSON.stringify({ messaging_product: 'whatsapp', to: 'nobody', text: { body: 'x' } }),
        100,
      ],
      [path, JSON.stringify({ messaging_product: 'whatsapp', status: 'read' }), 100],
      [`${t.channel.providerKey}/nothing-here`, '{}', 100],
    ];
    for (const [url, payload, code] of cases) {
      const response = await post(url, payload);
      assert.equal(response.statusCode, 400, `${payload} → ${response.body}`);
      assert.equal(metaError(response.body).code, code, `${payload} → ${response.body}`);
    }
    const wrongType = await post(path, 'to=1', { 'content-type': 'text/plain' });
    assert.equal(wrongType.statusCode, 400);
    assert.equal(metaError(wrongType.body).code, 100);
  });

  it('LIM-7: an Idempotency-Key replays the first answer instead of storing a second message', async () => {
    const body = JSON.stringify({
      messaging_product: 'whatsapp',
      to: CUSTOMER,
      text: { body: 'hi' },
    });
    const first = await post(`${t.channel.providerKey}/messages`, body, {
      'idempotency-key': 'k-1',
    });
    const again = await post(`${t.channel.providerKey}/messages`, body, {
      'idempotency-key': 'k-1',
    });
    // No window is open here: the first answer is a refusal, and the replay is the same refusal.
    const a = JSON.parse(first.body) as { error: { code: number; parley: { message_id: string } } };
    const b = JSON.parse(again.body) as typeof a;
    assert.equal(a.error.code, 131047);
    assert.equal(b.error.code, 131047);
    assert.equal(b.error.parley.message_id, a.error.parley.message_id);
    const other = await post(
      `${t.channel.providerKey}/messages`,
      JSON.stringify({ messaging_product: 'whatsapp', to: CUSTOMER, text: { body: 'other' } }),
      { 'idempotency-key': 'k-1' },
    );
    assert.equal(other.statusCode, 400);
    assert.equal(metaError(other.body).code, 100, 'the key reused with another request');
  });

  it('another workspace’s phone number is an unknown object (100/33): nothing is sent from it', async () => {
    // A key of a second workspace, created the way an operator would.
    const workspace = await t.parley.deps.store.workspaces.create({ name: 'Elsewhere' });
    const foreign = await createApiKey(t.parley.deps, workspace.id, 'foreign');
    const response = await post(
      `${t.channel.providerKey}/messages`,
      JSON.stringify({ messaging_product: 'whatsapp', to: CUSTOMER, text: { body: 'hi' } }),
      { authorization: `Bearer ${foreign.key}` },
    );
    assert.equal(response.statusCode, 400);
    const error = metaError(response.body);
    assert.equal(error.code, 100);
    assert.equal(error.error_subcode, 33);
    assert.equal(t.world.outbound().length, 0);
  });
});

describe('Cloud-API-compatible media through whatsapp-api-js', () => {
  let t: TestParley;
  const png = Buffer.from(
    '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489',
    'hex',
  );
  const uploadForm = (bytes: Buffer, type: string, name: string) => {
    const form = new FormData();
    form.append('file', new File([bytes], name, { type }));
    return form;
  };
  before(async () => {
    t = await startTestParley();
    await t.world.userWrites(t.channel.providerKey, { from: CUSTOMER, text: 'Send the receipt' });
    await t.settle();
  });
  after(async () => t.close());

  it('LIM-6: an uploaded image is described Meta-shaped and downloads with the same Bearer key', async () => {
    const client = cloudApiClient(t);
    const uploaded = await client.uploadMedia(
      t.channel.providerKey,
      uploadForm(png, 'image/png', 'receipt.png'),
    );
    assert.ok('id' in uploaded, JSON.stringify(uploaded));
    const media = await client.retrieveMedia(uploaded.id);
    assert.ok('url' in media, JSON.stringify(media));
    assert.equal(media.messaging_product, 'whatsapp');
    assert.equal(media.id, uploaded.id);
    assert.equal(media.mime_type, 'image/png');
    assert.equal(media.file_size, png.length);
    assert.equal(media.sha256, createHash('sha256').update(png).digest('hex'));
    const file = await client.fetchMedia(media.url);
    assert.equal(file.status, 200);
    assert.equal(file.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), png);
    const anonymous = await parleyFetch(t)(media.url);
    assert.equal(anonymous.status, 401, 'the url needs the API key');
  });

  it('an image sent by its upload id goes out through the provider as a link that serves the bytes', async () => {
    const client = cloudApiClient(t);
    const uploaded = await client.uploadMedia(
      t.channel.providerKey,
      uploadForm(png, 'image/png', 'receipt.png'),
    );
    assert.ok('id' in uploaded, JSON.stringify(uploaded));
    const sent = await send(
      client,
      t.channel.providerKey,
      CUSTOMER,
      new Image(uploaded.id, true, 'Your receipt'),
    );
    assert.ok('messages' in sent, JSON.stringify(sent));
    await t.settle(15_000);
    const stored = await t.api('GET', `/v1/messages/${sent.messages[0].id}`);
    assert.ok(['delivered', 'read'].includes(stored.json.status), JSON.stringify(stored.json));
    const out = t.world.message(stored.json.providerMessageId);
    const image = out?.content as { link: string; caption: string; id?: string };
    assert.equal(image.caption, 'Your receipt');
    assert.equal(image.id, undefined);
    // What the provider does with the link: fetch it, without an API key.
    const fetched = await parleyFetch(t)(image.link);
    assert.equal(fetched.status, 200);
    assert.deepEqual(Buffer.from(await fetched.arrayBuffer()), png);
    const forged = await parleyFetch(t)(image.link.replace(/token=.*/, 'token=guess'));
    assert.equal(forged.status, 400);
  });

  it('LIM-6: an upload sent as a type it cannot be is refused with Meta 131053 before it is queued', async () => {
    const client = cloudApiClient(t);
    const sticker = await client.uploadMedia(
      t.channel.providerKey,
      uploadForm(Buffer.from('RIFF0000WEBPVP8 '), 'image/webp', 'smile.webp'),
    );
    assert.ok('id' in sticker, JSON.stringify(sticker));
    const sent = await send(client, t.channel.providerKey, CUSTOMER, new Image(sticker.id, true));
    assert.ok('error' in sent, JSON.stringify(sent));
    assert.equal(sent.error?.code, 131053);
    const before = t.world.outbound().length;
    await t.settle(15_000);
    assert.equal(t.world.outbound().length, before);
  });

  it('a template header image named by upload id is sent as its link too', async () => {
    const client = cloudApiClient(t);
    const uploaded = await client.uploadMedia(
      t.channel.providerKey,
      uploadForm(png, 'image/png', 'header.png'),
    );
    assert.ok('id' in uploaded, JSON.stringify(uploaded));
    const resolved = await resolveUploads(t.parley.deps, t.channel.workspaceId, {
      type: 'template',
      template: {
        name: 'order_shipped',
        language: { code: 'en' },
        components: [
          { type: 'header', parameters: [{ type: 'image', image: { id: uploaded.id } }] },
          { type: 'body', parameters: [{ type: 'text', text: 'Ada' }] },
        ],
      },
    });
    assert.equal(resolved.kind, 'content');
    const template = resolved.kind === 'content' ? resolved.content : null;
    assert.equal(template?.type, 'template');
    const header = template?.type === 'template' ? template.template.components?.[0] : undefined;
    const image = header?.parameters?.[0]?.image;
    assert.equal(image?.id, undefined);
    assert.match(image?.link ?? '', new RegExp(`/graph/files/${uploaded.id}\\?token=`));
    const body = template?.type === 'template' ? template.template.components?.[1] : undefined;
    assert.deepEqual(body?.parameters, [{ type: 'text', text: 'Ada' }]);
  });

  it('a deleted upload is gone: metadata, bytes and sends by its id', async () => {
    const client = cloudApiClient(t);
    const uploaded = await client.uploadMedia(
      t.channel.providerKey,
      uploadForm(png, 'image/png', 'old.png'),
    );
    assert.ok('id' in uploaded, JSON.stringify(uploaded));
    const media = await client.retrieveMedia(uploaded.id);
    assert.ok('url' in media);
    assert.deepEqual(await client.deleteMedia(uploaded.id), { success: true });
    const again = await client.retrieveMedia(uploaded.id);
    assert.ok('error' in again, JSON.stringify(again));
    assert.equal((await client.fetchMedia(media.url)).status, 400);
    const sent = await send(client, t.channel.providerKey, CUSTOMER, new Image(uploaded.id, true));
    assert.ok('error' in sent, JSON.stringify(sent));
    assert.equal(sent.error?.code, 131053);
  });

  it('another workspace cannot see, fetch or delete an upload', async () => {
    const client = cloudApiClient(t);
    const uploaded = await client.uploadMedia(
      t.channel.providerKey,
      uploadForm(png, 'image/png', 'private.png'),
    );
    assert.ok('id' in uploaded, JSON.stringify(uploaded));
    const workspace = await t.parley.deps.store.workspaces.create({ name: 'Elsewhere' });
    const foreign = cloudApiClient(t, (await createApiKey(t.parley.deps, workspace.id, 'x')).key);
    const seen = await foreign.retrieveMedia(uploaded.id);
    assert.ok('error' in seen);
    assert.equal((seen.error as { error_subcode?: number }).error_subcode, 33);
    const media = await client.retrieveMedia(uploaded.id);
    assert.ok('url' in media);
    assert.equal((await foreign.fetchMedia(media.url)).status, 400);
    assert.ok('error' in (await foreign.deleteMedia(uploaded.id)));
    assert.ok('url' in (await client.retrieveMedia(uploaded.id)), 'still there for its owner');
  });

  it('answers uploads that are not multipart, lack the file or break LIM-6 with Meta errors', async () => {
    const url = `/graph/${GRAPH_VERSION}/${t.channel.providerKey}/media`;
    const json = await t.parley.http.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' },
      payload: '{"file":"x"}',
    });
    assert.equal(json.statusCode, 400);
    assert.equal(JSON.parse(json.body).error.code, 100);
    const broken = await t.parley.http.inject({
      method: 'POST',
      url,
      headers: {
        authorization: `Bearer ${t.apiKey}`,
        'content-type': 'multipart/form-data; boundary=xyz',
      },
      payload: '--xyz\r\nnot a part',
    });
    assert.equal(broken.statusCode, 400, broken.body);
    assert.equal(JSON.parse(broken.body).error.code, 100);
    const client = cloudApiClient(t);
    const noFile = new FormData();
    noFile.append('messaging_product', 'whatsapp');
    const missing = await client.uploadMedia(t.channel.providerKey, noFile, false);
    assert.ok('error' in missing);
    assert.equal(missing.error?.code, 100);
    const huge = await client.uploadMedia(
      t.channel.providerKey,
      uploadForm(Buffer.alloc(6 * 1024 * 1024), 'image/png', 'huge.png'),
      false,
    );
    assert.ok('error' in huge, JSON.stringify(huge));
    assert.equal(huge.error?.code, 131053);
  });
});

describe('Cloud-API-compatible templates (GET|POST|DELETE /{waba-id}/message_templates)', () => {
  let t: TestParley;
  before(async () => {
    t = await startTestParley();
  });
  after(async () => t.close());

  const graph = async (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) => {
    const response = await parleyFetch(t)(
      url.startsWith('http') ? url : `https://graph.facebook.com/${GRAPH_VERSION}/${url}`,
      {
        method,
        headers: {
          authorization: `Bearer ${t.apiKey}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      },
    );
    return { status: response.status, json: (await response.json()) as any };
  };
  const waba = () => t.channel.wabaId ?? '';
  const pickup = {
    name: 'pickup_notice',
    language: 'en_GB',
    category: 'UTILITY',
    components: [
      {
        type: 'BODY',
        text: 'Hi {{1}}, your order {{2}} is ready for pickup.',
        example: { body_text: [['Ada', '1042']] },
      },
    ],
  };

  it('TPL-8: lists the WABA’s templates in Meta’s shape, paged by cursors to the end', async () => {
    const first = await graph('GET', `${waba()}/message_templates`);
    assert.equal(first.status, 200, JSON.stringify(first.json));
    const orderUpdate = first.json.data.find(
      (x: { name: string; language: string }) => x.name === 'order_update' && x.language === 'en',
    );
    assert.equal(orderUpdate.status, 'APPROVED');
    assert.equal(orderUpdate.language, 'en');
    assert.ok(Array.isArray(orderUpdate.components));
    assert.equal(typeof orderUpdate.id, 'string');
    assert.equal(typeof first.json.paging.cursors.after, 'string');
    const walked: string[] = [];
    let page = await graph('GET', `${waba()}/message_templates?limit=1`);
    for (let i = 0; i < 100; i++) {
      assert.equal(page.json.data.length, 1);
      walked.push(`${page.json.data[0].name}/${page.json.data[0].language}`);
      if (!page.json.paging.next) break;
      page = await graph('GET', page.json.paging.next);
    }
    assert.deepEqual(
      walked,
      first.json.data.map((x: { name: string; language: string }) => `${x.name}/${x.language}`),
    );
    const filtered = await graph('GET', `${waba()}/message_templates?name=order_update`);
    assert.ok(filtered.json.data.every((x: { name: string }) => x.name === 'order_update'));
    assert.ok(filtered.json.data.length >= 1);
  });

  it('TPL-8: a created template is submitted for review at once and answers {id, status, category}', async () => {
    const created = await graph('POST', `${waba()}/message_templates`, pickup);
    assert.equal(created.status, 200, JSON.stringify(created.json));
    assert.deepEqual(Object.keys(created.json).sort(), ['category', 'id', 'status']);
    assert.equal(created.json.status, 'PENDING');
    assert.equal(created.json.category, 'UTILITY');
    const atProvider = t.world.template(t.channel.providerKey, 'pickup_notice', 'en_GB');
    assert.equal(atProvider?.status, 'PENDING');
    const listed = await graph('GET', `${waba()}/message_templates?name=pickup_notice`);
    assert.equal(listed.json.data[0].id, created.json.id);
    const again = await graph('POST', `${waba()}/message_templates`, pickup);
    assert.equal(again.status, 400, 'the same name and language exists already');
    assert.equal(again.json.error.code, 100);
  });

  it('TPL-1: a definition that breaks the template rules is a Meta 100 error and nothing is stored', async () => {
    const bad = await graph('POST', `${waba()}/message_templates`, {
      ...pickup,
      name: 'Not A Valid Name',
    });
    assert.equal(bad.status, 400, JSON.stringify(bad.json));
    assert.equal(bad.json.error.code, 100);
    assert.match(bad.json.error.error_data.details, /TPL-/);
    const listed = await t.api('GET', '/v1/templates?name=Not A Valid Name');
    assert.equal(listed.json.items.length, 0);
    const malformed = await graph('POST', `${waba()}/message_templates`, { name: 'x' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json.error.code, 100);
  });

  it('deletes by name at the provider and in the registry; an unknown name is a Meta 100 error', async () => {
    const deleted = await graph('DELETE', `${waba()}/message_templates?name=pickup_notice`);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.json));
    assert.deepEqual(deleted.json, { success: true });
    assert.equal(
      t.world.template(t.channel.providerKey, 'pickup_notice', 'en_GB')?.status,
      'DELETED',
    );
    const listed = await graph('GET', `${waba()}/message_templates?name=pickup_notice`);
    assert.deepEqual(listed.json.data, []);
    const unknown = await graph('DELETE', `${waba()}/message_templates?name=pickup_notice`);
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.error.code, 100);
    const noName = await graph('DELETE', `${waba()}/message_templates`);
    assert.equal(noName.status, 400);
  });

  it('deletes one language by hsm_id and leaves the others', async () => {
    const en = await graph('POST', `${waba()}/message_templates`, { ...pickup, name: 'two_langs' });
    const de = await graph('POST', `${waba()}/message_templates`, {
      ...pickup,
      name: 'two_langs',
      language: 'de',
      components: [
        {
          type: 'BODY',
          text: 'Hallo {{1}}, Ihre Bestellung {{2}} liegt bereit.',
          example: { body_text: [['Ada', '1042']] },
        },
      ],
    });
    assert.equal(en.status, 200, JSON.stringify(en.json));
    assert.equal(de.status, 200, JSON.stringify(de.json));
    const deleted = await graph(
      'DELETE',
      `${waba()}/message_templates?name=two_langs&hsm_id=${de.json.id}`,
    );
    assert.equal(deleted.status, 200, JSON.stringify(deleted.json));
    const listed = await graph('GET', `${waba()}/message_templates?name=two_langs`);
    assert.deepEqual(
      listed.json.data.map((x: { language: string }) => x.language),
      ['en_GB'],
    );
  });

  it('another workspace’s WABA is an unknown object (100/33)', async () => {
    const workspace = await t.parley.deps.store.workspaces.create({ name: 'Elsewhere' });
    const foreign = await createApiKey(t.parley.deps, workspace.id, 'x');
    const response = await parleyFetch(t)(
      `https://graph.facebook.com/${GRAPH_VERSION}/${waba()}/message_templates`,
      { headers: { authorization: `Bearer ${foreign.key}` } },
    );
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { code: number; error_subcode: number } };
    assert.equal(body.error.code, 100);
    assert.equal(body.error.error_subcode, 33);
  });
});
