// Parley's own Meta Cloud adapter pointed at the emulator: sends, refusals mapped to reasons,
// read receipts, templates, media downloads, connection checks and the emulator's webhooks.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChannelAddress, RawWebhook } from '../../../../ports/provider.ts';
import {
  createCloudApiProvider,
  metaSettings,
  type CloudApiProvider,
} from '../../meta-cloud/meta-cloud-provider.ts';
import type { SandboxWebhook } from '../sandbox-world.ts';
import { startEmulator, type RunningEmulator } from './index.ts';

const TOKEN = 'EAAG-adapter-test';
const SECRET = 'adapter-secret';
const channel: ChannelAddress = {
  channelId: 'ch_emulator',
  providerKey: '106540352242922',
  phoneNumber: '15550783881',
  wabaId: '102290129340398',
};

const raw = (webhook: SandboxWebhook): RawWebhook => ({
  method: 'POST',
  url: 'http://parley.test/webhooks/meta/conn_1',
  headers: webhook.headers,
  query: {},
  body: webhook.body,
});

describe('Parley’s Meta Cloud adapter against the emulator', () => {
  let emulator: RunningEmulator;
  let meta: CloudApiProvider;
  /** Webhooks captured in-process: the emulator runs without a receiver URL here. */
  const webhooks: SandboxWebhook[] = [];

  before(async () => {
    emulator = await startEmulator({
      port: 0,
      accessToken: TOKEN,
      appSecret: SECRET,
      verifyToken: 'verify-me',
      statusDelays: { sent: [10, 10], delivered: [10, 10], read: [10, 10] },
    });
    emulator.webhooks.listen((webhook) => webhooks.push(webhook));
    meta = createCloudApiProvider(
      metaSettings({
        accessToken: TOKEN,
        appSecret: SECRET,
        verifyToken: 'verify-me',
        apiVersion: 'v23.0',
        baseUrl: emulator.url,
      }),
      { sleep: () => Promise.resolve() },
    );
  });
  after(async () => {
    await emulator.close();
  });

  it('an inbound message webhook verifies with the app secret and parses into an inbound event', async () => {
    const n = webhooks.length;
    await fetch(`${emulator.url}/control/users/447700900301/write`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Léa', text: 'Où est ma commande ?' }),
    });
    const [webhook] = webhooks.slice(n);
    assert.ok(webhook);
    assert.deepEqual(meta.verifyWebhook(raw(webhook)), { ok: true });
    const events = meta.parseWebhook(raw(webhook));
    assert.equal(events.length, 1);
    const event = events[0] as unknown as Record<string, unknown>;
    assert.equal(event.kind, 'message');
    assert.equal(event.from, '447700900301');
    assert.equal(event.type, 'text');
    assert.equal(event.profileName, 'Léa');
    assert.deepEqual(event.content, { body: 'Où est ma commande ?' });
  });

  it('a reply inside the window is sent; its statuses parse as sent, delivered, read', async () => {
    // statuses run on real time too: count from before the send
    const n = webhooks.length;
    const sent = await meta.send({
      channel,
      to: '447700900301',
      content: { type: 'text', text: { body: 'It left the warehouse today.' } },
    });
    assert.ok(sent.ok, JSON.stringify(sent));
    await emulator.clock.advance(100);
    const statuses = webhooks
      .slice(n)
      .flatMap((w) => meta.parseWebhook(raw(w)))
      .map((e) => e as unknown as Record<string, unknown>)
      .filter((e) => e.kind === 'status' && e.providerMessageId === sent.providerMessageId);
    assert.deepEqual(
      statuses.map((s) => s.status),
      ['sent', 'delivered', 'read'],
    );
  });

  it('TPL-9: an unapproved template comes back as a refusal with Meta’s code 132001 kept', async () => {
    const result = await meta.send({
      channel,
      to: '447700900302',
      content: {
        type: 'template',
        template: { name: 'never_submitted', language: { code: 'en' } },
      },
    });
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.equal(result.failure.providerCode, '132001');
  });

  it('marks an inbound message read', async () => {
    const inbound = emulator.world.lastUserMessage(channel.providerKey, '447700900301');
    assert.ok(inbound);
    const read = await meta.markRead(channel, inbound.id);
    assert.ok(read.ok);
    assert.equal(emulator.world.readByBusiness(inbound.id), true);
  });

  it('downloads the image a simulated user sent, matching the announced sha256', async () => {
    const n = webhooks.length;
    await fetch(`${emulator.url}/control/users/447700900303/write`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'image', text: 'the damaged box' }),
    });
    const [event] = meta.parseWebhook(raw(webhooks[n] as SandboxWebhook)) as unknown as Array<{
      content: { id: string };
    }>;
    const media = await meta.downloadMedia?.(String(event?.content.id));
    assert.ok(media);
    assert.equal(media.mimeType, 'image/jpeg');
    assert.deepEqual([...media.bytes.subarray(0, 2)], [0xff, 0xd8]);
  });

  it('TPL-8/TPL-9: lists, creates, edits and deletes templates through the WABA endpoints', async () => {
    const listed = await meta.listTemplates(channel);
    assert.ok(listed.some((t) => t.name === 'hello_world' && t.status === 'APPROVED'));
    const created = await meta.createTemplate(channel, {
      name: 'return_label',
      language: 'en',
      category: 'UTILITY',
      components: [
        {
          type: 'BODY',
          text: 'Hi {{1}}, your return label is attached to this message.',
          example: { body_text: [['Kim']] },
        },
      ],
    });
    assert.equal(created.status, 'PENDING');
    await emulator.clock.advance(5_000);
    assert.equal(typeof meta.editTemplate, 'function');
    const edited = await meta.editTemplate!(channel, created.id, {
      name: 'return_label',
      language: 'en',
      category: 'UTILITY',
      components: [
        {
          type: 'BODY',
          text: 'Hi {{1}}, your return label is attached below this message.',
          example: { body_text: [['Kim']] },
        },
      ],
    });
    assert.equal(edited.status, 'PENDING');
    const again = emulator.world.template(channel.providerKey, 'return_label', 'en');
    assert.equal(again?.id, created.id);
    assert.equal(again?.status, 'PENDING');
    await meta.deleteTemplate(channel, { name: 'return_label' });
    const after = await meta.listTemplates(channel);
    assert.ok(!after.some((t) => t.name === 'return_label'));
  });

  it('passes every connection check (token, permissions, subscription, number)', async () => {
    const checks = await meta.checkConnection?.(channel);
    assert.ok(checks && checks.length >= 4);
    for (const c of checks) assert.ok(c.ok, `${c.check}: ${c.detail}`);
  });
});

describe('the emulator batching webhooks', () => {
  it('gathers statuses into one signed POST with several entries, all parsed by Parley’s Meta adapter', async () => {
    const emulator = await startEmulator({
      port: 0,
      appSecret: SECRET,
      batchWebhooks: { maxEntries: 100, windowMs: 1_000 },
      statusDelays: { sent: [2_000, 2_000], delivered: [2_000, 2_000], read: [2_000, 2_000] },
    });
    try {
      const meta = createCloudApiProvider(
        metaSettings({
          accessToken: 'any',
          appSecret: SECRET,
          verifyToken: 'v',
          apiVersion: 'v23.0',
          baseUrl: emulator.url,
        }),
      );
      const posts: SandboxWebhook[] = [];
      emulator.webhooks.listen((w) => posts.push(w));
      const users = ['447700900401', '447700900402', '447700900403'];
      const ids: string[] = [];
      for (const to of users) {
        const sent = await meta.send({
          channel,
          to,
          content: {
            type: 'template',
            template: { name: 'hello_world', language: { code: 'en_US' } },
          },
        });
        assert.ok(sent.ok);
        ids.push(sent.providerMessageId);
      }
      await emulator.clock.advance(10_000);
      const statuses = posts
        .flatMap((w) => {
          assert.deepEqual(meta.verifyWebhook(raw(w)), { ok: true });
          return meta.parseWebhook(raw(w));
        })
        .map((e) => e as unknown as Record<string, unknown>);
      // 3 messages × sent, delivered, read in fewer POSTs than events
      assert.equal(statuses.length, 9);
      assert.ok(posts.length < 9, `${posts.length} posts`);
      for (const id of ids)
        assert.deepEqual(
          statuses.filter((s) => s.providerMessageId === id).map((s) => s.status),
          ['sent', 'delivered', 'read'],
        );
    } finally {
      await emulator.close();
    }
  });
});
