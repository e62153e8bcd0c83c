// Migration 0002: the consent ledger (append-only, read by a keyed hash of the number so proof
// survives erasure), template lifecycle and edit history (TPL-8/9), notification dedupe (LIM-7).
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialectName } from './migrations.ts';

/**
 * Frozen in time like `initial`: untyped schema builder. Every column type here means the same
 * on both dialects, so the dialect is not consulted (it is taken to keep the migrations' shape).
 */
export const templatesConsent: (dialect: SqlDialectName) => Migration = () => {
  return {
    async up(db: Kysely<unknown>) {
      // OPT-1..3. No foreign key to contacts: the ledger must outlive anything done to a contact.
      await db.schema
        .createTable('consent_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('contact_id', 'text')
        .addColumn('phone_hash', 'text', (c) => c.notNull())
        // The wa_id, or after erasure the keyed hash that replaced it.
        .addColumn('contact', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        // NULL: workspace-wide reach.
        .addColumn('reach_channel_id', 'text')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('recorded_by', 'text', (c) => c.notNull())
        .addColumn('implied', 'boolean', (c) => c.notNull().defaultTo(sql.lit(false)))
        .addColumn('restores', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('evidence', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('recorded_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('consent_events_person')
        .on('consent_events')
        .columns(['workspace_id', 'phone_hash', 'at', 'id'])
        .execute();
      await db.schema
        .createIndex('consent_events_workspace')
        .on('consent_events')
        .columns(['workspace_id', 'at', 'id'])
        .execute();

      // TPL-8: the full lifecycle (pause count, pause end, status before archive …) as JSON.
      await db.schema
        .createTable('template_lifecycle')
        .addColumn('template_id', 'text', (c) =>
          c.primaryKey().references('templates.id').onDelete('cascade'),
        )
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      // TPL-9: edits of submitted templates (10 per 30 days, 1 per 24 h).
      await db.schema
        .createTable('template_edits')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('template_id', 'text', (c) =>
          c.notNull().references('templates.id').onDelete('cascade'),
        )
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('template_edits_template')
        .on('template_edits')
        .columns(['template_id', 'at'])
        .execute();

      // LIM-7: one row per (workspace, hash of template + parameters + contact).
      await db.schema
        .createTable('notification_dedupe')
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('notification_dedupe_pk', ['workspace_id', 'key_hash'])
        .execute();
      await db.schema
        .createIndex('notification_dedupe_expiry')
        .on('notification_dedupe')
        .column('expires_at')
        .execute();
    },

    async down(db: Kysely<unknown>) {
      for (const table of [
        'notification_dedupe',
        'template_edits',
        'template_lifecycle',
        'consent_events',
      ])
        await db.schema.dropTable(table).ifExists().execute();
    },
  };
};
