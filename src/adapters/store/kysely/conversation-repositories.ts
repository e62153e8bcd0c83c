// Contacts, customer-care windows and conversations (the inbox's tables).
import { sql, type Kysely, type Updateable } from 'kysely';
import type {
  Contact,
  Conversation,
  ConversationFilter,
  Page,
  Store,
} from '../../../ports/store.ts';
import { compiledOnce } from './compiled-once.ts';
import type { ContactsTable, ConversationsTable, Database } from './database-schema.ts';
import { keysetLimit, keysetPage, seekAfter } from './keyset.ts';
import { newId } from './ids.ts';
import { toCareWindow, toContact, toConversation, toJsonText } from './row-mappers.ts';
import type { StoreContext } from './store-context.ts';

/** Escapes LIKE wildcards so a search for `50%` matches the text, not "50 and anything". */
function likePattern(search: string): string {
  return `%${search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

// Read at dispatch and by the ledger for every message: compiled once.
const selectContact = compiledOnce(['id'], (db, v) =>
  db.selectFrom('contacts').selectAll().where('id', '=', v.id),
);

export function contactRepository(ctx: StoreContext): Store['contacts'] {
  return {
    async upsert(input) {
      const row = {
        id: newId(),
        workspace_id: input.workspaceId,
        wa_id: input.waId,
        name: input.name ?? null,
        user_id: input.userId ?? null,
        attributes: '{}',
        tags: '[]',
        created_at: input.at,
        updated_at: input.at,
      };
      // One statement, so two webhooks about the same new contact cannot both insert it.
      // A missing or null name/userId never erases what an earlier payload told us.
      const stored = await ctx
        .db()
        .insertInto('contacts')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['workspace_id', 'wa_id']).doUpdateSet((eb) => ({
            name: eb.fn.coalesce('excluded.name', 'contacts.name'),
            user_id: eb.fn.coalesce('excluded.user_id', 'contacts.user_id'),
            updated_at: sql<number>`case when ${eb.ref('contacts.updated_at')} < ${eb.ref('excluded.updated_at')} then ${eb.ref('excluded.updated_at')} else ${eb.ref('contacts.updated_at')} end`,
          })),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return toContact(stored);
    },
    async get(id) {
      const [row] = await selectContact(ctx, { id });
      return row ? toContact(row) : null;
    },
    async findByWaId(workspaceId, waId) {
      const row = await ctx
        .db()
        .selectFrom('contacts')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('wa_id', '=', waId)
        .executeTakeFirst();
      return row ? toContact(row) : null;
    },
    async update(id, patch, at) {
      const set: Updateable<ContactsTable> = { updated_at: at };
      if (patch.name !== undefined) set.name = patch.name;
      if (patch.attributes !== undefined) set.attributes = toJsonText(patch.attributes);
      if (patch.tags !== undefined) set.tags = toJsonText(patch.tags);
      const row = await ctx
        .db()
        .updateTable('contacts')
        .set(set)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row ? toContact(row) : null;
    },
    /** Newest contacts first (createdAt, then id); `search` matches name (any case) or wa_id. */
    async list(input): Promise<Page<Contact>> {
      const { limit, fetch } = keysetLimit(input.limit);
      let query = ctx
        .db()
        .selectFrom('contacts')
        .selectAll()
        .where('workspace_id', '=', input.workspaceId);
      const search = input.search?.trim().replace(/^\+/, '');
      if (search) {
        const pattern = likePattern(search);
        query = query.where((eb) =>
          eb.or([
            sql<boolean>`lower(${eb.ref('name')}) like ${pattern} escape '\\'`,
            sql<boolean>`${eb.ref('wa_id')} like ${pattern} escape '\\'`,
          ]),
        );
      }
      if (input.cursor !== undefined)
        query = query.where(seekAfter(input.cursor, { at: 'created_at', id: 'id' }, 'desc'));
      const rows = await query
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(fetch)
        .execute();
      return keysetPage(rows, limit, toContact, (c) => ({ at: c.createdAt, id: c.id }));
    },
    async count(workspaceId) {
      const row = await ctx
        .db()
        .selectFrom('contacts')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('workspace_id', '=', workspaceId)
        .executeTakeFirstOrThrow();
      return row.n;
    },
  };
}

// Read at send and at dispatch of every message: compiled once.
const selectWindow = compiledOnce(['channelId', 'contactId'], (db, v) =>
  db
    .selectFrom('care_windows')
    .selectAll()
    .where('channel_id', '=', v.channelId)
    .where('contact_id', '=', v.contactId),
);

export function careWindowRepository(ctx: StoreContext): Store['windows'] {
  return {
    async get(channelId, contactId) {
      const [row] = await selectWindow(ctx, { channelId, contactId });
      return row ? toCareWindow(row) : null;
    },
    async put(record) {
      await ctx
        .db()
        .insertInto('care_windows')
        .values({
          channel_id: record.channelId,
          contact_id: record.contactId,
          last_inbound_at: record.lastInboundAt,
          closed_at: record.closedAt,
        })
        .onConflict((oc) =>
          oc.columns(['channel_id', 'contact_id']).doUpdateSet({
            last_inbound_at: record.lastInboundAt,
            closed_at: record.closedAt,
          }),
        )
        .execute();
    },
  };
}

/**
 * The inbox listing query, exported so its plan can be checked against the indexes: every
 * filter is an equality and the order is the index's own (last_message_at, id), walked
 * backwards; the cursor is a row-value comparison both dialects use as an index bound.
 */
export function conversationListQuery(
  db: Kysely<Database>,
  filter: ConversationFilter,
  rows: number,
) {
  let query = db
    .selectFrom('conversations')
    .selectAll()
    .where('workspace_id', '=', filter.workspaceId);
  if (filter.channelId !== undefined) query = query.where('channel_id', '=', filter.channelId);
  if (filter.contactId !== undefined) query = query.where('contact_id', '=', filter.contactId);
  if (filter.state !== undefined) query = query.where('state', '=', filter.state);
  if (filter.assigneeId === null) query = query.where('assignee_id', 'is', null);
  else if (filter.assigneeId !== undefined)
    query = query.where('assignee_id', '=', filter.assigneeId);
  if (filter.cursor !== undefined)
    query = query.where(seekAfter(filter.cursor, { at: 'last_message_at', id: 'id' }, 'desc'));
  return query.orderBy('last_message_at', 'desc').orderBy('id', 'desc').limit(rows);
}

export function conversationRepository(ctx: StoreContext): Store['conversations'] {
  const findOpen = async (channelId: string, contactId: string): Promise<Conversation | null> => {
    const row = await ctx
      .db()
      .selectFrom('conversations')
      .selectAll()
      .where('channel_id', '=', channelId)
      .where('contact_id', '=', contactId)
      // A literal, not a parameter: only then can SQLite use the partial index on open conversations.
      .where('state', '=', sql.lit('open'))
      .executeTakeFirst();
    return row ? toConversation(row) : null;
  };
  const get = async (id: string): Promise<Conversation | null> => {
    const row = await ctx
      .db()
      .selectFrom('conversations')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toConversation(row) : null;
  };

  return {
    findOpen,
    /**
     * Opens a conversation. There is at most one open conversation per (channel, contact): when
     * one is already open (a concurrent worker won the race) that one is returned instead.
     */
    async create(input) {
      const row = {
        id: newId(),
        workspace_id: input.workspaceId,
        channel_id: input.channelId,
        contact_id: input.contactId,
        state: 'open',
        assignee_id: null,
        created_at: input.at,
        last_message_at: input.at,
        closed_at: null,
      };
      const inserted = await ctx
        .db()
        .insertInto('conversations')
        .values(row)
        // The predicate must be a literal: both dialects match it against the partial index.
        .onConflict((oc) =>
          oc
            .columns(['channel_id', 'contact_id'])
            .where(sql<boolean>`state = 'open'`)
            .doNothing(),
        )
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) return toConversation(row);
      const existing = await findOpen(input.channelId, input.contactId);
      if (!existing) throw new Error('conversation vanished between insert and read');
      return existing;
    },
    async openOrTouch(input) {
      const id = newId();
      const row = await ctx
        .db()
        .insertInto('conversations')
        .values({
          id,
          workspace_id: input.workspaceId,
          channel_id: input.channelId,
          contact_id: input.contactId,
          state: 'open',
          assignee_id: null,
          created_at: input.at,
          last_message_at: input.at,
          closed_at: null,
        })
        // The same literal predicate as create(): it names the partial index of open ones.
        .onConflict((oc) =>
          oc
            .columns(['channel_id', 'contact_id'])
            .where(sql<boolean>`state = 'open'`)
            .doUpdateSet({
              // Provider times arrive out of order: the latest activity wins, as in touch().
              last_message_at: sql<number>`case when "conversations"."last_message_at" < excluded.last_message_at then excluded.last_message_at else "conversations"."last_message_at" end`,
            }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      const record = toConversation(row);
      return { inserted: record.id === id, record };
    },
    get,
    /** Most recent activity first (lastMessageAt, then id); `assigneeId: null` means unassigned. */
    async list(filter): Promise<Page<Conversation>> {
      const { limit, fetch } = keysetLimit(filter.limit);
      const rows = await conversationListQuery(ctx.db(), filter, fetch).execute();
      return keysetPage(rows, limit, toConversation, (c) => ({ at: c.lastMessageAt, id: c.id }));
    },
    async touch(id, at) {
      // Provider times arrive out of order: the latest activity wins, never an older one.
      await ctx
        .db()
        .updateTable('conversations')
        .set((eb) => ({
          last_message_at: sql<number>`case when ${eb.ref('last_message_at')} < ${at} then ${at} else ${eb.ref('last_message_at')} end`,
        }))
        .where('id', '=', id)
        .execute();
    },
    async update(id, patch) {
      const set: Updateable<ConversationsTable> = {};
      if (patch.state !== undefined) set.state = patch.state;
      if (patch.assigneeId !== undefined) set.assignee_id = patch.assigneeId;
      if (patch.closedAt !== undefined) set.closed_at = patch.closedAt;
      if (Object.keys(set).length === 0) return get(id);
      const row = await ctx
        .db()
        .updateTable('conversations')
        .set(set)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row ? toConversation(row) : null;
    },
  };
}
