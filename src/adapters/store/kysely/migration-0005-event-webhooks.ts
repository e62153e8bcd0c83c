// Migration 0005: outbound event webhooks — the event log, subscriber endpoints, deliveries with
// their retry state, and the cursors of the window-event scheduler.
import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from './migrations.ts';

/** Frozen in time like `initial`: untyped schema builder; every column type means the same on both dialects. */
export const eventWebhooks: (dialect: SqlDialectName) => Migration = () => ({
  async up(db: Kysely<unknown>) {
    // Ids are UUIDv7: sorting by id is recording order, which per-conversation delivery follows.
    await db.schema
      .createTable('outbound_events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('ordering_key', 'text')
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('recorded_at', 'bigint', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('outbound_events_recorded')
      .on('outbound_events')
      .columns(['workspace_id', 'recorded_at', 'id'])
      .execute();
    await db.schema
      .createIndex('outbound_events_age')
      .on('outbound_events')
      .columns(['recorded_at', 'id'])
      .execute();

    await db.schema
      .createTable('webhook_endpoints')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('event_types', 'text', (c) => c.notNull())
      .addColumn('format', 'text', (c) => c.notNull())
      .addColumn('secret_sealed', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('webhook_endpoints_workspace')
      .on('webhook_endpoints')
      .columns(['workspace_id', 'created_at', 'id'])
      .execute();

    // No foreign keys: deleting an endpoint deletes its deliveries in the same transaction, and
    // retention removes events only once none of their deliveries is pending.
    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('endpoint_id', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('ordering_key', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'bigint')
      .addColumn('deadline', 'bigint', (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('last_attempt_at', 'bigint')
      .addColumn('last_status', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('delivered_at', 'bigint')
      .addColumn('replay', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('webhook_deliveries_due')
      .on('webhook_deliveries')
      .columns(['state', 'next_attempt_at', 'id'])
      .execute();
    // The ordering check: is an earlier delivery of this (endpoint, key) still pending?
    await db.schema
      .createIndex('webhook_deliveries_order')
      .on('webhook_deliveries')
      .columns(['endpoint_id', 'ordering_key', 'state', 'id'])
      .execute();
    await db.schema
      .createIndex('webhook_deliveries_log')
      .on('webhook_deliveries')
      .columns(['endpoint_id', 'created_at', 'id'])
      .execute();
    await db.schema
      .createIndex('webhook_deliveries_event')
      .on('webhook_deliveries')
      .columns(['event_id'])
      .execute();

    await db.schema
      .createTable('event_schedules')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('cursor', 'bigint', (c) => c.notNull())
      .execute();
    // window.closing / window.closed scan windows by the time their 24 hours end.
    await db.schema
      .createIndex('care_windows_last_inbound')
      .on('care_windows')
      .columns(['last_inbound_at'])
      .execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('care_windows_last_inbound').ifExists().execute();
    for (const table of [
      'event_schedules',
      'webhook_deliveries',
      'webhook_endpoints',
      'outbound_events',
    ]) {
      await db.schema.dropTable(table).ifExists().execute();
    }
  },
});
