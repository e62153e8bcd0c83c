// The sandbox as a Provider: Meta's answers and errors, signed webhooks in Meta's exact format, chaos.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { InboundMessage } from '../../../core/inbound.ts';
import { SECOND } from '../../../core/time.ts';
import type { RawWebhook } from '../../../ports/provider.ts';
import { verifyMetaSignature } from '../meta-cloud/meta-signature.ts';
import { parseMetaWebhook } from '../meta-cloud/meta-webhook-parse.ts';
import { DEMO_NUMBER, SandboxWorld, type SandboxWebhook } from './sandbox-world.ts';
import { APP_SECRET, CHANNEL, idOf, sandboxKit } from './testing/sandbox-kit.ts';

const pn = DEMO_NUMBER.phoneNumberId;
const CAMILA = '5511987654321';
const FIXTURES = fileURLToPath(new URL('../../../../../shared/fixtures/meta/', import.meta.url));
const NEEDS_FIXTURES = existsSync(FIXTURES)
  ? false
  : 'needs ../shared/fixtures (absent on a fresh clone)';

const raw = (webhook: SandboxWebhook): RawWebhook => ({
  method: 'POST',
  url: 'https://parley.example.com/webhooks/meta/conn_1',
  headers: webhook.headers,
  query: {},
  body: webhook.body,
});

/** The set of key paths of a JSON document (array items merged), to compare shapes. */
function keyPaths(value: unknown, prefix = ''): Set<string> {
  const out = new Set<string>();
  if (Array.isArray(value)) {
    for (const item of value) for (const p of keyPaths(item, `${prefix}[]`)) out.add(p);
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      out.add(`${prefix}.${k}`);
      for (const p of keyPaths(v, `${prefix}.${k}`)) out.add(p);
    }
  }
  return out;
}

describe('sandbox provider: answers like the Cloud API', () => {
  it('answers an accepted send with a wamid and kind sandbox', async () => {
    const kit = sandboxKit();
    assert.equal(kit.provider.kind, 'sandbox');
    await kit.world.userWrites(pn, { from: CAMILA, text: 'Oi' });
    const result = await kit.text(CAMILA, 'Olá Camila!');
    assert.equal(result.ok, true);
    assert.match(idOf(result), /^wamid\.HBgN[A-Za-z0-9+/=]+$/);
    const sent = kit.world.message(idOf(result));
    assert.equal(sent?.to, CAMILA);
    assert.deepEqual(sent?.content, { body: 'Olá Camila!' });
  });

  it('LIM-6: refuses an over-long text synchronously with Meta error 100 and the precise limit', async () => {
    const kit = sandboxKit();
    const result = await kit.text(CAMILA, 'x'.repeat(4097));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.failure.reason, 'invalid_request');
    assert.equal(result.failure.providerCode, '100');
    assert.equal(result.failure.httpStatus, 400);
    assert.equal(
      result.failure.details,
      'text.body is 4097 characters; WhatsApp allows at most 4096',
    );
    assert.equal(kit.world.outbound().length, 0, 'nothing was accepted');
  });

  it('refuses malformed bodies with error 100 before anything is accepted', () => {
    const kit = sandboxKit();
    const cases: Array<[unknown, RegExp]> = [
      [{ to: CAMILA, type: 'text', text: { body: 'x' } }, /messaging_product/],
      [{ messaging_product: 'whatsapp', to: 'not-a-number', text: { body: 'x' } }, /to/],
      [
        { messaging_product: 'whatsapp', to: CAMILA, type: 'poll', poll: {} },
        /type must be one of/,
      ],
      [{ messaging_product: 'whatsapp', to: CAMILA, type: 'text', text: { body: 7 } }, /body/],
      [
        {
          messaging_product: 'whatsapp',
          to: CAMILA,
          type: 'interactive',
          interactive: { type: 'button', body: { text: 'Pick' }, action: { buttons: [] } },
        },
        /reply buttons: 0 given/,
      ],
    ];
    for (const [body, detail] of cases) {
      const answer = kit.world.answer(pn, body);
      assert.equal(answer.kind, 'response');
      if (answer.kind !== 'response') continue;
      assert.equal(answer.status, 400);
      const error = answer.body.error as { code: number; error_data: { details: string } };
      assert.equal(error.code, 100);
      assert.match(error.error_data.details, detail);
    }
    assert.equal(kit.world.stats.accepted, 0);
  });

  it('answers an unknown phone number id with error 100 when auto-registration is off', async () => {
    const kit = sandboxKit({ autoRegisterNumbers: false });
    const result = await kit.provider.send({
      channel: { ...CHANNEL, providerKey: '999999999999999' },
      to: CAMILA,
      content: { type: 'text', text: { body: 'x' } },
    });
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.failure.providerCode, '100');
    assert.match(result.failure.details ?? '', /999999999999999/);
  });

  it('marks an inbound message read (blue ticks)', async () => {
    const kit = sandboxKit();
    const inbound = await kit.world.userWrites(pn, { from: CAMILA, text: 'Oi' });
    const result = await kit.provider.markRead?.(CHANNEL, inbound.id);
    assert.deepEqual(result, { ok: true, providerMessageId: inbound.id });
    assert.equal(kit.world.readByBusiness(inbound.id), true);
  });

  it('TPL-8: lists the WABA templates, seeded demo ones APPROVED in several categories and languages', async () => {
    const kit = sandboxKit();
    const templates = (await kit.provider.listTemplates?.(CHANNEL)) ?? [];
    const byKey = new Map(templates.map((t) => [`${t.name}/${t.language}`, t]));
    assert.equal(byKey.get('order_update/en')?.category, 'UTILITY');
    assert.equal(byKey.get('order_update/pt_BR')?.status, 'APPROVED');
    assert.equal(byKey.get('appointment_reminder/en_US')?.category, 'UTILITY');
    assert.equal(byKey.get('welcome_offer/en')?.category, 'MARKETING');
    assert.equal(byKey.get('verification_code/en')?.category, 'AUTHENTICATION');
    assert.equal(byKey.get('delivery_update/en_GB')?.parameterFormat, 'NAMED');
    assert.ok(
      templates.every((t) => t.status === 'APPROVED' && /^\d+$/.test(t.providerTemplateId ?? '')),
    );
  });
});

describe("sandbox provider: webhooks in Meta's format", () => {
  it('B.2: every webhook is ASCII JSON signed with the app secret over its exact bytes', async () => {
    const kit = sandboxKit();
    await kit.world.userWrites(pn, {
      from: CAMILA,
      name: 'Camila Souza',
      text: 'Olá! Meu pedido não chegou 😕 https://shop.example.com/o/1',
    });
    await kit.text(CAMILA, 'Vamos verificar, Camila 🙏');
    await kit.clock.advance(20 * SECOND);
    assert.equal(kit.delivered.length, 4);
    for (const { webhook } of kit.delivered) {
      const text = webhook.body.toString('utf8');
      assert.match(text, /^[\x20-\x7e]*$/, 'only printable ASCII on the wire');
      assert.equal(webhook.headers['content-type'], 'application/json');
      assert.equal(webhook.headers['content-length'], String(webhook.body.length));
      assert.ok(
        verifyMetaSignature(webhook.body, webhook.headers['x-hub-signature-256'], APP_SECRET),
      );
      assert.deepEqual(kit.provider.verifyWebhook(raw(webhook)), { ok: true });
    }
    const first = kit.delivered[0]!.webhook.body.toString('utf8');
    assert.ok(first.includes('Ol\\u00e1!'), 'non-ASCII escaped as lowercase \\uXXXX');
    assert.ok(first.includes('\\ud83d\\ude15'), 'emoji as a surrogate pair');
    assert.ok(first.includes('https:\\/\\/shop.example.com\\/o\\/1'), '/ escaped as \\/');
    const message = kit.events()[0] as InboundMessage;
    assert.deepEqual(message.content, {
      body: 'Olá! Meu pedido não chegou 😕 https://shop.example.com/o/1',
    });
    assert.equal(message.profileName, 'Camila Souza');
  });

  it('B.2: verifyWebhook refuses a missing, malformed or wrong signature with 401 and says which', async () => {
    const kit = sandboxKit();
    await kit.world.userWrites(pn, { from: CAMILA, text: 'Oi' });
    const good = kit.delivered[0]!.webhook;
    const { 'x-hub-signature-256': signature, ...unsigned } = good.headers;
    assert.ok(signature);

    const missing = kit.provider.verifyWebhook(raw({ body: good.body, headers: unsigned }));
    const malformed = kit.provider.verifyWebhook(
      raw({ body: good.body, headers: { ...unsigned, 'x-hub-signature-256': 'sha1=abc' } }),
    );
    const tampered = kit.provider.verifyWebhook(
      raw({ body: Buffer.from(good.body.toString().replace('Oi', 'Ol')), headers: good.headers }),
    );
    const upperCaseHeader = kit.provider.verifyWebhook(
      raw({ body: good.body, headers: { ...unsigned, 'X-Hub-Signature-256': signature } }),
    );
    assert.deepEqual(missing.ok ? null : [missing.status, /missing/.test(missing.detail)], [
      401,
      true,
    ]);
    assert.deepEqual(
      malformed.ok ? null : [malformed.status, /64 hexadecimal/.test(malformed.detail)],
      [401, true],
    );
    assert.deepEqual(
      tampered.ok ? null : [tampered.status, /does not match/.test(tampered.detail)],
      [401, true],
    );
    assert.deepEqual(upperCaseHeader, { ok: true });
  });

  it('B.1: answers the hub.challenge handshake only with the verify token', () => {
    const kit = sandboxKit({ verifyToken: 'meatyhamhock' });
    const challenge = kit.provider.answerChallenge?.({
      'hub.mode': 'subscribe',
      'hub.challenge': '1158201444',
      'hub.verify_token': 'meatyhamhock',
    });
    const refused = kit.provider.answerChallenge?.({
      'hub.mode': 'subscribe',
      'hub.challenge': '1158201444',
      'hub.verify_token': 'guess',
    });
    assert.equal(challenge, '1158201444');
    assert.equal(refused, null);
  });

  it('B.4: every inbound type is delivered and parses into the right message event', async () => {
    const kit = sandboxKit();
    const answer = idOf(
      await kit.template(CAMILA, 'appointment_reminder', 'en_US', ['C', 'Tue', '10:30']),
    );
    await kit.clock.advance(20 * SECOND);
    const types = [
      'text',
      'image',
      'video',
      'audio',
      'document',
      'sticker',
      'location',
      'contacts',
      'button',
      'interactive',
      'reaction',
      'order',
      'system',
      'unsupported',
    ];
    for (const type of types)
      await kit.world.userWrites(pn, { from: CAMILA, name: 'Camila', type, text: 'Confirm' });
    await kit.world.userWrites(pn, {
      from: CAMILA,
      type: 'interactive',
      content: { type: 'list_reply', list_reply: { id: 'slot_2', title: 'Friday 10:00' } },
    });

    const messages = kit
      .events()
      .filter((e): e is InboundMessage & { deliveredAt: number } => e.kind === 'message');
    assert.deepEqual(
      messages.map((m) => m.type),
      [...types, 'interactive'],
    );
    const of = (type: string) => messages.find((m) => m.type === type)!;
    for (const m of messages) {
      assert.match(m.providerMessageId, /^wamid\.HBgN/);
      assert.equal(m.from, CAMILA);
      assert.equal(m.channelKey, pn);
    }
    assert.equal(new Set(messages.map((m) => m.providerMessageId)).size, messages.length);
    assert.deepEqual(of('text').content, { body: 'Confirm' });
    assert.equal((of('image').content as { caption?: string }).caption, 'Confirm');
    assert.match((of('image').content as { mime_type: string }).mime_type, /^image\//);
    assert.equal((of('audio').content as { voice?: boolean }).voice, true);
    assert.equal(typeof (of('location').content as { latitude: number }).latitude, 'number');
    assert.deepEqual(of('button').context, { from: DEMO_NUMBER.displayPhoneNumber, id: answer });
    assert.deepEqual(of('button').content, { payload: 'Confirm', text: 'Confirm' });
    assert.deepEqual(of('reaction').content, { message_id: answer, emoji: 'Confirm' });
    assert.equal((of('system').content as { type: string }).type, 'user_changed_number');
    assert.equal(of('unsupported').errors?.[0]?.code, 131051);
    assert.deepEqual(messages.at(-1)?.content, {
      type: 'list_reply',
      list_reply: { id: 'slot_2', title: 'Friday 10:00' },
    });
    assert.equal(messages[0]?.profileName, 'Camila');
  });

  it('FEP-1: a referral rides on the inbound message like a Click-to-WhatsApp ad', async () => {
    const kit = sandboxKit();
    await kit.world.userWrites(pn, { from: CAMILA, text: 'Vi o anúncio', referral: true });
    const message = kit.events()[0] as InboundMessage;
    assert.equal(message.referral?.source_type, 'ad');
    assert.ok(message.referral?.ctwa_clid);
  });

  it(
    'B.3: inbound and status webhooks have the key structure of real Meta payloads',
    { skip: NEEDS_FIXTURES },
    async () => {
      const kit = sandboxKit({
        statusDelays: { sent: [300, 300], delivered: [900, 900], read: [3_000, 3_000] },
      });
      await kit.world.userWrites(pn, { from: CAMILA, name: 'Test Name', text: 'Body Text' });
      await kit.world.userWrites(pn, { from: CAMILA, type: 'image' });
      await kit.world.userWrites(pn, {
        from: CAMILA,
        type: 'location',
        content: { latitude: 12.25, longitude: 43.9 },
      });
      await kit.text(CAMILA, 'Hi');
      await kit.clock.advance(20 * SECOND);
      const ours = kit.delivered.map((d) => JSON.parse(d.webhook.body.toString()) as unknown);
      const fixture = (name: string) =>
        JSON.parse(readFileSync(`${FIXTURES}${name}`, 'utf8')) as unknown;
      // 2026 business-scoped ids are optional (PROVIDERS.md B.3); the sandbox leaves them out.
      const optional = (p: string) => /user_id|parent_user_id|context|conversation/.test(p);
      const expectSameShape = (mine: unknown, theirs: unknown, what: string) => {
        const have = keyPaths(mine);
        const missing = [...keyPaths(theirs)].filter((p) => !optional(p) && !have.has(p));
        assert.deepEqual(missing, [], `${what} webhook lacks keys Meta sends`);
      };
      expectSameShape(ours[0], fixture('pywa__message__text.json'), 'text');
      expectSameShape(ours[1], fixture('pywa__message__image.json'), 'image');
      expectSameShape(ours[2], fixture('pywa__message__current_location.json'), 'location');
      // statuses: Meta's envelope and status keys; PMP pricing adds `type`
      const sentFixture = fixture('pywa__message_status__sent.json');
      // Meta's status webhooks carry no contacts (the pywa fixture adds them); PMP pricing adds `type`
      const mine = keyPaths(ours[3]);
      for (const p of keyPaths(sentFixture))
        if (!p.includes('.contacts') && !optional(p))
          assert.ok(mine.has(p), `status webhook has ${p}`);
      assert.ok(mine.has('.entry[].changes[].value.statuses[].pricing.type'));
    },
  );

  it('is deterministic under an injected random: same calls, same bytes', async () => {
    const run = async () => {
      const kit = sandboxKit();
      await kit.world.userWrites(pn, { from: CAMILA, text: 'Oi' });
      await kit.text(CAMILA, 'Olá');
      await kit.template(CAMILA, 'order_update', 'pt_BR', ['Camila', '1', 'a caminho']);
      await kit.clock.advance(20 * SECOND);
      return kit.delivered.map((d) => [d.at, d.webhook.body.toString()]);
    };
    assert.deepEqual(await run(), await run());
  });

  it('retries a webhook the receiver refused, with backoff, until it is accepted', async () => {
    const kit = sandboxKit();
    let refusals = 2;
    const received: number[] = [];
    const world = new SandboxWorld({
      clock: kit.clock,
      schedule: kit.clock.schedule,
      appSecret: APP_SECRET,
      deliver: () => {
        received.push(kit.clock.now());
        if (refusals-- > 0) return Promise.reject(new Error('503 from the receiver'));
        return Promise.resolve();
      },
    });
    const start = kit.clock.now();
    await world.userWrites(pn, { from: CAMILA, text: 'Oi' });
    await kit.clock.advance(10 * SECOND);
    assert.deepEqual(
      received.map((t) => t - start),
      [0, 1_000, 3_000],
    );
    assert.equal(world.stats.webhooksDelivered, 1);
    assert.equal(world.stats.deliveryFailures, 2);
  });
});

describe('sandbox provider: chaos on demand', () => {
  it('rateLimitBurst: exactly the next N sends get 130429 with HTTP 429 and Retry-After', async () => {
    const kit = sandboxKit();
    await kit.world.userWrites(pn, { from: CAMILA, text: 'Oi' });
    kit.world.chaos({ rateLimitBurst: 2, retryAfterSeconds: 3 });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await kit.text(CAMILA, `m${i}`));
    for (const r of results.slice(0, 2)) {
      assert.equal(r.ok, false);
      if (r.ok) continue;
      assert.equal(r.failure.reason, 'throughput');
      assert.equal(r.failure.providerCode, '130429');
      assert.equal(r.failure.httpStatus, 429);
      assert.equal(r.failure.retryAfterMs, 3_000);
    }
    assert.equal(results[2]?.ok, true);
    assert.equal(kit.world.outbound().length, 1, 'rate-limited sends were not accepted');
  });

  it('serverErrors: exactly the next N sends get HTTP 500 or 503, reason provider_unavailable', async () => {
    const kit = sandboxKit();
    await kit.world.userWrites(pn, { from: CAMILA, text: 'Oi' });
    kit.world.chaos({ serverErrors: 4 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await kit.text(CAMILA, `m${i}`);
      assert.equal(r.ok, false);
      if (r.ok) continue;
      assert.equal(r.failure.reason, 'provider_unavailable');
      statuses.push(r.failure.httpStatus ?? 0);
    }
    assert.ok(statuses.every((s) => s === 500 || s === 503));
    assert.equal((await kit.text(CAMILA, 'after')).ok, true);
  });

  it('authErrors: the next send gets 190 with HTTP 401, reason auth', async () => {
    const kit = sandboxKit();
    kit.world.chaos({ authErrors: 1 });
    const r = await kit.template(CAMILA, 'hello_world', 'en_US');
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.failure.reason, 'auth');
      assert.equal(r.failure.httpStatus, 401);
      assert.equal(r.failure.providerCode, '190');
    }
    assert.equal((await kit.template(CAMILA, 'hello_world', 'en_US')).ok, true);
  });

  it('timeouts: the send resolves only after the timeout, as provider_unavailable and maybeSent', async () => {
    const kit = sandboxKit({ timeoutMs: 5_000 });
    await kit.world.userWrites(pn, { from: CAMILA, text: 'Oi' });
    kit.world.chaos({ timeouts: 1 });
    let settled: unknown = null;
    const pending = kit.text(CAMILA, 'Are you there?').then((r) => (settled = r));
    await kit.clock.advance(4_999);
    assert.equal(settled, null, 'no answer before the timeout');
    await kit.clock.advance(1);
    await pending;
    assert.deepEqual(settled, {
      ok: false,
      failure: {
        reason: 'provider_unavailable',
        details: 'no answer from the sandbox Cloud API within 5000 ms',
        maybeSent: true,
      },
    });
    await kit.clock.advance(20 * SECOND);
    assert.equal(kit.world.outbound().length, 0, 'by default WhatsApp never got it');
    assert.equal(kit.delivered.length, 1, 'only the inbound message');
  });

  it('timeouts with timeoutDelivers: WhatsApp sent it anyway and its statuses arrive for an unknown id', async () => {
    const kit = sandboxKit({ timeoutMs: 5_000 });
    await kit.world.userWrites(pn, { from: CAMILA, text: 'Oi' });
    kit.world.chaos({ timeouts: 1, timeoutDelivers: true });
    const pending = kit.text(CAMILA, 'Are you there?');
    await kit.clock.advance(20 * SECOND);
    const result = await pending;
    assert.equal(result.ok ? null : result.failure.maybeSent, true);
    const [ghost] = kit.world.outbound();
    assert.deepEqual(ghost?.content, { body: 'Are you there?' });
    assert.deepEqual(
      kit.statusesOf(ghost?.id ?? '').map((s) => s.status),
      ['sent', 'delivered', 'read'],
    );
  });

  it('duplicateWebhooks 1: every webhook arrives twice, byte for byte; 0: once', async () => {
    const kit = sandboxKit();
    kit.world.chaos({ duplicateWebhooks: 1 });
    await kit.world.userWrites(pn, { from: CAMILA, text: 'Oi' });
    const id = idOf(await kit.text(CAMILA, 'Olá'));
    await kit.clock.advance(30 * SECOND);
    assert.equal(kit.delivered.length, 8);
    const bodies = kit.delivered.map((d) => d.webhook.body.toString());
    for (const b of new Set(bodies)) assert.equal(bodies.filter((x) => x === b).length, 2);
    assert.equal(kit.world.stats.duplicatesDelivered, 4);
    assert.equal(kit.statusesOf(id).length, 6);

    kit.world.chaos({ duplicateWebhooks: 0 });
    kit.delivered.length = 0;
    await kit.world.userWrites(pn, { from: CAMILA, text: 'Obrigada' });
    await kit.clock.advance(30 * SECOND);
    assert.equal(kit.delivered.length, 1);
  });

  it('duplicateWebhooks 0.5: about half the webhooks are duplicated', async () => {
    const kit = sandboxKit();
    kit.world.chaos({ duplicateWebhooks: 0.5 });
    for (let i = 0; i < 200; i++) await kit.world.userWrites(pn, { from: CAMILA, text: `m${i}` });
    await kit.clock.advance(5 * SECOND);
    const dups = kit.world.stats.duplicatesDelivered;
    assert.ok(dups > 70 && dups < 130, `${dups} duplicates of 200`);
  });

  it('reorderWebhooks: read arrives before delivered before sent, with their true timestamps', async () => {
    const kit = sandboxKit({
      statusDelays: { sent: [300, 300], delivered: [2_000, 2_000], read: [5_000, 5_000] },
    });
    await kit.world.userWrites(pn, { from: CAMILA, text: 'Oi' });
    kit.world.chaos({ reorderWebhooks: true });
    const start = kit.clock.now();
    const id = idOf(await kit.text(CAMILA, 'Olá'));
    await kit.clock.advance(20 * SECOND);
    const statuses = kit.statusesOf(id);
    assert.deepEqual(
      statuses.map((s) => s.status),
      ['read', 'delivered', 'sent'],
    );
    assert.ok(statuses.every((s) => s.deliveredAt === start + 7_300));
    assert.deepEqual(
      statuses.map((s) => s.at).sort((a, b) => a - b),
      [start + 300, start + 2_300, start + 7_300].map((t) => Math.floor(t / 1000) * 1000),
    );
  });

  it('lateFailures: the next accepted send fails late with the given code', async () => {
    const kit = sandboxKit();
    await kit.world.userWrites(pn, { from: CAMILA, text: 'Oi' });
    kit.world.chaos({ lateFailures: 1, lateFailureCode: 131000 });
    const failing = idOf(await kit.text(CAMILA, 'one'));
    const fine = idOf(await kit.text(CAMILA, 'two'));
    await kit.clock.advance(20 * SECOND);
    const failed = kit.statusesOf(failing);
    assert.deepEqual(
      failed.map((s) => s.status),
      ['failed'],
    );
    assert.equal(failed[0]?.errors?.[0]?.code, 131000);
    assert.equal(kit.world.message(fine)?.status, 'read');
  });

  it('calm() ends every misbehaviour', async () => {
    const kit = sandboxKit();
    kit.world.chaos({ rateLimitBurst: 5, serverErrors: 5, duplicateWebhooks: 1 });
    kit.world.calm();
    assert.equal((await kit.template(CAMILA, 'hello_world', 'en_US')).ok, true);
    assert.equal(kit.world.chaosState.duplicateWebhooks, 0);
  });

  it('LIM-1: with enforceThroughput a number over its tier in one second gets 130429', async () => {
    const kit = sandboxKit({ enforceThroughput: true });
    kit.world.addNumber({
      phoneNumberId: '200',
      displayPhoneNumber: '15550000200',
      throughputMps: 20,
    });
    const channel = { channelId: 'c20', providerKey: '200', phoneNumber: '15550000200' };
    const results = [];
    for (let i = 0; i < 21; i++)
      results.push(
        await kit.provider.send({
          channel,
          to: CAMILA,
          content: {
            type: 'template',
            template: { name: 'hello_world', language: { code: 'en_US' } },
          },
        }),
      );
    assert.equal(results.filter((r) => r.ok).length, 20);
    const last = results[20];
    assert.equal(last?.ok ? null : last?.failure.reason, 'throughput');
    assert.equal(kit.world.peakSendsPerSecond('200'), 20);
    await kit.clock.advance(SECOND);
    assert.equal(
      (
        await kit.provider.send({
          channel,
          to: CAMILA,
          content: {
            type: 'template',
            template: { name: 'hello_world', language: { code: 'en_US' } },
          },
        })
      ).ok,
      true,
    );
  });
});

describe('sandbox provider: parseWebhook', () => {
  it('parses its own webhooks with the Meta parser', async () => {
    const kit = sandboxKit();
    await kit.world.userWrites(pn, { from: CAMILA, text: 'Oi' });
    const events = kit.provider.parseWebhook(raw(kit.delivered[0]!.webhook));
    assert.deepEqual(
      events,
      parseMetaWebhook(kit.delivered[0]!.webhook.body, { receivedAt: kit.clock.now() }),
    );
    assert.equal(events[0]?.kind, 'message');
  });
});
