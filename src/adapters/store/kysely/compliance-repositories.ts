// The compliance records on Kysely: consent ledger, template lifecycle and edits, notification
// dedupe, workspace settings and erasure (tables of migration 0002).
import { sql, type Kysely, type Selectable } from 'kysely';
import {
  isConsentPurpose,
  isConsentSource,
  type ConsentEvidence,
} from '../../../core/consent/events.ts';
import type {
  ComplianceStore,
  ConsentEventRecord,
  NotificationDedupeRecord,
} from '../../../ports/compliance-store.ts';
import type { JsonObject } from '../../../ports/store.ts';
import type { BillingTables } from './billing-repository.ts';
import type { Database, DbBool } from './database-schema.ts';
import type { ProviderRecordTables } from './provider-records-repositories.ts';
import { compiledOnce } from './compiled-once.ts';
import { keysetLimit, keysetPage, seekAfter } from './keyset.ts';
import { newId } from './ids.ts';
import { fromDbBool, fromJsonText, toJsonText, toTemplate, toWorkspace } from './row-mappers.ts';
import { toDbBool, type StoreContext } from './store-context.ts';

export interface ConsentEventsTable {
  id: string;
  workspace_id: string;
  contact_id: string | null;
  phone_hash: string;
  contact: string;
  kind: string;
  purpose: string;
  reach_channel_id: string | null;
  source: string;
  at: number;
  recorded_by: string;
  implied: DbBool;
  restores: string;
  evidence: string;
  recorded_at: number;
}

export interface TemplateLifecycleTable {
  template_id: string;
  state: string;
  updated_at: number;
}

export interface TemplateEditsTable {
  id: string;
  template_id: string;
  at: number;
}

export interface NotificationDedupeTable {
  workspace_id: string;
  key_hash: string;
  message_id: string;
  sent_at: number;
  expires_at: number;
}

/**
 * The tables of migration 0002, added to the shared schema only here. A type alias, not an
 * interface: `withTables` needs the implicit index signature only aliases have.
 */
export type ComplianceTables = {
  consent_events: ConsentEventsTable;
  template_lifecycle: TemplateLifecycleTable;
  template_edits: TemplateEditsTable;
  notification_dedupe: NotificationDedupeTable;
};

type ComplianceDb = Kysely<Database & ComplianceTables>;

function toConsentEvent(row: Selectable<ConsentEventsTable>): ConsentEventRecord {
  // Rows are only written by `append`, which takes checked values; a value outside the closed
  // sets would mean someone edited the table by hand, and is better shown than hidden.
  const purpose = isConsentPurpose(row.purpose) ? row.purpose : 'all';
  const source = isConsentSource(row.source) ? row.source : 'api';
  const restores = fromJsonText(row.restores);
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    contactId: row.contact_id,
    phoneHash: row.phone_hash,
    contact: row.contact,
    kind: row.kind === 'opt_out' ? 'opt_out' : 'opt_in',
    purpose,
    reach:
      row.reach_channel_id === null
        ? { kind: 'workspace' }
        : { kind: 'channel', channelId: row.reach_channel_id },
    source,
    at: row.at,
    recordedBy: row.recorded_by,
    implied: fromDbBool(row.implied),
    ...(Array.isArray(restores) && restores.length > 0
      ? { restores: restores.filter((r): r is string => typeof r === 'string') }
      : {}),
    evidence: fromJsonText(row.evidence) as ConsentEvidence,
    recordedAt: row.recorded_at,
  };
}

function toDedupe(row: Selectable<NotificationDedupeTable>): NotificationDedupeRecord {
  return {
    workspaceId: row.workspace_id,
    keyHash: row.key_hash,
    messageId: row.message_id,
    sentAt: row.sent_at,
    expiresAt: row.expires_at,
  };
}

// OPT-7 reads the contact's consent ledger at send and again at dispatch: compiled once.
const selectConsentLedger = compiledOnce(['workspaceId', 'phoneHash'], (db, v) =>
  db
    .withTables<ComplianceTables>()
    .selectFrom('consent_events')
    .selectAll()
    .where('workspace_id', '=', v.workspaceId)
    .where('phone_hash', '=', v.phoneHash)
    .orderBy('at')
    .orderBy('id'),
);

export function complianceRepository(ctx: StoreContext): ComplianceStore {
  const db = (): ComplianceDb => ctx.db().withTables<ComplianceTables>();
  // Erasure reaches into every table that can name a person.
  const everyTable = () =>
    ctx.db().withTables<ComplianceTables & ProviderRecordTables & BillingTables>();

  return {
    consent: {
      async append(events, at) {
        let written = 0;
        for (const e of events) {
          const result = await db()
            .insertInto('consent_events')
            .values({
              id: e.id,
              workspace_id: e.workspaceId,
              contact_id: e.contactId,
              phone_hash: e.phoneHash,
              contact: e.contact,
              kind: e.kind,
              purpose: e.purpose,
              reach_channel_id: e.reach.kind === 'channel' ? e.reach.channelId : null,
              source: e.source,
              at: e.at,
              recorded_by: e.recordedBy,
              implied: toDbBool(ctx, e.implied),
              restores: toJsonText(e.restores ?? []),
              evidence: toJsonText(e.evidence),
              recorded_at: at,
            })
            .onConflict((oc) => oc.column('id').doNothing())
            .executeTakeFirst();
          written += Number(result.numInsertedOrUpdatedRows ?? 0);
        }
        return written;
      },
      async listByPhoneHash(workspaceId, phoneHash) {
        const rows = await selectConsentLedger(ctx, { workspaceId, phoneHash });
        return rows.map(toConsentEvent);
      },
      async listByWorkspace(workspaceId, input) {
        const { limit, fetch } = keysetLimit(input.limit);
        let query = db()
          .selectFrom('consent_events')
          .selectAll()
          .where('workspace_id', '=', workspaceId);
        if (input.cursor !== undefined)
          query = query.where(seekAfter(input.cursor, { at: 'at', id: 'id' }, 'asc'));
        const rows = await query.orderBy('at').orderBy('id').limit(fetch).execute();
        return keysetPage(rows, limit, toConsentEvent, (e) => ({ at: e.at, id: e.id }));
      },
      async redact(workspaceId, redactions) {
        let n = 0;
        for (const r of redactions) {
          const result = await db()
            .updateTable('consent_events')
            .set({ contact: r.contact, evidence: toJsonText(r.evidence) })
            .where('workspace_id', '=', workspaceId)
            .where('id', '=', r.id)
            .executeTakeFirst();
          n += Number(result.numUpdatedRows);
        }
        return n;
      },
    },

    templates: {
      async get(id) {
        const row = await db()
          .selectFrom('templates')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirst();
        return row ? toTemplate(row) : null;
      },
      async delete(workspaceId, id) {
        // Explicit child deletes: SQLite enforces the cascade only with foreign_keys on, and
        // being explicit keeps both dialects identical whatever the connection's pragmas.
        const owned = await db()
          .selectFrom('templates')
          .select('id')
          .where('id', '=', id)
          .where('workspace_id', '=', workspaceId)
          .executeTakeFirst();
        if (!owned) return false;
        await db().deleteFrom('template_edits').where('template_id', '=', id).execute();
        await db().deleteFrom('template_lifecycle').where('template_id', '=', id).execute();
        const result = await db().deleteFrom('templates').where('id', '=', id).executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      },
      async getLifecycle(templateId) {
        const row = await db()
          .selectFrom('template_lifecycle')
          .selectAll()
          .where('template_id', '=', templateId)
          .executeTakeFirst();
        return row
          ? {
              templateId: row.template_id,
              state: fromJsonText(row.state),
              updatedAt: row.updated_at,
            }
          : null;
      },
      async putLifecycle(record) {
        const row = {
          template_id: record.templateId,
          state: toJsonText(record.state),
          updated_at: record.updatedAt,
        };
        await db()
          .insertInto('template_lifecycle')
          .values(row)
          .onConflict((oc) =>
            oc.column('template_id').doUpdateSet({ state: row.state, updated_at: row.updated_at }),
          )
          .execute();
      },
      async recordEdit(templateId, at) {
        await db()
          .insertInto('template_edits')
          .values({ id: newId(at), template_id: templateId, at })
          .execute();
      },
      async listEdits(templateId) {
        const rows = await db()
          .selectFrom('template_edits')
          .select('at')
          .where('template_id', '=', templateId)
          .orderBy('at')
          .orderBy('id')
          .execute();
        return rows.map((r) => r.at);
      },
    },

    notifications: {
      async find(workspaceId, keyHash, now) {
        const row = await db()
          .selectFrom('notification_dedupe')
          .selectAll()
          .where('workspace_id', '=', workspaceId)
          .where('key_hash', '=', keyHash)
          .where('expires_at', '>', now)
          .executeTakeFirst();
        return row ? toDedupe(row) : null;
      },
      /**
       * LIM-7: insert, or take over an expired row, in one statement; a live row stays. On
       * PostgreSQL a concurrent claim waits for the first to commit, then sees its row live.
       */
      async claim(record) {
        const row = {
          workspace_id: record.workspaceId,
          key_hash: record.keyHash,
          message_id: record.messageId,
          sent_at: record.sentAt,
          expires_at: record.expiresAt,
        };
        const written = await db()
          .insertInto('notification_dedupe')
          .values(row)
          .onConflict((oc) =>
            oc
              .columns(['workspace_id', 'key_hash'])
              .doUpdateSet({
                message_id: row.message_id,
                sent_at: row.sent_at,
                expires_at: row.expires_at,
              })
              .where('notification_dedupe.expires_at', '<=', record.sentAt),
          )
          .returning('message_id')
          .executeTakeFirst();
        if (written?.message_id === record.messageId) return { won: true };
        const existing = await db()
          .selectFrom('notification_dedupe')
          .selectAll()
          .where('workspace_id', '=', record.workspaceId)
          .where('key_hash', '=', record.keyHash)
          .executeTakeFirstOrThrow();
        return { won: false, existing: toDedupe(existing) };
      },
      async purgeExpired(now) {
        const result = await db()
          .deleteFrom('notification_dedupe')
          .where('expires_at', '<=', now)
          .executeTakeFirst();
        return Number(result.numDeletedRows);
      },
    },

    workspaceSettings: {
      async update(workspaceId, patch) {
        const current = await db()
          .selectFrom('workspaces')
          .selectAll()
          .where('id', '=', workspaceId)
          .executeTakeFirst();
        if (!current) return null;
        const settings = { ...(fromJsonText(current.settings) as JsonObject), ...patch };
        const text = toJsonText(settings);
        await db()
          .updateTable('workspaces')
          .set({ settings: text })
          .where('id', '=', workspaceId)
          .execute();
        return toWorkspace({ ...current, settings: text });
      },
    },

    erasure: {
      async eraseContact(input) {
        await db()
          .updateTable('contacts')
          .set({
            wa_id: input.replacementWaId,
            name: null,
            user_id: null,
            attributes: '{}',
            tags: '[]',
            updated_at: input.at,
          })
          .where('id', '=', input.contactId)
          .where('workspace_id', '=', input.workspaceId)
          .execute();
        const messages = await db()
          .updateTable('messages')
          .set((eb) => ({
            content: toJsonText({ erased: true }),
            text: null,
            reason_detail: sql<
              string | null
            >`replace(${eb.ref('reason_detail')}, ${input.waId}, '[erased]')`,
            provider_error: sql<string>`replace(${eb.ref('provider_error')}, ${input.waId}, '[erased]')`,
            updated_at: input.at,
          }))
          .where('contact_id', '=', input.contactId)
          .where('workspace_id', '=', input.workspaceId)
          .executeTakeFirst();
        // The raw log keeps exact bytes for signature checks and replay; once processed, a body
        // that names this number goes (it holds their messages), its row stays as a tombstone.
        const needle = Buffer.from(input.waId, 'utf8');
        const mentions =
          ctx.dialect === 'postgres'
            ? sql<boolean>`position(${needle} in body) > 0`
            : sql<boolean>`instr(body, ${needle}) > 0`;
        const webhooks = await db()
          .updateTable('webhooks')
          .set({ body: Buffer.alloc(0), headers: '{}', error: 'erased by a data-subject request' })
          .where('state', '!=', 'received')
          .where(
            'connection_id',
            'in',
            db()
              .selectFrom('connections')
              .select('id')
              .where('workspace_id', '=', input.workspaceId),
          )
          .where(mentions)
          .executeTakeFirst();
        const ofContact = everyTable()
          .selectFrom('messages')
          .select('id')
          .where('contact_id', '=', input.contactId)
          .where('workspace_id', '=', input.workspaceId);
        // Status payloads name the recipient (`recipient_id`); pricing and errors stay readable.
        await everyTable()
          .updateTable('message_status_events')
          .set((eb) => ({ raw: sql<string>`replace(${eb.ref('raw')}, ${input.waId}, '[erased]')` }))
          .where('message_id', 'in', ofContact)
          .execute();
        // The file's key stays until the caller has deleted the file (mediaFilesLeft).
        const media = await everyTable()
          .updateTable('media')
          .set({
            state: 'erased',
            filename: null,
            sha256: null,
            error: 'erased by a data-subject request',
            updated_at: input.at,
          })
          .where('workspace_id', '=', input.workspaceId)
          .where('message_id', 'in', ofContact)
          .where('state', '!=', 'erased')
          .executeTakeFirst();
        const usage = await everyTable()
          .updateTable('billing_usage')
          .set({ contact: input.replacementWaId, updated_at: input.at })
          .where('workspace_id', '=', input.workspaceId)
          .where('contact_id', '=', input.contactId)
          .executeTakeFirst();
        for (const column of ['from_wa_id', 'to_wa_id'] as const)
          await everyTable()
            .updateTable('contact_number_changes')
            .set({ [column]: input.replacementWaId })
            .where('workspace_id', '=', input.workspaceId)
            .where(column, '=', input.waId)
            .execute();
        return {
          messages: Number(messages.numUpdatedRows),
          webhooks: Number(webhooks.numUpdatedRows),
          media: Number(media.numUpdatedRows),
          usageEvents: Number(usage.numUpdatedRows),
        };
      },
      async mediaFilesLeft(workspaceId, contactId) {
        const rows = await everyTable()
          .selectFrom('media')
          .innerJoin('messages', 'messages.id', 'media.message_id')
          .select(['media.id', 'media.blob_key'])
          .where('media.workspace_id', '=', workspaceId)
          .where('messages.contact_id', '=', contactId)
          .where('media.state', '=', 'erased')
          .where('media.blob_key', 'is not', null)
          .execute();
        return rows.flatMap((r) =>
          r.blob_key === null ? [] : [{ id: r.id, blobKey: r.blob_key }],
        );
      },
      async mediaFileDeleted(id) {
        await everyTable()
          .updateTable('media')
          .set({ blob_key: null, size: null })
          .where('id', '=', id)
          .where('state', '=', 'erased')
          .execute();
      },
    },
  };
}
