// The live ledger's rating: the same engine `parley rate` runs, fed from the store. A delivered
// message's rating splits in two: what its own (number, contact) history decides, re-derived by
// replaying that pair's stored events, and what the WABA's month decides (free tier, volume
// tiers), applied in log order from the month counters kept in the store.
import { DAY, HOUR } from '../../core/time.ts';
import type { RateCategory } from '../../core/pricing/categories.ts';
import { ERAS, eraOn, type Era, type EraId } from '../../core/pricing/eras.ts';
import { calendarFor, type ZoneCalendar } from '../../core/pricing/local-calendar.ts';
import type { Market } from '../../core/pricing/markets.ts';
import type { RateEntry } from '../../core/pricing/rate-card.ts';
import {
  RatingEngine,
  type RateLookup,
  type UsageEvent,
} from '../../core/pricing/rating-engine.ts';
import type {
  BillingRepository,
  LedgerFigures,
  LogPosition,
  MonthCounter,
  PairKey,
  PairRating,
  UsageRating,
  UsageRecord,
} from '../../ports/billing-store.ts';

/**
 * How long an event can matter to later events of its pair: a user message keeps the window
 * (CSW-2) and its entry point (FEP-2) for 24 h; a delivery can open an FEP window (FEP-3, 72 h)
 * or a conversation (CBP-1, CAT-4, 24 h).
 */
const LONGEST_EFFECT = Math.max(DAY, ...ERAS.map((e) => (e.fepHours ?? 0) * HOUR));
const PAIR_PAGE = 256;

/** The era table the pair replay runs with: no free tier, which the month decides instead. */
const PAIR_ERAS: readonly Era[] = ERAS.map((e) => ({ ...e, freeTier: null }));

const ERA_BY_ID = new Map<EraId, Era>(ERAS.map((e) => [e.id, e]));

export function eraById(id: EraId): Era {
  const era = ERA_BY_ID.get(id);
  if (era === undefined) throw new Error(`unknown era ${id}`);
  return era;
}

/** One calendar per zone, shared by the process (see the core's calendarFor). */
export { calendarFor };

export function comparePositions(a: LogPosition, b: LogPosition): number {
  return a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function positionOf(row: { readonly at: number; readonly id: string }): LogPosition {
  return { at: row.at, id: row.id };
}

/** A usage record as the engine reads it (the same fields `parley rate` reads from a log line). */
export function toUsageEvent(row: UsageRecord): UsageEvent {
  return row.type === 'inbound'
    ? {
        type: 'inbound',
        at: row.at,
        waba: row.waba,
        channel: row.channelId,
        contact: row.contact,
        entryPoint: row.entryPoint ?? undefined,
      }
    : {
        type: 'delivered',
        at: row.at,
        waba: row.waba,
        channel: row.channelId,
        contact: row.contact,
        message: row.messageId,
        templateCategory: row.templateCategory ?? undefined,
      };
}

/**
 * The rate card as the pair replay sees it: every rate "exists" and costs nothing, so the
 * replay decides only what the pair's history decides; prices come later, from the month.
 */
class PairOnlyRates implements RateLookup {
  readonly #card: RateLookup;
  constructor(card: RateLookup) {
    this.#card = card;
  }
  rateFor(market: string, category: string, localDate: string): RateEntry {
    return {
      effectiveFrom: localDate,
      market: market as Market,
      category: category as RateCategory,
      currency: this.#card.currencyFor(market),
      micros: 0,
      volumeFrom: 0,
    };
  }
  currencyFor(market: string): string {
    return this.#card.currencyFor(market);
  }
}

export interface PairOutcome {
  readonly month: string;
  /** The pair's rating, or the problem that stopped it (unknown market …). */
  readonly pair: PairRating | null;
  readonly problem: string | null;
  readonly problemDetail: string | null;
}

export interface RatingSetup {
  readonly card: RateLookup;
  readonly countryOf: (contact: string) => string | null;
  /** The WABA's IANA zone. */
  readonly zone: string;
}

/**
 * Replays events (one or more pairs of one WABA, in log order) through the rating engine and
 * answers, per delivered row, what the pair's history decides.
 * @see https://developers.facebook.com/docs/whatsapp/pricing
 */
export class PairReplay {
  readonly #engine: RatingEngine;
  readonly #calendar: ZoneCalendar;

  constructor(waba: string, setup: RatingSetup) {
    this.#engine = new RatingEngine({
      rates: new PairOnlyRates(setup.card),
      countryOf: setup.countryOf,
      zones: new Map([[waba, setup.zone]]),
      eras: PAIR_ERAS,
    });
    this.#calendar = calendarFor(setup.zone);
  }

  /** Feeds one row; a delivered row's outcome, null for inbound rows. */
  rate(row: UsageRecord): PairOutcome | null {
    const r = this.#engine.rate(toUsageEvent(row));
    if (row.type !== 'delivered' || r === null) return null;
    if (r.kind === 'problem')
      return {
        month: this.#calendar.dayOf(row.at).month,
        pair: null,
        problem: r.problem,
        problemDetail: r.detail,
      };
    return {
      month: r.month,
      pair: {
        era: r.era,
        pricingModel: r.pricingModel,
        category: r.category,
        pricingType: r.pricingType,
        conversation: r.conversation,
        market: r.market,
        country: r.country,
        date: r.date,
        chargeable: r.billable,
      },
      problem: null,
      problemDetail: null,
    };
  }
}

/** `PairReplay` over a list of rows: outcome per delivered row id. */
export function ratePairs(
  rows: readonly UsageRecord[],
  setup: RatingSetup,
): Map<string, PairOutcome> {
  const out = new Map<string, PairOutcome>();
  const first = rows[0];
  if (first === undefined) return out;
  const replay = new PairReplay(first.waba, setup);
  for (const row of rows) {
    const outcome = replay.rate(row);
    if (outcome !== null) out.set(row.id, outcome);
  }
  return out;
}

/**
 * The latest point a pair's replay can start from: every earlier event's effect (window, entry
 * point, FEP window, conversation) has ended by then, so the engine's fresh state there equals
 * the state the whole history would have left. Returns the index into `rows` (ascending) or
 * undefined when `rows` does not reach back far enough to tell.
 */
export function replayStartIndex(
  rows: readonly UsageRecord[],
  firstAffected: number,
  complete: boolean,
  calendar: ZoneCalendar,
): number | undefined {
  const oldest = rows[0]?.at ?? 0;
  const horizon = (i: number): number => {
    const row = rows[i];
    if (row === undefined) return -Infinity;
    if (row.type === 'inbound') return row.at + DAY;
    const era = eraOn(calendar.dayOf(row.at).date);
    if (era.unit === 'conversation') return row.at + LONGEST_EFFECT;
    // A per-message delivery changes nothing later unless it answered an entry point (FEP-2).
    if (!complete && row.at - DAY < oldest) return row.at + LONGEST_EFFECT;
    for (let j = i - 1; j >= 0; j--) {
      const earlier = rows[j];
      if (earlier === undefined || earlier.at < row.at - DAY) break;
      if (earlier.type === 'inbound' && earlier.entryPoint !== null) return row.at + LONGEST_EFFECT;
    }
    return row.at;
  };
  let s = firstAffected;
  for (;;) {
    const start = rows[s];
    if (start === undefined) return s;
    let earliest = s;
    let decided = false;
    for (let i = s - 1; i >= 0; i--) {
      const row = rows[i];
      if (row === undefined) break;
      if (row.at + LONGEST_EFFECT <= start.at) {
        decided = true;
        break;
      }
      if (horizon(i) > start.at) earliest = i;
    }
    if (earliest === s) return decided || complete ? s : undefined;
    s = earliest;
  }
}

/**
 * The pair's events from where its replay must start, through its latest. `suffix` is the
 * pair's events from `from` on, when the caller already read them.
 */
export async function pairReplayRows(
  repo: BillingRepository,
  pair: PairKey,
  from: LogPosition,
  calendar: ZoneCalendar,
  suffix?: readonly UsageRecord[],
): Promise<UsageRecord[]> {
  const after = suffix ?? (await repo.pairFrom(pair, from));
  let before = (await repo.pairBefore(pair, from, PAIR_PAGE)).reverse();
  let complete = before.length < PAIR_PAGE;
  for (let page = PAIR_PAGE * 4; ; page *= 4) {
    const rows = [...before, ...after];
    const start = replayStartIndex(rows, before.length, complete, calendar);
    if (start !== undefined) return rows.slice(start);
    const oldest = before[0];
    if (oldest === undefined) return rows;
    const older = (await repo.pairBefore(pair, positionOf(oldest), page)).reverse();
    complete = older.length < page;
    before = [...older, ...before];
  }
}

/** Month counter names. */
export const FREE_TIER_COUNTER = 'free_tier';
export const chargedCounter = (market: string, category: string): string =>
  `charged:${market}:${category}`;
export const amountCounter = (currency: string): string => `amount:${currency}`;

/** What a rating adds to its month's counters. */
export function contributions(
  rating: UsageRating | null,
): { readonly counter: string; readonly delta: number }[] {
  const pair = rating?.pair;
  const figures = rating?.figures;
  if (!pair || !figures || !pair.chargeable) return [];
  if (figures.pricingType === 'free_tier') return [{ counter: FREE_TIER_COUNTER, delta: 1 }];
  if (!figures.billable) return [];
  const out = [{ counter: amountCounter(figures.currency), delta: figures.amountMicros }];
  if (eraById(pair.era).volumeTiers)
    out.push({ counter: chargedCounter(pair.market, pair.category), delta: 1 });
  return out;
}

/** Month → counter → value, changed in place while tiering. */
export class MonthCounters {
  readonly #values = new Map<string, Map<string, number>>();

  static from(rows: readonly MonthCounter[]): MonthCounters {
    const c = new MonthCounters();
    for (const r of rows) c.add(r.month, r.counter, r.value);
    return c;
  }

  get(month: string, counter: string): number {
    return this.#values.get(month)?.get(counter) ?? 0;
  }

  add(month: string, counter: string, delta: number): void {
    let m = this.#values.get(month);
    if (m === undefined) this.#values.set(month, (m = new Map<string, number>()));
    m.set(counter, (m.get(counter) ?? 0) + delta);
  }

  entries(): { month: string; counter: string; value: number }[] {
    const out: { month: string; counter: string; value: number }[] = [];
    for (const [month, m] of this.#values)
      for (const [counter, value] of m) out.push({ month, counter, value });
    return out;
  }
}

/**
 * The final figures of one delivered message from its pair rating and the month so far
 * (CBP-3/CAT-5 free tier, PRC-4 volume tiers, PRC-5 unpriced). Mirrors the engine's own
 * free-tier and charge steps; `counters` moves on by what the message adds.
 */
export function applyMonth(
  outcome: PairOutcome,
  counters: MonthCounters,
  card: RateLookup,
  openerType: (conversation: string) => LedgerFigures['pricingType'] | undefined,
): UsageRating {
  const { pair, month } = outcome;
  if (pair === null)
    return {
      problem: outcome.problem,
      problemDetail: outcome.problemDetail,
      pair: null,
      figures: null,
    };
  const free = (pricingType: LedgerFigures['pricingType']): UsageRating => ({
    problem: null,
    problemDetail: null,
    pair,
    figures: {
      pricingType,
      billable: false,
      amountMicros: 0,
      currency: card.currencyFor(pair.market),
    },
  });
  if (!pair.chargeable) {
    // PRC-1: a message inside a conversation reports the conversation's type, which the month
    // decided for the message that opened it.
    const joined =
      pair.pricingType === 'regular' && pair.conversation !== null
        ? openerType(pair.conversation)
        : undefined;
    return free(joined ?? pair.pricingType);
  }
  const era = eraById(pair.era);
  const tier = era.freeTier;
  if (
    tier !== null &&
    (tier.categories === 'all' || tier.categories.includes(pair.category as RateCategory)) &&
    counters.get(month, FREE_TIER_COUNTER) < tier.allowance
  ) {
    counters.add(month, FREE_TIER_COUNTER, 1);
    return free('free_tier');
  }
  const chargedBefore = era.volumeTiers
    ? counters.get(month, chargedCounter(pair.market, pair.category))
    : 0;
  const rate = card.rateFor(pair.market, pair.category, pair.date, chargedBefore);
  if (rate === null)
    return {
      problem: 'no_rate',
      problemDetail: `no rate for market ${pair.market}, category ${pair.category} on ${pair.date}${chargedBefore > 0 ? ` after ${chargedBefore} charged this month` : ''}: the message is unpriced`,
      pair,
      figures: null,
    };
  if (era.volumeTiers) counters.add(month, chargedCounter(pair.market, pair.category), 1);
  counters.add(month, amountCounter(rate.currency), rate.micros);
  return {
    problem: null,
    problemDetail: null,
    pair,
    figures: {
      pricingType: 'regular',
      billable: true,
      amountMicros: rate.micros,
      currency: rate.currency,
    },
  };
}

/** The pair part of a stored rating, for comparison with a fresh one. */
export function storedOutcome(row: UsageRecord): PairOutcome | null {
  const r = row.rating;
  if (r === null) return null;
  return {
    month: row.month,
    pair: r.pair,
    problem: r.pair === null ? r.problem : null,
    problemDetail: r.pair === null ? r.problemDetail : null,
  };
}

export function sameOutcome(a: PairOutcome | null, b: PairOutcome | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function sameRating(a: UsageRating | null, b: UsageRating | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
