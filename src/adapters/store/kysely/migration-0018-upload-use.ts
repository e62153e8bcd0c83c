// Migration 0018: when an upload was last put in a message, so uploads no message used can expire.
import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from './migrations.ts';

/** Frozen in time like `initial`: untyped schema builder, the same on both dialects. */
export const uploadUse: (dialect: SqlDialectName) => Migration = () => ({
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('uploads').addColumn('used_at', 'bigint').execute();
    // Retention seeks the oldest unused uploads: `used_at is null and created_at < ?`.
    await db.schema
      .createIndex('uploads_unused')
      .on('uploads')
      .columns(['used_at', 'created_at'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('uploads_unused').ifExists().execute();
    await db.schema.alterTable('uploads').dropColumn('used_at').execute();
  },
});
