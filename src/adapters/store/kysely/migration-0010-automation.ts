// Migration 0010: chatbot flows, their runs, the inbound messages automation has handled, and
// per-channel business calendars.
import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from './migrations.ts';

/** Frozen in time like `initial`: untyped schema builder; every column type means the same on both dialects. */
export const automation: (dialect: SqlDialectName) => Migration = () => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('automations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('definition', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('automations_name', ['workspace_id', 'name'])
      .execute();

    await db.schema
      .createTable('automation_runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('automation_id', 'text', (c) => c.notNull())
      .addColumn('definition', 'text', (c) => c.notNull())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('step', 'integer', (c) => c.notNull())
      .addColumn('waiting_until', 'bigint')
      .addColumn('reason', 'text')
      .addColumn('log', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('automation_runs_conversation')
      .on('automation_runs')
      .columns(['conversation_id', 'started_at', 'id'])
      .execute();
    await db.schema
      .createIndex('automation_runs_flow')
      .on('automation_runs')
      .columns(['automation_id', 'contact_id', 'started_at'])
      .execute();

    // One row per inbound message automation looked at: the claim that makes handling once-only.
    await db.schema
      .createTable('automation_inbound')
      .addColumn('message_id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('claimed_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('business_calendars')
      .addColumn('channel_id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('calendar', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>) {
    for (const table of [
      'business_calendars',
      'automation_inbound',
      'automation_runs',
      'automations',
    ])
      await db.schema.dropTable(table).ifExists().execute();
  },
});
