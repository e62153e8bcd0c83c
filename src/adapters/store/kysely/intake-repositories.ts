// The raw webhook log (hot path), API idempotency keys and templates.
import { CompiledQuery, type Insertable, type Kysely } from 'kysely';
import type { Store, TemplateRecord } from '../../../ports/store.ts';
import { compiledOnce } from './compiled-once.ts';
import type { Database, WebhooksTable } from './database-schema.ts';
import { newId } from './ids.ts';
import { InsertBatcher } from './insert-batcher.ts';
import { toIdempotency, toJsonText, toTemplate, toWebhook } from './row-mappers.ts';
import type { StoreContext } from './store-context.ts';

/** Rows per multi-row INSERT (PostgreSQL allows 65,535 parameters; 10 columns each here). */
const WEBHOOK_BATCH = 500;

/**
 * The group-commit writer for the webhook log, one per store (outside transactions). SQLite
 * runs the batch as single-row inserts on one cached statement inside one transaction;
 * PostgreSQL sends one multi-row INSERT (one round trip, one commit).
 */
export function webhookBatcher(
  db: Kysely<Database>,
  dialect: StoreContext['dialect'],
): InsertBatcher<Insertable<WebhooksTable>> {
  return new InsertBatcher({
    maxBatch: WEBHOOK_BATCH,
    writeOne: async (row) => {
      await db.insertInto('webhooks').values(row).execute();
    },
    writeMany: async (rows) => {
      if (dialect === 'postgres') {
        await db
          .insertInto('webhooks')
          .values([...rows])
          .execute();
        return;
      }
      // Compiled once per batch and bound per row: the statement is prepared once (cached).
      const first = rows[0];
      if (!first) return;
      const columns = Object.keys(first) as (keyof typeof first)[];
      const { sql: insertSql } = db.insertInto('webhooks').values(first).compile();
      await db.transaction().execute(async (trx) => {
        for (const row of rows) {
          await trx.executeQuery(
            CompiledQuery.raw(
              insertSql,
              columns.map((c) => row[c]),
            ),
          );
        }
      });
    },
  });
}

export function webhookRepository(
  ctx: StoreContext,
  batcher?: InsertBatcher<Insertable<WebhooksTable>>,
): Store['webhooks'] {
  return {
    /**
     * Hot path (every webhook, before the 200): no read-back, and outside a transaction the row
     * joins the current group commit. Inside a transaction it is written (and rolled back) there.
     */
    async insert(input) {
      const row = {
        id: newId(),
        connection_id: input.connectionId,
        provider: input.provider,
        received_at: input.receivedAt,
        headers: toJsonText(input.headers),
        body: input.body,
        url: input.url,
        state: 'received',
        error: null,
        processed_at: null,
      };
      const db = ctx.db();
      if (batcher && !db.isTransaction) await batcher.insert(row);
      else await db.insertInto('webhooks').values(row).execute();
      return toWebhook(row);
    },
    async get(id) {
      const row = await ctx
        .db()
        .selectFrom('webhooks')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? toWebhook(row) : null;
    },
    async listPending(limit) {
      const rows = await ctx
        .db()
        .selectFrom('webhooks')
        .selectAll()
        .where('state', '=', 'received')
        .orderBy('received_at')
        .orderBy('id')
        .limit(Math.max(1, Math.floor(limit)))
        .execute();
      return rows.map(toWebhook);
    },
    async mark(id, state, at, error) {
      if (typeof id !== 'string' && id.length === 0) return;
      await ctx
        .db()
        .updateTable('webhooks')
        .set({ state, processed_at: at, error: error ?? null })
        .where((eb) => (typeof id === 'string' ? eb('id', '=', id) : eb('id', 'in', id)))
        .execute();
    },
    async countByState(state) {
      const row = await ctx
        .db()
        .selectFrom('webhooks')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('state', '=', state)
        .executeTakeFirstOrThrow();
      return row.n;
    },
  };
}

export function idempotencyRepository(ctx: StoreContext): Store['idempotency'] {
  return {
    async get(workspaceId, key, now) {
      const row = await ctx
        .db()
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('key', '=', key)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return row ? toIdempotency(row) : null;
    },
    /**
     * LIM-7: the first request with a key wins while the key lives. An expired record (as of
     * the new record's createdAt) is replaced in the same statement, so two racing requests
     * still see exactly one winner.
     */
    async put(record) {
      const row = {
        workspace_id: record.workspaceId,
        key: record.key,
        request_hash: record.requestHash,
        message_id: record.messageId,
        created_at: record.createdAt,
        expires_at: record.expiresAt,
      };
      const written = await ctx
        .db()
        .insertInto('idempotency_keys')
        .values(row)
        .onConflict((oc) =>
          oc
            .columns(['workspace_id', 'key'])
            .doUpdateSet({
              request_hash: record.requestHash,
              message_id: record.messageId,
              created_at: record.createdAt,
              expires_at: record.expiresAt,
            })
            .where('idempotency_keys.expires_at', '<=', record.createdAt),
        )
        .returning('key')
        .executeTakeFirst();
      return written !== undefined;
    },
    async purgeExpired(now) {
      const result = await ctx
        .db()
        .deleteFrom('idempotency_keys')
        .where('expires_at', '<=', now)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

// A template send looks its template up at send, at dispatch and when it is priced: the
// channel-scoped lookup is compiled once.
const selectChannelTemplate = compiledOnce(
  ['workspaceId', 'name', 'language', 'channelId'],
  (db, v) =>
    db
      .selectFrom('templates')
      .selectAll()
      .where('workspace_id', '=', v.workspaceId)
      .where('name', '=', v.name)
      .where('language', '=', v.language)
      .where('channel_scope', 'in', [v.channelId, ''])
      .orderBy('channel_scope', 'desc')
      .orderBy('id')
      .limit(1),
);

export function templateRepository(ctx: StoreContext): Store['templates'] {
  return {
    /** Keyed by (workspace, channel or workspace-wide, name, language); a sync overwrites in place. */
    async upsert(input) {
      const row = {
        id: newId(),
        workspace_id: input.workspaceId,
        channel_id: input.channelId,
        channel_scope: input.channelId ?? '',
        name: input.name,
        language: input.language,
        category: input.category,
        status: input.status,
        parameter_format: input.parameterFormat,
        components: toJsonText(input.components),
        provider_template_id: input.providerTemplateId,
        created_at: input.at,
        updated_at: input.at,
      };
      const stored = await ctx
        .db()
        .insertInto('templates')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['workspace_id', 'channel_scope', 'name', 'language']).doUpdateSet({
            category: row.category,
            status: row.status,
            parameter_format: row.parameter_format,
            components: row.components,
            provider_template_id: row.provider_template_id,
            updated_at: row.updated_at,
          }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return toTemplate(stored);
    },
    /**
     * With a channel id: that channel's template, else the workspace-wide one. With `null`: only
     * the workspace-wide one. Without: any scope, workspace-wide first.
     */
    async find(workspaceId, name, language, channelId): Promise<TemplateRecord | null> {
      if (typeof channelId === 'string' && channelId !== '') {
        const [hit] = await selectChannelTemplate(ctx, { workspaceId, name, language, channelId });
        return hit ? toTemplate(hit) : null;
      }
      let query = ctx
        .db()
        .selectFrom('templates')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('name', '=', name)
        .where('language', '=', language);
      if (channelId === null) query = query.where('channel_scope', '=', '');
      else if (channelId !== undefined) query = query.where('channel_scope', 'in', [channelId, '']);
      // '' sorts first: with a channel id the channel's own template must win, so order desc then.
      const row = await query
        .orderBy('channel_scope', channelId ? 'desc' : 'asc')
        .orderBy('id')
        .limit(1)
        .executeTakeFirst();
      return row ? toTemplate(row) : null;
    },
    async list(workspaceId) {
      const rows = await ctx
        .db()
        .selectFrom('templates')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .orderBy('name')
        .orderBy('language')
        .orderBy('channel_scope')
        .execute();
      return rows.map(toTemplate);
    },
  };
}
