// Media, account-health events and number changes on Kysely (tables of migration 0004).
import type { Kysely, Selectable } from 'kysely';
import {
  HEALTH_SEVERITIES,
  MEDIA_STATES,
  type AccountHealthEvent,
  type HealthSeverity,
  type MediaRecord,
  type MediaState,
  type NumberChangeRecord,
  type ProviderRecordsStore,
} from '../../../ports/provider-records-store.ts';
import type { Database } from './database-schema.ts';
import { keysetLimit, keysetPage, seekAfter } from './keyset.ts';
import { newId } from './ids.ts';
import { fromJsonText, toJsonText } from './row-mappers.ts';
import type { StoreContext } from './store-context.ts';

// Type aliases, not interfaces: `withTables` needs the implicit index signature only aliases have.
export type MediaTable = {
  id: string;
  workspace_id: string;
  message_id: string;
  position: number;
  channel_id: string;
  provider_media_id: string;
  state: string;
  mime_type: string | null;
  content_type: string | null;
  filename: string | null;
  blob_key: string | null;
  size: number | null;
  sha256: string | null;
  attempts: number;
  error: string | null;
  created_at: number;
  updated_at: number;
  stored_at: number | null;
};

export type AccountHealthEventsTable = {
  id: string;
  workspace_id: string;
  connection_id: string;
  channel_id: string | null;
  kind: string;
  severity: string;
  code: string | null;
  detail: string;
  fix: string | null;
  data: string;
  dedupe_key: string;
  at: number;
  recorded_at: number;
};

export type ContactNumberChangesTable = {
  id: string;
  workspace_id: string;
  from_contact_id: string;
  to_contact_id: string;
  from_wa_id: string;
  to_wa_id: string;
  message_id: string;
  at: number;
  recorded_at: number;
};

/** The tables of migration 0004, added to the shared schema only here. */
export type ProviderRecordTables = {
  media: MediaTable;
  account_health_events: AccountHealthEventsTable;
  contact_number_changes: ContactNumberChangesTable;
};

type RecordsDb = Kysely<Database & ProviderRecordTables>;

const isMediaState = (s: string): s is MediaState =>
  (MEDIA_STATES as readonly string[]).includes(s);
const isSeverity = (s: string): s is HealthSeverity =>
  (HEALTH_SEVERITIES as readonly string[]).includes(s);

function toMedia(row: Selectable<MediaTable>): MediaRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    messageId: row.message_id,
    position: row.position,
    channelId: row.channel_id,
    providerMediaId: row.provider_media_id,
    // Only this repository writes the column, from the closed set.
    state: isMediaState(row.state) ? row.state : 'failed',
    mimeType: row.mime_type,
    contentType: row.content_type,
    filename: row.filename,
    blobKey: row.blob_key,
    size: row.size,
    sha256: row.sha256,
    attempts: row.attempts,
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    storedAt: row.stored_at,
  };
}

function toHealthEvent(row: Selectable<AccountHealthEventsTable>): AccountHealthEvent {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    connectionId: row.connection_id,
    channelId: row.channel_id,
    kind: row.kind,
    severity: isSeverity(row.severity) ? row.severity : 'warning',
    code: row.code,
    detail: row.detail,
    fix: row.fix,
    data: fromJsonText(row.data),
    at: row.at,
    recordedAt: row.recorded_at,
  };
}

function toNumberChange(row: Selectable<ContactNumberChangesTable>): NumberChangeRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    fromContactId: row.from_contact_id,
    toContactId: row.to_contact_id,
    fromWaId: row.from_wa_id,
    toWaId: row.to_wa_id,
    messageId: row.message_id,
    at: row.at,
    recordedAt: row.recorded_at,
  };
}

export function providerRecordsRepository(ctx: StoreContext): ProviderRecordsStore {
  const db = (): RecordsDb => ctx.db().withTables<ProviderRecordTables>();

  const media: ProviderRecordsStore['media'] = {
    async create(input) {
      const row = {
        id: newId(),
        workspace_id: input.workspaceId,
        message_id: input.messageId,
        position: input.position ?? 0,
        channel_id: input.channelId,
        provider_media_id: input.providerMediaId,
        state: 'pending',
        mime_type: input.mimeType,
        content_type: null,
        filename: input.filename,
        blob_key: null,
        size: null,
        sha256: null,
        attempts: 0,
        error: null,
        created_at: input.createdAt,
        updated_at: input.createdAt,
        stored_at: null,
      };
      const inserted = await db()
        .insertInto('media')
        .values(row)
        .onConflict((oc) => oc.columns(['message_id', 'position']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) return { inserted: true, record: toMedia(inserted) };
      const existing = (await media.listByMessage(input.messageId)).find(
        (m) => m.position === row.position,
      );
      if (!existing)
        throw new Error(`media row ${row.position} of message ${input.messageId} vanished`);
      return { inserted: false, record: existing };
    },
    async get(id) {
      const row = await db()
        .selectFrom('media')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? toMedia(row) : null;
    },
    async findByMessage(messageId) {
      const row = await db()
        .selectFrom('media')
        .selectAll()
        .where('message_id', '=', messageId)
        .where('position', '=', 0)
        .executeTakeFirst();
      return row ? toMedia(row) : null;
    },
    async listByMessage(messageId) {
      const rows = await db()
        .selectFrom('media')
        .selectAll()
        .where('message_id', '=', messageId)
        .orderBy('position')
        .execute();
      return rows.map(toMedia);
    },
    async update(id, patch, at) {
      const set: Partial<MediaTable> = { updated_at: at };
      if (patch.state !== undefined) set.state = patch.state;
      if (patch.contentType !== undefined) set.content_type = patch.contentType;
      if (patch.blobKey !== undefined) set.blob_key = patch.blobKey;
      if (patch.size !== undefined) set.size = patch.size;
      if (patch.sha256 !== undefined) set.sha256 = patch.sha256;
      if (patch.attempts !== undefined) set.attempts = patch.attempts;
      if (patch.error !== undefined) set.error = patch.error;
      if (patch.storedAt !== undefined) set.stored_at = patch.storedAt;
      const row = await db()
        .updateTable('media')
        .set(set)
        .where('id', '=', id)
        // A download finishing after an erasure must not bring the file back.
        .where('state', '!=', 'erased')
        .returningAll()
        .executeTakeFirst();
      return row ? toMedia(row) : null;
    },
  };

  const health: ProviderRecordsStore['health'] = {
    async record(input) {
      const row = {
        id: newId(),
        workspace_id: input.workspaceId,
        connection_id: input.connectionId,
        channel_id: input.channelId,
        kind: input.kind,
        severity: input.severity,
        code: input.code,
        detail: input.detail,
        fix: input.fix,
        data: toJsonText(input.data),
        dedupe_key: input.dedupeKey,
        at: input.at,
        recorded_at: ctx.now(),
      };
      const inserted = await db()
        .insertInto('account_health_events')
        .values(row)
        .onConflict((oc) => oc.columns(['connection_id', 'dedupe_key']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) return { inserted: true, record: toHealthEvent(inserted) };
      const existing = await db()
        .selectFrom('account_health_events')
        .selectAll()
        .where('connection_id', '=', input.connectionId)
        .where('dedupe_key', '=', input.dedupeKey)
        .executeTakeFirstOrThrow();
      return { inserted: false, record: toHealthEvent(existing) };
    },
    async list(filter) {
      const { limit, fetch } = keysetLimit(filter.limit);
      let query = db()
        .selectFrom('account_health_events')
        .selectAll()
        .where('workspace_id', '=', filter.workspaceId);
      if (filter.connectionId !== undefined)
        query = query.where('connection_id', '=', filter.connectionId);
      const channelId = filter.channelId;
      if (channelId !== undefined && filter.withAccountEvents && filter.connectionId !== undefined)
        query = query.where((eb) =>
          eb.or([eb('channel_id', '=', channelId), eb('channel_id', 'is', null)]),
        );
      else if (channelId !== undefined) query = query.where('channel_id', '=', channelId);
      if (filter.cursor !== undefined)
        query = query.where(seekAfter(filter.cursor, { at: 'at', id: 'id' }, 'desc'));
      const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(fetch).execute();
      return keysetPage(rows, limit, toHealthEvent, (e) => ({ at: e.at, id: e.id }));
    },
  };

  const numberChanges: ProviderRecordsStore['numberChanges'] = {
    async findByMessage(messageId) {
      const row = await db()
        .selectFrom('contact_number_changes')
        .selectAll()
        .where('message_id', '=', messageId)
        .executeTakeFirst();
      return row ? toNumberChange(row) : null;
    },
    async record(input) {
      const row = await db()
        .insertInto('contact_number_changes')
        .values({
          id: newId(),
          workspace_id: input.workspaceId,
          from_contact_id: input.fromContactId,
          to_contact_id: input.toContactId,
          from_wa_id: input.fromWaId,
          to_wa_id: input.toWaId,
          message_id: input.messageId,
          at: input.at,
          recorded_at: ctx.now(),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toNumberChange(row);
    },
    async renumberContact(contactId, waId, at) {
      await db()
        .updateTable('contacts')
        .set({ wa_id: waId, updated_at: at })
        .where('id', '=', contactId)
        .execute();
    },
    async moveHistory(fromContactId, toContactId, at) {
      const messages = await db()
        .updateTable('messages')
        .set({ contact_id: toContactId })
        .where('contact_id', '=', fromContactId)
        .executeTakeFirst();

      // At most one open conversation per (number, contact): the old contact's open thread on a
      // number where the new one has its own is closed before it moves.
      const targetOpen = await db()
        .selectFrom('conversations')
        .select('channel_id')
        .where('contact_id', '=', toContactId)
        .where('state', '=', 'open')
        .execute();
      const busy = targetOpen.map((r) => r.channel_id);
      if (busy.length > 0)
        await db()
          .updateTable('conversations')
          .set({ state: 'closed', closed_at: at })
          .where('contact_id', '=', fromContactId)
          .where('state', '=', 'open')
          .where('channel_id', 'in', busy)
          .execute();
      const conversations = await db()
        .updateTable('conversations')
        .set({ contact_id: toContactId })
        .where('contact_id', '=', fromContactId)
        .executeTakeFirst();

      const windows = await db()
        .selectFrom('care_windows')
        .selectAll()
        .where('contact_id', '=', fromContactId)
        .execute();
      for (const w of windows) {
        const target = await db()
          .selectFrom('care_windows')
          .selectAll()
          .where('channel_id', '=', w.channel_id)
          .where('contact_id', '=', toContactId)
          .executeTakeFirst();
        if (target) {
          // The later inbound message decides the window, with the closure proven for it.
          const oldIsLater =
            (w.last_inbound_at ?? -Infinity) > (target.last_inbound_at ?? -Infinity);
          if (oldIsLater)
            await db()
              .updateTable('care_windows')
              .set({ last_inbound_at: w.last_inbound_at, closed_at: w.closed_at })
              .where('channel_id', '=', w.channel_id)
              .where('contact_id', '=', toContactId)
              .execute();
          await db()
            .deleteFrom('care_windows')
            .where('channel_id', '=', w.channel_id)
            .where('contact_id', '=', fromContactId)
            .execute();
        } else {
          await db()
            .updateTable('care_windows')
            .set({ contact_id: toContactId })
            .where('channel_id', '=', w.channel_id)
            .where('contact_id', '=', fromContactId)
            .execute();
        }
      }
      return {
        messages: Number(messages.numUpdatedRows),
        conversations: Number(conversations.numUpdatedRows),
        windows: windows.length,
      };
    },
  };

  return { media, health, numberChanges };
}
