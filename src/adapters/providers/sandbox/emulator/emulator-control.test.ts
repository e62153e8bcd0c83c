// The emulator's control API (simulated users, chaos, clock), its limits and its answers to bad
// input, and every Cloud API answer checked against Meta's OpenAPI description.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadMetaOpenApi } from '../../meta-cloud/testing/meta-openapi-validator.ts';
import { NEEDS_FIXTURES } from '../../meta-cloud/testing/shared-fixtures.ts';
import { startEmulator, type RunningEmulator } from './index.ts';

const PHONE = '106540352242922';
const WABA = '102290129340398';
const TOKEN = 'EAAG-control-test';

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

type Json = Record<string, unknown>;

/** A receiver answering 200, or the next status queued for bodies containing a marker. */
async function startReceiver() {
  const received: Received[] = [];
  const answers = new Map<string, number[]>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: request.headers, body });
      const queued = [...answers].find(([marker]) => body.includes(marker))?.[1];
      response.writeHead(queued?.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    answers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** `entry[0].changes[0]` of each received webhook. */
function changes(received: readonly Received[]): Array<{ field: string; value: Json }> {
  return received.map((r) => {
    const payload = JSON.parse(r.body) as {
      entry: Array<{ changes: Array<{ field: string; value: Json }> }>;
    };
    const change = payload.entry[0]?.changes[0];
    if (!change) throw new Error('a webhook without a change');
    return change;
  });
}

function messagesOf(received: readonly Received[]): Json[] {
  return changes(received).flatMap((c) => (c.value.messages as Json[] | undefined) ?? []);
}

function statusesOf(received: readonly Received[]): Json[] {
  return changes(received).flatMap((c) => (c.value.statuses as Json[] | undefined) ?? []);
}

/** A seeded generator, so chaos and jitter replay identically. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe('parley emulator: control API, chaos, limits and bad input', () => {
  let emulator: RunningEmulator;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; headers: Headers; body: Json }> => {
    const response = await fetch(`${emulator.url}${path}`, {
      method,
      headers: {
        ...(path.startsWith('/control') ? {} : { authorization: `Bearer ${TOKEN}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? {} : (JSON.parse(text) as Json),
    };
  };
  const send = (to: string, payload: Json = { type: 'text', text: { body: 'Hello' } }) =>
    call('POST', `/v23.0/${PHONE}/messages`, { messaging_product: 'whatsapp', to, ...payload });
  const since = (n: number) => receiver.received.slice(n);

  before(async () => {
    receiver = await startReceiver();
    emulator = await startEmulator({
      port: 0,
      appSecret: 'control-secret',
      accessToken: TOKEN,
      webhookUrl: receiver.url,
      random: seeded(7),
      readProbability: 0,
      enforcePairRate: false,
      numbers: [
        {
          phoneNumberId: PHONE,
          displayPhoneNumber: '15550783881',
          wabaId: WABA,
          verifiedName: 'Parley Demo Shop',
        },
        { phoneNumberId: '200000000000001', displayPhoneNumber: '15550100001', throughputMps: 5 },
      ],
      // seconds apart, so statuses move only when a test advances the clock
      statusDelays: { sent: [1_000, 1_000], delivered: [1_000, 1_000], read: [1_000, 1_000] },
    });
  });
  beforeEach(async () => {
    await call('DELETE', '/control/chaos');
  });
  after(async () => {
    await emulator.close();
    await receiver.close();
  });

  it('a simulated user taps a reply button: interactive button_reply quoting the business message', async () => {
    const user = '447700900201';
    await call('POST', `/control/users/${user}/write`, { text: 'Can I change my order?' });
    const sent = await send(user, {
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'Change it?' },
        action: { buttons: [{ type: 'reply', reply: { id: 'yes', title: 'Yes please' } }] },
      },
    });
    const quoted = (sent.body.messages as Json[])[0]?.id;
    await emulator.clock.advance(5_000);
    const n = receiver.received.length;
    const tap = await call('POST', `/control/users/${user}/click`, {
      id: 'yes',
      title: 'Yes please',
    });
    assert.equal(tap.status, 200);
    const [message] = messagesOf(since(n));
    assert.equal(message?.type, 'interactive');
    assert.deepEqual(message?.interactive, {
      type: 'button_reply',
      button_reply: { id: 'yes', title: 'Yes please' },
    });
    assert.deepEqual(message?.context, { from: '15550783881', id: quoted });
  });

  it('a simulated user picks a list row and taps a template quick reply', async () => {
    const user = '447700900202';
    await call('POST', `/control/users/${user}/write`, { text: 'hi' });
    await send(user, {
      type: 'template',
      template: { name: 'hello_world', language: { code: 'en_US' } },
    });
    await emulator.clock.advance(5_000);
    const n = receiver.received.length;
    await call('POST', `/control/users/${user}/click`, {
      kind: 'list',
      id: 'slot_2',
      title: 'Tuesday 10:00',
      description: 'at the Main St shop',
    });
    await call('POST', `/control/users/${user}/click`, { kind: 'quick_reply', title: 'Confirm' });
    const [list, quick] = messagesOf(since(n));
    assert.deepEqual(list?.interactive, {
      type: 'list_reply',
      list_reply: { id: 'slot_2', title: 'Tuesday 10:00', description: 'at the Main St shop' },
    });
    assert.equal(quick?.type, 'button');
    assert.deepEqual(quick?.button, { payload: 'Confirm', text: 'Confirm' });
  });

  it('a simulated user reacts to the latest business message, and a reaction without one is a 409', async () => {
    const lonely = await call('POST', '/control/users/447700900299/react', { emoji: '❤️' });
    assert.equal(lonely.status, 409);
    const user = '447700900203';
    await call('POST', `/control/users/${user}/write`, { text: 'hi' });
    const sent = await send(user);
    await emulator.clock.advance(5_000);
    const n = receiver.received.length;
    await call('POST', `/control/users/${user}/react`, { emoji: '❤️' });
    const [reaction] = messagesOf(since(n));
    assert.deepEqual(reaction?.reaction, {
      message_id: (sent.body.messages as Json[])[0]?.id,
      emoji: '❤️',
    });
  });

  it('FEP-1: a user arriving from an ad carries a referral with ctwa_clid, and the reply is free (FEP-2)', async () => {
    const user = '447700900204';
    const n = receiver.received.length;
    await call('POST', `/control/users/${user}/arrive-from-ad`, { text: 'Is the offer still on?' });
    const [message] = messagesOf(since(n));
    const referral = message?.referral as Json;
    assert.equal(referral.source_type, 'ad');
    assert.match(String(referral.ctwa_clid), /^[\w-]{20,}$/);
    const reply = await send(user, { type: 'text', text: { body: 'Yes, until Sunday!' } });
    const id = (reply.body.messages as Json[])[0]?.id;
    await emulator.clock.advance(5_000);
    const sentStatus = statusesOf(since(n)).find((s) => s.id === id && s.status === 'sent');
    assert.equal((sentStatus?.pricing as Json).type, 'free_entry_point');
  });

  it('a simulated user reads on request when users do not read by themselves', async () => {
    const user = '447700900205';
    await call('POST', `/control/users/${user}/write`, { text: 'hi' });
    const sent = await send(user);
    const id = (sent.body.messages as Json[])[0]?.id;
    await emulator.clock.advance(5_000);
    assert.equal(emulator.world.message(String(id))?.status, 'delivered');
    const n = receiver.received.length;
    const read = await call('POST', `/control/users/${user}/read`, {});
    assert.deepEqual(read.body, { read: [id] });
    assert.deepEqual(
      statusesOf(since(n)).map((s) => [s.id, s.status]),
      [[id, 'read']],
    );
  });

  it('the control API shows a user’s care window, which closes when the clock is advanced 24 h (CSW-1)', async () => {
    const user = '447700900206';
    await call('POST', `/control/users/${user}/write`, { text: 'hi' });
    assert.equal(((await call('GET', `/control/users/${user}`)).body.window as Json).open, true);
    const moved = await call('POST', '/control/clock/advance', { ms: 24 * 3_600_000 });
    assert.equal(moved.status, 200);
    assert.equal(((await call('GET', `/control/users/${user}`)).body.window as Json).open, false);
  });

  it('an image sent by an unknown media id is accepted, then fails with 131053', async () => {
    const user = '447700900213';
    await call('POST', `/control/users/${user}/write`, { text: 'send me the photo' });
    const n = receiver.received.length;
    const sent = await send(user, { type: 'image', image: { id: '1234567890' } });
    assert.equal(sent.status, 200);
    const id = (sent.body.messages as Json[])[0]?.id;
    await emulator.clock.advance(5_000);
    const failed = statusesOf(since(n)).find((s) => s.id === id);
    assert.equal(failed?.status, 'failed');
    assert.equal((failed?.errors as Json[])[0]?.code, 131053);
  });

  it('chaos: duplicates arrive byte for byte with the same signature', async () => {
    await call('POST', '/control/chaos', { duplicateWebhooks: 1 });
    const n = receiver.received.length;
    await call('POST', '/control/users/447700900207/write', { text: 'once' });
    await emulator.clock.advance(2_000);
    const got = since(n).filter((r) => r.body.includes('"once"'));
    assert.equal(got.length, 2);
    assert.equal(got[0]?.body, got[1]?.body);
    assert.equal(got[0]?.headers['x-hub-signature-256'], got[1]?.headers['x-hub-signature-256']);
  });

  it('chaos: reordered statuses arrive newest first (delivered before sent)', async () => {
    const user = '447700900208';
    await call('POST', `/control/users/${user}/write`, { text: 'hi' });
    await call('POST', '/control/chaos', { reorderWebhooks: true });
    const n = receiver.received.length;
    const sent = await send(user);
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    await emulator.clock.advance(5_000);
    assert.deepEqual(
      statusesOf(since(n)).map((s) => s.status),
      ['delivered', 'sent'],
    );
  });

  it('chaos: webhooks held back by a delay arrive only when it has passed', async () => {
    await call('POST', '/control/chaos', { webhookDelayMs: [60_000, 60_000] });
    const n = receiver.received.length;
    await call('POST', '/control/users/447700900209/write', { text: 'slow' });
    await emulator.clock.advance(59_000);
    assert.equal(since(n).filter((r) => r.body.includes('slow')).length, 0);
    await emulator.clock.advance(1_000);
    assert.equal(since(n).filter((r) => r.body.includes('slow')).length, 1);
  });

  it('chaos: the next send gets a 5xx in Meta’s envelope, the one after goes through', async () => {
    await call('POST', '/control/chaos', { serverErrors: 1 });
    const failed = await send('447700900210');
    assert.ok(failed.status === 500 || failed.status === 503, String(failed.status));
    assert.ok([131000, 2].includes((failed.body.error as Json).code as number));
    assert.equal((await send('447700900210')).status, 200);
  });

  it('chaos: a send that times out gets no answer at all, and the next one is answered', async () => {
    await call('POST', '/control/chaos', { timeouts: 1 });
    await assert.rejects(
      fetch(`${emulator.url}/v23.0/${PHONE}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          messaging_product: 'whatsapp',
          to: '447700900212',
          type: 'text',
          text: { body: 'lost?' },
        }),
        signal: AbortSignal.timeout(500),
      }),
      /aborted|timeout/i,
    );
    assert.equal((await send('447700900212')).status, 200);
  });

  it('a receiver that fails is retried with backoff until it accepts', async () => {
    receiver.answers.set('retry me', [500, 503]);
    const n = receiver.received.length;
    await call('POST', '/control/users/447700900211/write', { text: 'retry me' });
    await emulator.clock.advance(1_000);
    await emulator.clock.advance(2_000);
    // (late statuses of earlier tests may arrive meanwhile: only this user's message counts)
    const got = since(n).filter((r) => r.body.includes('retry me'));
    assert.equal(got.length, 3);
    assert.equal(new Set(got.map((r) => r.body)).size, 1);
    const log = (await call('GET', '/control/webhooks?limit=20')).body.data as Json[];
    assert.deepEqual(
      log.filter((a) => JSON.stringify(a.payload).includes('retry me')).map((a) => a.status),
      [500, 503, 200],
    );
  });

  it('LIM-1: a number sending faster than its throughput gets 130429 with Retry-After', async () => {
    const answers: Array<{ status: number; headers: Headers; body: Json }> = [];
    // 11 sends within two calendar seconds: at least 6 fall in one, above the tier of 5
    for (let i = 0; i < 11; i++)
      answers.push(
        await call('POST', '/v23.0/200000000000001/messages', {
          messaging_product: 'whatsapp',
          to: `4477009003${String(i).padStart(2, '0')}`,
          type: 'template',
          template: { name: 'hello_world', language: { code: 'en_US' } },
        }),
      );
    const limited = answers.find((a) => a.status === 429);
    assert.ok(limited, 'no send was refused');
    assert.equal((limited.body.error as Json).code, 130429);
    assert.equal(limited.headers.get('retry-after'), '1');
  });

  it('answers malformed JSON, unknown paths and ids, and bad control input with precise errors, never a 500', async () => {
    const malformed = await call('POST', `/v23.0/${PHONE}/messages`, '{"messaging_product":');
    assert.equal(malformed.status, 400);
    assert.equal((malformed.body.error as Json).code, 100);
    const invalid = await send('not-a-number');
    assert.equal(invalid.status, 400);
    assert.match(String(((invalid.body.error as Json).error_data as Json).details), /to/);
    const path = await call('GET', '/v23.0/1/2/3');
    assert.equal((path.body.error as Json).code, 2500);
    const noVersion = await call('GET', `/graph/${PHONE}`);
    assert.equal((noVersion.body.error as Json).code, 2500);
    const unknown = await call('GET', '/v23.0/999999999');
    assert.equal((unknown.body.error as Json).error_subcode, 33);
    const badChaos = await call('POST', '/control/chaos', { serverErrors: -1 });
    assert.equal(badChaos.status, 400);
    assert.match(String((badChaos.body.error as Json).message), /serverErrors/);
    const unknownChaos = await call('POST', '/control/chaos', { meteorStrike: true });
    assert.equal(unknownChaos.status, 400);
    const badUser = await call('POST', '/control/users/abc/write', { text: 'x' });
    assert.equal(badUser.status, 400);
    const form = new FormData();
    form.append('file', new Blob(['<html></html>'], { type: 'image/gif' }));
    const upload = await fetch(`${emulator.url}/v23.0/${PHONE}/media?messaging_product=whatsapp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: form,
    });
    assert.equal(upload.status, 400);
    const uploadBody = (await upload.json()) as Json;
    assert.match(String(((uploadBody.error as Json).error_data as Json).details), /image\/gif/);
  });

  it(
    'every Cloud API answer validates against Meta’s OpenAPI description',
    { skip: NEEDS_FIXTURES },
    async () => {
      const api = loadMetaOpenApi();
      const user = '447700900220';
      await call('POST', `/control/users/${user}/write`, { text: 'hi' });
      const check = (operation: string, method: string, status: number, body: unknown) =>
        assert.deepEqual(
          api.validateResponse(operation, method, status, body),
          [],
          `${method} ${operation}`,
        );

      const sent = await send(user);
      check('/{Version}/{Phone-Number-ID}/messages', 'post', 200, sent.body);
      const inboundId = emulator.world.lastUserMessage(PHONE, user)?.id;
      const read = await call('POST', `/v23.0/${PHONE}/messages`, {
        messaging_product: 'whatsapp',
        status: 'read',
        message_id: inboundId,
        typing_indicator: { type: 'text' },
      });
      assert.deepEqual(api.validateSchema('SuccessResponse', read.body), []);

      const form = new FormData();
      form.append('file', new Blob([Buffer.from('OggS')], { type: 'audio/ogg' }));
      const uploaded = await fetch(
        `${emulator.url}/v23.0/${PHONE}/media?messaging_product=whatsapp`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}` },
          body: form,
        },
      );
      const media = (await uploaded.json()) as Json;
      check('/{Version}/{Phone-Number-ID}/media', 'post', 200, media);
      const info = await call('GET', `/v23.0/${String(media.id)}?phone_number_id=${PHONE}`);
      check('/{Version}/{Media-ID}', 'get', 200, info.body);
      check(
        '/{Version}/{Media-ID}',
        'delete',
        200,
        (await call('DELETE', `/v23.0/${String(media.id)}`)).body,
      );

      check(
        '/{Version}/{Phone-Number-ID}',
        'get',
        200,
        (await call('GET', `/v23.0/${PHONE}`)).body,
      );

      const templates = '/{Version}/{WABA-ID}/message_templates';
      check(templates, 'get', 200, (await call('GET', `/v23.0/${WABA}/message_templates`)).body);
      const created = await call('POST', `/v23.0/${WABA}/message_templates`, {
        name: 'openapi_check',
        language: 'en',
        category: 'UTILITY',
        components: [{ type: 'BODY', text: 'Your parcel has been handed to the courier today.' }],
      });
      check(templates, 'post', 200, created.body);
      check(
        templates,
        'delete',
        200,
        (await call('DELETE', `/v23.0/${WABA}/message_templates?name=openapi_check`)).body,
      );

      for (const error of [
        (await send('not-a-number')).body,
        (await call('GET', `/v23.0/${PHONE}`, undefined, { authorization: 'Bearer wrong' })).body,
        (await call('GET', '/v23.0/999999999')).body,
        (await call('GET', '/v23.0/1/2/3')).body,
      ])
        assert.deepEqual(api.validateSchema('GraphAPIError', error), [], JSON.stringify(error));
    },
  );
});
