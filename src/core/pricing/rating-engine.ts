// The rating engine: usage events in time order in, one rated line per delivered message out (§3, §9).
import { DAY, HOUR } from '../time.ts';
import {
  RATE_CATEGORIES,
  REFERRAL_CONVERSION,
  type EntryPoint,
  type PricingModel,
  type PricingType,
  type RateCategory,
  type RatedCategory,
  type TemplateCategory,
} from './categories.ts';
import { ERAS, eraOn, type Era, type EraId } from './eras.ts';
import {
  DEFAULT_TIME_ZONE,
  isValidTimeZone,
  calendarFor,
  type ZoneCalendar,
  type LocalDay,
} from './local-calendar.ts';
import { marketOf, type Market } from './markets.ts';
import type { RateEntry } from './rate-card.ts';

/** A user message (CSW-1); `entryPoint` marks a free entry point (FEP-1). */
export interface InboundUsage {
  readonly type: 'inbound';
  readonly at: number;
  readonly waba: string;
  readonly channel: string;
  readonly contact: string;
  readonly entryPoint?: EntryPoint | undefined;
  /** The WABA's IANA zone, when the log names it. */
  readonly tz?: string | undefined;
}

/** A business message the provider reported delivered; free-form when `templateCategory` is absent. */
export interface DeliveredUsage {
  readonly type: 'delivered';
  readonly at: number;
  readonly waba: string;
  readonly channel: string;
  readonly contact: string;
  readonly message: string;
  readonly templateCategory?: TemplateCategory | undefined;
  readonly tz?: string | undefined;
}

export type UsageEvent = InboundUsage | DeliveredUsage;

/** What the engine needs from a rate card (RateCard implements it). */
export interface RateLookup {
  rateFor(
    market: string,
    category: string,
    localDate: string,
    chargedBefore?: number,
  ): RateEntry | null;
  currencyFor(market: string): string;
}

export interface RatedMessage {
  readonly kind: 'rated';
  readonly message: string;
  readonly waba: string;
  readonly channel: string;
  readonly contact: string;
  readonly at: number;
  /** Local date and billing month in the WABA's zone. */
  readonly date: string;
  readonly month: string;
  readonly pricingModel: PricingModel;
  readonly era: EraId;
  readonly category: RatedCategory;
  readonly pricingType: PricingType;
  /** The conversation the message belongs to (conversation eras), else null. */
  readonly conversation: string | null;
  readonly market: Market;
  readonly country: string;
  /** True for the message that carries a charge (PRC-1). */
  readonly billable: boolean;
  readonly amountMicros: number;
  readonly currency: string;
}

/** A RatedMessage a hot loop reuses (see `RatingEngine.rateInto`). */
export type MutableRatedMessage = { -readonly [K in keyof RatedMessage]: RatedMessage[K] };

/** A blank RatedMessage for `rateInto` to fill. */
export function newRatedMessage(): MutableRatedMessage {
  return {
    kind: 'rated',
    message: '',
    waba: '',
    channel: '',
    contact: '',
    at: 0,
    date: '',
    month: '',
    pricingModel: 'PMP',
    era: 'pmp2025',
    category: 'service',
    pricingType: 'regular',
    conversation: null,
    market: 'Other',
    country: '',
    billable: false,
    amountMicros: 0,
    currency: '',
  };
}

export const RATING_PROBLEMS = [
  'out_of_order',
  'unknown_market',
  'no_rate',
  'invalid_zone',
  'zone_conflict',
] as const;
export type RatingProblemCode = (typeof RATING_PROBLEMS)[number];

/** An event the engine could not rate; the caller reports it and carries on. */
export interface RatingProblem {
  readonly kind: 'problem';
  readonly problem: RatingProblemCode;
  readonly detail: string;
}

export interface RatingEngineOptions {
  readonly rates: RateLookup;
  /** PRC-5: the recipient's ISO 3166-1 alpha-2 country, resolved outside the core; null if unknown. */
  readonly countryOf: (contact: string) => string | null;
  /** WABA → IANA zone set by the operator; wins over a zone named in the log. */
  readonly zones?: ReadonlyMap<string, string>;
  readonly eras?: readonly Era[];
}

interface Conversation {
  readonly id: string;
  readonly category: RatedCategory;
  readonly era: EraId;
  readonly endsAt: number;
  readonly pricingType: PricingType;
}

/** Everything that matters about one (WABA, number, contact); dropped once nothing in it can matter. */
interface PairState {
  /** CSW-1: the latest user message. */
  lastInboundAt: number;
  /** FEP-2: an entry point not yet answered. */
  entryAt: number;
  /** FEP-3: the end of the open (or last) FEP window. */
  fepEndsAt: number;
  /** FEP-4: the FEP window as a conversation of the current conversation era. */
  fepConversation: Conversation | null;
  /** CBP-1, CAT-2..4: conversations, possibly ended; pruned whenever one opens. */
  conversations: Conversation[];
  /** No window, entry point or conversation of this pair is open at or after this instant. */
  expiresAt: number;
  /** The contact's country and market, remembered for the local day they were looked up on. */
  marketDay: LocalDay | null;
  country: string | null;
  market: Market | null;
  /** The currency free messages to that market report (the card's, for the market). */
  currency: string;
}

/** Per WABA: its zone, its pairs, and per local month the free tier used and what was charged (CBP-3, CAT-5, PRC-4). */
interface WabaState {
  readonly zone: string;
  /** The operator fixed the zone: a `tz` in the log is ignored. */
  readonly fixed: boolean;
  readonly calendar: ZoneCalendar;
  /** channel → contact → pair; nested so lookups hash strings the caller already holds. */
  readonly pairs: Map<string, Map<string, PairState>>;
  /** The last local day seen and its era (days repeat for thousands of events). */
  lastDay: LocalDay | null;
  lastEra: Era;
  month: string;
  freeTierUsed: number;
  /** market → messages charged this month by category position in RATE_CATEGORIES (PRC-4). */
  readonly charged: Map<string, number[]>;
}

const NEVER = -Infinity;
/**
 * Pair states that can no longer matter are dropped whenever the number held doubles since the
 * last sweep (and at least this many are held): memory stays within twice the live contacts at
 * a constant amortised cost per event.
 */
const MIN_SWEEP_SIZE = 1024;

function problem(code: RatingProblemCode, detail: string): RatingProblem {
  return { kind: 'problem', problem: code, detail };
}

function includes(list: readonly RateCategory[], category: RateCategory): boolean {
  for (const c of list) if (c === category) return true;
  return false;
}

/**
 * Rates a time-ordered usage log incrementally, in constant memory per active contact.
 * Feed every event to `rate()`: inbound events return null, delivered ones a rated line or a
 * problem (which the caller reports; the message is then unpriced, never priced 0).
 * The engine keeps the WABA, channel, contact and message strings it is given while they
 * matter: pass strings that do not share memory with large buffers (decoded or parsed, not
 * sliced out of a big chunk of text).
 *
 * @see https://developers.facebook.com/docs/whatsapp/pricing
 * @see https://developers.facebook.com/docs/whatsapp/pricing/conversation-based-pricing
 */
export class RatingEngine {
  readonly #rates: RateLookup;
  readonly #countryOf: (contact: string) => string | null;
  readonly #zones: ReadonlyMap<string, string>;
  readonly #eras: readonly Era[];
  readonly #wabas = new Map<string, WabaState>();
  readonly #calendars = new Map<string, ZoneCalendar>();
  #lastAt = NEVER;
  #pairCount = 0;
  #sweepAtSize = MIN_SWEEP_SIZE;
  /** Why #wabaState answered null. */
  #wabaProblem: RatingProblem | null = null;
  // The rating of the message being rated (filled by #free and #charge; no object per message).
  #category: RatedCategory = 'service';
  #pricingType: PricingType = 'regular';
  #conversation: string | null = null;
  #billable = false;
  #amountMicros = 0;
  #currency = '';
  /** The currency of the current message's market (for free messages). */
  #freeCurrency = '';
  // The last delivered message rated, for #result.
  #into: MutableRatedMessage | null = null;
  #event: DeliveredUsage | null = null;
  #day: LocalDay | null = null;
  #era: Era | null = null;
  #market: Market | null = null;
  #country: string | null = null;

  constructor(options: RatingEngineOptions) {
    this.#rates = options.rates;
    this.#countryOf = options.countryOf;
    this.#zones = options.zones ?? new Map();
    this.#eras = options.eras ?? ERAS;
  }

  /** Pair states currently held (for memory checks). */
  get activePairs(): number {
    return this.#pairCount;
  }

  /** Rates one event: null for inbound events, a new rated line or a problem for deliveries. */
  rate(event: UsageEvent): RatedMessage | RatingProblem | null {
    const r = this.rateInto(event, null);
    return r === 'rated' ? this.#result(null) : r;
  }

  /**
   * `rate()` for hot loops: a delivered message's rating is written into `into` (which the
   * caller reuses) instead of a new object; answers `'rated'`, a problem, or null for inbound.
   */
  rateInto(event: UsageEvent, into: MutableRatedMessage | null): 'rated' | RatingProblem | null {
    this.#into = into;
    const at = event.at;
    if (at < this.#lastAt)
      return problem(
        'out_of_order',
        `event at ${new Date(at).toISOString()} is earlier than the previous one (${new Date(this.#lastAt).toISOString()}); the log must be ordered by time`,
      );
    const waba = this.#wabaState(event);
    if (waba === null) return this.#wabaProblem;
    this.#lastAt = at;

    let contacts = waba.pairs.get(event.channel);
    if (contacts === undefined) {
      contacts = new Map();
      waba.pairs.set(event.channel, contacts);
    }
    let pair = contacts.get(event.contact);
    if (pair === undefined) {
      if (this.#pairCount >= this.#sweepAtSize) this.#sweep(at);
      pair = {
        lastInboundAt: NEVER,
        entryAt: NEVER,
        fepEndsAt: NEVER,
        fepConversation: null,
        conversations: [],
        expiresAt: NEVER,
        marketDay: null,
        country: null,
        market: null,
        currency: '',
      };
      contacts.set(event.contact, pair);
      this.#pairCount++;
    }

    if (event.type === 'inbound') {
      // CSW-1/CSW-2: every user message restarts the full 24 hours.
      pair.lastInboundAt = at;
      // FEP-2: a referral while an FEP window is open changes nothing; otherwise it is an
      // entry point waiting for the business's first reply (the latest one counts).
      if (event.entryPoint !== undefined && !(at < pair.fepEndsAt)) pair.entryAt = at;
      if (at + DAY > pair.expiresAt) pair.expiresAt = at + DAY;
      return null;
    }
    const rated = this.#delivered(event, waba, pair);
    if (rated === 'rated' && this.#into !== null) this.#result(this.#into);
    return rated;
  }

  #delivered(event: DeliveredUsage, waba: WabaState, pair: PairState): 'rated' | RatingProblem {
    const at = event.at;
    const day = waba.calendar.dayOf(at);
    let era = waba.lastEra;
    if (day !== waba.lastDay) {
      era = eraOn(day.date, this.#eras);
      waba.lastDay = day;
      waba.lastEra = era;
      if (waba.month !== day.month) {
        waba.month = day.month;
        waba.freeTierUsed = 0;
        waba.charged.clear();
      }
    }

    const careWindowOpen = at < pair.lastInboundAt + DAY;
    // FEP-2: the first business message after an entry point opens the FEP window if it is
    // delivered less than 24 h after the entry point; either way the entry point is used up.
    if (pair.entryAt !== NEVER) {
      if (era.fepHours !== null && at < pair.entryAt + DAY) {
        pair.fepEndsAt = at + era.fepHours * HOUR;
        pair.fepConversation = null;
        if (pair.fepEndsAt > pair.expiresAt) pair.expiresAt = pair.fepEndsAt;
      }
      pair.entryAt = NEVER;
    }
    const fepOpen = at < pair.fepEndsAt;

    // PRC-5: markets move on dated boundaries, so the lookup is remembered for one local day.
    if (pair.marketDay !== day) {
      pair.country = this.#countryOf(event.contact);
      pair.market = pair.country === null ? null : marketOf(pair.country, day.date);
      pair.currency = pair.market === null ? '' : this.#rates.currencyFor(pair.market);
      pair.marketDay = day;
    }
    const country = pair.country;
    const market = pair.market;
    this.#freeCurrency = pair.currency;

    const failed =
      era.unit === 'message'
        ? this.#ratePerMessage(event, era, day, waba, market, careWindowOpen, fepOpen)
        : this.#ratePerConversation(event, era, day, waba, pair, market, careWindowOpen, fepOpen);
    if (market === null || country === null)
      return problem(
        'unknown_market',
        `no pricing market for contact "${event.contact}": not a phone number with a known country`,
      );
    if (failed !== null) return failed;
    this.#event = event;
    this.#day = day;
    this.#era = era;
    this.#market = market;
    this.#country = country;
    return 'rated';
  }

  /** The last rating, written into `into` (or a new object). */
  #result(into: MutableRatedMessage | null): RatedMessage {
    const event = this.#event;
    const day = this.#day;
    const era = this.#era;
    const market = this.#market;
    const country = this.#country;
    if (event === null || day === null || era === null || market === null || country === null)
      throw new Error('no rating to report');
    const r = into ?? newRatedMessage();
    r.message = event.message;
    r.waba = event.waba;
    r.channel = event.channel;
    r.contact = event.contact;
    r.at = event.at;
    r.date = day.date;
    r.month = day.month;
    r.pricingModel = era.pricingModel;
    r.era = era.id;
    r.category = this.#category;
    r.pricingType = this.#pricingType;
    r.conversation = this.#conversation;
    r.market = market;
    r.country = country;
    r.billable = this.#billable;
    r.amountMicros = this.#amountMicros;
    r.currency = this.#currency;
    return r;
  }

  /** NBP-1..2, PMP-1..5, S26-1..3: every delivered message is rated on its own. */
  #ratePerMessage(
    event: DeliveredUsage,
    era: Era,
    day: LocalDay,
    waba: WabaState,
    market: Market | null,
    careWindowOpen: boolean,
    fepOpen: boolean,
  ): RatingProblem | null {
    const template = event.templateCategory;
    const category: RateCategory =
      template === undefined
        ? 'service'
        : era.categories === 'notification'
          ? 'notification'
          : template;
    const pricingType = this.#freeReason(era, waba, category, careWindowOpen, fepOpen);
    if (pricingType !== 'regular' || market === null)
      return this.#free(category, pricingType, null, market);
    return this.#charge(era, day, waba, market, category, null);
  }

  /** CBP-1..4, CAT-1..6, SVC-1, PRC-1, PRC-3: only the message that opens a conversation is charged. */
  #ratePerConversation(
    event: DeliveredUsage,
    era: Era,
    day: LocalDay,
    waba: WabaState,
    pair: PairState,
    market: Market | null,
    careWindowOpen: boolean,
    fepOpen: boolean,
  ): RatingProblem | null {
    const at = event.at;
    if (fepOpen) {
      // FEP-4/CAT-6: the FEP window is a free conversation of its own; it ends the other open
      // conversations and none opens while it lasts. PRC-3: a window carried over an era
      // boundary becomes a new conversation of the new era.
      let fep = pair.fepConversation;
      if (fep === null || fep.era !== era.id) {
        fep = {
          id: conversationId(event),
          category: REFERRAL_CONVERSION,
          era: era.id,
          endsAt: pair.fepEndsAt,
          pricingType: 'free_entry_point',
        };
        pair.fepConversation = fep;
        pair.conversations.length = 0;
      }
      return this.#free(fep.category, 'free_entry_point', fep.id, market);
    }

    const template = event.templateCategory;
    const category: RateCategory =
      era.categories === 'initiation'
        ? careWindowOpen
          ? 'user_initiated'
          : 'business_initiated'
        : (template ?? 'service');

    // PRC-1: a message inside an open conversation costs nothing more and reports it.
    // PRC-3: conversations of an earlier era ended at the boundary.
    const conversations = pair.conversations;
    let join: Conversation | null = null;
    for (const c of conversations) {
      if (c.era !== era.id || !(at < c.endsAt)) continue;
      if (era.categories === 'initiation') {
        join = c; // CBP-1: one conversation at a time per (number, contact)
        break;
      }
      if (template !== undefined) {
        if (c.category === template) {
          join = c; // CAT-2
          break;
        }
      } else if (c.category === 'service') {
        join = c; // CAT-3: a free-form message joins the open service conversation first …
        break;
      } else {
        join = c; // … else the latest open conversation of any category
      }
    }
    if (join !== null) return this.#free(join.category, join.pricingType, join.id, market);

    // CBP-1, CAT-2..4: the message opens a conversation that lasts 24 h and never extends.
    const pricingType = this.#freeReason(era, waba, category, careWindowOpen, false);
    const opened: Conversation = {
      id: conversationId(event),
      category,
      era: era.id,
      endsAt: at + DAY,
      pricingType,
    };
    let kept = 0;
    for (const c of conversations) if (c.era === era.id && at < c.endsAt) conversations[kept++] = c;
    conversations.length = kept;
    conversations.push(opened);
    if (opened.endsAt > pair.expiresAt) pair.expiresAt = opened.endsAt;
    if (pricingType !== 'regular' || market === null)
      return this.#free(category, pricingType, opened.id, market);
    return this.#charge(era, day, waba, market, category, opened.id);
  }

  /**
   * FEP-4 precedence: free_entry_point > free_customer_service > free_tier > regular. Draws on
   * the month's free tier (CBP-3, CAT-5) when that is the reason.
   */
  #freeReason(
    era: Era,
    waba: WabaState,
    category: RateCategory,
    careWindowOpen: boolean,
    fepOpen: boolean,
  ): PricingType {
    if (fepOpen) return 'free_entry_point';
    if (includes(era.alwaysFree, category)) return 'free_customer_service';
    if (careWindowOpen && includes(era.freeInCareWindow, category)) return 'free_customer_service';
    const tier = era.freeTier;
    if (
      tier !== null &&
      (tier.categories === 'all' || includes(tier.categories, category)) &&
      waba.freeTierUsed < tier.allowance
    ) {
      waba.freeTierUsed++;
      return 'free_tier';
    }
    return 'regular';
  }

  #free(
    category: RatedCategory,
    pricingType: PricingType,
    conversation: string | null,
    market: Market | null,
  ): null {
    this.#category = category;
    this.#pricingType = pricingType;
    this.#conversation = conversation;
    this.#billable = false;
    this.#amountMicros = 0;
    this.#currency = market === null ? '' : this.#freeCurrency;
    return null;
  }

  /** PRC-4/PRC-5: the rate in force on the local date, at this month's volume tier. */
  #charge(
    era: Era,
    day: LocalDay,
    waba: WabaState,
    market: Market,
    category: RateCategory,
    conversation: string | null,
  ): RatingProblem | null {
    let counts: number[] | undefined;
    const slot = RATE_CATEGORIES.indexOf(category);
    let chargedBefore = 0;
    if (era.volumeTiers) {
      counts = waba.charged.get(market);
      if (counts === undefined) {
        counts = RATE_CATEGORIES.map(() => 0);
        waba.charged.set(market, counts);
      }
      chargedBefore = counts[slot] ?? 0;
    }
    const rate = this.#rates.rateFor(market, category, day.date, chargedBefore);
    if (rate === null)
      return problem(
        'no_rate',
        `no rate for market ${market}, category ${category} on ${day.date}${chargedBefore > 0 ? ` after ${chargedBefore} charged this month` : ''}: the message is unpriced`,
      );
    if (counts !== undefined) counts[slot] = chargedBefore + 1;
    this.#category = category;
    this.#pricingType = 'regular';
    this.#conversation = conversation;
    this.#billable = true;
    this.#amountMicros = rate.micros;
    this.#currency = rate.currency;
    return null;
  }

  /** The WABA's state, created on its first event; null (with #wabaProblem) for a zone problem. */
  #wabaState(event: UsageEvent): WabaState | null {
    const state = this.#wabas.get(event.waba);
    if (state !== undefined) {
      const tz = event.tz;
      if (tz === undefined || tz === state.zone || state.fixed) return state;
      this.#wabaProblem = problem(
        'zone_conflict',
        `tz "${tz}" differs from "${state.zone}" already in use for WABA ${event.waba}`,
      );
      return null;
    }
    const fixed = this.#zones.get(event.waba);
    const zone = fixed ?? event.tz ?? DEFAULT_TIME_ZONE;
    if (!isValidTimeZone(zone)) {
      this.#wabaProblem = problem(
        'invalid_zone',
        `"${zone}" (WABA ${event.waba}) is not an IANA time zone`,
      );
      return null;
    }
    let calendar = this.#calendars.get(zone);
    if (calendar === undefined) {
      calendar = calendarFor(zone);
      this.#calendars.set(zone, calendar);
    }
    const created: WabaState = {
      zone,
      fixed: fixed !== undefined,
      calendar,
      pairs: new Map(),
      lastDay: null,
      lastEra: eraOn('0000-01-01', this.#eras),
      month: '',
      freeTierUsed: 0,
      charged: new Map(),
    };
    this.#wabas.set(event.waba, created);
    return created;
  }

  /** Drops pair states whose windows, entry point and conversations have all ended. */
  #sweep(now: number): void {
    let count = 0;
    for (const waba of this.#wabas.values())
      for (const [channel, contacts] of waba.pairs) {
        for (const [contact, pair] of contacts) if (pair.expiresAt <= now) contacts.delete(contact);
        if (contacts.size === 0) waba.pairs.delete(channel);
        count += contacts.size;
      }
    this.#pairCount = count;
    this.#sweepAtSize = Math.max(MIN_SWEEP_SIZE, 2 * count);
  }
}

/** Conversations are named after the message that opened them. */
function conversationId(event: DeliveredUsage): string {
  return `conv:${event.message}`;
}
