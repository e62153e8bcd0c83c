// Migration 0003: the cost ledger (usage log with ratings, month counters, WABA accounts, rate
// cards, budget notices), for SQLite and PostgreSQL alike.
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialectName } from './migrations.ts';

/** Every column type here means the same on both dialects, so the dialect is not consulted. */
export const ledger: (dialect: SqlDialectName) => Migration = () => {
  return {
    async up(db: Kysely<unknown>) {
      // One row per usage event (PRODUCT.md usage log): window-opening inbound messages and
      // delivered business messages. A delivered row also carries its rating: the part its own
      // (number, contact) history decides, and the figures after the month's tiers.
      await db.schema
        .createTable('billing_usage')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('waba', 'text', (c) => c.notNull())
        .addColumn('channel_id', 'text', (c) => c.notNull())
        .addColumn('contact_id', 'text', (c) => c.notNull())
        .addColumn('contact', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('month', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('entry_point', 'text')
        .addColumn('template_category', 'text')
        .addColumn('rated_at', 'bigint')
        .addColumn('problem', 'text')
        .addColumn('problem_detail', 'text')
        .addColumn('era', 'text')
        .addColumn('pricing_model', 'text')
        .addColumn('category', 'text')
        .addColumn('pair_pricing_type', 'text')
        .addColumn('conversation', 'text')
        .addColumn('market', 'text')
        .addColumn('country', 'text')
        .addColumn('local_date', 'text')
        .addColumn('chargeable', 'boolean')
        .addColumn('pricing_type', 'text')
        .addColumn('billable', 'boolean')
        .addColumn('amount_micros', 'bigint')
        .addColumn('currency', 'text')
        .addColumn('provider_pricing', 'text')
        .addColumn('provider_conversation', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        // A re-delivered status or message never records (or charges) a message twice.
        .addUniqueConstraint('billing_usage_message', ['workspace_id', 'message_id'])
        .execute();
      // A pair's history, walked back from a delivery to where nothing earlier can matter.
      await db.schema
        .createIndex('billing_usage_pair')
        .on('billing_usage')
        .columns(['workspace_id', 'waba', 'channel_id', 'contact', 'at', 'id'])
        .execute();
      // A WABA's log from a position on: what a late event re-rates, exports.
      await db.schema
        .createIndex('billing_usage_waba')
        .on('billing_usage')
        .columns(['workspace_id', 'waba', 'at', 'id'])
        .execute();
      // Reports and exports of one month.
      await db.schema
        .createIndex('billing_usage_month')
        .on('billing_usage')
        .columns(['workspace_id', 'month', 'at', 'id'])
        .execute();

      // Per WABA and local month: free-tier conversations used, messages charged per market and
      // category (volume tiers), amounts per currency. Kept in step with the rated rows.
      await db.schema
        .createTable('billing_counters')
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('waba', 'text', (c) => c.notNull())
        .addColumn('month', 'text', (c) => c.notNull())
        .addColumn('counter', 'text', (c) => c.notNull())
        .addColumn('value', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('billing_counters_pk', [
          'workspace_id',
          'waba',
          'month',
          'counter',
        ])
        .execute();

      // Per WABA: billing zone and monthly budget. Its row is also the lock that serialises rating.
      await db.schema
        .createTable('billing_accounts')
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('waba', 'text', (c) => c.notNull())
        .addColumn('time_zone', 'text')
        .addColumn('budget_micros', 'bigint')
        .addColumn('budget_currency', 'text')
        .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(sql.lit(0)))
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('billing_accounts_pk', ['workspace_id', 'waba'])
        .execute();

      await db.schema
        .createTable('billing_rate_cards')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('csv', 'text', (c) => c.notNull())
        .addColumn('rows', 'integer', (c) => c.notNull())
        .addColumn('imported_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('billing_rate_cards_workspace')
        .on('billing_rate_cards')
        .columns(['workspace_id', 'id'])
        .execute();

      // billing.threshold fires once per WABA, month, currency and budget.
      await db.schema
        .createTable('billing_thresholds')
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('waba', 'text', (c) => c.notNull())
        .addColumn('month', 'text', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('budget_micros', 'bigint', (c) => c.notNull())
        .addColumn('amount_micros', 'bigint', (c) => c.notNull())
        .addColumn('crossed_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('billing_thresholds_pk', [
          'workspace_id',
          'waba',
          'month',
          'currency',
          'budget_micros',
        ])
        .execute();
    },

    async down(db: Kysely<unknown>) {
      for (const table of [
        'billing_thresholds',
        'billing_rate_cards',
        'billing_accounts',
        'billing_counters',
        'billing_usage',
      ])
        await db.schema.dropTable(table).ifExists().execute();
    },
  };
};
