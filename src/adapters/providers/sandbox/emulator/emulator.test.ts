// The emulator driven by a real Cloud API client (whatsapp-api-js) and checked by a real receiver:
// sends of every kind, signed webhooks, WhatsApp's rules and the control API.
/* eslint-disable @typescript-eslint/no-deprecated -- whatsapp-api-js 6 deprecates addressing a
   recipient by phone number in favour of business-scoped user ids, which the emulator's users
   do not have; the phone-number overload is what clients use against the Cloud API today. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WhatsAppAPI } from 'whatsapp-api-js';
import type { GetParams } from 'whatsapp-api-js/types';
import { Image, Language, Template, Text } from 'whatsapp-api-js/messages';
import { eraAt } from '../sandbox-pricing.ts';
import { startEmulator, type RunningEmulator } from './index.ts';

const PHONE = '106540352242922';
const WABA = '102290129340398';
const APP_SECRET = 'emulator-test-secret';
const TOKEN = 'EAAG-test-token';
const VERIFY_TOKEN = 'hub-verify-token';

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A webhook receiver that records every POST and answers 200 (or what `answer` says). */
async function startReceiver(): Promise<{
  url: string;
  received: Received[];
  answer: { status: number };
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const answer = { status: 200 };
  // the subscription handshake is answered by whatsapp-api-js's own get()
  const verifier = new WhatsAppAPI({
    token: TOKEN,
    appSecret: APP_SECRET,
    webhookVerifyToken: VERIFY_TOKEN,
    v: 'v23.0',
  });
  const server: Server = createServer((request, response) => {
    if (request.method === 'GET') {
      // get() checks the values itself: a wrong mode or token throws
      const query = Object.fromEntries(
        new URL(request.url ?? '/', 'http://x').searchParams,
      ) as GetParams;
      try {
        response.writeHead(200).end(verifier.get(query));
      } catch {
        response.writeHead(403).end();
      }
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(answer.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/meta/conn_1`,
    received,
    answer,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** whatsapp-api-js has a fixed base URL; its fetch option sends it to the emulator instead. */
function clientFor(emulator: RunningEmulator, token = TOKEN): WhatsAppAPI {
  const redirected: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    return fetch(url.replace('https://graph.facebook.com', emulator.url), init);
  };
  return new WhatsAppAPI({
    token,
    appSecret: APP_SECRET,
    v: 'v23.0',
    ponyfill: { fetch: redirected },
  });
}

async function control(
  emulator: RunningEmulator,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${emulator.url}/control${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function cloud(
  emulator: RunningEmulator,
  path: string,
  init: { method?: string; body?: unknown; token?: string | null } = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (init.token !== null) headers.authorization = `Bearer ${init.token ?? TOKEN}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${emulator.url}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

/** The `wamid` of an accepted send (whatsapp-api-js types the answer as success | error). */
function idOf(response: unknown): string {
  const messages = (response as { messages?: Array<{ id?: unknown }> }).messages;
  return String(messages?.[0]?.id);
}

const statusesIn = (received: readonly Received[]) =>
  received.flatMap((r) => {
    const payload = JSON.parse(r.body) as {
      entry: Array<{ changes: Array<{ value: { statuses?: Array<Record<string, unknown>> } }> }>;
    };
    return payload.entry[0]?.changes[0]?.value.statuses ?? [];
  });

describe('parley emulator with whatsapp-api-js', () => {
  let emulator: RunningEmulator;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let wa: WhatsAppAPI;

  before(async () => {
    receiver = await startReceiver();
    emulator = await startEmulator({
      port: 0,
      appSecret: APP_SECRET,
      accessToken: TOKEN,
      verifyToken: VERIFY_TOKEN,
      webhookUrl: receiver.url,
      // seconds apart, so statuses move only when a test advances the clock
      statusDelays: { sent: [1_000, 1_000], delivered: [1_000, 1_000], read: [1_000, 1_000] },
      onError: (error) => {
        throw error;
      },
    });
    wa = clientFor(emulator);
  });
  after(async () => {
    await emulator.close();
    await receiver.close();
  });

  it('sends text, template, media by id, a reply and a mark-as-read, all accepted', async () => {
    const user = '447700900101';
    const inbound = await control(emulator, `/users/${user}/write`, {
      name: 'Ana',
      text: 'Hi there',
    });
    assert.equal(inbound.status, 200);
    const inboundId = String(inbound.body.id);

    const text = await wa.sendMessage(PHONE, user, new Text('Hello from the shop'));
    assert.match(idOf(text), /^wamid\./);

    const template = await wa.sendMessage(
      PHONE,
      user,
      new Template('hello_world', new Language('en_US')),
    );
    assert.match(idOf(template), /^wamid\./);

    const form = new FormData();
    form.append(
      'file',
      new Blob([Buffer.from('\xff\xd8\xff\xd9', 'latin1')], { type: 'image/jpeg' }),
    );
    const uploaded = await wa.uploadMedia(PHONE, form);
    assert.ok('id' in uploaded, JSON.stringify(uploaded));
    const mediaId = uploaded.id;
    const image = await wa.sendMessage(PHONE, user, new Image(mediaId, true, 'Your receipt'));
    assert.match(idOf(image), /^wamid\./);

    const reply = await wa.sendMessage(PHONE, user, new Text('Replying to you'), inboundId);
    const replyId = idOf(reply);

    const read = await wa.markAsRead(PHONE, inboundId, 'text');
    assert.deepEqual(read, { success: true });
    assert.equal(emulator.world.readByBusiness(inboundId), true);

    const sent = emulator.world.outbound(PHONE).filter((m) => m.to === user);
    assert.deepEqual(
      sent.map((m) => m.type),
      ['text', 'template', 'image', 'text'],
    );
    assert.deepEqual(sent[2]?.content, { id: mediaId, caption: 'Your receipt' });
    assert.equal(emulator.world.message(replyId)?.replyTo, inboundId);
  });

  it('serves uploaded media: metadata with sha256 and size, the bytes at its URL, then deletion', async () => {
    const bytes = Buffer.from('%PDF-1.4\n%%EOF\n');
    const form = new FormData();
    form.append('file', new Blob([bytes], { type: 'application/pdf' }));
    const uploaded = await wa.uploadMedia(PHONE, form);
    assert.ok('id' in uploaded);
    const info = await wa.retrieveMedia(uploaded.id, PHONE);
    assert.ok('url' in info, JSON.stringify(info));
    assert.equal(info.mime_type, 'application/pdf');
    assert.equal(Number(info.file_size), bytes.length);
    const download = await wa.fetchMedia(info.url);
    assert.equal(download.status, 200);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), bytes);
    const { createHash } = await import('node:crypto');
    assert.equal(info.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.deepEqual(await wa.deleteMedia(uploaded.id, PHONE), { success: true });
    const gone = await cloud(emulator, `/v23.0/${uploaded.id}`);
    assert.equal(gone.status, 400);
    assert.equal((gone.body.error as { code: number }).code, 100);
  });

  it('B.2: every webhook passes whatsapp-api-js’s own signature check, non-ASCII escaped, with Content-Length', async () => {
    const before = receiver.received.length;
    await control(emulator, '/users/447700900102/write', {
      name: 'Zoë',
      text: 'Grüße 👋 ¿qué tal?',
    });
    // A late status webhook of an earlier test may arrive first on a busy machine.
    const webhook = receiver.received.slice(before).find((w) => w.body.includes('"messages":['));
    assert.ok(webhook, 'the inbound message reached the receiver');
    assert.equal(webhook.headers['content-length'], String(Buffer.byteLength(webhook.body)));
    assert.match(webhook.body, /Gr\\u00fc\\u00dfe \\ud83d\\udc4b/);
    assert.ok(
      Buffer.from(webhook.body).every((byte) => byte < 0x80),
      'the body is plain ASCII',
    );

    const receiverSide = new WhatsAppAPI({ token: TOKEN, appSecret: APP_SECRET, v: 'v23.0' });
    const heard: string[] = [];
    receiverSide.on.message = ({ message, contact }) => {
      heard.push(
        `${contact.profile?.name ?? ''}: ${message.type === 'text' ? message.text.body : message.type}`,
      );
    };
    const signature = String(webhook.headers['x-hub-signature-256']);
    await receiverSide.post(JSON.parse(webhook.body), webhook.body, signature);
    assert.deepEqual(heard, ['Zoë: Grüße 👋 ¿qué tal?']);

    const wrongSecret = new WhatsAppAPI({ token: TOKEN, appSecret: 'another', v: 'v23.0' });
    await assert.rejects(wrongSecret.post(JSON.parse(webhook.body), webhook.body, signature));
  });

  it('B.1: the subscription handshake presents the verify token and whatsapp-api-js echoes the challenge', async () => {
    const verified = await control(emulator, '/webhook/verify', {});
    assert.deepEqual(verified.body, { verified: true, status: 200 });
  });

  it('STA-1: statuses go sent → delivered → read, each with the pricing object of the era', async () => {
    const user = '447700900103';
    await control(emulator, `/users/${user}/write`, { text: 'order status?' });
    const before = receiver.received.length;
    const sent = await wa.sendMessage(PHONE, user, new Text('On its way'));
    const id = idOf(sent);
    await emulator.clock.advance(5_000);
    const statuses = statusesIn(receiver.received.slice(before)).filter((s) => s.id === id);
    assert.deepEqual(
      statuses.map((s) => s.status),
      ['sent', 'delivered', 'read'],
    );
    // PMP-3 made free-form free; S26-1 (pmp2026) charges it at the service rate
    const charged = eraAt(emulator.clock.now()) === 'pmp2026';
    for (const s of statuses)
      assert.deepEqual(s.pricing, {
        billable: charged,
        pricing_model: 'PMP',
        type: charged ? 'regular' : 'free_customer_service',
        category: 'service',
      });
  });

  it('CSW-5: free-form outside the care window is accepted, then fails with 131047', async () => {
    const user = '447700900104';
    await control(emulator, `/users/${user}/write`, { text: 'hello' });
    await emulator.clock.advance(24 * 3_600_000 + 1_000);
    const before = receiver.received.length;
    const sent = await wa.sendMessage(PHONE, user, new Text('Too late'));
    const id = idOf(sent);
    await emulator.clock.advance(5_000);
    const failed = statusesIn(receiver.received.slice(before)).find((s) => s.id === id);
    assert.equal(failed?.status, 'failed');
    assert.equal((failed?.errors as Array<{ code: number }>)[0]?.code, 131047);
  });

  it('TPL-9: an unknown or unapproved template is refused with 132001', async () => {
    const refused = await cloud(emulator, `/v23.0/${PHONE}/messages`, {
      body: {
        messaging_product: 'whatsapp',
        to: '447700900105',
        type: 'template',
        template: { name: 'no_such_template', language: { code: 'en_US' } },
      },
    });
    assert.equal(refused.status, 404);
    const error = refused.body.error as Record<string, unknown>;
    assert.equal(error.code, 132001);
    assert.equal(error.message, '(#132001) Template name does not exist in the translation');
    assert.ok(typeof error.fbtrace_id === 'string');
  });

  it('LIM-2: a burst to one user beyond the pair rate gets 131056 while other users still get through', async () => {
    const user = '447700900106';
    const body = (to: string) => ({
      messaging_product: 'whatsapp',
      to,
      type: 'template',
      template: { name: 'hello_world', language: { code: 'en_US' } },
    });
    let refused: Awaited<ReturnType<typeof cloud>> | undefined;
    for (let i = 0; i < 50 && !refused; i++) {
      const answer = await cloud(emulator, `/v23.0/${PHONE}/messages`, { body: body(user) });
      if (answer.status !== 200) refused = answer;
    }
    assert.ok(refused, 'the pair rate was never hit');
    assert.equal((refused.body.error as { code: number }).code, 131056);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    const other = await cloud(emulator, `/v23.0/${PHONE}/messages`, { body: body('447700900107') });
    assert.equal(other.status, 200);
  });

  it('answers a missing or wrong token with Graph errors 2500 and 190', async () => {
    const missing = await cloud(emulator, `/v23.0/${PHONE}`, { token: null });
    assert.equal((missing.body.error as { code: number }).code, 2500);
    const wrong = await cloud(emulator, `/v23.0/${PHONE}`, { token: 'not-the-token' });
    assert.equal(wrong.status, 401);
    assert.equal((wrong.body.error as { code: number }).code, 190);
  });

  it('TPL-8: a created template is PENDING, then APPROVED after the review, announced by webhook', async () => {
    const created = await cloud(emulator, `/v23.0/${WABA}/message_templates`, {
      body: {
        name: 'pickup_ready',
        language: 'en',
        category: 'UTILITY',
        components: [
          {
            type: 'BODY',
            text: 'Hi {{1}}, your order is ready for pickup at the front desk.',
            example: { body_text: [['Sam']] },
          },
        ],
      },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.body.status, 'PENDING');
    const before = receiver.received.length;
    await emulator.clock.advance(5_000);
    const listed = await cloud(emulator, `/v23.0/${WABA}/message_templates?name=pickup_ready`);
    const data = listed.body.data as Array<{ status: string; id: string }>;
    assert.equal(data[0]?.status, 'APPROVED');
    assert.equal(data[0]?.id, created.body.id);
    const update = receiver.received
      .slice(before)
      .map(
        (r) =>
          JSON.parse(r.body) as {
            entry: Array<{ changes: Array<{ field: string; value: Record<string, unknown> }> }>;
          },
      )
      .map((p) => p.entry[0]?.changes[0])
      .find((c) => c?.field === 'message_template_status_update');
    assert.equal(update?.value.event, 'APPROVED');
    assert.equal(update?.value.message_template_name, 'pickup_ready');
  });

  it('TPL-8: a template the lint finds wrong is REJECTED after the review', async () => {
    const created = await cloud(emulator, `/v23.0/${WABA}/message_templates`, {
      body: {
        name: 'bad_variables',
        language: 'en',
        category: 'MARKETING',
        components: [{ type: 'BODY', text: '{{1}}{{2}}' }],
      },
    });
    assert.equal(created.body.status, 'PENDING');
    await emulator.clock.advance(5_000);
    const listed = await cloud(emulator, `/v23.0/${WABA}/message_templates?name=bad_variables`);
    assert.equal((listed.body.data as Array<{ status: string }>)[0]?.status, 'REJECTED');
  });
});
