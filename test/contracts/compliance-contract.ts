// The compliance repository contract (migration 0002: consent ledger, template lifecycle and
// edits, notification dedupe, workspace settings, erasure): every store dialect must pass these.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ConsentEventRecord } from '../../src/ports/compliance-store.ts';
import type { Channel, Contact, Store, Workspace } from '../../src/ports/store.ts';
import type { StoreUnderTest } from './store-contract.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const MINUTE = 60_000;
/** Text that trips naive encodings (and NUL, which only JSON text can carry on PostgreSQL). */
const AWKWARD = 'Grüße — 你好 👋🏽 "quoted" \\ nul:\u0000';

interface Tenant {
  workspace: Workspace;
  channel: Channel;
  contact: Contact;
}

let sequence = 0;

async function tenant(store: Store, label: string): Promise<Tenant> {
  sequence++;
  const workspace = await store.workspaces.create({ name: `${label} ${sequence}` });
  const connection = await store.connections.create({
    workspaceId: workspace.id,
    provider: 'meta',
    name: 'Meta',
    config: {},
    secretsEncrypted: 'v1:x',
  });
  const channel = await store.channels.create({
    workspaceId: workspace.id,
    connectionId: connection.id,
    providerKey: `pn-c-${sequence}`,
    phoneNumber: '15550001111',
    wabaId: 'W1',
    name: 'Support',
    throughputMps: 80,
    environment: 'production',
    allowList: [],
  });
  const contact = await store.contacts.upsert({
    workspaceId: workspace.id,
    waId: '447700900123',
    name: 'Ada',
    at: T0,
  });
  return { workspace, channel, contact };
}

function event(
  t: Tenant,
  over: Partial<Omit<ConsentEventRecord, 'recordedAt'>> & { id: string; at: number },
): Omit<ConsentEventRecord, 'recordedAt'> {
  return {
    workspaceId: t.workspace.id,
    contactId: t.contact.id,
    phoneHash: 'hash-ada',
    contact: t.contact.waId,
    kind: 'opt_in',
    purpose: 'marketing',
    reach: { kind: 'workspace' },
    source: 'web_form',
    recordedBy: 'api-key:k1',
    implied: false,
    evidence: { text: AWKWARD, businessName: 'Acme', ip: '203.0.113.7' },
    ...over,
  };
}

export function runComplianceContract(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
): void {
  describe(`Compliance repository contract: ${name}`, () => {
    let subject: StoreUnderTest | undefined;
    const get = (): StoreUnderTest => {
      if (!subject) throw new Error('store not ready');
      return subject;
    };
    before(async () => {
      subject = await makeStore();
    });
    after(async () => subject?.cleanup());

    it('OPT-3: the ledger keeps every event with its scope and evidence, per person, oldest first', async () => {
      const { store } = get();
      const a = await tenant(store, 'A');
      const b = await tenant(store, 'B');
      const written = await store.compliance.consent.append(
        [
          event(a, {
            id: `${a.workspace.id}-2`,
            at: T0 + MINUTE,
            kind: 'opt_out',
            purpose: 'all',
            source: 'inbound_message',
            evidence: { keyword: 'STOP', messageId: 'wamid.1', channelId: a.channel.id },
          }),
          event(a, { id: `${a.workspace.id}-1`, at: T0 }),
          event(a, {
            id: `${a.workspace.id}-3`,
            at: T0 + 2 * MINUTE,
            purpose: 'utility',
            implied: true,
            reach: { kind: 'channel', channelId: a.channel.id },
            restores: [`${a.workspace.id}-2`],
          }),
          event(b, { id: `${b.workspace.id}-1`, at: T0 }),
        ],
        T0 + 5 * MINUTE,
      );
      assert.equal(written, 4);
      const ledger = await store.compliance.consent.listByPhoneHash(a.workspace.id, 'hash-ada');
      assert.deepEqual(
        ledger.map((e) => e.id),
        [`${a.workspace.id}-1`, `${a.workspace.id}-2`, `${a.workspace.id}-3`],
      );
      const [first, stop, implied] = ledger;
      assert.deepEqual(first?.evidence, { text: AWKWARD, businessName: 'Acme', ip: '203.0.113.7' });
      assert.equal(first?.recordedAt, T0 + 5 * MINUTE);
      assert.deepEqual(first?.reach, { kind: 'workspace' });
      assert.equal(first?.restores, undefined);
      assert.equal(stop?.kind, 'opt_out');
      assert.equal(stop?.purpose, 'all');
      assert.equal(stop?.evidence.keyword, 'STOP');
      assert.equal(implied?.implied, true);
      assert.deepEqual(implied?.reach, { kind: 'channel', channelId: a.channel.id });
      assert.deepEqual(implied?.restores, [`${a.workspace.id}-2`]);
      assert.equal(
        (await store.compliance.consent.listByPhoneHash(b.workspace.id, 'hash-ada')).length,
        1,
        'another workspace reads only its own ledger',
      );
    });

    it('OPT-1: appending an id already stored changes nothing (replayed signals)', async () => {
      const { store } = get();
      const a = await tenant(store, 'Replay');
      const e = event(a, { id: `${a.workspace.id}-once`, at: T0 });
      assert.equal(await store.compliance.consent.append([e], T0), 1);
      assert.equal(
        await store.compliance.consent.append([{ ...e, kind: 'opt_out' }], T0 + MINUTE),
        0,
      );
      const [only] = await store.compliance.consent.listByPhoneHash(a.workspace.id, 'hash-ada');
      assert.equal(only?.kind, 'opt_in');
      assert.equal(only?.recordedAt, T0);
    });

    it('OPT-8: the workspace ledger pages in time order without gaps or repeats', async () => {
      const { store } = get();
      const a = await tenant(store, 'Pages');
      const events = Array.from({ length: 7 }, (_, i) =>
        event(a, { id: `${a.workspace.id}-p${i}`, at: T0 + (i % 3) * MINUTE, phoneHash: `h${i}` }),
      );
      await store.compliance.consent.append(events, T0);
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let guard = 0; guard < 10; guard++) {
        const page = await store.compliance.consent.listByWorkspace(a.workspace.id, {
          limit: 3,
          ...(cursor ? { cursor } : {}),
        });
        seen.push(...page.items.map((e) => e.id));
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      const expected = [...events]
        .sort((x, y) => x.at - y.at || (x.id < y.id ? -1 : 1))
        .map((e) => e.id);
      assert.deepEqual(seen, expected);
    });

    it('erasure: redaction replaces the number and evidence of exactly the named events', async () => {
      const { store } = get();
      const a = await tenant(store, 'Redact');
      await store.compliance.consent.append(
        [
          event(a, { id: `${a.workspace.id}-r1`, at: T0 }),
          event(a, { id: `${a.workspace.id}-r2`, at: T0 + 1 }),
        ],
        T0,
      );
      const n = await store.compliance.consent.redact(a.workspace.id, [
        {
          id: `${a.workspace.id}-r1`,
          contact: 'hash:abc',
          evidence: { text: AWKWARD, ip: 'hash:ip' },
        },
      ]);
      assert.equal(n, 1);
      const [r1, r2] = await store.compliance.consent.listByPhoneHash(a.workspace.id, 'hash-ada');
      assert.equal(r1?.contact, 'hash:abc');
      assert.deepEqual(r1?.evidence, { text: AWKWARD, ip: 'hash:ip' });
      assert.equal(r2?.contact, a.contact.waId);
      const other = await tenant(store, 'Other');
      assert.equal(
        await store.compliance.consent.redact(other.workspace.id, [
          { id: `${a.workspace.id}-r2`, contact: 'x', evidence: {} },
        ]),
        0,
        'another workspace cannot redact these events',
      );
    });

    it('erasure: the contact loses its personal data, its messages their content and media files, processed raw webhooks that name it their body', async () => {
      const { store } = get();
      const a = await tenant(store, 'Erase');
      const connection = a.channel.connectionId;
      const message = await store.messages.insert({
        workspaceId: a.workspace.id,
        channelId: a.channel.id,
        contactId: a.contact.id,
        conversationId: null,
        direction: 'outbound',
        type: 'text',
        content: { body: `Hi ${AWKWARD}` },
        text: 'Hi Ada',
        status: 'refused',
        reason: 'recipient_not_allowed',
        reasonDetail: `${a.contact.waId} is not on its allow-list`,
        providerMessageId: null,
        providerError: null,
        idempotencyKey: null,
        replyTo: null,
        createdAt: T0,
        dispatchedAt: null,
        sentAt: null,
        deliveredAt: null,
        readAt: null,
        failedAt: T0,
        needsReview: false,
      });
      const mentioned = await store.webhooks.insert({
        connectionId: connection,
        provider: 'meta',
        receivedAt: T0,
        headers: { 'x-hub-signature-256': 'sha256=00' },
        body: Buffer.from(`{"from":"${a.contact.waId}","text":"my address"}`),
        url: 'https://x/webhooks/meta/c',
      });
      await store.webhooks.mark(mentioned.id, 'processed', T0);
      const unrelated = await store.webhooks.insert({
        connectionId: connection,
        provider: 'meta',
        receivedAt: T0,
        headers: {},
        body: Buffer.from('{"from":"4915112345678"}'),
        url: 'https://x/webhooks/meta/c',
      });
      await store.webhooks.mark(unrelated.id, 'processed', T0);
      const pending = await store.webhooks.insert({
        connectionId: connection,
        provider: 'meta',
        receivedAt: T0,
        headers: {},
        body: Buffer.from(`{"from":"${a.contact.waId}"}`),
        url: 'https://x/webhooks/meta/c',
      });

      const photo = await store.providerRecords.media.create({
        workspaceId: a.workspace.id,
        messageId: message.record.id,
        channelId: a.channel.id,
        providerMediaId: 'wamid-media-1',
        mimeType: 'image/jpeg',
        filename: 'id-card.jpg',
        createdAt: T0,
      });
      await store.providerRecords.media.update(
        photo.record.id,
        { state: 'stored', blobKey: 'media/photo-1.jpg', size: 10, sha256: 'ab' },
        T0,
      );

      const counts = await store.compliance.erasure.eraseContact({
        workspaceId: a.workspace.id,
        contactId: a.contact.id,
        waId: a.contact.waId,
        replacementWaId: 'erased:abc',
        at: T0 + MINUTE,
      });
      assert.deepEqual(counts, {
        messages: 1,
        webhooks: 1,
        media: 1,
        usageEvents: 0,
      });
      const media = await store.providerRecords.media.get(photo.record.id);
      assert.equal(media?.state, 'erased');
      assert.equal(media?.filename, null);
      assert.deepEqual(
        await store.compliance.erasure.mediaFilesLeft(a.workspace.id, a.contact.id),
        [{ id: photo.record.id, blobKey: 'media/photo-1.jpg' }],
        'the file is the caller’s to delete',
      );
      await store.compliance.erasure.mediaFileDeleted(photo.record.id);
      assert.deepEqual(
        await store.compliance.erasure.mediaFilesLeft(a.workspace.id, a.contact.id),
        [],
      );
      assert.equal((await store.providerRecords.media.get(photo.record.id))?.blobKey, null);
      assert.equal(
        await store.providerRecords.media.update(photo.record.id, { state: 'stored' }, T0),
        null,
        'erased is final',
      );
      const contact = await store.contacts.get(a.contact.id);
      assert.equal(contact?.waId, 'erased:abc');
      assert.equal(contact?.name, null);
      const m = await store.messages.get(message.record.id);
      assert.deepEqual(m?.content, { erased: true });
      assert.equal(m?.text, null);
      assert.equal(m?.reasonDetail, '[erased] is not on its allow-list');
      assert.equal(m?.status, 'refused', 'metadata stays');
      assert.equal((await store.webhooks.get(mentioned.id))?.body.length, 0);
      assert.ok((await store.webhooks.get(unrelated.id))?.body.length);
      assert.ok(
        (await store.webhooks.get(pending.id))?.body.length,
        'an unprocessed webhook is kept for processing',
      );
    });

    it('TPL-8/TPL-9: lifecycle and edit history per template, removed with the template', async () => {
      const { store } = get();
      const a = await tenant(store, 'Templates');
      const other = await tenant(store, 'Templates other');
      const record = await store.templates.upsert({
        workspaceId: a.workspace.id,
        channelId: a.channel.id,
        name: 'order_update',
        language: 'en',
        category: 'UTILITY',
        status: 'APPROVED',
        parameterFormat: 'POSITIONAL',
        components: [{ type: 'BODY', text: AWKWARD }],
        providerTemplateId: '123',
        at: T0,
      });
      assert.deepEqual(await store.compliance.templates.get(record.id), record);
      assert.equal(await store.compliance.templates.getLifecycle(record.id), null);
      const state = {
        state: { status: 'PAUSED', pauseCount: 1, pausedUntil: T0 + 1 },
        submittedAt: T0,
      };
      await store.compliance.templates.putLifecycle({
        templateId: record.id,
        state,
        updatedAt: T0,
      });
      await store.compliance.templates.putLifecycle({
        templateId: record.id,
        state: { ...state, submittedAt: T0 + 1 },
        updatedAt: T0 + 1,
      });
      assert.deepEqual(await store.compliance.templates.getLifecycle(record.id), {
        templateId: record.id,
        state: { ...state, submittedAt: T0 + 1 },
        updatedAt: T0 + 1,
      });
      await store.compliance.templates.recordEdit(record.id, T0 + 2 * MINUTE);
      await store.compliance.templates.recordEdit(record.id, T0 + MINUTE);
      assert.deepEqual(await store.compliance.templates.listEdits(record.id), [
        T0 + MINUTE,
        T0 + 2 * MINUTE,
      ]);
      assert.equal(await store.compliance.templates.delete(other.workspace.id, record.id), false);
      assert.equal(await store.compliance.templates.delete(a.workspace.id, record.id), true);
      assert.equal(await store.compliance.templates.get(record.id), null);
      assert.equal(await store.compliance.templates.getLifecycle(record.id), null);
      assert.deepEqual(await store.compliance.templates.listEdits(record.id), []);
    });

    it('LIM-7: the first claim of a key wins until it expires; then a new send takes it over', async () => {
      const { store } = get();
      const a = await tenant(store, 'Dedupe');
      const key = { workspaceId: a.workspace.id, keyHash: 'k1' };
      assert.deepEqual(
        await store.compliance.notifications.claim({
          ...key,
          messageId: 'm1',
          sentAt: T0,
          expiresAt: T0 + 10 * MINUTE,
        }),
        { won: true },
      );
      const lost = await store.compliance.notifications.claim({
        ...key,
        messageId: 'm2',
        sentAt: T0 + 5 * MINUTE,
        expiresAt: T0 + 15 * MINUTE,
      });
      assert.equal(lost.won, false);
      if (!lost.won) assert.equal(lost.existing.messageId, 'm1');
      assert.equal(
        (await store.compliance.notifications.find(a.workspace.id, 'k1', T0 + 10 * MINUTE - 1))
          ?.messageId,
        'm1',
      );
      assert.equal(
        await store.compliance.notifications.find(a.workspace.id, 'k1', T0 + 10 * MINUTE),
        null,
        'half-open: at expiry it is gone',
      );
      assert.deepEqual(
        await store.compliance.notifications.claim({
          ...key,
          messageId: 'm3',
          sentAt: T0 + 10 * MINUTE,
          expiresAt: T0 + 20 * MINUTE,
        }),
        { won: true },
      );
      const b = await tenant(store, 'Dedupe other');
      assert.deepEqual(
        await store.compliance.notifications.claim({
          workspaceId: b.workspace.id,
          keyHash: 'k1',
          messageId: 'm4',
          sentAt: T0,
          expiresAt: T0 + MINUTE,
        }),
        { won: true },
        'keys are per workspace',
      );
      assert.ok((await store.compliance.notifications.purgeExpired(T0 + 20 * MINUTE)) >= 2);
    });

    it('LIM-7: two stores claiming the same key at once: exactly one wins', async (t) => {
      const { store, openAnother } = get();
      if (!openAnother) {
        t.skip('the adapter offers no second instance');
        return;
      }
      if (store.dialect === 'sqlite') {
        // better-sqlite3 waits for a lock synchronously, so two connections in one process
        // would block each other's event loop; SQLite writers are serialised anyway.
        t.skip(
          'SQLite serialises writers: the race exists only with concurrent PostgreSQL clients',
        );
        return;
      }
      const a = await tenant(store, 'Race');
      const other = await openAnother();
      try {
        const claim = (s: Store, messageId: string) =>
          s.transaction((tx) =>
            tx.compliance.notifications.claim({
              workspaceId: a.workspace.id,
              keyHash: 'race',
              messageId,
              sentAt: T0,
              expiresAt: T0 + MINUTE,
            }),
          );
        const results = await Promise.all([claim(store, 'x'), claim(other, 'y')]);
        assert.equal(results.filter((r) => r.won).length, 1);
      } finally {
        await other.close();
      }
    });

    it('policy settings: top-level keys merge into the workspace settings', async () => {
      const { store } = get();
      const workspace = await store.workspaces.create({
        name: 'Settings',
        settings: { demo: true },
      });
      const updated = await store.compliance.workspaceSettings.update(workspace.id, {
        consent: { policy: 'strict' },
      });
      assert.deepEqual(updated?.settings, { demo: true, consent: { policy: 'strict' } });
      assert.deepEqual((await store.workspaces.get(workspace.id))?.settings, updated?.settings);
      assert.equal(await store.compliance.workspaceSettings.update('no-such', {}), null);
    });
  });
}
