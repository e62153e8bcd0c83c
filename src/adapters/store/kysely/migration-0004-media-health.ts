// Migration 0004: inbound media copied to Parley's blob store, account-health events, and the
// record of users who changed their number.
import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from './migrations.ts';

/** Frozen in time like `initial`: untyped schema builder; every column type means the same on both dialects. */
export const mediaHealth: (dialect: SqlDialectName) => Migration = () => ({
  async up(db: Kysely<unknown>) {
    // One row per inbound media message. No foreign key to messages: erasure and retention may
    // remove a message's content while its media row explains what happened to the blob.
    await db.schema
      .createTable('media')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull().unique())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('provider_media_id', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('mime_type', 'text')
      .addColumn('content_type', 'text')
      .addColumn('filename', 'text')
      .addColumn('blob_key', 'text')
      .addColumn('size', 'bigint')
      .addColumn('sha256', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('stored_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('media_workspace')
      .on('media')
      .columns(['workspace_id', 'created_at', 'id'])
      .execute();

    await db.schema
      .createTable('account_health_events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('connection_id', 'text', (c) => c.notNull())
      .addColumn('channel_id', 'text')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull())
      .addColumn('code', 'text')
      .addColumn('detail', 'text', (c) => c.notNull())
      .addColumn('fix', 'text')
      .addColumn('data', 'text', (c) => c.notNull().defaultTo('null'))
      .addColumn('dedupe_key', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('recorded_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('account_health_events_once', ['connection_id', 'dedupe_key'])
      .execute();
    await db.schema
      .createIndex('account_health_events_workspace')
      .on('account_health_events')
      .columns(['workspace_id', 'at', 'id'])
      .execute();
    await db.schema
      .createIndex('account_health_events_connection')
      .on('account_health_events')
      .columns(['connection_id', 'at', 'id'])
      .execute();
    await db.schema
      .createIndex('account_health_events_channel')
      .on('account_health_events')
      .columns(['channel_id', 'at', 'id'])
      .execute();

    await db.schema
      .createTable('contact_number_changes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('from_contact_id', 'text', (c) => c.notNull())
      .addColumn('to_contact_id', 'text', (c) => c.notNull())
      .addColumn('from_wa_id', 'text', (c) => c.notNull())
      .addColumn('to_wa_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull().unique())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('recorded_at', 'bigint', (c) => c.notNull())
      .execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('contact_number_changes').ifExists().execute();
    await db.schema.dropTable('account_health_events').ifExists().execute();
    await db.schema.dropTable('media').ifExists().execute();
  },
});
