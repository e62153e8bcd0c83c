// Migration 0008: the agent inbox — agents, sessions, invite/reset tokens, login attempts,
// departments, the inbox columns of conversations, notes, canned responses and parked replies.
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialectName } from './migrations.ts';

/** Frozen in time like `initial`: untyped schema builder; every column type means the same on both dialects. */
export const inbox: (dialect: SqlDialectName) => Migration = () => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('agents')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
      // Login names no workspace, so an email signs in to exactly one.
      .addColumn('email', 'text', (c) => c.notNull().unique())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('password_hash', 'text')
      .addColumn('department_ids', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('agents_workspace')
      .on('agents')
      .columns(['workspace_id', 'created_at'])
      .execute();

    await db.schema
      .createTable('agent_sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('csrf_token', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('agent_sessions_agent')
      .on('agent_sessions')
      .column('agent_id')
      .execute();

    await db.schema
      .createTable('agent_tokens')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .execute();

    // Failed logins, kept in the shared database so the limit holds across nodes.
    await db.schema
      .createTable('login_attempts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('login_attempts_key')
      .on('login_attempts')
      .columns(['key', 'at'])
      .execute();
    await db.schema.createIndex('login_attempts_at').on('login_attempts').column('at').execute();

    await db.schema
      .createTable('departments')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('departments_name', ['workspace_id', 'name'])
      .execute();

    await db.schema.alterTable('conversations').addColumn('department_id', 'text').execute();
    await db.schema.alterTable('conversations').addColumn('snoozed_until', 'bigint').execute();
    await db.schema
      .alterTable('conversations')
      .addColumn('labels', 'text', (c) => c.notNull().defaultTo('[]'))
      .execute();
    await db.schema.alterTable('conversations').addColumn('read_at', 'bigint').execute();
    // The department queue, like the assignee queue (see the index comments of 0001): the
    // listing walks (last_message_at, id) backwards inside one department and state.
    await db.schema
      .createIndex('conversations_department_recent')
      .on('conversations')
      .columns(['workspace_id', 'department_id', 'state', 'last_message_at', 'id'])
      .execute();
    // Reports read a workspace's conversations by the time they were opened.
    await db.schema
      .createIndex('conversations_workspace_created')
      .on('conversations')
      .columns(['workspace_id', 'created_at'])
      .execute();
    // The contact panel's cost and entry point read by contact.
    await db.schema
      .createIndex('billing_usage_contact')
      .on('billing_usage')
      .columns(['workspace_id', 'contact_id'])
      .execute();

    await db.schema
      .createTable('conversation_notes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id'))
      .addColumn('agent_id', 'text')
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('conversation_notes_transcript')
      .on('conversation_notes')
      .columns(['conversation_id', 'created_at', 'id'])
      .execute();

    await db.schema
      .createTable('canned_responses')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
      .addColumn('shortcut', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('canned_responses_shortcut', ['workspace_id', 'shortcut'])
      .execute();

    await db.schema
      .createTable('parked_replies')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'text')
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('reengagement_message_id', 'text')
      .addColumn('message_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('released_at', 'bigint')
      .execute();
    // Every inbound message asks "is a reply held for this customer?": a partial index keeps it
    // to the few held rows.
    await db.schema
      .createIndex('parked_replies_held')
      .on('parked_replies')
      .columns(['channel_id', 'contact_id', 'created_at'])
      .where(sql.ref('state'), '=', sql.lit('held'))
      .execute();
    await db.schema
      .createIndex('parked_replies_conversation')
      .on('parked_replies')
      .columns(['conversation_id', 'created_at'])
      .execute();
  },

  async down(db: Kysely<unknown>) {
    for (const table of [
      'parked_replies',
      'canned_responses',
      'conversation_notes',
      'departments',
      'login_attempts',
      'agent_tokens',
      'agent_sessions',
      'agents',
    ])
      await db.schema.dropTable(table).ifExists().execute();
    await db.schema.dropIndex('billing_usage_contact').ifExists().execute();
    await db.schema.dropIndex('conversations_workspace_created').ifExists().execute();
    await db.schema.dropIndex('conversations_department_recent').ifExists().execute();
    for (const column of ['read_at', 'labels', 'snoozed_until', 'department_id'])
      await db.schema.alterTable('conversations').dropColumn(column).execute();
  },
});
