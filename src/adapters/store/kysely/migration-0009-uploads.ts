// Migration 0009: media uploaded through the Cloud-API-compatible endpoint, to be sent by id.
import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from './migrations.ts';

/** Frozen in time like `initial`: untyped schema builder; every column type means the same on both dialects. */
export const uploads: (dialect: SqlDialectName) => Migration = () => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('uploads')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('mime_type', 'text', (c) => c.notNull())
      .addColumn('filename', 'text')
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('blob_key', 'text', (c) => c.notNull())
      .addColumn('link_token', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('deleted_at', 'bigint')
      .execute();
    // Retention and per-workspace listings walk a workspace's uploads by age.
    await db.schema
      .createIndex('uploads_workspace')
      .on('uploads')
      .columns(['workspace_id', 'created_at', 'id'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('uploads').ifExists().execute();
  },
});
