// The cost ledger's durable facts: the usage log with each delivered message's rating, the
// month counters (free tier, volume tiers, totals), WABA accounts, rate cards and budget notices.
import type {
  EntryPoint,
  PricingModel,
  PricingType,
  RatedCategory,
  TemplateCategory,
} from '../core/pricing/categories.ts';
import type { EraId } from '../core/pricing/eras.ts';
import type { InsertResult, JsonObject } from './store.ts';

export const USAGE_TYPES = ['inbound', 'delivered'] as const;
export type UsageType = (typeof USAGE_TYPES)[number];

/** Where a row sits in its WABA's log: time, then id for rows of the same millisecond. */
export interface LogPosition {
  readonly at: number;
  readonly id: string;
}

/** One (WABA, number, contact): the unit whose own history decides windows and conversations. */
export interface PairKey {
  readonly workspaceId: string;
  readonly waba: string;
  readonly channelId: string;
  /** `+` and the E.164 digits, as the usage log writes it. */
  readonly contact: string;
}

/**
 * What a delivered message's own (number, contact) history decides: era, category, window and
 * entry point, conversation, market. Independent of the other contacts of the month.
 */
export interface PairRating {
  readonly era: EraId;
  readonly pricingModel: PricingModel;
  readonly category: RatedCategory;
  /** Before the month's free tier is applied: free_entry_point, free_customer_service or regular. */
  readonly pricingType: PricingType;
  readonly conversation: string | null;
  readonly market: string;
  readonly country: string;
  /** Local date (YYYY-MM-DD) in the WABA's zone. */
  readonly date: string;
  /** Nothing made it free and it carries its conversation's charge: the month's counts decide. */
  readonly chargeable: boolean;
}

/** The final figures once the month's free tier and volume tiers are applied. */
export interface LedgerFigures {
  readonly pricingType: PricingType;
  readonly billable: boolean;
  readonly amountMicros: number;
  readonly currency: string;
}

/** The rating of a delivered message; a problem (unknown market, no rate …) leaves it unpriced. */
export interface UsageRating {
  readonly problem: string | null;
  readonly problemDetail: string | null;
  /** Null when the problem came before any rating (unknown market, bad zone). */
  readonly pair: PairRating | null;
  /** Null while unpriced. */
  readonly figures: LedgerFigures | null;
}

export interface UsageRecord {
  readonly id: string;
  readonly workspaceId: string;
  readonly waba: string;
  readonly channelId: string;
  readonly contactId: string;
  readonly contact: string;
  readonly type: UsageType;
  readonly at: number;
  /** Local month (YYYY-MM) of `at` in the WABA's zone. */
  readonly month: string;
  /** The Parley message this event is about. */
  readonly messageId: string;
  readonly entryPoint: EntryPoint | null;
  readonly templateCategory: TemplateCategory | null;
  /** Delivered rows once rated; always null for inbound rows. */
  readonly rating: UsageRating | null;
  /** The provider's own `pricing` and `conversation` objects, verbatim. */
  readonly providerPricing: JsonObject | null;
  readonly providerConversation: JsonObject | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type NewUsage = Omit<UsageRecord, 'id' | 'rating' | 'createdAt' | 'updatedAt'> & {
  readonly now: number;
};

export interface RatingUpdate {
  readonly id: string;
  readonly month: string;
  readonly rating: UsageRating;
}

/** One month counter of a WABA: `free_tier`, `charged:<market>:<category>`, `amount:<currency>`. */
export interface MonthCounter {
  readonly month: string;
  readonly counter: string;
  readonly value: number;
}

export interface BillingAccount {
  readonly workspaceId: string;
  readonly waba: string;
  /** IANA zone of the WABA's billing calendar; null means the default, UTC. */
  readonly timeZone: string | null;
  readonly budgetMicros: number | null;
  readonly budgetCurrency: string | null;
  readonly updatedAt: number;
}

export interface RateCardRecord {
  readonly id: string;
  readonly workspaceId: string;
  readonly name: string;
  /** The CSV exactly as imported. */
  readonly csv: string;
  readonly rows: number;
  readonly importedAt: number;
}

export interface ThresholdNotice {
  readonly workspaceId: string;
  readonly waba: string;
  readonly month: string;
  readonly currency: string;
  readonly budgetMicros: number;
  readonly amountMicros: number;
  readonly crossedAt: number;
}

/** Usage of one month summed by every dimension the reports need. */
export interface UsageGroup {
  readonly waba: string;
  readonly channelId: string;
  readonly category: string | null;
  readonly market: string | null;
  readonly pricingType: string | null;
  readonly currency: string | null;
  /** Null for priced rows; the problem code of unpriced ones. */
  readonly problem: string | null;
  readonly messages: number;
  readonly billable: number;
  readonly amountMicros: number;
}

/** A message the ledger has not recorded yet (found after a crash). */
export interface UnrecordedMessage {
  readonly workspaceId: string;
  readonly messageId: string;
}

export interface BillingRepository {
  /** Records a usage event; the same message twice is not inserted again. */
  insertUsage(input: NewUsage): Promise<InsertResult<UsageRecord>>;
  usageByMessage(workspaceId: string, messageId: string): Promise<UsageRecord | null>;
  /** Moves an event in time (a delivery instant revised by a late `delivered`, STA-1). */
  moveUsage(id: string, at: number, month: string, now: number): Promise<void>;
  setProvider(
    id: string,
    pricing: JsonObject | null,
    conversation: JsonObject | null,
    now: number,
  ): Promise<void>;
  setRatings(updates: readonly RatingUpdate[], now: number): Promise<void>;
  /** A pair's events before `before`, newest first, at most `limit`. */
  pairBefore(pair: PairKey, before: LogPosition, limit: number): Promise<UsageRecord[]>;
  /** A pair's events from `from` on, in log order. */
  pairFrom(pair: PairKey, from: LogPosition): Promise<UsageRecord[]>;
  /** A WABA's events after `after` (exclusive) or from `from` (inclusive), in log order. */
  wabaUsage(
    workspaceId: string,
    waba: string,
    range: { readonly from?: LogPosition; readonly after?: LogPosition; readonly limit: number },
    type?: UsageType,
  ): Promise<UsageRecord[]>;
  /** Events of a local month, in log order, after a position, optionally of one WABA. */
  monthUsage(
    workspaceId: string,
    month: string,
    range: { readonly after?: LogPosition; readonly limit: number; readonly waba?: string },
  ): Promise<UsageRecord[]>;
  /** Every event of a workspace in log order (per WABA), after a position, for exports. */
  allUsage(
    workspaceId: string,
    range: { readonly after?: LogPosition; readonly limit: number; readonly waba?: string },
  ): Promise<UsageRecord[]>;
  /** Delivered messages of a month summed by WABA, channel, category, market, type, currency, problem. */
  summarize(workspaceId: string, month: string): Promise<UsageGroup[]>;
  /** WABAs that have usage in this workspace. */
  wabas(workspaceId: string): Promise<string[]>;

  counters(workspaceId: string, waba: string, months: readonly string[]): Promise<MonthCounter[]>;
  /** Adds deltas (creating counters at 0 first). */
  addCounters(
    workspaceId: string,
    waba: string,
    deltas: readonly { readonly month: string; readonly counter: string; readonly delta: number }[],
  ): Promise<void>;
  clearCounters(workspaceId: string, waba: string): Promise<void>;

  /**
   * The WABA's account, created with defaults when absent, and locked until the transaction
   * ends: rating a WABA's month is serialised across processes and nodes.
   */
  lockAccount(workspaceId: string, waba: string, now: number): Promise<BillingAccount>;
  account(workspaceId: string, waba: string): Promise<BillingAccount | null>;
  accounts(workspaceId: string): Promise<BillingAccount[]>;
  putAccount(account: BillingAccount): Promise<BillingAccount>;

  insertRateCard(input: Omit<RateCardRecord, 'id'>): Promise<RateCardRecord>;
  /** Oldest first. */
  rateCards(workspaceId: string): Promise<RateCardRecord[]>;
  /** Id of the newest import, or null: a cheap check that a cached card is current. */
  latestRateCardId(workspaceId: string): Promise<string | null>;

  /** Records a budget crossing; false when this (month, currency, budget) was already notified. */
  recordThreshold(notice: ThresholdNotice): Promise<boolean>;
  thresholds(workspaceId: string): Promise<ThresholdNotice[]>;

  /**
   * Window-opening inbound messages and delivered outbound ones since `since` that have no usage
   * event (work lost in a crash), oldest first.
   */
  unrecorded(
    since: number,
    limit: number,
    inboundTypes: readonly string[],
  ): Promise<UnrecordedMessage[]>;
}
