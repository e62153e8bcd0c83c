// The cost ledger's repository on Kysely (tables of migration 0003), SQLite and PostgreSQL alike.
import { sql, type Kysely, type Selectable } from 'kysely';
import type {
  EntryPoint,
  PricingModel,
  PricingType,
  RatedCategory,
  TemplateCategory,
} from '../../../core/pricing/categories.ts';
import type { EraId } from '../../../core/pricing/eras.ts';
import type {
  BillingAccount,
  BillingRepository,
  LogPosition,
  PairKey,
  RateCardRecord,
  ThresholdNotice,
  UsageRating,
  UsageRecord,
  UsageType,
} from '../../../ports/billing-store.ts';
import type { JsonObject } from '../../../ports/store.ts';
import type { Database, DbBool } from './database-schema.ts';
import { newId } from './ids.ts';
import { fromDbBool, fromJsonText, toJsonText } from './row-mappers.ts';
import { toDbBool, type StoreContext } from './store-context.ts';

type BillingUsageTable = {
  id: string;
  workspace_id: string;
  waba: string;
  channel_id: string;
  contact_id: string;
  contact: string;
  type: string;
  at: number;
  month: string;
  message_id: string;
  entry_point: string | null;
  template_category: string | null;
  rated_at: number | null;
  problem: string | null;
  problem_detail: string | null;
  era: string | null;
  pricing_model: string | null;
  category: string | null;
  pair_pricing_type: string | null;
  conversation: string | null;
  market: string | null;
  country: string | null;
  local_date: string | null;
  chargeable: DbBool | null;
  pricing_type: string | null;
  billable: DbBool | null;
  amount_micros: number | null;
  currency: string | null;
  provider_pricing: string | null;
  provider_conversation: string | null;
  created_at: number;
  updated_at: number;
};

type BillingCountersTable = {
  workspace_id: string;
  waba: string;
  month: string;
  counter: string;
  value: number;
};

type BillingAccountsTable = {
  workspace_id: string;
  waba: string;
  time_zone: string | null;
  budget_micros: number | null;
  budget_currency: string | null;
  version: number;
  updated_at: number;
};

type BillingRateCardsTable = {
  id: string;
  workspace_id: string;
  name: string;
  csv: string;
  rows: number;
  imported_at: number;
};

type BillingThresholdsTable = {
  workspace_id: string;
  waba: string;
  month: string;
  currency: string;
  budget_micros: number;
  amount_micros: number;
  crossed_at: number;
};

export type BillingTables = {
  billing_usage: BillingUsageTable;
  billing_counters: BillingCountersTable;
  billing_accounts: BillingAccountsTable;
  billing_rate_cards: BillingRateCardsTable;
  billing_thresholds: BillingThresholdsTable;
};

type BillingDb = Kysely<Database & BillingTables>;
type UsageRow = Selectable<BillingUsageTable>;

/** PostgreSQL may hand back int8 sums as strings; counts as strings too. */
function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value ?? 0);
}

function jsonObject(text: string | null): JsonObject | null {
  if (text === null) return null;
  const value = fromJsonText(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : null;
}

function toRating(row: UsageRow): UsageRating | null {
  if (row.rated_at === null) return null;
  const pair =
    row.era !== null &&
    row.pricing_model !== null &&
    row.category !== null &&
    row.pair_pricing_type !== null &&
    row.market !== null &&
    row.country !== null &&
    row.local_date !== null
      ? {
          era: row.era as EraId,
          pricingModel: row.pricing_model as PricingModel,
          category: row.category as RatedCategory,
          pricingType: row.pair_pricing_type as PricingType,
          conversation: row.conversation,
          market: row.market,
          country: row.country,
          date: row.local_date,
          chargeable: row.chargeable !== null && fromDbBool(row.chargeable),
        }
      : null;
  const figures =
    row.pricing_type !== null && row.currency !== null && row.amount_micros !== null
      ? {
          pricingType: row.pricing_type as PricingType,
          billable: row.billable !== null && fromDbBool(row.billable),
          amountMicros: num(row.amount_micros),
          currency: row.currency,
        }
      : null;
  return { problem: row.problem, problemDetail: row.problem_detail, pair, figures };
}

function toUsage(row: UsageRow): UsageRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    waba: row.waba,
    channelId: row.channel_id,
    contactId: row.contact_id,
    contact: row.contact,
    type: row.type as UsageType,
    at: num(row.at),
    month: row.month,
    messageId: row.message_id,
    entryPoint: row.entry_point as EntryPoint | null,
    templateCategory: row.template_category as TemplateCategory | null,
    rating: toRating(row),
    providerPricing: jsonObject(row.provider_pricing),
    providerConversation: jsonObject(row.provider_conversation),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

function toAccount(row: Selectable<BillingAccountsTable>): BillingAccount {
  return {
    workspaceId: row.workspace_id,
    waba: row.waba,
    timeZone: row.time_zone,
    budgetMicros: row.budget_micros === null ? null : num(row.budget_micros),
    budgetCurrency: row.budget_currency,
    updatedAt: num(row.updated_at),
  };
}

function toRateCard(row: Selectable<BillingRateCardsTable>): RateCardRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    csv: row.csv,
    rows: num(row.rows),
    importedAt: num(row.imported_at),
  };
}

function toThreshold(row: Selectable<BillingThresholdsTable>): ThresholdNotice {
  return {
    workspaceId: row.workspace_id,
    waba: row.waba,
    month: row.month,
    currency: row.currency,
    budgetMicros: num(row.budget_micros),
    amountMicros: num(row.amount_micros),
    crossedAt: num(row.crossed_at),
  };
}

/**
 * Rows ordered by (at, id) after or from a position. The leading `at >= p.at` is implied by the
 * rest but lets both databases seek the (…, at, id) index instead of reading the WABA's or
 * pair's whole log (an OR alone is not a range to either planner).
 */
function positionFilter(position: LogPosition, inclusive: boolean) {
  return sql<boolean>`(at >= ${position.at} and (at > ${position.at} or id ${sql.raw(inclusive ? '>=' : '>')} ${position.id}))`;
}

export function billingRepository(ctx: StoreContext): BillingRepository {
  const db = (): BillingDb => ctx.db().withTables<BillingTables>();

  const usageByMessage = async (workspaceId: string, messageId: string) => {
    const row = await db()
      .selectFrom('billing_usage')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('message_id', '=', messageId)
      .executeTakeFirst();
    return row ? toUsage(row) : null;
  };

  const accountRow = async (workspaceId: string, waba: string) =>
    db()
      .selectFrom('billing_accounts')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('waba', '=', waba)
      .executeTakeFirst();

  return {
    async insertUsage(input) {
      const row = {
        id: newId(input.at),
        workspace_id: input.workspaceId,
        waba: input.waba,
        channel_id: input.channelId,
        contact_id: input.contactId,
        contact: input.contact,
        type: input.type,
        at: input.at,
        month: input.month,
        message_id: input.messageId,
        entry_point: input.entryPoint,
        template_category: input.templateCategory,
        provider_pricing: input.providerPricing === null ? null : toJsonText(input.providerPricing),
        provider_conversation:
          input.providerConversation === null ? null : toJsonText(input.providerConversation),
        created_at: input.now,
        updated_at: input.now,
      };
      const inserted = await db()
        .insertInto('billing_usage')
        .values(row)
        .onConflict((oc) => oc.columns(['workspace_id', 'message_id']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) return { inserted: true, record: toUsage(inserted) };
      const existing = await usageByMessage(input.workspaceId, input.messageId);
      if (!existing) throw new Error(`usage of message ${input.messageId} vanished`);
      return { inserted: false, record: existing };
    },

    usageByMessage,

    async moveUsage(id, at, month, now) {
      await db()
        .updateTable('billing_usage')
        .set({ at, month, updated_at: now })
        .where('id', '=', id)
        .execute();
    },

    async setProvider(id, pricing, conversation, now) {
      await db()
        .updateTable('billing_usage')
        .set({
          provider_pricing: pricing === null ? null : toJsonText(pricing),
          provider_conversation: conversation === null ? null : toJsonText(conversation),
          updated_at: now,
        })
        .where('id', '=', id)
        .execute();
    },

    async setRatings(updates, now) {
      for (const u of updates) {
        const { pair, figures } = u.rating;
        await db()
          .updateTable('billing_usage')
          .set({
            month: u.month,
            rated_at: now,
            updated_at: now,
            problem: u.rating.problem,
            problem_detail: u.rating.problemDetail,
            era: pair?.era ?? null,
            pricing_model: pair?.pricingModel ?? null,
            category: pair?.category ?? null,
            pair_pricing_type: pair?.pricingType ?? null,
            conversation: pair?.conversation ?? null,
            market: pair?.market ?? null,
            country: pair?.country ?? null,
            local_date: pair?.date ?? null,
            chargeable: pair ? toDbBool(ctx, pair.chargeable) : null,
            pricing_type: figures?.pricingType ?? null,
            billable: figures ? toDbBool(ctx, figures.billable) : null,
            amount_micros: figures?.amountMicros ?? null,
            currency: figures?.currency ?? null,
          })
          .where('id', '=', u.id)
          .execute();
      }
    },

    async pairBefore(pair: PairKey, before, limit) {
      const rows = await db()
        .selectFrom('billing_usage')
        .selectAll()
        .where('workspace_id', '=', pair.workspaceId)
        .where('waba', '=', pair.waba)
        .where('channel_id', '=', pair.channelId)
        .where('contact', '=', pair.contact)
        // `at <= …` first: an index range (see positionFilter).
        .where(sql<boolean>`(at <= ${before.at} and (at < ${before.at} or id < ${before.id}))`)
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.map(toUsage);
    },

    async pairFrom(pair, from) {
      const rows = await db()
        .selectFrom('billing_usage')
        .selectAll()
        .where('workspace_id', '=', pair.workspaceId)
        .where('waba', '=', pair.waba)
        .where('channel_id', '=', pair.channelId)
        .where('contact', '=', pair.contact)
        .where(positionFilter(from, true))
        .orderBy('at')
        .orderBy('id')
        .execute();
      return rows.map(toUsage);
    },

    async wabaUsage(workspaceId, waba, range, type) {
      let query = db()
        .selectFrom('billing_usage')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('waba', '=', waba);
      if (range.from) query = query.where(positionFilter(range.from, true));
      if (range.after) query = query.where(positionFilter(range.after, false));
      if (type) query = query.where('type', '=', type);
      const rows = await query.orderBy('at').orderBy('id').limit(range.limit).execute();
      return rows.map(toUsage);
    },

    async monthUsage(workspaceId, month, range) {
      let query = db()
        .selectFrom('billing_usage')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('month', '=', month);
      if (range.waba !== undefined) query = query.where('waba', '=', range.waba);
      if (range.after) query = query.where(positionFilter(range.after, false));
      const rows = await query.orderBy('at').orderBy('id').limit(range.limit).execute();
      return rows.map(toUsage);
    },

    async allUsage(workspaceId, range) {
      let query = db()
        .selectFrom('billing_usage')
        .selectAll()
        .where('workspace_id', '=', workspaceId);
      if (range.waba !== undefined) query = query.where('waba', '=', range.waba);
      if (range.after) query = query.where(positionFilter(range.after, false));
      const rows = await query.orderBy('at').orderBy('id').limit(range.limit).execute();
      return rows.map(toUsage);
    },

    async summarize(workspaceId, month) {
      const rows = await db()
        .selectFrom('billing_usage')
        .select((eb) => [
          'waba',
          'channel_id',
          'category',
          'market',
          'pricing_type',
          'currency',
          'problem',
          eb.fn.countAll().as('messages'),
          sql<number>`sum(case when billable then 1 else 0 end)`.as('billable_count'),
          sql<number>`coalesce(sum(amount_micros), 0)`.as('amount'),
        ])
        .where('workspace_id', '=', workspaceId)
        .where('month', '=', month)
        .where('type', '=', 'delivered')
        .where('rated_at', 'is not', null)
        .groupBy([
          'waba',
          'channel_id',
          'category',
          'market',
          'pricing_type',
          'currency',
          'problem',
        ])
        .execute();
      return rows.map((r) => ({
        waba: r.waba,
        channelId: r.channel_id,
        category: r.category,
        market: r.market,
        pricingType: r.pricing_type,
        currency: r.currency,
        problem: r.problem,
        messages: num(r.messages),
        billable: num(r.billable_count),
        amountMicros: num(r.amount),
      }));
    },

    async wabas(workspaceId) {
      const rows = await db()
        .selectFrom('billing_usage')
        .select('waba')
        .distinct()
        .where('workspace_id', '=', workspaceId)
        .orderBy('waba')
        .execute();
      return rows.map((r) => r.waba);
    },

    async counters(workspaceId, waba, months) {
      if (months.length === 0) return [];
      const rows = await db()
        .selectFrom('billing_counters')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('waba', '=', waba)
        .where('month', 'in', [...months])
        .execute();
      return rows.map((r) => ({ month: r.month, counter: r.counter, value: num(r.value) }));
    },

    async addCounters(workspaceId, waba, deltas) {
      for (const d of deltas) {
        if (d.delta === 0) continue;
        await db()
          .insertInto('billing_counters')
          .values({
            workspace_id: workspaceId,
            waba,
            month: d.month,
            counter: d.counter,
            value: d.delta,
          })
          .onConflict((oc) =>
            oc
              .columns(['workspace_id', 'waba', 'month', 'counter'])
              .doUpdateSet({ value: sql<number>`billing_counters.value + ${d.delta}` }),
          )
          .execute();
      }
    },

    async clearCounters(workspaceId, waba) {
      await db()
        .deleteFrom('billing_counters')
        .where('workspace_id', '=', workspaceId)
        .where('waba', '=', waba)
        .execute();
    },

    async lockAccount(workspaceId, waba, now) {
      await db()
        .insertInto('billing_accounts')
        .values({
          workspace_id: workspaceId,
          waba,
          time_zone: null,
          budget_micros: null,
          budget_currency: null,
          version: 0,
          updated_at: now,
        })
        .onConflict((oc) => oc.columns(['workspace_id', 'waba']).doNothing())
        .execute();
      // A write to the row takes its lock (PostgreSQL) or the database's (SQLite) until commit.
      const row = await db()
        .updateTable('billing_accounts')
        .set({ version: sql<number>`version + 1` })
        .where('workspace_id', '=', workspaceId)
        .where('waba', '=', waba)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toAccount(row);
    },

    async account(workspaceId, waba) {
      const row = await accountRow(workspaceId, waba);
      return row ? toAccount(row) : null;
    },

    async accounts(workspaceId) {
      const rows = await db()
        .selectFrom('billing_accounts')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .orderBy('waba')
        .execute();
      return rows.map(toAccount);
    },

    async putAccount(account) {
      const values = {
        time_zone: account.timeZone,
        budget_micros: account.budgetMicros,
        budget_currency: account.budgetCurrency,
        updated_at: account.updatedAt,
      };
      const row = await db()
        .insertInto('billing_accounts')
        .values({ workspace_id: account.workspaceId, waba: account.waba, version: 0, ...values })
        .onConflict((oc) => oc.columns(['workspace_id', 'waba']).doUpdateSet(values))
        .returningAll()
        .executeTakeFirstOrThrow();
      return toAccount(row);
    },

    async insertRateCard(input) {
      const row = await db()
        .insertInto('billing_rate_cards')
        .values({
          id: newId(input.importedAt),
          workspace_id: input.workspaceId,
          name: input.name,
          csv: input.csv,
          rows: input.rows,
          imported_at: input.importedAt,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toRateCard(row);
    },

    async rateCards(workspaceId) {
      const rows = await db()
        .selectFrom('billing_rate_cards')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .orderBy('id')
        .execute();
      return rows.map(toRateCard);
    },

    async latestRateCardId(workspaceId) {
      const row = await db()
        .selectFrom('billing_rate_cards')
        .select('id')
        .where('workspace_id', '=', workspaceId)
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row?.id ?? null;
    },

    async recordThreshold(notice) {
      const inserted = await db()
        .insertInto('billing_thresholds')
        .values({
          workspace_id: notice.workspaceId,
          waba: notice.waba,
          month: notice.month,
          currency: notice.currency,
          budget_micros: notice.budgetMicros,
          amount_micros: notice.amountMicros,
          crossed_at: notice.crossedAt,
        })
        .onConflict((oc) =>
          oc.columns(['workspace_id', 'waba', 'month', 'currency', 'budget_micros']).doNothing(),
        )
        .returning('month')
        .executeTakeFirst();
      return inserted !== undefined;
    },

    async thresholds(workspaceId) {
      const rows = await db()
        .selectFrom('billing_thresholds')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .orderBy('crossed_at')
        .orderBy('month')
        .orderBy('budget_micros')
        .execute();
      return rows.map(toThreshold);
    },

    async unrecorded(since, limit, inboundTypes) {
      // Delivered business messages: the dispatch-time index finds those sent since `since`.
      const outbound = await db()
        .selectFrom('messages')
        .leftJoin('billing_usage', (join) =>
          join
            .onRef('billing_usage.workspace_id', '=', 'messages.workspace_id')
            .onRef('billing_usage.message_id', '=', 'messages.id'),
        )
        .select(['messages.workspace_id', 'messages.id', 'messages.dispatched_at as at'])
        .where('messages.status', 'in', ['delivered', 'read', 'played'])
        .where('messages.dispatched_at', '>=', since)
        .where('messages.direction', '=', 'outbound')
        .where('billing_usage.id', 'is', null)
        .orderBy('messages.dispatched_at')
        .limit(limit)
        .execute();
      // User messages: through the conversations active since `since` (the inbox's own index).
      const inbound: { workspace_id: string; id: string; at: number }[] = [];
      if (inboundTypes.length > 0) {
        const workspaces = await db().selectFrom('workspaces').select('id').execute();
        for (const w of workspaces) {
          const rows = await db()
            .selectFrom('conversations')
            .innerJoin('messages', 'messages.conversation_id', 'conversations.id')
            .leftJoin('billing_usage', (join) =>
              join
                .onRef('billing_usage.workspace_id', '=', 'messages.workspace_id')
                .onRef('billing_usage.message_id', '=', 'messages.id'),
            )
            .select(['messages.workspace_id', 'messages.id', 'messages.created_at as at'])
            .where('conversations.workspace_id', '=', w.id)
            .where('conversations.last_message_at', '>=', since)
            .where('messages.direction', '=', 'inbound')
            .where('messages.created_at', '>=', since)
            .where('messages.type', 'in', [...inboundTypes])
            .where('billing_usage.id', 'is', null)
            .orderBy('messages.created_at')
            .limit(limit)
            .execute();
          inbound.push(...rows);
        }
      }
      return [...outbound, ...inbound]
        .map((r) => ({ workspaceId: r.workspace_id, messageId: r.id, at: num(r.at) }))
        .sort((a, b) => a.at - b.at)
        .slice(0, limit)
        .map(({ workspaceId, messageId }) => ({ workspaceId, messageId }));
    },
  };
}
