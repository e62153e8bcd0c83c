// On PostgreSQL webhooks about different customers are processed side by side; each customer's
// statuses and messages still take effect, and are announced, in the order they arrived.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freshPostgresUrl, postgresAvailable, requireServerOrSkip } from './helpers/databases.ts';
import { startTestParley, type TestParley } from './helpers/parley.ts';
import {
  createMetaChannel,
  metaStatusBody,
  metaTextBody,
  postSigned,
  processAcknowledged,
  signMeta,
  type MetaSetup,
} from './helpers/meta-webhooks.ts';
import { ingestWebhook } from '../src/app/receive-webhook.ts';
import { WebhookProcessor } from '../src/workers/webhook-processor.ts';
import type { InboundEvent } from '../src/core/inbound.ts';
import type { DomainEvent } from '../src/ports/event-bus.ts';
import type { WebhookRecord } from '../src/ports/store.ts';

const skip = requireServerOrSkip(await postgresAvailable(), 'PostgreSQL');
const NUMBER = '106540352242922';
// Ten: with four lanes, a customer's next webhook is not where plain rotation would put it.
const CUSTOMERS = Array.from({ length: 10 }, (_, i) => `4477009${String(i).padStart(5, '0')}`);

describe('webhook processing in lanes on PostgreSQL', { skip }, () => {
  let db: { url: string; drop: () => Promise<void> };
  let t: TestParley;
  let meta: MetaSetup;
  before(async () => {
    db = await freshPostgresUrl();
    t = await startTestParley({ databaseUrl: db.url });
    meta = await createMetaChannel(t, { providerKey: NUMBER });
    // Each customer writes once (contact and conversation), processed the ordinary way.
    for (const c of CUSTOMERS) {
      const body = metaTextBody({
        phoneNumberId: NUMBER,
        from: c,
        id: `wamid.${c}.0`,
        text: 'hi',
        at: t.clock.now(),
      });
      assert.equal((await postSigned(t, meta.connectionId, body, meta.appSecret)).status, 200);
    }
    await processAcknowledged(t);
  });
  after(async () => {
    await t?.close();
    await db?.drop();
  });

  /** A reply from the business to every customer, as if sent earlier; its id by customer. */
  async function replies(round: string, at: number): Promise<Map<string, string>> {
    const { store } = t.parley.deps;
    const ids = new Map<string, string>();
    for (const c of CUSTOMERS) {
      const contact = await store.contacts.findByWaId(t.channel.workspaceId, c);
      assert.ok(contact, c);
      const conversation = await store.conversations.findOpen(meta.channelId, contact.id);
      assert.ok(conversation, c);
      const reply = await store.messages.insert({
        workspaceId: t.channel.workspaceId,
        channelId: meta.channelId,
        contactId: contact.id,
        conversationId: conversation.id,
        direction: 'outbound',
        type: 'text',
        content: { body: 'hello' },
        text: 'hello',
        status: 'accepted',
        reason: null,
        reasonDetail: null,
        providerMessageId: `wamid.out.${round}.${c}`,
        providerError: null,
        idempotencyKey: null,
        replyTo: null,
        createdAt: at,
        dispatchedAt: at,
        sentAt: null,
        deliveredAt: null,
        readAt: null,
        failedAt: null,
        needsReview: false,
      });
      ids.set(c, reply.record.id);
    }
    return ids;
  }

  /** What every customer sends and is told, in this order. */
  function steps(round: string, c: string, at: number): string[] {
    const out = `wamid.out.${round}.${c}`;
    const status = (status: 'sent' | 'delivered' | 'read', s: number) =>
      metaStatusBody({ phoneNumberId: NUMBER, id: out, status, recipient: c, at: at + s * 1_000 });
    const text = (text: string, s: number) =>
      metaTextBody({
        phoneNumberId: NUMBER,
        from: c,
        id: `wamid.${round}.${c}.${s}`,
        text,
        at: at + s * 1_000,
      });
    return [
      status('sent', 1),
      text('one', 2),
      status('delivered', 3),
      text('two', 4),
      status('read', 5),
      text('three', 6),
    ];
  }

  /** Verified and stored (acknowledged), all customers interleaved, none processed yet. */
  async function storeInterleaved(round: string, at: number) {
    const stored: { webhook: WebhookRecord; events: InboundEvent[] }[] = [];
    for (let step = 0; step < 6; step++)
      for (const c of CUSTOMERS) {
        const body = Buffer.from(steps(round, c, at)[step] as string);
        const result = await ingestWebhook(t.parley.deps, {
          connectionId: meta.connectionId,
          ingress: 'meta',
          raw: {
            method: 'POST',
            url: `/webhooks/meta/${meta.connectionId}`,
            headers: {
              'content-type': 'application/json',
              'x-hub-signature-256': signMeta(body, meta.appSecret),
            },
            query: {},
            body,
          },
        });
        assert.equal(result.kind, 'stored');
        if (result.kind === 'stored') stored.push(result);
        await t.clock.advance(1);
      }
    return stored;
  }

  function listen(): { heard: DomainEvent[]; stop: () => void } {
    const heard: DomainEvent[] = [];
    return { heard, stop: t.parley.deps.events.subscribe((e) => heard.push(e)) };
  }

  async function assertArrivalOrder(heard: DomainEvent[], sent: Map<string, string>, at: number) {
    const { store } = t.parley.deps;
    assert.equal(await store.webhooks.countByState('received'), 0);
    assert.equal(await store.webhooks.countByState('failed'), 0);
    for (const c of CUSTOMERS) {
      const messageId = sent.get(c) as string;
      const mine = heard.filter(
        (e) =>
          (e.type === 'message.received' && e.data.from === c) ||
          (e.type === 'message.status' && e.data.messageId === messageId),
      );
      assert.deepEqual(
        mine.map((e) => (e.type === 'message.status' ? e.data.status : e.data.text)),
        ['sent', 'one', 'delivered', 'two', 'read', 'three'],
        c,
      );
      const reply = await store.messages.get(messageId);
      assert.equal(reply?.status, 'read');
      assert.equal(reply?.deliveredAt, at + 3_000);
      const contact = await store.contacts.findByWaId(t.channel.workspaceId, c);
      const window = await store.windows.get(meta.channelId, contact?.id ?? '');
      assert.equal(window?.lastInboundAt, at + 6_000, 'CSW-1: the latest message opens the window');
    }
  }

  it('CSW-1: interleaved customers swept from the store end in their arrival order, each message once', async () => {
    const at = Math.ceil(t.clock.now() / 1_000) * 1_000; // webhooks carry whole seconds
    const sent = await replies('a', at);
    await storeInterleaved('a', at);
    const { heard, stop } = listen();
    // A processor that starts with them in the store (a restart, a backlog past memory).
    await new WebhookProcessor(t.parley.deps, { lanes: 4, batchSize: 5 }).drain();
    stop();
    await assertArrivalOrder(heard, sent, at);
    const conversation = heard.find((e) => e.type === 'message.received')?.data.conversationId;
    const transcript = await t.api('GET', `/v1/conversations/${String(conversation)}/messages`);
    assert.equal(
      transcript.json.items.filter((m: { direction: string }) => m.direction === 'inbound').length,
      4,
    );
  });

  it('STA-2: interleaved customers handed over in memory end in their arrival order; a second pass changes nothing', async () => {
    await t.clock.advance(60_000);
    const at = Math.ceil(t.clock.now() / 1_000) * 1_000; // webhooks carry whole seconds
    const sent = await replies('b', at);
    const stored = await storeInterleaved('b', at);
    const processor = new WebhookProcessor(t.parley.deps, {
      lanes: 4,
      batchSize: 5,
      maxBacklog: 1_000,
    });
    const first = listen();
    for (const { webhook, events } of stored) processor.submit(webhook, events);
    await processor.drain();
    first.stop();
    await assertArrivalOrder(first.heard, sent, at);

    const again = listen();
    for (const { webhook, events } of stored) processor.submit(webhook, events);
    await processor.drain();
    again.stop();
    assert.deepEqual(
      again.heard.map((e) => e.type),
      [],
    );
    await assertArrivalOrder(first.heard, sent, at);
  });

  it('a webhook that cannot be processed fails alone; the rest of its lane and round are stored', async () => {
    const { store } = t.parley.deps;
    await t.clock.advance(60_000);
    const at = Math.ceil(t.clock.now() / 1_000) * 1_000;
    const stored = await storeInterleaved('c', at);
    // One message whose content cannot be stored (a value JSON has no form for).
    const victim = stored[CUSTOMERS.length + 3] as (typeof stored)[number];
    const broken = victim.events.map((e) =>
      e.kind === 'message' ? { ...e, content: { body: 10n } } : e,
    );
    const processor = new WebhookProcessor(t.parley.deps, { lanes: 4, batchSize: 5 });
    for (const { webhook, events } of stored)
      processor.submit(webhook, webhook.id === victim.webhook.id ? broken : events);
    await processor.drain();
    const failed = await store.webhooks.get(victim.webhook.id);
    assert.equal(failed?.state, 'failed');
    assert.match(failed?.error ?? '', /BigInt/);
    assert.equal(await store.webhooks.countByState('failed'), 1);
    assert.equal(await store.webhooks.countByState('received'), 0);
    for (const { webhook } of stored)
      if (webhook.id !== victim.webhook.id)
        assert.equal((await store.webhooks.get(webhook.id))?.state, 'processed');
    const customer = CUSTOMERS[3] as string;
    const lost = await store.messages.findByProviderId(meta.channelId, `wamid.c.${customer}.2`);
    assert.equal(lost, null);
    const next = await store.messages.findByProviderId(meta.channelId, `wamid.c.${customer}.4`);
    assert.equal(next?.text, 'two');
  });
});
