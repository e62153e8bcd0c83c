// The Store contract: every Store adapter (each SQL dialect) must pass these behaviour cases.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type {
  Channel,
  Contact,
  Connection,
  Conversation,
  JsonObject,
  NewMessage,
  Page,
  Store,
  Workspace,
} from '../../src/ports/store.ts';

export interface StoreUnderTest {
  /** A migrated store on an empty database. */
  readonly store: Store;
  /** Closes the store and removes its database. */
  readonly cleanup: () => Promise<void>;
  /** A second, independently connected store on the same database (another process, in effect). */
  readonly openAnother?: () => Promise<Store>;
}

export interface StoreContractOptions {
  /** Cases this adapter cannot support, by case id, each with the reason. */
  readonly skip?: Readonly<Partial<Record<StoreCaseId, string>>>;
}

/** Case ids an adapter may list in `skip` (with a reason). */
export const STORE_CASE_IDS = [
  'transactions.cross-instance-visibility',
  'transactions.concurrent-flows',
] as const;
export type StoreCaseId = (typeof STORE_CASE_IDS)[number];

const T0 = Date.parse('2026-01-15T10:00:00Z');
const MINUTE = 60_000;

/** Text that trips naive encodings: accents, CJK, emoji (astral plane), RTL, quotes, backslash. */
const AWKWARD_TEXT = 'Grüße — 你好 👋🏽 مرحبا "quoted" \\ \'single\' \\u0041';
/**
 * Inside JSON values even NUL must survive (PostgreSQL text columns cannot hold NUL, and jsonb
 * refuses \u0000, so this proves JSON is stored escaped).
 */
const AWKWARD_JSON_TEXT = `${AWKWARD_TEXT} nul:\u0000 bell:\u0007`;

let sequence = 0;
/** Unique suffix for keys that must not collide across cases sharing a database. */
function unique(label: string): string {
  sequence += 1;
  return `${label}-${Date.now().toString(36)}-${sequence}`;
}

interface Tenant {
  workspace: Workspace;
  connection: Connection;
  channel: Channel;
  contact: Contact;
}

async function seedTenant(store: Store, label = 'Acme'): Promise<Tenant> {
  const workspace = await store.workspaces.create({ name: label });
  const connection = await store.connections.create({
    workspaceId: workspace.id,
    provider: 'meta',
    name: `${label} Meta`,
    config: { phoneNumberId: '106540352242922', apiVersion: 'v23.0' },
    secretsEncrypted: 'v1:nonce:ciphertext',
  });
  const channel = await store.channels.create({
    workspaceId: workspace.id,
    connectionId: connection.id,
    providerKey: unique('pn'),
    phoneNumber: '15550001111',
    wabaId: '102290129340398',
    name: `${label} support`,
    throughputMps: 80,
    environment: 'production',
    allowList: [],
  });
  const contact = await store.contacts.upsert({
    workspaceId: workspace.id,
    waId: '4915112345678',
    name: 'Jürgen',
    at: T0,
  });
  return { workspace, connection, channel, contact };
}

function messageFor(
  tenant: Tenant,
  overrides: Partial<NewMessage> & Pick<NewMessage, 'createdAt'>,
): NewMessage {
  return {
    workspaceId: tenant.workspace.id,
    channelId: tenant.channel.id,
    contactId: tenant.contact.id,
    conversationId: null,
    direction: 'inbound',
    type: 'text',
    content: { body: 'hello' },
    text: 'hello',
    status: 'delivered',
    reason: null,
    reasonDetail: null,
    providerMessageId: null,
    providerError: null,
    idempotencyKey: null,
    replyTo: null,
    dispatchedAt: null,
    sentAt: null,
    deliveredAt: null,
    readAt: null,
    failedAt: null,
    needsReview: false,
    ...overrides,
  };
}

/** Follows cursors to the end; fails if a page is empty but still has a cursor (a loop). */
async function collectPages<T>(fetch: (cursor?: string) => Promise<Page<T>>): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 10_000; guard++) {
    const page = await fetch(cursor);
    pages.push(page.items);
    if (page.nextCursor === null) return pages;
    assert.ok(page.items.length > 0, 'a page with a next cursor must not be empty');
    cursor = page.nextCursor;
  }
  throw new Error('paging did not terminate');
}

function assertNoGapsOrRepeats(pages: { id: string }[][], expectedIds: string[]): void {
  const seen = pages.flat().map((item) => item.id);
  assert.equal(new Set(seen).size, seen.length, 'no row may appear on two pages');
  assert.deepEqual([...seen].sort(), [...expectedIds].sort(), 'every row appears exactly once');
}

class Boom extends Error {
  constructor() {
    super('boom');
    this.name = 'Boom';
  }
}

/**
 * Runs the Store contract. `makeStore` is called once per group of cases and must return a
 * migrated store on an empty database. Cases that need isolation use their own groups.
 */
export function runStoreContract(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
  options: StoreContractOptions = {},
): void {
  const skipReason = (id: StoreCaseId): { skip?: string } => {
    const reason = options.skip?.[id];
    return reason === undefined ? {} : { skip: reason };
  };

  /** A describe block with its own empty, migrated store. */
  const group = (title: string, body: (get: () => StoreUnderTest) => void): void => {
    describe(title, () => {
      let subject: StoreUnderTest | undefined;
      before(async () => {
        subject = await makeStore();
      });
      after(async () => {
        await subject?.cleanup();
      });
      body(() => {
        if (!subject) throw new Error('store not ready');
        return subject;
      });
    });
  };

  describe(`Store contract: ${name}`, () => {
    group('lifecycle', (get) => {
      it('migrate() is idempotent: a migrated database applies nothing more', async () => {
        const { store } = get();
        assert.deepEqual(await store.migrate(), []);
        assert.deepEqual(await store.migrate(), []);
      });

      it('ping() answers and dialect names the database family', async () => {
        const { store } = get();
        await store.ping();
        assert.ok(store.dialect === 'sqlite' || store.dialect === 'postgres');
      });
    });

    group('workspaces and API keys', (get) => {
      it('stores a workspace with JSON settings and returns it unchanged', async () => {
        const { store } = get();
        const settings: JsonObject = {
          greeting: AWKWARD_JSON_TEXT,
          limits: { perDay: 1000, ratio: 0.25 },
          flags: [true, false, null],
        };
        const created = await store.workspaces.create({ name: 'Café Ünïcode', settings });
        assert.deepEqual(await store.workspaces.get(created.id), created);
        assert.deepEqual(created.settings, settings);
        assert.equal(created.name, 'Café Ünïcode');
        assert.equal(typeof created.createdAt, 'number');
        assert.equal(await store.workspaces.get('no-such-workspace'), null);
      });

      it('defaults settings to an empty object and lists workspaces with a matching count', async () => {
        const { store } = get();
        const before = await store.workspaces.count();
        const a = await store.workspaces.create({ name: 'A' });
        const b = await store.workspaces.create({ name: 'B' });
        assert.deepEqual(a.settings, {});
        const list = await store.workspaces.list();
        assert.equal(await store.workspaces.count(), before + 2);
        assert.equal(list.length, before + 2);
        const ids = list.map((w) => w.id);
        assert.ok(ids.indexOf(a.id) < ids.indexOf(b.id), 'listed in creation order');
      });

      it('finds an API key by its hash, revoked or not, and never by another hash', async () => {
        const { store } = get();
        const { workspace } = await seedTenant(store);
        const hash = unique('sha256');
        const key = await store.apiKeys.create({
          workspaceId: workspace.id,
          name: 'CI',
          prefix: 'pk_live_ab',
          keyHash: hash,
        });
        assert.deepEqual(await store.apiKeys.findByHash(hash), key);
        assert.equal(key.revokedAt, null);
        assert.equal(await store.apiKeys.findByHash(`${hash}x`), null);
        assert.equal(await store.apiKeys.revoke(workspace.id, key.id, T0 + 5), true);
        assert.equal((await store.apiKeys.findByHash(hash))?.revokedAt, T0 + 5);
      });

      it('refuses a second key with the same hash', async () => {
        const { store } = get();
        const { workspace } = await seedTenant(store);
        const hash = unique('sha256');
        await store.apiKeys.create({
          workspaceId: workspace.id,
          name: 'a',
          prefix: 'p',
          keyHash: hash,
        });
        await assert.rejects(
          store.apiKeys.create({
            workspaceId: workspace.id,
            name: 'b',
            prefix: 'p',
            keyHash: hash,
          }),
        );
        assert.equal((await store.apiKeys.list(workspace.id)).length, 1);
      });

      it('revokes a key once, only from its own workspace', async () => {
        const { store } = get();
        const a = await seedTenant(store, 'A');
        const b = await seedTenant(store, 'B');
        const key = await store.apiKeys.create({
          workspaceId: a.workspace.id,
          name: 'k',
          prefix: 'p',
          keyHash: unique('h'),
        });
        assert.equal(await store.apiKeys.revoke(b.workspace.id, key.id, T0), false);
        assert.equal((await store.apiKeys.findByHash(key.keyHash))?.revokedAt, null);
        assert.equal(await store.apiKeys.revoke(a.workspace.id, key.id, T0), true);
        assert.equal(await store.apiKeys.revoke(a.workspace.id, key.id, T0 + 1), false);
        assert.equal((await store.apiKeys.findByHash(key.keyHash))?.revokedAt, T0);
      });

      it('lists only the workspace’s own API keys (tenancy)', async () => {
        const { store } = get();
        const a = await seedTenant(store, 'A');
        const b = await seedTenant(store, 'B');
        const mine = await store.apiKeys.create({
          workspaceId: a.workspace.id,
          name: 'mine',
          prefix: 'p',
          keyHash: unique('h'),
        });
        await store.apiKeys.create({
          workspaceId: b.workspace.id,
          name: 'theirs',
          prefix: 'p',
          keyHash: unique('h'),
        });
        assert.deepEqual(await store.apiKeys.list(a.workspace.id), [mine]);
      });
    });

    group('connections and channels', (get) => {
      it('stores a connection’s config JSON and encrypted secrets verbatim', async () => {
        const { store } = get();
        const { workspace } = await seedTenant(store);
        const created = await store.connections.create({
          workspaceId: workspace.id,
          provider: 'twilio',
          name: 'Twilio ✓',
          config: { accountSid: 'AC123', nested: { list: [1, 'two', { three: 3 }] } },
          secretsEncrypted: 'v1:AAECAw==:/+8=',
        });
        assert.deepEqual(await store.connections.get(created.id), created);
        assert.equal(created.createdAt, created.updatedAt);
        assert.equal(await store.connections.get('missing'), null);
      });

      it('patches a connection, keeping the fields not given, and bumps updatedAt', async () => {
        const { store } = get();
        const { connection } = await seedTenant(store);
        const renamed = await store.connections.update(connection.id, { name: 'Renamed' });
        assert.equal(renamed?.name, 'Renamed');
        assert.deepEqual(renamed?.config, connection.config);
        assert.equal(renamed?.secretsEncrypted, connection.secretsEncrypted);
        assert.ok((renamed?.updatedAt ?? 0) >= connection.updatedAt);
        const rekeyed = await store.connections.update(connection.id, {
          config: { phoneNumberId: '42' },
          secretsEncrypted: 'v1:new',
        });
        assert.equal(rekeyed?.name, 'Renamed');
        assert.deepEqual(rekeyed?.config, { phoneNumberId: '42' });
        assert.equal(rekeyed?.secretsEncrypted, 'v1:new');
        assert.deepEqual(await store.connections.get(connection.id), rekeyed);
        assert.equal(await store.connections.update('missing', { name: 'x' }), null);
      });

      it('lists and deletes connections only within their own workspace (tenancy)', async () => {
        const { store } = get();
        const a = await seedTenant(store, 'A');
        const b = await seedTenant(store, 'B');
        const spare = await store.connections.create({
          workspaceId: a.workspace.id,
          provider: 'sandbox',
          name: 'spare',
          config: {},
          secretsEncrypted: '',
        });
        assert.deepEqual(
          (await store.connections.list(a.workspace.id)).map((c) => c.id),
          [a.connection.id, spare.id],
        );
        assert.equal(await store.connections.delete(b.workspace.id, spare.id), false);
        assert.notEqual(await store.connections.get(spare.id), null);
        assert.equal(await store.connections.delete(a.workspace.id, spare.id), true);
        assert.equal(await store.connections.get(spare.id), null);
        assert.equal(await store.connections.delete(a.workspace.id, spare.id), false);
        assert.deepEqual(
          (await store.connections.list(b.workspace.id)).map((c) => c.id),
          [b.connection.id],
        );
      });

      it('round-trips a channel and finds it by (connection, provider key)', async () => {
        const { store } = get();
        const { workspace, connection } = await seedTenant(store);
        const channel = await store.channels.create({
          workspaceId: workspace.id,
          connectionId: connection.id,
          providerKey: 'whatsapp:+14155238886',
          phoneNumber: '14155238886',
          wabaId: null,
          name: 'Staging',
          throughputMps: 20,
          environment: 'staging',
          allowList: ['4915112345678', '447700900123'],
        });
        assert.deepEqual(await store.channels.get(channel.id), channel);
        assert.deepEqual(
          await store.channels.findByProviderKey(connection.id, 'whatsapp:+14155238886'),
          channel,
        );
        assert.equal(await store.channels.findByProviderKey(connection.id, 'other'), null);
        assert.equal(await store.channels.get('missing'), null);
      });

      it('refuses a second channel with the same provider key on one connection', async () => {
        const { store } = get();
        const { workspace, connection, channel } = await seedTenant(store);
        const other = await seedTenant(store, 'Other');
        const copy = {
          workspaceId: workspace.id,
          connectionId: connection.id,
          providerKey: channel.providerKey,
          phoneNumber: '15550002222',
          wabaId: null,
          name: 'dup',
          throughputMps: 80,
          environment: 'production' as const,
          allowList: [],
        };
        await assert.rejects(store.channels.create(copy));
        // The same provider key under another connection is a different channel.
        const elsewhere = await store.channels.create({
          ...copy,
          workspaceId: other.workspace.id,
          connectionId: other.connection.id,
        });
        assert.equal(elsewhere.providerKey, channel.providerKey);
      });

      it('lists channels per workspace (tenancy) and all channels with listAll', async () => {
        const { store } = get();
        const a = await seedTenant(store, 'A');
        const b = await seedTenant(store, 'B');
        assert.deepEqual(await store.channels.list(a.workspace.id), [a.channel]);
        assert.deepEqual(await store.channels.list(b.workspace.id), [b.channel]);
        const all = (await store.channels.listAll()).map((c) => c.id);
        assert.ok(all.includes(a.channel.id) && all.includes(b.channel.id));
      });

      it('patches a channel’s name, throughput, environment and allow list', async () => {
        const { store } = get();
        const { channel } = await seedTenant(store);
        const updated = await store.channels.update(channel.id, {
          throughputMps: 1000,
          environment: 'test',
          allowList: ['15550009999'],
        });
        assert.deepEqual(updated, {
          ...channel,
          throughputMps: 1000,
          environment: 'test',
          allowList: ['15550009999'],
        });
        assert.deepEqual(await store.channels.get(channel.id), updated);
        const renamed = await store.channels.update(channel.id, { name: 'Renamed' });
        assert.equal(renamed?.name, 'Renamed');
        assert.equal(renamed?.throughputMps, 1000);
        assert.equal(await store.channels.update('missing', { name: 'x' }), null);
      });
    });

    group('contacts and care windows', (get) => {
      it('upserts a contact once per (workspace, wa_id), keeping its id', async () => {
        const { store } = get();
        const { workspace } = await seedTenant(store);
        const first = await store.contacts.upsert({
          workspaceId: workspace.id,
          waId: '447700900123',
          name: 'Ann',
          userId: 'US.1',
          at: T0,
        });
        const again = await store.contacts.upsert({
          workspaceId: workspace.id,
          waId: '447700900123',
          name: 'Ann B.',
          at: T0 + MINUTE,
        });
        assert.equal(again.id, first.id);
        assert.equal(again.name, 'Ann B.');
        assert.equal(again.userId, 'US.1');
        assert.equal(again.createdAt, T0);
        assert.equal(again.updatedAt, T0 + MINUTE);
        assert.deepEqual(again.attributes, {});
        assert.deepEqual(again.tags, []);
        assert.deepEqual(await store.contacts.get(first.id), again);
        assert.equal(await store.contacts.get('missing'), null);
      });

      it('never erases a known name or user id with a missing or null one', async () => {
        const { store } = get();
        const { workspace } = await seedTenant(store);
        const base = { workspaceId: workspace.id, waId: '5511987654321' };
        await store.contacts.upsert({ ...base, name: 'Zoë', userId: 'BR.7', at: T0 });
        const withNulls = await store.contacts.upsert({
          ...base,
          name: null,
          userId: null,
          at: T0 + 1,
        });
        assert.equal(withNulls.name, 'Zoë');
        assert.equal(withNulls.userId, 'BR.7');
        const omitted = await store.contacts.upsert({ ...base, at: T0 + 2 });
        assert.equal(omitted.name, 'Zoë');
        assert.equal(omitted.userId, 'BR.7');
        const renamed = await store.contacts.upsert({ ...base, name: 'Zoe', at: T0 + 3 });
        assert.equal(renamed.name, 'Zoe');
        assert.equal(renamed.userId, 'BR.7');
      });

      it('keeps the same wa_id apart in two workspaces (tenancy)', async () => {
        const { store } = get();
        const a = await seedTenant(store, 'A');
        const b = await seedTenant(store, 'B');
        assert.equal(a.contact.waId, b.contact.waId);
        assert.notEqual(a.contact.id, b.contact.id);
        assert.equal(
          (await store.contacts.findByWaId(a.workspace.id, a.contact.waId))?.id,
          a.contact.id,
        );
        assert.equal(
          (await store.contacts.findByWaId(b.workspace.id, b.contact.waId))?.id,
          b.contact.id,
        );
        assert.equal(await store.contacts.findByWaId(a.workspace.id, '000'), null);
        await store.contacts.upsert({ workspaceId: a.workspace.id, waId: '111', at: T0 });
        assert.equal(await store.contacts.count(a.workspace.id), 2);
        assert.equal(await store.contacts.count(b.workspace.id), 1);
        const listed = await store.contacts.list({ workspaceId: b.workspace.id, limit: 50 });
        assert.deepEqual(
          listed.items.map((c) => c.id),
          [b.contact.id],
        );
      });

      it('pages through a few hundred contacts with tied timestamps, without gaps or repeats', async () => {
        const { store } = get();
        const { workspace, contact } = await seedTenant(store);
        const ids = [contact.id];
        for (let i = 0; i < 250; i++) {
          // Groups of ten share a createdAt: the id must break the tie consistently.
          const created = await store.contacts.upsert({
            workspaceId: workspace.id,
            waId: `4930${String(i).padStart(8, '0')}`,
            name: `Contact ${i}`,
            at: T0 + Math.floor(i / 10) * MINUTE,
          });
          ids.push(created.id);
        }
        const pages = await collectPages((cursor) =>
          store.contacts.list({
            workspaceId: workspace.id,
            limit: 7,
            ...(cursor ? { cursor } : {}),
          }),
        );
        assertNoGapsOrRepeats(pages, ids);
        assert.ok(pages.every((page) => page.length <= 7));
        const flat = pages.flat();
        for (let i = 1; i < flat.length; i++) {
          assert.ok(flat[i - 1]!.createdAt >= flat[i]!.createdAt, 'newest first');
        }
      });

      it('searches contacts by name (any case) or wa_id digits, treating % and _ literally', async () => {
        const { store } = get();
        const { workspace } = await seedTenant(store);
        const ws = workspace.id;
        const maria = await store.contacts.upsert({
          workspaceId: ws,
          waId: '34612345678',
          name: 'María José',
          at: T0,
        });
        const percent = await store.contacts.upsert({
          workspaceId: ws,
          waId: '34699999999',
          name: '100% Ltd',
          at: T0,
        });
        await store.contacts.upsert({
          workspaceId: ws,
          waId: '34600000000',
          name: '1000 Ltd',
          at: T0,
        });
        const search = async (text: string): Promise<string[]> =>
          (await store.contacts.list({ workspaceId: ws, limit: 50, search: text })).items.map(
            (c) => c.id,
          );
        assert.deepEqual(await search('maría'), [maria.id]);
        assert.deepEqual(await search('JOSÉ'.toLowerCase()), [maria.id]);
        assert.deepEqual(await search('MARÍA'.slice(0, 3)), [maria.id]);
        assert.deepEqual(await search('612345'), [maria.id]);
        assert.deepEqual(await search('+34612345678'), [maria.id]);
        assert.deepEqual(await search('100%'), [percent.id]);
        assert.deepEqual(await search('_'), []);
      });

      it('rejects a cursor it did not issue', async () => {
        const { store } = get();
        const { workspace } = await seedTenant(store);
        await assert.rejects(
          store.contacts.list({ workspaceId: workspace.id, limit: 5, cursor: 'not-a-cursor' }),
        );
      });

      it('CSW-1: keeps one care window per (channel, contact) pair', async () => {
        const { store } = get();
        const { workspace, connection, channel, contact } = await seedTenant(store);
        const second = await store.channels.create({
          workspaceId: workspace.id,
          connectionId: connection.id,
          providerKey: unique('pn'),
          phoneNumber: '15550003333',
          wabaId: null,
          name: 'Sales',
          throughputMps: 80,
          environment: 'production',
          allowList: [],
        });
        assert.equal(await store.windows.get(channel.id, contact.id), null);
        await store.windows.put({
          channelId: channel.id,
          contactId: contact.id,
          lastInboundAt: T0,
          closedAt: null,
        });
        assert.deepEqual(await store.windows.get(channel.id, contact.id), {
          channelId: channel.id,
          contactId: contact.id,
          lastInboundAt: T0,
          closedAt: null,
        });
        assert.equal(await store.windows.get(second.id, contact.id), null);
        await store.windows.put({
          channelId: channel.id,
          contactId: contact.id,
          lastInboundAt: T0 + 10 * MINUTE,
          closedAt: T0 + 24 * 60 * MINUTE,
        });
        assert.deepEqual(await store.windows.get(channel.id, contact.id), {
          channelId: channel.id,
          contactId: contact.id,
          lastInboundAt: T0 + 10 * MINUTE,
          closedAt: T0 + 24 * 60 * MINUTE,
        });
      });
    });

    group('conversations', (get) => {
      it('keeps one open conversation per (channel, contact); a closed one makes room for a new one', async () => {
        const { store } = get();
        const t = await seedTenant(store);
        const pair = {
          workspaceId: t.workspace.id,
          channelId: t.channel.id,
          contactId: t.contact.id,
        };
        assert.equal(await store.conversations.findOpen(t.channel.id, t.contact.id), null);
        const first = await store.conversations.create({ ...pair, at: T0 });
        assert.equal(first.state, 'open');
        assert.equal(first.assigneeId, null);
        assert.equal(first.lastMessageAt, T0);
        assert.deepEqual(await store.conversations.findOpen(t.channel.id, t.contact.id), first);
        assert.deepEqual(await store.conversations.get(first.id), first);
        const racing = await store.conversations.create({ ...pair, at: T0 + 1 });
        assert.equal(racing.id, first.id, 'a second open conversation is not created');
        await store.conversations.update(first.id, { state: 'closed', closedAt: T0 + MINUTE });
        assert.equal(await store.conversations.findOpen(t.channel.id, t.contact.id), null);
        const next = await store.conversations.create({ ...pair, at: T0 + 2 * MINUTE });
        assert.notEqual(next.id, first.id);
        assert.equal((await store.conversations.get(first.id))?.state, 'closed');
      });

      it('touch() moves lastMessageAt forward, never back', async () => {
        const { store } = get();
        const t = await seedTenant(store);
        const c = await store.conversations.create({
          workspaceId: t.workspace.id,
          channelId: t.channel.id,
          contactId: t.contact.id,
          at: T0,
        });
        await store.conversations.touch(c.id, T0 + 5 * MINUTE);
        assert.equal((await store.conversations.get(c.id))?.lastMessageAt, T0 + 5 * MINUTE);
        await store.conversations.touch(c.id, T0 + MINUTE);
        assert.equal((await store.conversations.get(c.id))?.lastMessageAt, T0 + 5 * MINUTE);
      });

      it('openOrTouch() opens a conversation when none is open, else moves the open one forward, never back', async () => {
        const { store } = get();
        const t = await seedTenant(store);
        const pair = {
          workspaceId: t.workspace.id,
          channelId: t.channel.id,
          contactId: t.contact.id,
        };
        const opened = await store.conversations.openOrTouch({ ...pair, at: T0 });
        assert.equal(opened.inserted, true);
        assert.equal(opened.record.state, 'open');
        assert.equal(opened.record.lastMessageAt, T0);
        assert.deepEqual(
          await store.conversations.findOpen(t.channel.id, t.contact.id),
          opened.record,
        );
        const later = await store.conversations.openOrTouch({ ...pair, at: T0 + 5 * MINUTE });
        assert.equal(later.inserted, false);
        assert.deepEqual(later.record, { ...opened.record, lastMessageAt: T0 + 5 * MINUTE });
        const older = await store.conversations.openOrTouch({ ...pair, at: T0 + MINUTE });
        assert.equal(older.inserted, false);
        assert.equal(older.record.lastMessageAt, T0 + 5 * MINUTE);
        assert.equal(
          (await store.conversations.get(opened.record.id))?.lastMessageAt,
          T0 + 5 * MINUTE,
        );
        await store.conversations.update(opened.record.id, {
          state: 'closed',
          closedAt: T0 + 6 * MINUTE,
        });
        const next = await store.conversations.openOrTouch({ ...pair, at: T0 + 7 * MINUTE });
        assert.equal(next.inserted, true);
        assert.notEqual(next.record.id, opened.record.id);
        assert.equal((await store.conversations.get(opened.record.id))?.state, 'closed');
      });

      it('updates state, assignee and closedAt, and returns null for an unknown id', async () => {
        const { store } = get();
        const t = await seedTenant(store);
        const c = await store.conversations.create({
          workspaceId: t.workspace.id,
          channelId: t.channel.id,
          contactId: t.contact.id,
          at: T0,
        });
        const assigned = await store.conversations.update(c.id, { assigneeId: 'agent-7' });
        assert.deepEqual(assigned, { ...c, assigneeId: 'agent-7' });
        const closed = await store.conversations.update(c.id, {
          state: 'closed',
          closedAt: T0 + MINUTE,
          assigneeId: null,
        });
        assert.deepEqual(closed, {
          ...c,
          state: 'closed',
          closedAt: T0 + MINUTE,
          assigneeId: null,
        });
        assert.equal(await store.conversations.update('missing', { state: 'closed' }), null);
        assert.equal(await store.conversations.get('missing'), null);
      });

      it('lists by state, assignee (null = unassigned), channel and contact, newest first, within the workspace', async () => {
        const { store } = get();
        const a = await seedTenant(store, 'A');
        const b = await seedTenant(store, 'B');
        const ws = a.workspace.id;
        const other = await store.contacts.upsert({
          workspaceId: ws,
          waId: '447700900999',
          at: T0,
        });
        const second = await store.channels.create({
          workspaceId: ws,
          connectionId: a.connection.id,
          providerKey: unique('pn'),
          phoneNumber: '15550004444',
          wabaId: null,
          name: 'Second',
          throughputMps: 80,
          environment: 'production',
          allowList: [],
        });
        const c1 = await store.conversations.create({
          workspaceId: ws,
          channelId: a.channel.id,
          contactId: a.contact.id,
          at: T0 + 1,
        });
        const c2 = await store.conversations.create({
          workspaceId: ws,
          channelId: a.channel.id,
          contactId: other.id,
          at: T0 + 2,
        });
        const c3 = await store.conversations.create({
          workspaceId: ws,
          channelId: second.id,
          contactId: a.contact.id,
          at: T0 + 3,
        });
        await store.conversations.update(c2.id, { assigneeId: 'agent-1' });
        await store.conversations.update(c3.id, { state: 'closed', closedAt: T0 + 4 });
        // Another workspace's conversation, newer than all of them.
        await store.conversations.create({
          workspaceId: b.workspace.id,
          channelId: b.channel.id,
          contactId: b.contact.id,
          at: T0 + 100,
        });
        const ids = async (filter: Partial<Parameters<Store['conversations']['list']>[0]>) =>
          (await store.conversations.list({ workspaceId: ws, limit: 50, ...filter })).items.map(
            (c: Conversation) => c.id,
          );
        assert.deepEqual(await ids({}), [c3.id, c2.id, c1.id]);
        assert.deepEqual(await ids({ state: 'open' }), [c2.id, c1.id]);
        assert.deepEqual(await ids({ state: 'closed' }), [c3.id]);
        assert.deepEqual(await ids({ assigneeId: 'agent-1' }), [c2.id]);
        assert.deepEqual(await ids({ assigneeId: null }), [c3.id, c1.id]);
        assert.deepEqual(await ids({ assigneeId: null, state: 'open' }), [c1.id]);
        assert.deepEqual(await ids({ channelId: a.channel.id }), [c2.id, c1.id]);
        assert.deepEqual(await ids({ channelId: b.channel.id }), []);
        assert.deepEqual(await ids({ contactId: a.contact.id }), [c3.id, c1.id]);
      });

      it('pages through 300 conversations with tied lastMessageAt, without gaps or repeats', async () => {
        const { store } = get();
        const t = await seedTenant(store);
        const ids: string[] = [];
        for (let i = 0; i < 300; i++) {
          const contact = await store.contacts.upsert({
            workspaceId: t.workspace.id,
            waId: `4477009${String(i).padStart(5, '0')}`,
            at: T0,
          });
          const c = await store.conversations.create({
            workspaceId: t.workspace.id,
            channelId: t.channel.id,
            contactId: contact.id,
            at: T0 + Math.floor(i / 25) * MINUTE,
          });
          ids.push(c.id);
        }
        // Activity after creation reorders some of them while paging still works on a snapshot.
        await store.conversations.touch(ids[0]!, T0 + 60 * MINUTE);
        const pages = await collectPages((cursor) =>
          store.conversations.list({
            workspaceId: t.workspace.id,
            state: 'open',
            limit: 13,
            ...(cursor ? { cursor } : {}),
          }),
        );
        assertNoGapsOrRepeats(pages, ids);
        const flat = pages.flat();
        assert.equal(flat[0]!.id, ids[0], 'the most recently active conversation comes first');
        for (let i = 1; i < flat.length; i++) {
          const prev = flat[i - 1]!;
          const cur = flat[i]!;
          assert.ok(
            prev.lastMessageAt > cur.lastMessageAt ||
              (prev.lastMessageAt === cur.lastMessageAt && prev.id > cur.id),
            'ordered by lastMessageAt desc, then id desc',
          );
        }
      });
    });

    group('messages and status events', (get) => {
      it('round-trips every message field: JSON with awkward text, booleans as booleans', async () => {
        const { store } = get();
        const t = await seedTenant(store);
        const conversation = await store.conversations.create({
          workspaceId: t.workspace.id,
          channelId: t.channel.id,
          contactId: t.contact.id,
          at: T0,
        });
        const input = messageFor(t, {
          conversationId: conversation.id,
          direction: 'outbound',
          type: 'template',
          content: {
            name: 'order_update',
            language: { code: 'de' },
            components: [{ type: 'body', parameters: [{ type: 'text', text: AWKWARD_JSON_TEXT }] }],
            big: 9007199254740991,
            fraction: -0.5,
            nothing: null,
          },
          text: AWKWARD_TEXT,
          status: 'failed',
          reason: 'window_closed',
          reasonDetail: 'Re-engagement message',
          providerMessageId: unique('wamid.HBgM'),
          providerError: {
            code: 131047,
            title: 'Re-engagement message',
            error_data: { details: 'é' },
          },
          idempotencyKey: unique('idem'),
          replyTo: 'wamid.previous',
          createdAt: T0 + 1,
          dispatchedAt: T0 + 2,
          sentAt: T0 + 3,
          deliveredAt: null,
          readAt: null,
          failedAt: T0 + 4,
          needsReview: true,
        });
        const result = await store.messages.insert(input);
        assert.equal(result.inserted, true);
        const { id, updatedAt, ...rest } = result.record;
        assert.deepEqual(rest, input);
        assert.equal(updatedAt, input.createdAt);
        assert.equal(typeof id, 'string');
        const fetched = await store.messages.get(id);
        assert.deepEqual(fetched, result.record);
        assert.equal(fetched?.needsReview, true);
        const plain = await store.messages.insert(
          messageFor(t, { createdAt: T0, content: 'just a string' }),
        );
        assert.equal(plain.record.needsReview, false);
        assert.equal(plain.record.content, 'just a string');
        assert.equal(plain.record.providerError, null);
        assert.equal(await store.messages.get('missing'), null);
      });

      it('STA-2: an inbound message re-delivered with the same provider id is not stored twice', async () => {
        const { store } = get();
        const t = await seedTenant(store);
        const conversation = await store.conversations.create({
          workspaceId: t.workspace.id,
          channelId: t.channel.id,
          contactId: t.contact.id,
          at: T0,
        });
        const wamid = unique('wamid.HBgLNDkxNTE');
        const first = await store.messages.insert(
          messageFor(t, {
            conversationId: conversation.id,
            providerMessageId: wamid,
            createdAt: T0,
          }),
        );
        const again = await store.messages.insert(
          messageFor(t, {
            conversationId: conversation.id,
            providerMessageId: wamid,
            createdAt: T0 + 5,
            content: { body: 'changed on re-delivery' },
          }),
        );
        assert.equal(first.inserted, true);
        assert.equal(again.inserted, false);
        assert.deepEqual(again.record, first.record);
        const transcript = await store.messages.listByConversation(conversation.id, { limit: 10 });
        assert.equal(transcript.items.length, 1);
        assert.deepEqual(await store.messages.findByProviderId(t.channel.id, wamid), first.record);
        assert.equal(await store.messages.findByProviderId(t.channel.id, `${wamid}x`), null);
      });

      it('STA-2: the provider id is unique per channel only, and messages without one never collide', async () => {
        const { store } = get();
        const t = await seedTenant(store);
        const other = await seedTenant(store, 'Other');
        const wamid = unique('wamid');
        const here = await store.messages.insert(
          messageFor(t, { providerMessageId: wamid, createdAt: T0 }),
        );
        const there = await store.messages.insert(
          messageFor(other, { providerMessageId: wamid, createdAt: T0 }),
        );
        assert.equal(here.inserted, true);
        assert.equal(there.inserted, true);
        assert.notEqual(here.record.id, there.record.id);
        const a = await store.messages.insert(
          messageFor(t, { direction: 'outbound', status: 'pending', createdAt: T0 }),
        );
        const b = await store.messages.insert(
          messageFor(t, { direction: 'outbound', status: 'pending', createdAt: T0 }),
        );
        assert.equal(a.inserted && b.inserted, true);
        assert.notEqual(a.record.id, b.record.id);
      });

      it('update() writes only the given fields and stamps updatedAt', async () => {
        const { store } = get();
        const t = await seedTenant(store);
        const { record } = await store.messages.insert(
          messageFor(t, { direction: 'outbound', status: 'pending', createdAt: T0 }),
        );
        const wamid = unique('wamid.sent');
        const sent = await store.messages.update(
          record.id,
          { status: 'sent', providerMessageId: wamid, sentAt: T0 + 7, dispatchedAt: T0 + 6 },
          T0 + 8,
        );
        assert.deepEqual(sent, {
          ...record,
          status: 'sent',
          providerMessageId: wamid,
          sentAt: T0 + 7,
          dispatchedAt: T0 + 6,
          updatedAt: T0 + 8,
        });
        const reviewed = await store.messages.update(
          record.id,
          {
            needsReview: true,
            providerError: { code: 1, detail: AWKWARD_JSON_TEXT },
            reason: 'provider_unavailable',
            content: { body: 'edited' },
          },
          T0 + 9,
        );
        assert.equal(reviewed?.needsReview, true);
        assert.deepEqual(reviewed?.providerError, { code: 1, detail: AWKWARD_JSON_TEXT });
        assert.deepEqual(reviewed?.content, { body: 'edited' });
        assert.equal(reviewed?.status, 'sent');
        assert.deepEqual(await store.messages.get(record.id), reviewed);
        assert.deepEqual(await store.messages.findByProviderId(t.channel.id, wamid), reviewed);
        assert.equal(await store.messages.update('missing', { status: 'sent' }, T0), null);
      });

      it('lists a transcript in (createdAt, id) order across pages without gaps or repeats', async () => {
        const { store } = get();
        const t = await seedTenant(store);
        const conversation = await store.conversations.create({
          workspaceId: t.workspace.id,
          channelId: t.channel.id,
          contactId: t.contact.id,
          at: T0,
        });
        const other = await store.conversations.create({
          workspaceId: t.workspace.id,
          channelId: t.channel.id,
          contactId: (
            await store.contacts.upsert({ workspaceId: t.workspace.id, waId: '1', at: T0 })
          ).id,
          at: T0,
        });
        const ids: string[] = [];
        for (let i = 0; i < 260; i++) {
          // Inserted out of time order, with ties: the transcript follows createdAt, then id.
          const createdAt = T0 + ((i * 37) % 50) * 1000;
          const { record } = await store.messages.insert(
            messageFor(t, { conversationId: conversation.id, createdAt, text: `m${i}` }),
          );
          ids.push(record.id);
        }
        await store.messages.insert(messageFor(t, { conversationId: other.id, createdAt: T0 }));
        const pages = await collectPages((cursor) =>
          store.messages.listByConversation(conversation.id, {
            limit: 11,
            ...(cursor ? { cursor } : {}),
          }),
        );
        assertNoGapsOrRepeats(pages, ids);
        const flat = pages.flat();
        for (let i = 1; i < flat.length; i++) {
          const prev = flat[i - 1]!;
          const cur = flat[i]!;
          assert.ok(
            prev.createdAt < cur.createdAt ||
              (prev.createdAt === cur.createdAt && prev.id < cur.id),
            'ordered by createdAt, then id',
          );
        }
      });

      it('STA-2: a status event re-delivered for the same (message, status) is not stored twice', async () => {
        const { store } = get();
        const t = await seedTenant(store);
        const { record: message } = await store.messages.insert(
          messageFor(t, { direction: 'outbound', status: 'sent', createdAt: T0 }),
        );
        const raw = {
          id: 'wamid.x',
          status: 'delivered',
          pricing: { category: 'utility' },
          note: AWKWARD_JSON_TEXT,
        };
        const first = await store.statusEvents.insert({
          messageId: message.id,
          status: 'delivered',
          at: T0 + 10,
          providerCode: null,
          raw,
          receivedAt: T0 + 11,
        });
        const again = await store.statusEvents.insert({
          messageId: message.id,
          status: 'delivered',
          at: T0 + 99,
          providerCode: '0',
          raw: { changed: true },
          receivedAt: T0 + 100,
        });
        assert.equal(first.inserted, true);
        assert.deepEqual(first.record.raw, raw);
        assert.equal(again.inserted, false);
        assert.deepEqual(again.record, first.record);
        const read = await store.statusEvents.insert({
          messageId: message.id,
          status: 'read',
          at: T0 + 5,
          providerCode: null,
          raw: null,
          receivedAt: T0 + 120,
        });
        assert.equal(read.inserted, true);
        assert.deepEqual(
          (await store.statusEvents.list(message.id)).map((e) => e.status),
          ['read', 'delivered'],
          'listed in provider time order',
        );
      });
    });

    group('crash recovery listing', (get) => {
      it('lists outbound messages dispatched before the cutoff and never confirmed, oldest first', async () => {
        const { store } = get();
        const t = await seedTenant(store);
        const pending = (overrides: Partial<NewMessage>): NewMessage =>
          messageFor(t, { direction: 'outbound', status: 'pending', createdAt: T0, ...overrides });
        const older = await store.messages.insert(pending({ dispatchedAt: T0 + 1 }));
        const newer = await store.messages.insert(pending({ dispatchedAt: T0 + 2 }));
        const oldest = await store.messages.insert(pending({ dispatchedAt: T0 }));
        // None of these may be listed:
        await store.messages.insert(pending({ dispatchedAt: null })); // never handed over
        await store.messages.insert(pending({ dispatchedAt: T0 + 50 })); // after the cutoff
        await store.messages.insert(pending({ dispatchedAt: T0, providerMessageId: unique('w') })); // confirmed
        await store.messages.insert(pending({ dispatchedAt: T0, status: 'sent' })); // progressed
        await store.messages.insert(pending({ dispatchedAt: T0, needsReview: true })); // already flagged
        await store.messages.insert(pending({ dispatchedAt: T0, direction: 'inbound' }));
        const listed = await store.messages.listDispatchedUnconfirmed(T0 + 50, 10);
        assert.deepEqual(
          listed.map((m) => m.id),
          [oldest.record.id, older.record.id, newer.record.id],
        );
        assert.equal((await store.messages.listDispatchedUnconfirmed(T0 + 50, 2)).length, 2);
        await store.messages.update(oldest.record.id, { needsReview: true }, T0 + 60);
        assert.deepEqual(
          (await store.messages.listDispatchedUnconfirmed(T0 + 50, 10)).map((m) => m.id),
          [older.record.id, newer.record.id],
        );
      });

      it('lists outbound messages created before the cutoff and never dispatched, in id order, page by page', async () => {
        const { store } = get();
        const t = await seedTenant(store);
        // Older than anything other cases store, so their messages stay after the cutoff.
        const created = T0 - 10_000;
        const cutoff = created + 50;
        const pending = (overrides: Partial<NewMessage>): NewMessage =>
          messageFor(t, {
            direction: 'outbound',
            status: 'pending',
            createdAt: created,
            ...overrides,
          });
        const waiting = [];
        for (let i = 0; i < 3; i++) waiting.push((await store.messages.insert(pending({}))).record);
        // None of these may be listed:
        await store.messages.insert(pending({ createdAt: cutoff })); // after the cutoff
        await store.messages.insert(pending({ dispatchedAt: created })); // handed over
        await store.messages.insert(pending({ status: 'refused' }));
        await store.messages.insert(pending({ needsReview: true }));
        await store.messages.insert(pending({ direction: 'inbound' }));
        const ids = waiting.map((m) => m.id).sort();
        const listed = await store.messages.listUndispatched(cutoff, null, 10);
        assert.deepEqual(
          listed.map((m) => m.id),
          ids,
        );
        const first = await store.messages.listUndispatched(cutoff, null, 2);
        assert.deepEqual(
          first.map((m) => m.id),
          ids.slice(0, 2),
        );
        assert.deepEqual(
          (await store.messages.listUndispatched(cutoff, first[1]!.id, 2)).map((m) => m.id),
          ids.slice(2),
        );
      });
    });

    group('dispatch claim', (get) => {
      it('of several concurrent claims of one message exactly one wins, and a claimed, flagged or progressed message is not claimed again', async () => {
        const { store } = get();
        const t = await seedTenant(store);
        const pending = (overrides: Partial<NewMessage> = {}): NewMessage =>
          messageFor(t, { direction: 'outbound', status: 'pending', createdAt: T0, ...overrides });
        const message = await store.messages.insert(pending());
        const claims = await Promise.all(
          [1, 2, 3, 4].map((n) => store.messages.claimDispatch(message.record.id, T0 + n)),
        );
        const winners = claims.filter((c) => c !== null);
        assert.equal(winners.length, 1);
        assert.equal(
          winners[0]!.dispatchedAt,
          (await store.messages.get(message.record.id))!.dispatchedAt,
        );
        assert.equal(await store.messages.claimDispatch(message.record.id, T0 + 9), null);
        for (const overrides of [
          { needsReview: true },
          { status: 'failed' as const },
          { status: 'accepted' as const },
          { direction: 'inbound' as const },
        ]) {
          const other = await store.messages.insert(pending(overrides));
          assert.equal(
            await store.messages.claimDispatch(other.record.id, T0),
            null,
            JSON.stringify(overrides),
          );
        }
        assert.equal(await store.messages.claimDispatch('no-such-message', T0), null);
      });
    });

    group('webhook log', (get) => {
      it('stores the exact body bytes (binary, invalid UTF-8) and headers of a webhook', async () => {
        const { store } = get();
        const body = Buffer.concat([
          Buffer.from('{"entry":[{"text":"'),
          Buffer.from(AWKWARD_TEXT, 'utf8'),
          Buffer.from([0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x0a, 0x0d]),
          Buffer.from('"}]}'),
        ]);
        const stored = await store.webhooks.insert({
          connectionId: 'conn-1',
          provider: 'meta',
          receivedAt: T0,
          headers: { 'x-hub-signature-256': 'sha256=abc', 'x-note': 'naïve ✓' },
          body,
          url: '/webhooks/meta/conn-1?x=1',
        });
        assert.equal(stored.state, 'received');
        assert.equal(stored.error, null);
        assert.equal(stored.processedAt, null);
        const fetched = await store.webhooks.get(stored.id);
        assert.ok(fetched);
        assert.ok(Buffer.isBuffer(fetched.body));
        assert.equal(Buffer.compare(fetched.body, body), 0, 'body bytes unchanged');
        assert.deepEqual(fetched, stored);
        assert.equal(await store.webhooks.get('missing'), null);
      });

      it('lists pending webhooks oldest first and drops them once marked', async () => {
        const { store } = get();
        const baseline = await store.webhooks.countByState('received');
        const insert = (receivedAt: number) =>
          store.webhooks.insert({
            connectionId: 'conn-2',
            provider: 'twilio',
            receivedAt,
            headers: {},
            body: Buffer.from(`n=${receivedAt}`),
            url: '/webhooks/twilio/conn-2',
          });
        const late = await insert(T0 + 3 * MINUTE);
        const early = await insert(T0 - 60 * MINUTE);
        const middle = await insert(T0 + MINUTE);
        const pending = (await store.webhooks.listPending(100)).map((w) => w.id);
        const ours = pending.filter((id) => [late.id, early.id, middle.id].includes(id));
        assert.deepEqual(ours, [early.id, middle.id, late.id]);
        assert.equal((await store.webhooks.listPending(1))[0]?.id, pending[0]);
        assert.equal(await store.webhooks.countByState('received'), baseline + 3);

        await store.webhooks.mark(early.id, 'processed', T0 + 4 * MINUTE);
        await store.webhooks.mark(middle.id, 'failed', T0 + 4 * MINUTE, 'parse error: é');
        await store.webhooks.mark(late.id, 'unrouted', T0 + 4 * MINUTE, null);
        const after = (await store.webhooks.listPending(100)).map((w) => w.id);
        assert.ok(![early.id, middle.id, late.id].some((id) => after.includes(id)));
        const failed = await store.webhooks.get(middle.id);
        assert.equal(failed?.state, 'failed');
        assert.equal(failed?.error, 'parse error: é');
        assert.equal(failed?.processedAt, T0 + 4 * MINUTE);
        assert.equal((await store.webhooks.get(early.id))?.error, null);
        assert.equal(await store.webhooks.countByState('received'), baseline);
        assert.ok((await store.webhooks.countByState('processed')) >= 1);
        assert.ok((await store.webhooks.countByState('unrouted')) >= 1);

        // A processed batch is marked in one call; an empty batch marks nothing.
        const a = await insert(T0 + 5 * MINUTE);
        const b = await insert(T0 + 6 * MINUTE);
        const c = await insert(T0 + 7 * MINUTE);
        await store.webhooks.mark([], 'processed', T0 + 8 * MINUTE);
        await store.webhooks.mark([a.id, c.id], 'processed', T0 + 8 * MINUTE, null);
        const left = (await store.webhooks.listPending(100)).map((w) => w.id);
        assert.ok(left.includes(b.id) && !left.includes(a.id) && !left.includes(c.id));
        assert.equal((await store.webhooks.get(c.id))?.processedAt, T0 + 8 * MINUTE);
        assert.equal((await store.webhooks.get(b.id))?.state, 'received');
        await store.webhooks.mark([b.id], 'processed', T0 + 9 * MINUTE);
      });
    });

    group('idempotency keys', (get) => {
      it('LIM-7: the first request with a key wins while the key is live', async () => {
        const { store } = get();
        const { workspace } = await seedTenant(store);
        const key = unique('Idempotency-Key');
        const record = {
          workspaceId: workspace.id,
          key,
          requestHash: 'hash-1',
          messageId: 'msg-1',
          createdAt: T0,
          expiresAt: T0 + 60 * MINUTE,
        };
        assert.equal(await store.idempotency.put(record), true);
        assert.equal(
          await store.idempotency.put({
            ...record,
            requestHash: 'hash-2',
            messageId: 'msg-2',
            createdAt: T0 + 1,
          }),
          false,
        );
        assert.deepEqual(await store.idempotency.get(workspace.id, key, T0 + 30 * MINUTE), record);
      });

      it('LIM-7: an expired key reads as absent and may be claimed again', async () => {
        const { store } = get();
        const { workspace } = await seedTenant(store);
        const key = unique('k');
        const first = {
          workspaceId: workspace.id,
          key,
          requestHash: 'h1',
          messageId: 'm1',
          createdAt: T0,
          expiresAt: T0 + MINUTE,
        };
        await store.idempotency.put(first);
        assert.equal(await store.idempotency.get(workspace.id, key, T0 + MINUTE), null);
        const second = {
          ...first,
          requestHash: 'h2',
          messageId: 'm2',
          createdAt: T0 + MINUTE,
          expiresAt: T0 + 2 * MINUTE,
        };
        assert.equal(await store.idempotency.put(second), true);
        assert.deepEqual(await store.idempotency.get(workspace.id, key, T0 + MINUTE), second);
      });

      it('LIM-7: keys are per workspace (tenancy)', async () => {
        const { store } = get();
        const a = await seedTenant(store, 'A');
        const b = await seedTenant(store, 'B');
        const key = unique('shared-key');
        const base = {
          key,
          requestHash: 'h',
          messageId: 'm',
          createdAt: T0,
          expiresAt: T0 + MINUTE,
        };
        assert.equal(await store.idempotency.put({ ...base, workspaceId: a.workspace.id }), true);
        assert.equal(await store.idempotency.put({ ...base, workspaceId: b.workspace.id }), true);
        assert.equal(await store.idempotency.get('another-workspace', key, T0), null);
      });

      it('purges expired keys only, reporting how many', async () => {
        const { store } = get();
        const { workspace } = await seedTenant(store);
        const base = { workspaceId: workspace.id, requestHash: 'h', messageId: 'm', createdAt: T0 };
        // Start from a known state: clear whatever earlier cases left to expire by then.
        await store.idempotency.purgeExpired(T0 + 2 * MINUTE);
        const early = unique('early');
        const late = unique('late');
        await store.idempotency.put({ ...base, key: early, expiresAt: T0 + MINUTE });
        await store.idempotency.put({ ...base, key: `${early}-2`, expiresAt: T0 + MINUTE });
        await store.idempotency.put({ ...base, key: late, expiresAt: T0 + 10 * MINUTE });
        assert.equal(await store.idempotency.purgeExpired(T0 + 2 * MINUTE), 2);
        assert.equal(
          (await store.idempotency.get(workspace.id, late, T0 + 2 * MINUTE)) !== null,
          true,
        );
        assert.equal(await store.idempotency.purgeExpired(T0 + 2 * MINUTE), 0);
        // A purged key is free again.
        assert.equal(
          await store.idempotency.put({
            ...base,
            key: early,
            createdAt: T0 + 3 * MINUTE,
            expiresAt: T0 + 4 * MINUTE,
          }),
          true,
        );
      });
    });

    group('templates', (get) => {
      const template = (
        workspaceId: string,
        channelId: string | null,
        overrides: Partial<Parameters<Store['templates']['upsert']>[0]> = {},
      ): Parameters<Store['templates']['upsert']>[0] => ({
        workspaceId,
        channelId,
        name: 'order_update',
        language: 'pt_BR',
        category: 'UTILITY',
        status: 'APPROVED',
        parameterFormat: 'named',
        components: [{ type: 'BODY', text: 'Olá {{first_name}}, seu pedido {{order}} saiu 🚚' }],
        providerTemplateId: '1234567890',
        at: T0,
        ...overrides,
      });

      it('upserts a template in place: same id and createdAt, fields refreshed', async () => {
        const { store } = get();
        const t = await seedTenant(store);
        const first = await store.templates.upsert(template(t.workspace.id, t.channel.id));
        const second = await store.templates.upsert(
          template(t.workspace.id, t.channel.id, {
            status: 'PAUSED',
            category: 'MARKETING',
            components: [{ type: 'BODY', text: 'novo' }],
            providerTemplateId: null,
            at: T0 + MINUTE,
          }),
        );
        assert.equal(second.id, first.id);
        assert.equal(second.createdAt, T0);
        assert.equal(second.updatedAt, T0 + MINUTE);
        assert.equal(second.status, 'PAUSED');
        assert.equal(second.category, 'MARKETING');
        assert.deepEqual(second.components, [{ type: 'BODY', text: 'novo' }]);
        assert.equal(second.providerTemplateId, null);
        assert.deepEqual(await store.templates.list(t.workspace.id), [second]);
      });

      it('keeps one workspace-wide template per (name, language) even though its channel is null', async () => {
        const { store } = get();
        const t = await seedTenant(store);
        const first = await store.templates.upsert(template(t.workspace.id, null));
        const again = await store.templates.upsert(
          template(t.workspace.id, null, { status: 'REJECTED', at: T0 + 1 }),
        );
        assert.equal(again.id, first.id);
        assert.equal(again.channelId, null);
        assert.equal((await store.templates.list(t.workspace.id)).length, 1);
        const english = await store.templates.upsert(
          template(t.workspace.id, null, { language: 'en_US' }),
        );
        assert.notEqual(english.id, first.id);
        assert.equal((await store.templates.list(t.workspace.id)).length, 2);
      });

      it('finds the channel’s own template first, then the workspace-wide one', async () => {
        const { store } = get();
        const t = await seedTenant(store);
        const wide = await store.templates.upsert(
          template(t.workspace.id, null, { providerTemplateId: 'wide' }),
        );
        const own = await store.templates.upsert(
          template(t.workspace.id, t.channel.id, { providerTemplateId: 'own' }),
        );
        const ws = t.workspace.id;
        assert.equal(
          (await store.templates.find(ws, 'order_update', 'pt_BR', t.channel.id))?.id,
          own.id,
        );
        assert.equal((await store.templates.find(ws, 'order_update', 'pt_BR', null))?.id, wide.id);
        assert.equal((await store.templates.find(ws, 'order_update', 'pt_BR'))?.id, wide.id);
        const elsewhere = await seedTenant(store, 'Elsewhere');
        assert.equal(
          (await store.templates.find(ws, 'order_update', 'pt_BR', elsewhere.channel.id))?.id,
          wide.id,
          'a channel without its own template falls back to the workspace-wide one',
        );
        assert.equal(await store.templates.find(ws, 'order_update', 'en_US', t.channel.id), null);
        assert.equal(await store.templates.find(ws, 'other', 'pt_BR'), null);
      });

      it('lists and finds templates only within their workspace (tenancy)', async () => {
        const { store } = get();
        const a = await seedTenant(store, 'A');
        const b = await seedTenant(store, 'B');
        const mine = await store.templates.upsert(template(a.workspace.id, null));
        await store.templates.upsert(template(b.workspace.id, null));
        assert.deepEqual(await store.templates.list(a.workspace.id), [mine]);
        assert.equal(
          (await store.templates.find(a.workspace.id, 'order_update', 'pt_BR'))?.id,
          mine.id,
        );
        assert.equal(await store.templates.find('nobody', 'order_update', 'pt_BR'), null);
      });
    });

    group('transactions', (get) => {
      it('commits everything the work wrote and returns its result', async () => {
        const { store } = get();
        const result = await store.transaction(async (tx) => {
          const t = await seedTenant(tx, 'Committed');
          await tx.messages.insert(messageFor(t, { createdAt: T0 }));
          const jobId = await tx.jobs.enqueue('tx-commit', { hi: 1 }, { runAt: T0 });
          return { t, jobId };
        });
        assert.deepEqual(await store.workspaces.get(result.t.workspace.id), result.t.workspace);
        assert.deepEqual(await store.contacts.get(result.t.contact.id), result.t.contact);
        assert.equal(await store.jobs.size('tx-commit'), 1);
      });

      it('rolls back every write, jobs included, when the work throws, and rethrows the error', async () => {
        const { store } = get();
        const workspacesBefore = await store.workspaces.count();
        const webhooksBefore = await store.webhooks.countByState('received');
        let written: Tenant | undefined;
        let messageId = '';
        await assert.rejects(
          store.transaction(async (tx) => {
            written = await seedTenant(tx, 'Doomed');
            messageId = (await tx.messages.insert(messageFor(written, { createdAt: T0 }))).record
              .id;
            await tx.jobs.enqueue('tx-rollback', { doomed: true }, { runAt: T0 });
            await tx.webhooks.insert({
              connectionId: written.connection.id,
              provider: 'meta',
              receivedAt: T0,
              headers: {},
              body: Buffer.from('x'),
              url: '/x',
            });
            throw new Boom();
          }),
          Boom,
        );
        assert.ok(written);
        assert.equal(await store.workspaces.count(), workspacesBefore);
        assert.equal(await store.workspaces.get(written.workspace.id), null);
        assert.equal(await store.connections.get(written.connection.id), null);
        assert.equal(await store.channels.get(written.channel.id), null);
        assert.equal(await store.contacts.get(written.contact.id), null);
        assert.equal(await store.messages.get(messageId), null);
        assert.equal(await store.jobs.size('tx-rollback'), 0);
        assert.equal(await store.webhooks.countByState('received'), webhooksBefore);
      });

      it('nested transaction() calls join the outer one and roll back with it', async () => {
        const { store } = get();
        let innerWorkspaceId = '';
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.transaction(async (inner) => {
              innerWorkspaceId = (await inner.workspaces.create({ name: 'inner' })).id;
            });
            // The outer transaction sees the inner write before commit…
            assert.notEqual(await tx.workspaces.get(innerWorkspaceId), null);
            // …and a nested call through the outer store joins the same transaction.
            await store.transaction(async (again) => {
              assert.notEqual(await again.workspaces.get(innerWorkspaceId), null);
            });
            throw new Boom();
          }),
          Boom,
        );
        assert.equal(await store.workspaces.get(innerWorkspaceId), null);
      });

      it('calls on the store itself from inside the work join the transaction instead of deadlocking', async () => {
        const { store } = get();
        let id = '';
        let webhookId = '';
        await assert.rejects(
          store.transaction(async () => {
            id = (await store.workspaces.create({ name: 'via the outer handle' })).id;
            assert.notEqual(await store.workspaces.get(id), null);
            webhookId = (
              await store.webhooks.insert({
                connectionId: 'conn-tx',
                provider: 'meta',
                receivedAt: T0,
                headers: {},
                body: Buffer.from('{}'),
                url: '/webhooks/meta/conn-tx',
              })
            ).id;
            await store.jobs.enqueue('tx-outer-handle', {}, { runAt: T0 });
            throw new Boom();
          }),
          Boom,
        );
        assert.equal(await store.workspaces.get(id), null);
        assert.equal(await store.webhooks.get(webhookId), null);
        assert.equal(await store.jobs.size('tx-outer-handle'), 0);
      });

      it(
        'concurrent transactions from separate flows each commit or roll back as a whole',
        skipReason('transactions.concurrent-flows'),
        async () => {
          const { store } = get();
          const label = unique('flow');
          const outcomes = await Promise.allSettled(
            Array.from({ length: 12 }, (_, i) =>
              store.transaction(async (tx) => {
                const ws = await tx.workspaces.create({ name: `${label}-${i}` });
                await new Promise((resolve) => setImmediate(resolve));
                await tx.contacts.upsert({ workspaceId: ws.id, waId: String(1000 + i), at: T0 });
                await tx.jobs.enqueue(label, { i }, { runAt: T0, key: ws.id });
                if (i % 3 === 0) throw new Boom();
                return ws.id;
              }),
            ),
          );
          const committed = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
          const failed = outcomes.filter((o) => o.status === 'rejected');
          assert.equal(committed.length, 8);
          assert.equal(failed.length, 4);
          for (const o of failed) assert.ok(o.status === 'rejected' && o.reason instanceof Boom);
          const names = (await store.workspaces.list())
            .filter((w) => w.name.startsWith(`${label}-`))
            .map((w) => w.id);
          assert.deepEqual(names.sort(), [...committed].sort());
          for (const id of committed) assert.equal(await store.contacts.count(id), 1);
          assert.equal(await store.jobs.size(label), 8);
        },
      );

      it('a flow outside the transaction is neither blocked forever nor rolled back with it', async () => {
        const { store } = get();
        let release: () => void = () => undefined;
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        const doomed = store.transaction(async (tx) => {
          await tx.workspaces.create({ name: 'inside' });
          await gate;
          throw new Boom();
        });
        // Started while the transaction is open, from an unrelated async flow.
        const outside = store.workspaces.create({ name: unique('outside') });
        await new Promise((resolve) => setTimeout(resolve, 20));
        release();
        await assert.rejects(doomed, Boom);
        const created = await outside;
        assert.deepEqual(await store.workspaces.get(created.id), created);
      });

      it(
        'a committed write is visible to a second store instance on the same database',
        skipReason('transactions.cross-instance-visibility'),
        async (t) => {
          const { store, openAnother } = get();
          if (!openAnother) {
            t.skip('the adapter offers no second instance');
            return;
          }
          const other = await openAnother();
          try {
            const ws = await store.transaction((tx) => tx.workspaces.create({ name: 'shared' }));
            assert.deepEqual(await other.workspaces.get(ws.id), ws);
          } finally {
            await other.close();
          }
        },
      );
    });
  });
}
