// 360dialog end to end over real HTTP: Parley registers its webhook URL with the secret header at a
// fake 360dialog (POST /v1/configs/webhook), and that fake then delivers webhooks to
// /webhooks/360dialog/{id} the way 360dialog does; without the registered header Parley refuses.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { FakeGraphServer } from '../src/adapters/providers/meta-cloud/testing/fake-graph-server.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { assertProblem, rawRequest } from './helpers/http-assert.ts';
import { inboundBody } from './helpers/fake-provider-connections.ts';

const PHONE_NUMBER_ID = '106540352242922';
const WABA_ID = '102290129340398';
const CUSTOMER = '447700900701';

interface Registered {
  url: string;
  headers: Record<string, string>;
}

describe('360dialog: webhook registration and secret-header ingress', () => {
  let t: TestParley;
  let fake: FakeGraphServer;
  let registered: Registered | null = null;
  let connectionId: string;
  let channelId: string;
  let port: number;

  before(async () => {
    t = await startTestParley();
    fake = await FakeGraphServer.start();
    // The fake keeps the webhook configuration per number, as 360dialog does.
    fake.on('POST', '/v1/configs/webhook', (request) => {
      if (request.headers['d360-api-key'] !== 'd360-api-key-OK')
        return {
          status: 401,
          body: { meta: { httpCode: 401, developerMessage: 'Invalid api_key', success: false } },
        };
      registered = request.json as Registered;
      return { status: 200, body: { url: registered.url } };
    });
    fake.on('GET', '/v1/configs/webhook', () => ({ status: 200, body: registered ?? {} }));
    const connection = await t.api('POST', '/v1/connections', {
      provider: '360dialog',
      name: '360dialog number',
      config: { baseUrl: fake.url },
      secrets: { apiKey: 'd360-api-key-OK' },
    });
    assert.equal(connection.status, 201, JSON.stringify(connection.json));
    assert.ok(connection.json.secretsSet.includes('webhookSecret'), 'Parley made the secret');
    connectionId = connection.json.id;
    const channel = await t.api('POST', '/v1/channels', {
      connectionId,
      name: 'Sales',
      providerKey: PHONE_NUMBER_ID,
      phoneNumber: '+15550783881',
      wabaId: WABA_ID,
    });
    assert.equal(channel.status, 201, JSON.stringify(channel.json));
    channelId = channel.json.id;
    await t.parley.http.listen({ port: 0, host: '127.0.0.1' });
    port = (t.parley.http.server.address() as AddressInfo).port;
  });
  after(async () => {
    await fake.close();
    await t.close();
  });

  /** 360dialog posts to the registered URL (here reached on Parley's real socket). */
  async function delivers(body: string, headers: Record<string, string>) {
    assert.ok(registered, 'a webhook is registered');
    const path = new URL(registered.url).pathname;
    const response = await fetch(`http://127.0.0.1:${String(port)}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    const text = await response.text();
    return {
      status: response.status,
      json: text ? JSON.parse(text) : null,
      headers: Object.fromEntries(response.headers),
    };
  }

  const message = (id: string, text: string) =>
    inboundBody(
      { phoneNumberId: PHONE_NUMBER_ID, wabaId: WABA_ID },
      { from: CUSTOMER, id, at: t.clock.now(), type: 'text', text: { body: text } },
    );

  async function storedWebhooks(): Promise<number> {
    let n = 0;
    for (const state of ['received', 'processed', 'unrouted', 'failed'] as const)
      n += await t.parley.deps.store.webhooks.countByState(state);
    return n;
  }

  it('G: registers the webhook URL with the secret header at 360dialog and checks it', async () => {
    const response = await t.api('POST', `/v1/connections/${connectionId}/register-webhook`);
    assert.equal(response.status, 200, JSON.stringify(response.json));
    assert.equal(response.json.registered, true);
    assert.equal(
      response.json.webhookUrl,
      `${t.parley.config.publicUrl}/webhooks/360dialog/${connectionId}`,
    );
    assert.equal(response.json.ok, true, JSON.stringify(response.json.checks));
    const request = fake.requests.find(
      (r) => r.method === 'POST' && r.path === '/v1/configs/webhook',
    );
    assert.ok(request);
    assert.equal(request.headers['d360-api-key'], 'd360-api-key-OK');
    assert.equal(request.headers.authorization, undefined);
    assert.ok(registered);
    assert.equal(registered.url, response.json.webhookUrl);
    const names = Object.keys(registered.headers);
    assert.deepEqual(names, ['X-Parley-Webhook-Secret']);
    assert.ok(!names.some((n) => n.includes('_')), '360dialog refuses "_" in header names');
    assert.ok((registered.headers['X-Parley-Webhook-Secret'] ?? '').length >= 24);
    assert.ok(
      !JSON.stringify(response.json).includes(registered.headers['X-Parley-Webhook-Secret'] ?? '-'),
      'the secret is never shown back',
    );
  });

  it('G: a delivery without the registered header is refused with 401 and nothing is stored', async () => {
    const before = await storedWebhooks();
    const response = await delivers(message('wamid.D360-NOHEADER', 'no header'), {});
    assert.equal(response.status, 401);
    assert.equal(response.json.code, 'bad_signature');
    assert.match(response.json.detail, /X-Parley-Webhook-Secret/);
    assert.match(String(response.headers['content-type']), /application\/problem\+json/);
    assert.equal(await storedWebhooks(), before);
  });

  it('G: a wrong secret, or a Meta signature instead of the secret, is refused too', async () => {
    const before = await storedWebhooks();
    const wrong = await delivers(message('wamid.D360-WRONG', 'wrong'), {
      'X-Parley-Webhook-Secret': 'guessed-secret-value-0000000',
    });
    assert.equal(wrong.status, 401);
    const meta = await delivers(message('wamid.D360-META', 'meta'), {
      'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}`,
    });
    assert.equal(meta.status, 401);
    assert.equal(await storedWebhooks(), before);
  });

  it('CSW-1: a delivery with the registered header is stored, acknowledged and processed into the inbox', async () => {
    assert.ok(registered);
    const response = await delivers(
      message('wamid.D360-OK', 'Is my order ready?'),
      registered.headers,
    );
    assert.equal(response.status, 200, JSON.stringify(response.json));
    assert.equal(response.json.received, true);
    const stored = await t.parley.deps.store.webhooks.get(response.json.id);
    assert.equal(stored?.provider, '360dialog');
    await new Promise((resolve) => setImmediate(resolve));
    await t.settle();
    const conversations = await t.api('GET', `/v1/conversations?channel=${channelId}`);
    assert.equal(conversations.json.items.length, 1);
    assert.equal(conversations.json.items[0].contact.waId, CUSTOMER);
    assert.equal(conversations.json.items[0].window.open, true);
    const transcript = await t.api(
      'GET',
      `/v1/conversations/${String(conversations.json.items[0].id)}/messages`,
    );
    assert.deepEqual(
      transcript.json.items.map((m: any) => [m.providerMessageId, m.text]),
      [['wamid.D360-OK', 'Is my order ready?']],
    );
  });

  it('G: 360dialog has no hub.challenge handshake: GET on its ingress is 404', async () => {
    const response = await rawRequest(t, {
      method: 'GET',
      url: `/webhooks/360dialog/${connectionId}?hub.mode=subscribe&hub.challenge=1&hub.verify_token=x`,
      auth: null,
    });
    assertProblem(response, 404, 'not_found');
  });

  it('G: a 360dialog that refuses the API key answers 502 with its reason, and the check names the key', async () => {
    const bad = await t.api('POST', '/v1/connections', {
      provider: '360dialog',
      name: 'bad key',
      config: { baseUrl: fake.url },
      secrets: { apiKey: 'revoked' },
    });
    assert.equal(bad.status, 201);
    fake.on('GET', '/v1/configs/webhook', (request) =>
      request.headers['d360-api-key'] === 'revoked'
        ? {
            status: 401,
            body: { meta: { httpCode: 401, developerMessage: 'Invalid api_key', success: false } },
          }
        : { status: 200, body: registered ?? {} },
    );
    const response = await rawRequest(t, {
      method: 'POST',
      url: `/v1/connections/${String(bad.json.id)}/register-webhook`,
    });
    assertProblem(response, 502, 'provider_request_failed', /auth|Invalid api_key/);
    assert.ok(!response.text.includes('revoked'), 'the API key is not echoed');
    const check = await t.api('GET', `/v1/connections/${String(bad.json.id)}/check`);
    assert.equal(check.json.ok, false);
    const token = check.json.checks.find((c: any) => c.check === 'token');
    assert.match(token.detail, /refused the API key/);
    assert.match(token.fix, /new API key/);
  });
});
