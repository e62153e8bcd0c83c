// Migration 0013: several media per inbound message (Twilio's MediaUrl{N}), each its own row by position.
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialectName } from './migrations.ts';

const COLUMNS = [
  'id',
  'workspace_id',
  'message_id',
  'channel_id',
  'provider_media_id',
  'state',
  'mime_type',
  'content_type',
  'filename',
  'blob_key',
  'size',
  'sha256',
  'attempts',
  'error',
  'created_at',
  'updated_at',
  'stored_at',
] as const;

/** The media table as 0004 made it, or with `position` and one row per (message, position). */
async function createMedia(db: Kysely<unknown>, name: string, byPosition: boolean): Promise<void> {
  let table = db.schema
    .createTable(name)
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => (byPosition ? c.notNull() : c.notNull().unique()))
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
    .addColumn('stored_at', 'bigint');
  if (byPosition)
    table = table
      .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
      .addUniqueConstraint('media_message_position', ['message_id', 'position']);
  await table.execute();
}

/** SQLite cannot drop a column constraint: copy the rows into a new table and swap it in. */
async function rebuild(db: Kysely<unknown>, byPosition: boolean): Promise<void> {
  await createMedia(db, 'media_0013', byPosition);
  const columns = sql.join(COLUMNS.map((c) => sql.ref(c)));
  // Going back, only each message's first media fits the one-row-per-message table.
  const where = byPosition ? sql`` : sql`where ${sql.ref('position')} = 0`;
  await sql`insert into media_0013 (${columns}) select ${columns} from media ${where}`.execute(db);
  await db.schema.dropTable('media').execute();
  await db.schema.alterTable('media_0013').renameTo('media').execute();
  await db.schema
    .createIndex('media_workspace')
    .on('media')
    .columns(['workspace_id', 'created_at', 'id'])
    .execute();
}

/** Frozen in time like `initial`. Existing rows become position 0 (their message's first media). */
export const mediaItems: (dialect: SqlDialectName) => Migration = (dialect) => ({
  async up(db: Kysely<unknown>) {
    if (dialect === 'sqlite') return rebuild(db, true);
    await db.schema
      .alterTable('media')
      .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await sql`alter table media drop constraint if exists media_message_id_key`.execute(db);
    await db.schema
      .createIndex('media_message_position')
      .on('media')
      .columns(['message_id', 'position'])
      .unique()
      .execute();
  },
  async down(db: Kysely<unknown>) {
    if (dialect === 'sqlite') return rebuild(db, false);
    await sql`delete from media where ${sql.ref('position')} > 0`.execute(db);
    await db.schema.dropIndex('media_message_position').execute();
    await db.schema.alterTable('media').dropColumn('position').execute();
    await sql`alter table media add constraint media_message_id_key unique (message_id)`.execute(
      db,
    );
  },
});
