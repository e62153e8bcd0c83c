// Messages and their provider status events (STA-2 idempotency lives here).
import { sql, type Insertable, type Updateable } from 'kysely';
import type { MessageRecord, Page, Store } from '../../../ports/store.ts';
import type { DbBool, MessagesTable } from './database-schema.ts';
import { compiledOnce } from './compiled-once.ts';
import { pageLimit } from './cursor.ts';
import { keysetLimit, keysetPage, seekAfter } from './keyset.ts';
import { newId } from './ids.ts';
import { toJsonText, toMessage, toStatusEvent } from './row-mappers.ts';
import { toDbBool, type StoreContext } from './store-context.ts';

type MessagePatch = Parameters<Store['messages']['update']>[1];

/** Port field → column, with the encoding each needs; fields not listed here are not patchable. */
function patchColumns(ctx: StoreContext, patch: MessagePatch): Updateable<MessagesTable> {
  const set: Updateable<MessagesTable> = {};
  if (patch.conversationId !== undefined) set.conversation_id = patch.conversationId;
  if (patch.type !== undefined) set.type = patch.type;
  if (patch.content !== undefined) set.content = toJsonText(patch.content);
  if (patch.text !== undefined) set.text = patch.text;
  if (patch.status !== undefined) set.status = patch.status;
  if (patch.reason !== undefined) set.reason = patch.reason;
  if (patch.reasonDetail !== undefined) set.reason_detail = patch.reasonDetail;
  if (patch.providerMessageId !== undefined) set.provider_message_id = patch.providerMessageId;
  if (patch.providerError !== undefined) set.provider_error = toJsonText(patch.providerError);
  if (patch.idempotencyKey !== undefined) set.idempotency_key = patch.idempotencyKey;
  if (patch.replyTo !== undefined) set.reply_to = patch.replyTo;
  if (patch.dispatchedAt !== undefined) set.dispatched_at = patch.dispatchedAt;
  if (patch.sentAt !== undefined) set.sent_at = patch.sentAt;
  if (patch.deliveredAt !== undefined) set.delivered_at = patch.deliveredAt;
  if (patch.readAt !== undefined) set.read_at = patch.readAt;
  if (patch.failedAt !== undefined) set.failed_at = patch.failedAt;
  if (patch.needsReview !== undefined) set.needs_review = toDbBool(ctx, patch.needsReview);
  return set;
}

// Each message is looked up by id and by provider id several times on its way (send, dispatch,
// three statuses, the ledger): compiled once.
const selectById = compiledOnce(['id'], (db, v) =>
  db.selectFrom('messages').selectAll().where('id', '=', v.id),
);
const selectByProviderId = compiledOnce(['channelId', 'providerMessageId'], (db, v) =>
  db
    .selectFrom('messages')
    .selectAll()
    .where('channel_id', '=', v.channelId)
    .where('provider_message_id', '=', v.providerMessageId),
);

// About four updates per message, of a few shapes (accepted, sent, delivered, read, failed):
// one statement compiled per set of columns, up to a bound; rarer shapes are built each time.
const MAX_UPDATE_SHAPES = 64;
const updateShapes = new Map<string, ReturnType<typeof compileUpdate>>();
function compileUpdate(columns: readonly string[]) {
  return compiledOnce([...columns, 'whereId'], (db, v) =>
    db
      .updateTable('messages')
      .set(Object.fromEntries(columns.map((c) => [c, v[c]])) as Updateable<MessagesTable>)
      .where('id', '=', String(v.whereId))
      .returningAll(),
  );
}
// The dispatch claim, once per message: compiled once.
const claimDispatchOnce = compiledOnce(['id', 'at', 'notReviewed'], (db, v) =>
  db
    .updateTable('messages')
    .set({ dispatched_at: v.at as unknown as number, updated_at: v.at as unknown as number })
    .where('id', '=', v.id)
    .where('direction', '=', 'outbound')
    .where('status', '=', 'pending')
    .where('dispatched_at', 'is', null)
    .where('needs_review', '=', v.notReviewed as unknown as DbBool)
    .returningAll(),
);

export function messageRepository(ctx: StoreContext): Store['messages'] {
  const get = async (id: string): Promise<MessageRecord | null> => {
    const [row] = await selectById(ctx, { id });
    return row ? toMessage(row) : null;
  };
  const findByProviderId = async (
    channelId: string,
    providerMessageId: string,
  ): Promise<MessageRecord | null> => {
    const [row] = await selectByProviderId(ctx, { channelId, providerMessageId });
    return row ? toMessage(row) : null;
  };

  return {
    /**
     * STA-2: a message whose (channel, providerMessageId) is already stored is a provider
     * re-delivery: nothing is written and the stored record is returned.
     * @see https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
     */
    async insert(input) {
      const row: Insertable<MessagesTable> = {
        id: newId(),
        workspace_id: input.workspaceId,
        channel_id: input.channelId,
        contact_id: input.contactId,
        conversation_id: input.conversationId,
        direction: input.direction,
        type: input.type,
        content: toJsonText(input.content),
        text: input.text,
        status: input.status,
        reason: input.reason,
        reason_detail: input.reasonDetail,
        provider_message_id: input.providerMessageId,
        provider_error: toJsonText(input.providerError),
        idempotency_key: input.idempotencyKey,
        reply_to: input.replyTo,
        created_at: input.createdAt,
        updated_at: input.createdAt,
        dispatched_at: input.dispatchedAt,
        sent_at: input.sentAt,
        delivered_at: input.deliveredAt,
        read_at: input.readAt,
        failed_at: input.failedAt,
        needs_review: toDbBool(ctx, input.needsReview),
      };
      const inserted = await ctx
        .db()
        .insertInto('messages')
        .values(row)
        .onConflict((oc) =>
          oc
            .columns(['channel_id', 'provider_message_id'])
            .where(sql<boolean>`provider_message_id is not null`)
            .doNothing(),
        )
        .returningAll()
        .executeTakeFirst();
      if (inserted) return { inserted: true, record: toMessage(inserted) };
      const existing =
        input.providerMessageId === null
          ? null
          : await findByProviderId(input.channelId, input.providerMessageId);
      if (!existing) throw new Error('message conflict without a stored message');
      return { inserted: false, record: existing };
    },
    get,
    findByProviderId,
    async update(id, patch, at) {
      const set = patchColumns(ctx, patch);
      set.updated_at = at;
      const columns = Object.keys(set);
      const shape = columns.join(',');
      let update = updateShapes.get(shape);
      if (update === undefined && updateShapes.size < MAX_UPDATE_SHAPES) {
        update = compileUpdate(columns);
        updateShapes.set(shape, update);
      }
      const [row] = update
        ? await update(ctx, { ...(set as Record<string, unknown>), whereId: id })
        : await ctx
            .db()
            .updateTable('messages')
            .set(set)
            .where('id', '=', id)
            .returningAll()
            .execute();
      return row ? toMessage(row) : null;
    },
    async listByConversation(conversationId, input): Promise<Page<MessageRecord>> {
      const { limit, fetch } = keysetLimit(input.limit);
      let query = ctx
        .db()
        .selectFrom('messages')
        .selectAll()
        .where('conversation_id', '=', conversationId);
      if (input.cursor !== undefined)
        query = query.where(seekAfter(input.cursor, { at: 'created_at', id: 'id' }, 'asc'));
      const rows = await query.orderBy('created_at').orderBy('id').limit(fetch).execute();
      return keysetPage(rows, limit, toMessage, (m) => ({ at: m.createdAt, id: m.id }));
    },
    async claimDispatch(id, at) {
      const [row] = await claimDispatchOnce(ctx, { id, at, notReviewed: toDbBool(ctx, false) });
      return row ? toMessage(row) : null;
    },
    /** Oldest dispatch first: handed to the provider, never confirmed, not yet flagged for review. */
    async listDispatchedUnconfirmed(before, limit) {
      const rows = await ctx
        .db()
        .selectFrom('messages')
        .selectAll()
        .where('status', '=', 'pending')
        .where('dispatched_at', 'is not', null)
        .where('dispatched_at', '<', before)
        .where('direction', '=', 'outbound')
        .where('provider_message_id', 'is', null)
        .where('needs_review', '=', toDbBool(ctx, false))
        .orderBy('dispatched_at')
        .orderBy('id')
        .limit(pageLimit(limit))
        .execute();
      return rows.map(toMessage);
    },
    async listUndispatched(before, afterId, limit) {
      let query = ctx
        .db()
        .selectFrom('messages')
        .selectAll()
        .where('status', '=', 'pending')
        .where('dispatched_at', 'is', null)
        .where('direction', '=', 'outbound')
        .where('needs_review', '=', toDbBool(ctx, false))
        .where('created_at', '<', before);
      if (afterId !== null) query = query.where('id', '>', afterId);
      const rows = await query.orderBy('id').limit(pageLimit(limit)).execute();
      return rows.map(toMessage);
    },
  };
}

// Three statuses arrive per message, each inserted; the ledger lists them: compiled once.
const insertStatusEvent = compiledOnce(
  ['id', 'messageId', 'status', 'at', 'providerCode', 'raw', 'receivedAt'],
  (db, v) =>
    db
      .insertInto('message_status_events')
      .values({
        id: v.id,
        message_id: v.messageId,
        status: v.status,
        at: v.at as unknown as number,
        provider_code: v.providerCode,
        raw: v.raw,
        received_at: v.receivedAt as unknown as number,
      })
      .onConflict((oc) => oc.columns(['message_id', 'status']).doNothing())
      .returningAll(),
);
const selectStatusEvents = compiledOnce(['messageId'], (db, v) =>
  db
    .selectFrom('message_status_events')
    .selectAll()
    .where('message_id', '=', v.messageId)
    .orderBy('at')
    .orderBy('id'),
);

export function statusEventRepository(ctx: StoreContext): Store['statusEvents'] {
  return {
    /** STA-2: (messageId, status) seen before is a re-delivery; the first one stays. */
    async insert(input) {
      const [inserted] = await insertStatusEvent(ctx, {
        id: newId(),
        messageId: input.messageId,
        status: input.status,
        at: input.at,
        providerCode: input.providerCode,
        raw: toJsonText(input.raw),
        receivedAt: input.receivedAt,
      });
      if (inserted) return { inserted: true, record: toStatusEvent(inserted) };
      const existing = await ctx
        .db()
        .selectFrom('message_status_events')
        .selectAll()
        .where('message_id', '=', input.messageId)
        .where('status', '=', input.status)
        .executeTakeFirstOrThrow();
      return { inserted: false, record: toStatusEvent(existing) };
    },
    async list(messageId) {
      const rows = await selectStatusEvents(ctx, { messageId });
      return rows.map(toStatusEvent);
    },
  };
}
