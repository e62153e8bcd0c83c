// Event format 'meta': a webhook handler written for the Cloud API (whatsapp-api-js's own `post`,
// signature check included) takes Parley's events and answers through the compatible endpoint.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WhatsAppAPI } from 'whatsapp-api-js';
import { Text } from 'whatsapp-api-js/messages';
import { WhatsAppAPIFailedToVerifyError } from 'whatsapp-api-js/errors';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import { GRAPH_VERSION, parleyFetch } from './helpers/cloud-api-client.ts';

const CUSTOMER = '447700900123';

interface Hook {
  readonly body: string;
  readonly signature: string;
}

/** A subscriber on a real socket that keeps each request's raw body and signature header. */
async function startReceiver(): Promise<{ url: string; hooks: Hook[]; close(): Promise<void> }> {
  const hooks: Hook[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const signature = req.headers['x-hub-signature-256'];
      hooks.push({
        body: Buffer.concat(chunks).toString('utf8'),
        signature: typeof signature === 'string' ? signature : '',
      });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}/whatsapp`,
    hooks,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("event format 'meta' with a Cloud API webhook handler", () => {
  let t: TestParley;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let secret: string;
  let handler: WhatsAppAPI;
  const seen: { messages: unknown[]; statuses: { id: string; status: string; phone?: string }[] } =
    { messages: [], statuses: [] };
  let replyId = '';

  before(async () => {
    t = await startTestParley();
    receiver = await startReceiver();
    const created = await t.api('POST', '/v1/webhook-endpoints', {
      url: receiver.url,
      format: 'meta',
      events: ['message.received', 'message.status', 'message.failed', 'conversation.created'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(created.json.format, 'meta');
    secret = created.json.secret as string;
    // The handler as existing code has it: the app secret checks X-Hub-Signature-256; its
    // replies go to the Cloud-API-compatible endpoint with a Parley API key.
    handler = new WhatsAppAPI({
      token: t.apiKey,
      appSecret: secret,
      v: GRAPH_VERSION,
      ponyfill: { fetch: parleyFetch(t) },
    });
    handler.on.message = async ({ phoneID, contact, message, reply, received }) => {
      seen.messages.push({ phoneID, from: contact.wa_id, message });
      await received();
      const answer = await reply(new Text('Thanks, Ada: it ships today.'), true);
      replyId = 'messages' in answer ? answer.messages[0].id : '';
    };
    handler.on.status = ({ id, status, contact }) => {
      seen.statuses.push({ id, status, phone: contact.wa_id });
    };
  });
  after(async () => {
    await t.close();
    await receiver.close();
  });

  async function deliver(ms = 0): Promise<void> {
    await t.settle(ms);
    await t.parley.eventDeliverer.drain();
  }

  async function handleAll(): Promise<void> {
    while (receiver.hooks.length > 0) {
      const hook = receiver.hooks.shift();
      if (hook) await handler.post(JSON.parse(hook.body), hook.body, hook.signature);
    }
  }

  it("an inbound message reaches the handler's on.message; its read receipt and quoted reply go out through Parley", async () => {
    const inbound = await t.world.userWrites(t.channel.providerKey, {
      from: CUSTOMER,
      name: 'Ada',
      text: 'Where is my order?',
    });
    await deliver();
    assert.ok(receiver.hooks.length >= 1);
    for (const hook of receiver.hooks) {
      const body = JSON.parse(hook.body) as { object: string };
      assert.equal(body.object, 'whatsapp_business_account', 'only Meta-shaped bodies are sent');
    }
    await handleAll();
    assert.deepEqual(seen.messages, [
      {
        phoneID: t.channel.providerKey,
        from: CUSTOMER,
        message: {
          from: CUSTOMER,
          id: inbound.id,
          timestamp: String(Math.floor(inbound.at / 1000)),
          type: 'text',
          text: { body: 'Where is my order?' },
        },
      },
    ]);
    assert.equal(t.world.readByBusiness(inbound.id), true, 'received() marked it read');
    assert.ok(replyId !== '', 'the reply was accepted');
    await deliver(15_000);
    const stored = await t.api('GET', `/v1/messages/${replyId}`);
    assert.equal(t.world.message(stored.json.providerMessageId)?.replyTo, inbound.id);
  });

  it("the reply's statuses reach on.status under the id the send answered with", async () => {
    await handleAll();
    const ofReply = seen.statuses.filter((s) => s.id === replyId);
    assert.deepEqual(
      ofReply.map((s) => s.status),
      ['sent', 'delivered', 'read'],
    );
    assert.ok(ofReply.every((s) => s.phone === CUSTOMER));
  });

  it("an inbound image names Parley's copy, which the handler can look up through /graph", async () => {
    seen.messages.length = 0;
    await t.world.userWrites(t.channel.providerKey, { from: CUSTOMER, type: 'image' });
    await deliver();
    await handleAll();
    const { message } = seen.messages[0] as { message: { type: string; image: { id: string } } };
    assert.equal(message.type, 'image');
    const stored = await t.parley.deps.store.providerRecords.media.get(message.image.id);
    assert.ok(stored, 'the id is the Parley media id');
    const media = await handler.retrieveMedia(message.image.id);
    assert.ok('url' in media, JSON.stringify(media));
    assert.equal(media.id, message.image.id);
    assert.equal(media.mime_type, stored.mimeType);
  });

  it('a body whose signature does not match is refused by the handler', async () => {
    await t.world.userWrites(t.channel.providerKey, { from: CUSTOMER, text: 'Again' });
    await deliver();
    const hook = receiver.hooks.shift();
    assert.ok(hook);
    receiver.hooks.length = 0;
    const forged = hook.body.replace('Again', 'Refund me');
    await assert.rejects(
      handler.post(JSON.parse(forged), forged, hook.signature),
      WhatsAppAPIFailedToVerifyError,
    );
  });

  it('an event with no Meta counterpart is recorded as handled and not sent', async () => {
    const endpoint = (await t.api('GET', '/v1/webhook-endpoints')).json.items[0] as { id: string };
    const deliveries = await t.api('GET', `/v1/webhook-endpoints/${endpoint.id}/deliveries`);
    const created = (
      deliveries.json.items as { eventType?: string; type?: string; state: string }[]
    ).filter((d) => (d.eventType ?? d.type) === 'conversation.created');
    assert.ok(created.length >= 1, JSON.stringify(deliveries.json.items[0]));
    assert.ok(created.every((d) => d.state === 'delivered'));
  });
});
