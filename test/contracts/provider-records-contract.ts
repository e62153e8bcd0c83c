// Store contract cases for what providers report: media rows, account-health events, number
// changes and the history moves they cause. Run on every dialect from test/store.contract.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Channel, Contact, NewMessage, Store, Workspace } from '../../src/ports/store.ts';
import type { NewAccountHealthEvent } from '../../src/ports/provider-records-store.ts';
import type { StoreUnderTest } from './store-contract.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const MINUTE = 60_000;

let serial = 0;
const unique = (label: string): string => `${label}-${Date.now().toString(36)}-${++serial}`;

interface Tenant {
  workspace: Workspace;
  connectionId: string;
  channel: Channel;
  other: Channel;
}

async function seed(store: Store, name = 'Acme'): Promise<Tenant> {
  const workspace = await store.workspaces.create({ name });
  const connection = await store.connections.create({
    workspaceId: workspace.id,
    provider: 'meta',
    name: `${name} Meta`,
    config: {},
    secretsEncrypted: 'v1:x:y',
  });
  const channel = (label: string) =>
    store.channels.create({
      workspaceId: workspace.id,
      connectionId: connection.id,
      providerKey: unique(label),
      phoneNumber: '15550001111',
      wabaId: 'waba-1',
      name: label,
      throughputMps: 80,
      environment: 'production',
      allowList: [],
    });
  return {
    workspace,
    connectionId: connection.id,
    channel: await channel('support'),
    other: await channel('sales'),
  };
}

function inbound(t: Tenant, contact: Contact, overrides: Partial<NewMessage> = {}): NewMessage {
  return {
    workspaceId: t.workspace.id,
    channelId: t.channel.id,
    contactId: contact.id,
    conversationId: null,
    direction: 'inbound',
    type: 'image',
    content: { content: { id: '6546', mime_type: 'image/jpeg' } },
    text: '[image]',
    status: 'delivered',
    reason: null,
    reasonDetail: null,
    providerMessageId: unique('wamid'),
    providerError: null,
    idempotencyKey: null,
    replyTo: null,
    createdAt: T0,
    dispatchedAt: null,
    sentAt: null,
    deliveredAt: T0,
    readAt: null,
    failedAt: null,
    needsReview: false,
    ...overrides,
  };
}

function healthEvent(
  t: Tenant,
  overrides: Partial<NewAccountHealthEvent> = {},
): NewAccountHealthEvent {
  return {
    workspaceId: t.workspace.id,
    connectionId: t.connectionId,
    channelId: t.channel.id,
    kind: 'auth_failed',
    severity: 'critical',
    code: '190',
    detail: 'Meta refused the access token',
    fix: 'Replace the token',
    data: { error: { code: 190, message: 'Grüße 👋 "quoted"' } },
    at: T0,
    dedupeKey: unique('key'),
    ...overrides,
  };
}

export function runProviderRecordsContract(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
): void {
  describe(`Provider records contract: ${name}`, () => {
    let subject: StoreUnderTest | undefined;
    const store = (): Store => {
      if (!subject) throw new Error('store not ready');
      return subject.store;
    };
    before(async () => {
      subject = await makeStore();
    });
    after(async () => {
      await subject?.cleanup();
    });

    describe('media', () => {
      it('creates one media row per message; a second create returns the first untouched', async () => {
        const t = await seed(store());
        const contact = await store().contacts.upsert({
          workspaceId: t.workspace.id,
          waId: '447700900001',
          at: T0,
        });
        const message = await store().messages.insert(inbound(t, contact));
        const input = {
          workspaceId: t.workspace.id,
          messageId: message.record.id,
          channelId: t.channel.id,
          providerMediaId: '6546',
          mimeType: 'image/jpeg',
          filename: null,
          createdAt: T0,
        };
        const first = await store().providerRecords.media.create(input);
        assert.equal(first.inserted, true);
        assert.equal(first.record.state, 'pending');
        assert.equal(first.record.attempts, 0);
        const again = await store().providerRecords.media.create({
          ...input,
          providerMediaId: 'other',
          createdAt: T0 + MINUTE,
        });
        assert.equal(again.inserted, false);
        assert.deepEqual(again.record, first.record);
        assert.deepEqual(await store().providerRecords.media.get(first.record.id), first.record);
        assert.deepEqual(
          await store().providerRecords.media.findByMessage(message.record.id),
          first.record,
        );
        assert.equal(await store().providerRecords.media.get('no-such-media'), null);
      });

      it('keeps several media of one message by position; each position is created once', async () => {
        const t = await seed(store());
        const contact = await store().contacts.upsert({
          workspaceId: t.workspace.id,
          waId: '447700900011',
          at: T0,
        });
        const message = await store().messages.insert(inbound(t, contact));
        const input = {
          workspaceId: t.workspace.id,
          messageId: message.record.id,
          channelId: t.channel.id,
          mimeType: 'image/jpeg',
          filename: null,
          createdAt: T0,
        };
        const second = await store().providerRecords.media.create({
          ...input,
          position: 1,
          providerMediaId: 'https://api.twilio.example/Media/ME1',
        });
        const first = await store().providerRecords.media.create({
          ...input,
          providerMediaId: 'https://api.twilio.example/Media/ME0',
        });
        assert.equal(first.inserted, true);
        assert.equal(second.inserted, true);
        assert.equal(first.record.position, 0);
        assert.equal(second.record.position, 1);
        const again = await store().providerRecords.media.create({
          ...input,
          position: 1,
          providerMediaId: 'other',
        });
        assert.equal(again.inserted, false);
        assert.deepEqual(again.record, second.record);
        assert.deepEqual(
          await store().providerRecords.media.findByMessage(message.record.id),
          first.record,
        );
        assert.deepEqual(await store().providerRecords.media.listByMessage(message.record.id), [
          first.record,
          second.record,
        ]);
        assert.deepEqual(await store().providerRecords.media.listByMessage('no-such-message'), []);
      });

      it('records a stored download: key, size, sha256, content type, attempts and times', async () => {
        const t = await seed(store());
        const contact = await store().contacts.upsert({
          workspaceId: t.workspace.id,
          waId: '447700900002',
          at: T0,
        });
        const message = await store().messages.insert(inbound(t, contact, { type: 'document' }));
        const created = await store().providerRecords.media.create({
          workspaceId: t.workspace.id,
          messageId: message.record.id,
          channelId: t.channel.id,
          providerMediaId: '777',
          mimeType: 'application/pdf',
          filename: 'Rechnung März.pdf',
          createdAt: T0,
        });
        const failedOnce = await store().providerRecords.media.update(
          created.record.id,
          { attempts: 1, error: 'HTTP 500' },
          T0 + 1_000,
        );
        assert.equal(failedOnce?.state, 'pending');
        assert.equal(failedOnce?.error, 'HTTP 500');
        const stored = await store().providerRecords.media.update(
          created.record.id,
          {
            state: 'stored',
            attempts: 2,
            error: null,
            blobKey: `${t.workspace.id}/2026/03/${created.record.id}.pdf`,
            size: 5_000_000_000,
            sha256: 'ab'.repeat(32),
            contentType: 'application/pdf',
            storedAt: T0 + 3_000,
          },
          T0 + 3_000,
        );
        assert.deepEqual(stored, {
          ...created.record,
          state: 'stored',
          attempts: 2,
          error: null,
          blobKey: `${t.workspace.id}/2026/03/${created.record.id}.pdf`,
          size: 5_000_000_000,
          sha256: 'ab'.repeat(32),
          contentType: 'application/pdf',
          storedAt: T0 + 3_000,
          updatedAt: T0 + 3_000,
        });
        assert.equal(stored.filename, 'Rechnung März.pdf');
        assert.equal(await store().providerRecords.media.update('nope', { attempts: 1 }, T0), null);
      });
    });

    describe('account health', () => {
      it('records an event once per (connection, dedupe key), keeping its JSON data verbatim', async () => {
        const t = await seed(store());
        const input = healthEvent(t);
        const first = await store().providerRecords.health.record(input);
        assert.equal(first.inserted, true);
        assert.deepEqual(first.record.data, input.data);
        assert.equal(first.record.severity, 'critical');
        const replay = await store().providerRecords.health.record({
          ...input,
          detail: 'the same webhook again',
        });
        assert.equal(replay.inserted, false);
        assert.deepEqual(replay.record, first.record);
        const u = await seed(store(), 'Other');
        const elsewhere = await store().providerRecords.health.record(
          healthEvent(u, { dedupeKey: input.dedupeKey }),
        );
        assert.equal(elsewhere.inserted, true, 'another connection may use the same key');
      });

      it('lists newest first within the workspace only, by connection or number', async () => {
        const t = await seed(store(), 'Lister');
        const u = await seed(store(), 'Neighbour');
        await store().providerRecords.health.record(healthEvent(u, { at: T0 + 5 * MINUTE }));
        const a = await store().providerRecords.health.record(healthEvent(t, { at: T0 }));
        const b = await store().providerRecords.health.record(
          healthEvent(t, { at: T0 + 2 * MINUTE, channelId: t.other.id, kind: 'phone_quality' }),
        );
        const c = await store().providerRecords.health.record(
          healthEvent(t, { at: T0 + MINUTE, channelId: null, kind: 'account_update' }),
        );
        const all = await store().providerRecords.health.list({
          workspaceId: t.workspace.id,
          limit: 50,
        });
        assert.deepEqual(
          all.items.map((e) => e.id),
          [b.record.id, c.record.id, a.record.id],
        );
        assert.equal(all.nextCursor, null);
        const byNumber = await store().providerRecords.health.list({
          workspaceId: t.workspace.id,
          channelId: t.other.id,
          limit: 50,
        });
        assert.deepEqual(
          byNumber.items.map((e) => e.id),
          [b.record.id],
        );
        const numberAndAccount = await store().providerRecords.health.list({
          workspaceId: t.workspace.id,
          connectionId: t.connectionId,
          channelId: t.other.id,
          withAccountEvents: true,
          limit: 50,
        });
        assert.deepEqual(
          numberAndAccount.items.map((e) => e.id),
          [b.record.id, c.record.id],
          "the number's own events and the account-wide ones, not another number's",
        );
        const byConnection = await store().providerRecords.health.list({
          workspaceId: t.workspace.id,
          connectionId: u.connectionId,
          limit: 50,
        });
        assert.deepEqual(byConnection.items, [], "another workspace's connection shows nothing");
      });

      it('pages through events with tied times without gaps or repeats', async () => {
        const t = await seed(store(), 'Pager');
        const ids: string[] = [];
        for (let i = 0; i < 25; i++) {
          const r = await store().providerRecords.health.record(
            healthEvent(t, { at: T0 + Math.floor(i / 5) * MINUTE }),
          );
          ids.push(r.record.id);
        }
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let guard = 0; guard < 20; guard++) {
          const page = await store().providerRecords.health.list({
            workspaceId: t.workspace.id,
            limit: 7,
            ...(cursor ? { cursor } : {}),
          });
          seen.push(...page.items.map((e) => e.id));
          if (page.nextCursor === null) break;
          cursor = page.nextCursor;
        }
        assert.equal(new Set(seen).size, seen.length);
        assert.deepEqual([...seen].sort(), [...ids].sort());
        await assert.rejects(
          store().providerRecords.health.list({
            workspaceId: t.workspace.id,
            limit: 5,
            cursor: 'not-a-cursor',
          }),
          { name: 'InvalidCursorError' },
        );
      });
    });

    describe('number changes', () => {
      it('renumbers a contact in place: the new number finds it, the old one no longer does', async () => {
        const t = await seed(store(), 'Renumber');
        const contact = await store().contacts.upsert({
          workspaceId: t.workspace.id,
          waId: '447700900010',
          name: 'Ada',
          at: T0,
        });
        await store().providerRecords.numberChanges.renumberContact(
          contact.id,
          '447700900099',
          T0 + MINUTE,
        );
        const moved = await store().contacts.findByWaId(t.workspace.id, '447700900099');
        assert.equal(moved?.id, contact.id);
        assert.equal(moved?.name, 'Ada');
        assert.equal(moved?.updatedAt, T0 + MINUTE);
        assert.equal(await store().contacts.findByWaId(t.workspace.id, '447700900010'), null);
      });

      it('moves messages, conversations and windows to the new contact, closing a colliding open thread and keeping the later window', async () => {
        const s = store();
        const t = await seed(s, 'Merge');
        const old = await s.contacts.upsert({
          workspaceId: t.workspace.id,
          waId: '447700900020',
          at: T0,
        });
        const fresh = await s.contacts.upsert({
          workspaceId: t.workspace.id,
          waId: '447700900021',
          at: T0,
        });
        // Both have an open thread on `channel`; only the old one has one on `other`.
        const oldOpen = await s.conversations.create({
          workspaceId: t.workspace.id,
          channelId: t.channel.id,
          contactId: old.id,
          at: T0,
        });
        const oldOther = await s.conversations.create({
          workspaceId: t.workspace.id,
          channelId: t.other.id,
          contactId: old.id,
          at: T0,
        });
        const freshOpen = await s.conversations.create({
          workspaceId: t.workspace.id,
          channelId: t.channel.id,
          contactId: fresh.id,
          at: T0,
        });
        const m1 = await s.messages.insert(
          inbound(t, old, { conversationId: oldOpen.id, type: 'text' }),
        );
        const m2 = await s.messages.insert(
          inbound(t, old, { conversationId: oldOther.id, channelId: t.other.id, type: 'text' }),
        );
        await s.windows.put({
          channelId: t.channel.id,
          contactId: old.id,
          lastInboundAt: T0 + 10 * MINUTE,
          closedAt: null,
        });
        await s.windows.put({
          channelId: t.channel.id,
          contactId: fresh.id,
          lastInboundAt: T0 + MINUTE,
          closedAt: null,
        });
        await s.windows.put({
          channelId: t.other.id,
          contactId: old.id,
          lastInboundAt: T0 + 2 * MINUTE,
          closedAt: T0 + 3 * MINUTE,
        });

        const counts = await s.transaction((tx) =>
          tx.providerRecords.numberChanges.moveHistory(old.id, fresh.id, T0 + 20 * MINUTE),
        );
        assert.deepEqual(counts, { messages: 2, conversations: 2, windows: 2 });
        assert.equal((await s.messages.get(m1.record.id))?.contactId, fresh.id);
        assert.equal((await s.messages.get(m2.record.id))?.contactId, fresh.id);
        const closed = await s.conversations.get(oldOpen.id);
        assert.equal(closed?.contactId, fresh.id);
        assert.equal(closed?.state, 'closed');
        assert.equal(closed?.closedAt, T0 + 20 * MINUTE);
        assert.equal((await s.conversations.get(freshOpen.id))?.state, 'open');
        const moved = await s.conversations.get(oldOther.id);
        assert.equal(moved?.contactId, fresh.id);
        assert.equal(moved?.state, 'open');
        assert.deepEqual(await s.windows.get(t.channel.id, fresh.id), {
          channelId: t.channel.id,
          contactId: fresh.id,
          lastInboundAt: T0 + 10 * MINUTE,
          closedAt: null,
        });
        assert.deepEqual(await s.windows.get(t.other.id, fresh.id), {
          channelId: t.other.id,
          contactId: fresh.id,
          lastInboundAt: T0 + 2 * MINUTE,
          closedAt: T0 + 3 * MINUTE,
        });
        assert.equal(await s.windows.get(t.channel.id, old.id), null);
        assert.equal(await s.windows.get(t.other.id, old.id), null);
      });

      it('keeps the window of the new contact when it saw the later inbound message', async () => {
        const s = store();
        const t = await seed(s, 'KeepNewer');
        const old = await s.contacts.upsert({
          workspaceId: t.workspace.id,
          waId: '447700900030',
          at: T0,
        });
        const fresh = await s.contacts.upsert({
          workspaceId: t.workspace.id,
          waId: '447700900031',
          at: T0,
        });
        await s.windows.put({
          channelId: t.channel.id,
          contactId: old.id,
          lastInboundAt: T0,
          closedAt: null,
        });
        await s.windows.put({
          channelId: t.channel.id,
          contactId: fresh.id,
          lastInboundAt: T0 + MINUTE,
          closedAt: null,
        });
        await s.providerRecords.numberChanges.moveHistory(old.id, fresh.id, T0 + 2 * MINUTE);
        assert.equal((await s.windows.get(t.channel.id, fresh.id))?.lastInboundAt, T0 + MINUTE);
      });

      it('records a number change once per announcing message', async () => {
        const s = store();
        const t = await seed(s, 'Record');
        const input = {
          workspaceId: t.workspace.id,
          fromContactId: 'c-old',
          toContactId: 'c-new',
          fromWaId: '447700900040',
          toWaId: '447700900041',
          messageId: unique('msg'),
          at: T0,
        };
        const recorded = await s.providerRecords.numberChanges.record(input);
        assert.deepEqual(
          await s.providerRecords.numberChanges.findByMessage(input.messageId),
          recorded,
        );
        assert.equal(recorded.toWaId, '447700900041');
        await assert.rejects(s.providerRecords.numberChanges.record(input));
        assert.equal(await s.providerRecords.numberChanges.findByMessage('nope'), null);
      });
    });
  });
}
