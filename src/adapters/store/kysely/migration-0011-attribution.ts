// Migration 0011: who did it, for reports — the agent who sent an outbound message and the
// conversation's department then; the agent who closed a conversation and its department then.
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialectName } from './migrations.ts';

/** Frozen in time like `initial`: untyped schema builder; every column type means the same on both dialects. */
export const attribution: (dialect: SqlDialectName) => Migration = () => ({
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('messages').addColumn('agent_id', 'text').execute();
    await db.schema.alterTable('messages').addColumn('department_id', 'text').execute();
    await db.schema.alterTable('conversations').addColumn('closed_by', 'text').execute();
    await db.schema.alterTable('conversations').addColumn('closed_department_id', 'text').execute();
    // Conversations closed before this migration: their department now is the best record of then.
    await sql`update conversations set closed_department_id = department_id
      where closed_at is not null`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    for (const column of ['closed_department_id', 'closed_by'])
      await db.schema.alterTable('conversations').dropColumn(column).execute();
    for (const column of ['department_id', 'agent_id'])
      await db.schema.alterTable('messages').dropColumn(column).execute();
  },
});
