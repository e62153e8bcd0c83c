// Migration 0006: campaigns and their recipients (claimed under a lease), and the records the
// outbound limits count: users reached outside a care window (LIM-3) and marketing history (LIM-4).
import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from './migrations.ts';

/** Frozen in time like `initial`: untyped schema builder; every column type means the same on both dialects. */
export const campaigns: (dialect: SqlDialectName) => Migration = () => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('campaigns')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
      .addColumn('channel_id', 'text', (c) => c.notNull().references('channels.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('template_name', 'text', (c) => c.notNull())
      .addColumn('template_language', 'text', (c) => c.notNull())
      .addColumn('components', 'text', (c) => c.notNull().defaultTo('null'))
      .addColumn('category', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('pause_reason', 'text')
      .addColumn('pause_detail', 'text')
      .addColumn('start_at', 'bigint')
      .addColumn('deferred_until', 'bigint')
      .addColumn('audience', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('started_at', 'bigint')
      .addColumn('finished_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('campaigns_workspace')
      .on('campaigns')
      .columns(['workspace_id', 'id'])
      .execute();
    await db.schema.createIndex('campaigns_state').on('campaigns').columns(['state']).execute();

    // One row per audience member. The runner claims rows with a lease (lease_owner, lease_until)
    // so several processes can feed one campaign; the message's idempotency key
    // `campaign:{id}:{seq}` is what guarantees one message per recipient after a crash.
    await db.schema
      .createTable('campaign_recipients')
      .addColumn('campaign_id', 'text', (c) => c.notNull().references('campaigns.id'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('wa_id', 'text', (c) => c.notNull())
      .addColumn('components', 'text', (c) => c.notNull().defaultTo('null'))
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('detail', 'text')
      .addColumn('message_id', 'text')
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('campaign_recipients_pk', ['campaign_id', 'seq'])
      .execute();
    await db.schema
      .createIndex('campaign_recipients_claim')
      .on('campaign_recipients')
      .columns(['campaign_id', 'state', 'seq'])
      .execute();
    await db.schema
      .createIndex('campaign_recipients_message')
      .on('campaign_recipients')
      .columns(['message_id'])
      .execute();

    // LIM-3: the latest instant each user was reached outside a care window, per scope (a WABA
    // since 2025-10-07, a number before). Counting rows newer than now − 24 h is the limit's use.
    await db.schema
      .createTable('messaging_reach')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('wa_id', 'text', (c) => c.notNull())
      .addColumn('reached_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('messaging_reach_pk', ['workspace_id', 'scope', 'wa_id'])
      .execute();
    await db.schema
      .createIndex('messaging_reach_window')
      .on('messaging_reach')
      .columns(['workspace_id', 'scope', 'reached_at'])
      .execute();

    // LIM-4: marketing templates sent to a contact and the 131049s received for them.
    await db.schema
      .createTable('marketing_history')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('wa_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('message_id', 'text')
      .execute();
    await db.schema
      .createIndex('marketing_history_contact')
      .on('marketing_history')
      .columns(['workspace_id', 'wa_id', 'at'])
      .execute();
  },

  async down(db: Kysely<unknown>) {
    for (const table of [
      'marketing_history',
      'messaging_reach',
      'campaign_recipients',
      'campaigns',
    ])
      await db.schema.dropTable(table).ifExists().execute();
  },
});
