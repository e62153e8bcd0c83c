// The Cloud-API-compatible endpoint driven by the real whatsapp-api-js client: sends take Parley's
// policy and queue and go out through the sandbox provider; refusals come back in Meta's envelope.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { WhatsAppAPI } from 'whatsapp-api-js';
import type { ClientMessage } from 'whatsapp-api-js/types';
import { BodyComponent, BodyParameter, Template, Text } from 'whatsapp-api-js/messages';
import { createApiKey } from '../src/app/admin.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { GRAPH_VERSION, cloudApiClient } from './helpers/cloud-api-client.ts';

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
