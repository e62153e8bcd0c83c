// The one migration set both dialects run (kysely Migrator, in-code provider, names `0001_…`).
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { templatesConsent } from './migration-0002-templates-consent.ts';
import { ledger } from './migration-0003-ledger.ts';
import { mediaHealth } from './migration-0004-media-health.ts';
import { eventWebhooks } from './migration-0005-event-webhooks.ts';
import { campaigns } from './migration-0006-campaigns.ts';
import { inbox } from './migration-0008-inbox.ts';
import { uploads } from './migration-0009-uploads.ts';
import { automation } from './migration-0010-automation.ts';
import { attribution } from './migration-0011-attribution.ts';
import { mediaItems } from './migration-0013-media-items.ts';
import { sendPathIndexes } from './migration-0014-send-path-indexes.ts';
import { uploadUse } from './migration-0018-upload-use.ts';

export type SqlDialectName = 'sqlite' | 'postgres';

/**
 * Migrations are frozen in time: they use the schema builder untyped (`Kysely<unknown>`) and
 * never import the current row types. The few column types that differ are chosen by dialect.
 */
function initial(dialect: SqlDialectName): Migration {
  const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('workspaces')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        // JSON is kept as text in both dialects: byte-for-byte the same round trip, no jsonb
        // surprises (key reordering, refusal of \u0000), and no query needs to look inside it.
        .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('api_keys_workspace')
        .on('api_keys')
        .columns(['workspace_id', 'created_at'])
        .execute();

      await db.schema
        .createTable('connections')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('secrets_encrypted', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('connections_workspace')
        .on('connections')
        .columns(['workspace_id', 'created_at'])
        .execute();

      await db.schema
        .createTable('channels')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id'))
        .addColumn('provider_key', 'text', (c) => c.notNull())
        .addColumn('phone_number', 'text', (c) => c.notNull())
        .addColumn('waba_id', 'text')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('throughput_mps', 'integer', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('allow_list', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('channels_provider_key', ['connection_id', 'provider_key'])
        .execute();
      await db.schema
        .createIndex('channels_workspace')
        .on('channels')
        .columns(['workspace_id', 'created_at'])
        .execute();

      await db.schema
        .createTable('contacts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('wa_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('user_id', 'text')
        .addColumn('attributes', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('contacts_wa_id', ['workspace_id', 'wa_id'])
        .execute();
      await db.schema
        .createIndex('contacts_workspace_recent')
        .on('contacts')
        .columns(['workspace_id', 'created_at', 'id'])
        .execute();

      await db.schema
        .createTable('care_windows')
        .addColumn('channel_id', 'text', (c) => c.notNull().references('channels.id'))
        .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id'))
        .addColumn('last_inbound_at', 'bigint')
        .addColumn('closed_at', 'bigint')
        .addPrimaryKeyConstraint('care_windows_pk', ['channel_id', 'contact_id'])
        .execute();

      await db.schema
        .createTable('conversations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('channel_id', 'text', (c) => c.notNull().references('channels.id'))
        .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id'))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('assignee_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_message_at', 'bigint', (c) => c.notNull())
        .addColumn('closed_at', 'bigint')
        .execute();
      // Inbox listings read newest first, filtered by workspace plus state / assignee / channel /
      // contact. Each common shape has an index ending in (last_message_at, id), so the database
      // walks it backwards and stops after one page instead of sorting every conversation
      // (PRODUCT P5: 100,000 conversations, p95 < 50 ms). The assignee index leads with state
      // too because "my open" and "unassigned open" are the queues agents live in; a channel
      // or contact filter walks that channel's or contact's conversations and filters state.
      // Every index leads with workspace_id, the one equality every listing has, so even
      // SQLite's statistics-free planner ranks the more specific index first.
      await db.schema
        .createIndex('conversations_workspace_recent')
        .on('conversations')
        .columns(['workspace_id', 'last_message_at', 'id'])
        .execute();
      await db.schema
        .createIndex('conversations_state_recent')
        .on('conversations')
        .columns(['workspace_id', 'state', 'last_message_at', 'id'])
        .execute();
      await db.schema
        .createIndex('conversations_assignee_recent')
        .on('conversations')
        .columns(['workspace_id', 'assignee_id', 'state', 'last_message_at', 'id'])
        .execute();
      await db.schema
        .createIndex('conversations_channel_recent')
        .on('conversations')
        .columns(['workspace_id', 'channel_id', 'last_message_at', 'id'])
        .execute();
      await db.schema
        .createIndex('conversations_contact_recent')
        .on('conversations')
        .columns(['workspace_id', 'contact_id', 'last_message_at', 'id'])
        .execute();
      // At most one open conversation per (channel, contact): two workers racing to open one
      // end up sharing it instead of splitting the thread.
      await db.schema
        .createIndex('conversations_one_open')
        .on('conversations')
        .columns(['channel_id', 'contact_id'])
        .unique()
        .where(sql.ref('state'), '=', sql.lit('open'))
        .execute();

      await db.schema
        .createTable('messages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('channel_id', 'text', (c) => c.notNull().references('channels.id'))
        .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id'))
        .addColumn('conversation_id', 'text', (c) => c.references('conversations.id'))
        .addColumn('direction', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('text', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('reason_detail', 'text')
        .addColumn('provider_message_id', 'text')
        .addColumn('provider_error', 'text', (c) => c.notNull().defaultTo('null'))
        .addColumn('idempotency_key', 'text')
        .addColumn('reply_to', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('dispatched_at', 'bigint')
        .addColumn('sent_at', 'bigint')
        .addColumn('delivered_at', 'bigint')
        .addColumn('read_at', 'bigint')
        .addColumn('failed_at', 'bigint')
        .addColumn('needs_review', 'boolean', (c) => c.notNull().defaultTo(sql.lit(false)))
        .execute();
      // STA-2: a provider message id is seen once per channel; NULL (not yet sent) never collides.
      await db.schema
        .createIndex('messages_provider_id')
        .on('messages')
        .columns(['channel_id', 'provider_message_id'])
        .unique()
        .where(sql.ref('provider_message_id'), 'is not', sql.lit(null))
        .execute();
      await db.schema
        .createIndex('messages_transcript')
        .on('messages')
        .columns(['conversation_id', 'created_at', 'id'])
        .execute();
      // Crash recovery scans pending messages by dispatch time; pending is a small slice of all rows.
      await db.schema
        .createIndex('messages_pending_dispatch')
        .on('messages')
        .columns(['status', 'dispatched_at'])
        .execute();

      await db.schema
        .createTable('message_status_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('message_id', 'text', (c) =>
          c.notNull().references('messages.id').onDelete('cascade'),
        )
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('provider_code', 'text')
        .addColumn('raw', 'text', (c) => c.notNull().defaultTo('null'))
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('message_status_events_once', ['message_id', 'status'])
        .execute();

      // No foreign key to connections: the raw log must accept a webhook before anything about
      // it is known (unrouted ones included), and must outlive a deleted connection.
      await db.schema
        .createTable('webhooks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('connection_id', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('body', bytes, (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('processed_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('webhooks_state_received')
        .on('webhooks')
        .columns(['state', 'received_at', 'id'])
        .execute();

      await db.schema
        .createTable('idempotency_keys')
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['workspace_id', 'key'])
        .execute();
      await db.schema
        .createIndex('idempotency_keys_expiry')
        .on('idempotency_keys')
        .column('expires_at')
        .execute();

      await db.schema
        .createTable('templates')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('channel_id', 'text', (c) => c.references('channels.id'))
        // NULL never equals NULL in a unique key (both dialects), so workspace-wide templates are
        // keyed by '' here instead of channel_id.
        .addColumn('channel_scope', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('language', 'text', (c) => c.notNull())
        .addColumn('category', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('parameter_format', 'text', (c) => c.notNull())
        .addColumn('components', 'text', (c) => c.notNull())
        .addColumn('provider_template_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('templates_identity', [
          'workspace_id',
          'channel_scope',
          'name',
          'language',
        ])
        .execute();

      await db.schema
        .createTable('jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('queue', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('run_at', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      // Claims walk due jobs in (run_at, id) order and stop after one batch, per queue or per
      // (queue, key): a channel with a 100,000-job backlog never slows claims for another.
      await db.schema
        .createIndex('jobs_due')
        .on('jobs')
        .columns(['queue', 'state', 'run_at', 'id'])
        .execute();
      await db.schema
        .createIndex('jobs_key_due')
        .on('jobs')
        .columns(['queue', 'state', 'key', 'run_at', 'id'])
        .execute();
    },

    async down(db: Kysely<unknown>) {
      for (const table of [
        'jobs',
        'templates',
        'idempotency_keys',
        'webhooks',
        'message_status_events',
        'messages',
        'conversations',
        'care_windows',
        'contacts',
        'channels',
        'connections',
        'api_keys',
        'workspaces',
      ]) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  };
}

/** The migration provider for `Migrator`: names sort in the order they must run. */
export function migrationProvider(dialect: SqlDialectName): MigrationProvider {
  return {
    getMigrations: () =>
      Promise.resolve({
        '0001_initial': initial(dialect),
        '0002_templates_consent': templatesConsent(dialect),
        '0003_ledger': ledger(dialect),
        '0004_media_health': mediaHealth(dialect),
        '0005_event_webhooks': eventWebhooks(dialect),
        '0006_campaigns': campaigns(dialect),
        '0008_inbox': inbox(dialect),
        '0009_uploads': uploads(dialect),
        '0010_automation': automation(dialect),
        '0011_attribution': attribution(dialect),
        '0013_media_items': mediaItems(dialect),
        '0014_send_path_indexes': sendPathIndexes(dialect),
        '0018_upload_use': uploadUse(dialect),
      }),
  };
}
