// A rate card as an immutable lookup: market × category × effective date, with optional volume tiers.
import { RATE_CATEGORIES, isRateCategory, type RateCategory } from './categories.ts';
import { isMarket, type Market } from './markets.ts';
import { parseDecimalMicros } from './money.ts';

/** One data row as written in the CSV (PRODUCT.md), with the line it came from. */
export interface RateCardRowText {
  readonly line: number;
  readonly effectiveFrom: string;
  readonly market: string;
  readonly category: string;
  readonly currency: string;
  readonly rate: string;
  /** Empty means 0. */
  readonly volumeFrom: string;
}

/** One validated row. */
export interface RateEntry {
  readonly effectiveFrom: string;
  readonly market: Market;
  readonly category: RateCategory;
  readonly currency: string;
  /** Per billable unit, in micro-units of `currency`. */
  readonly micros: number;
  /** PRC-4: the row applies once this many earlier messages of the month were charged. */
  readonly volumeFrom: number;
}

/** Rows sharing one effective date for one (market, category), by ascending `volumeFrom`. */
interface Version {
  readonly effectiveFrom: string;
  readonly tiers: readonly RateEntry[];
}

export interface RateCardProblem {
  readonly line: number;
  readonly message: string;
}

export type RateCardResult =
  | { readonly ok: true; readonly card: RateCard }
  | { readonly ok: false; readonly problems: readonly RateCardProblem[] };

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const CURRENCY = /^[A-Z]{3}$/;
const INTEGER = /^\d+$/;

function isCalendarDate(text: string): boolean {
  const m = ISO_DATE.exec(text);
  if (m === null) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

export class RateCard {
  readonly entries: readonly RateEntry[];
  /** market → versions by category position in RATE_CATEGORIES: one hash lookup per rating. */
  readonly #index: ReadonlyMap<string, readonly (readonly Version[] | undefined)[]>;
  readonly #currencyOfMarket: ReadonlyMap<string, string>;
  readonly #defaultCurrency: string;

  private constructor(entries: readonly RateEntry[]) {
    this.entries = entries;
    const groups = new Map<string, Map<string, Map<string, RateEntry[]>>>();
    const currencyOfMarket = new Map<string, string>();
    for (const e of entries) {
      let byCategory = groups.get(e.market);
      if (!byCategory)
        groups.set(e.market, (byCategory = new Map<string, Map<string, RateEntry[]>>()));
      let byDate = byCategory.get(e.category);
      if (!byDate) byCategory.set(e.category, (byDate = new Map<string, RateEntry[]>()));
      let tiers = byDate.get(e.effectiveFrom);
      if (!tiers) byDate.set(e.effectiveFrom, (tiers = []));
      tiers.push(e);
      if (!currencyOfMarket.has(e.market)) currencyOfMarket.set(e.market, e.currency);
    }
    const index = new Map<string, (Version[] | undefined)[]>();
    for (const [market, byCategory] of groups) {
      const m: (Version[] | undefined)[] = RATE_CATEGORIES.map(() => undefined);
      for (const [category, byDate] of byCategory) {
        const versions = [...byDate.entries()]
          .map(([effectiveFrom, tiers]) => ({
            effectiveFrom,
            tiers: Object.freeze([...tiers].sort((a, b) => a.volumeFrom - b.volumeFrom)),
          }))
          .sort((a, b) => (a.effectiveFrom < b.effectiveFrom ? -1 : 1));
        m[RATE_CATEGORIES.indexOf(category as RateCategory)] = versions;
      }
      index.set(market, m);
    }
    this.#index = index;
    this.#currencyOfMarket = currencyOfMarket;
    this.#defaultCurrency = entries[0]?.currency ?? '';
  }

  /**
   * Validates rows (PRODUCT.md rate card CSV) and builds the lookup. Every problem names its line.
   * @see https://developers.facebook.com/docs/whatsapp/pricing#rates
   */
  static fromRows(rows: readonly RateCardRowText[]): RateCardResult {
    const problems: RateCardProblem[] = [];
    const entries: RateEntry[] = [];
    const lineOf = new Map<RateEntry, number>();
    for (const row of rows) {
      const before = problems.length;
      const fail = (message: string) => problems.push({ line: row.line, message });
      if (!isCalendarDate(row.effectiveFrom))
        fail(`effective_from "${row.effectiveFrom}" is not a date (YYYY-MM-DD)`);
      if (!isMarket(row.market))
        fail(`market "${row.market}" is not one of Meta's pricing markets (see docs/pricing.md)`);
      if (!isRateCategory(row.category)) fail(`category "${row.category}" is not a rate category`);
      if (!CURRENCY.test(row.currency))
        fail(`currency "${row.currency}" is not an ISO 4217 code such as USD`);
      const micros = parseDecimalMicros(row.rate);
      if (typeof micros === 'string') fail(`rate ${micros}`);
      const volumeFrom =
        row.volumeFrom === '' ? 0 : INTEGER.test(row.volumeFrom) ? Number(row.volumeFrom) : NaN;
      if (!Number.isSafeInteger(volumeFrom))
        fail(`volume_from "${row.volumeFrom}" is not a whole number of messages`);
      if (problems.length > before || typeof micros === 'string') continue;
      const entry: RateEntry = Object.freeze({
        effectiveFrom: row.effectiveFrom,
        market: row.market as Market,
        category: row.category as RateCategory,
        currency: row.currency,
        micros,
        volumeFrom,
      });
      entries.push(entry);
      lineOf.set(entry, row.line);
    }
    if (rows.length === 0) problems.push({ line: 1, message: 'the rate card has no rows' });
    // One row per tier, every tier group starting at 0, one currency per group.
    const groups = new Map<string, RateEntry[]>();
    for (const e of entries) {
      const key = `${e.effectiveFrom}\u0000${e.market}\u0000${e.category}`;
      const group = groups.get(key);
      if (group) group.push(e);
      else groups.set(key, [e]);
    }
    for (const group of groups.values()) {
      const first = group[0];
      if (first === undefined) continue;
      const seen = new Map<number, RateEntry>();
      for (const e of group) {
        const twin = seen.get(e.volumeFrom);
        if (twin)
          problems.push({
            line: lineOf.get(e) ?? 0,
            message: `duplicates line ${lineOf.get(twin) ?? 0} (${e.effectiveFrom}, ${e.market}, ${e.category}, volume_from ${e.volumeFrom})`,
          });
        else seen.set(e.volumeFrom, e);
        if (e.currency !== first.currency)
          problems.push({
            line: lineOf.get(e) ?? 0,
            message: `currency ${e.currency} differs from ${first.currency} on line ${lineOf.get(first) ?? 0} for the same market, category and date`,
          });
      }
      if (!seen.has(0))
        problems.push({
          line: lineOf.get(first) ?? 0,
          message: `volume tiers for ${first.market}, ${first.category} from ${first.effectiveFrom} need a row with volume_from 0`,
        });
    }
    if (problems.length > 0)
      return { ok: false, problems: [...problems].sort((a, b) => a.line - b.line) };
    return { ok: true, card: new RateCard(Object.freeze(entries)) };
  }

  /**
   * The row in force for a delivery on `localDate` (the latest `effective_from` on or before it)
   * and, among its volume tiers, the one with the largest `volume_from` not above
   * `chargedBefore` (PRC-4). Null when the card has no such rate: the message is unpriced.
   */
  rateFor(
    market: string,
    category: string,
    localDate: string,
    chargedBefore = 0,
  ): RateEntry | null {
    const versions = this.#index.get(market)?.[RATE_CATEGORIES.indexOf(category as RateCategory)];
    if (versions === undefined) return null;
    for (let i = versions.length - 1; i >= 0; i--) {
      const version = versions[i];
      if (version === undefined || version.effectiveFrom > localDate) continue;
      const tiers = version.tiers;
      for (let j = tiers.length - 1; j >= 0; j--) {
        const tier = tiers[j];
        if (tier !== undefined && tier.volumeFrom <= chargedBefore) return tier;
      }
      return null;
    }
    return null;
  }

  /** The currency a market is billed in on this card (free messages report it too). */
  currencyFor(market: string): string {
    return this.#currencyOfMarket.get(market) ?? this.#defaultCurrency;
  }
}
