// Month totals of rated messages: per (WABA, local month, category, currency), and per currency.
import { RATE_CATEGORIES, REFERRAL_CONVERSION, type RatedCategory } from './categories.ts';

const RATED_CATEGORY_NAMES: readonly RatedCategory[] = [...RATE_CATEGORIES, REFERRAL_CONVERSION];
import type { RatedMessage } from './rating-engine.ts';

export interface MonthTotal {
  readonly waba: string;
  /** YYYY-MM in the WABA's zone. */
  readonly month: string;
  readonly category: RatedCategory;
  readonly currency: string;
  readonly amountMicros: number;
  /** Delivered messages rated in this group. */
  readonly messages: number;
  /** Of which carried a charge. */
  readonly billable: number;
}

export interface CurrencyTotal {
  readonly currency: string;
  readonly amountMicros: number;
}

interface Accumulator {
  waba: string;
  month: string;
  category: RatedCategory;
  currency: string;
  amountMicros: number;
  messages: number;
  billable: number;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Sums rated messages. Its size is bounded by WABAs × months × categories, not by messages.
 * Currency is part of the group so a card with several currencies never adds them together.
 */
export class LedgerTotals {
  readonly #groups: Accumulator[] = [];
  /**
   * waba → month → groups by category position (RATED_CATEGORY_NAMES), each a short list by
   * currency: two hash lookups per message, none for the last (waba, month) seen again.
   */
  readonly #index = new Map<string, Map<string, Accumulator[][]>>();
  #lastWaba = '';
  #lastMonth = '';
  #lastGroups: Accumulator[][] | null = null;

  add(rated: RatedMessage): void {
    let groups = this.#lastGroups;
    if (groups === null || rated.waba !== this.#lastWaba || rated.month !== this.#lastMonth) {
      let months = this.#index.get(rated.waba);
      if (months === undefined) {
        months = new Map<string, Accumulator[][]>();
        this.#index.set(rated.waba, months);
      }
      let found = months.get(rated.month);
      if (found === undefined) {
        found = [];
        months.set(rated.month, found);
      }
      groups = found;
      this.#lastWaba = rated.waba;
      this.#lastMonth = rated.month;
      this.#lastGroups = found;
    }
    const c = RATED_CATEGORY_NAMES.indexOf(rated.category);
    let byCurrency = groups[c];
    if (byCurrency === undefined) groups[c] = byCurrency = [];
    let acc: Accumulator | undefined;
    for (const a of byCurrency) if (a.currency === rated.currency) acc = a;
    if (acc === undefined) {
      acc = {
        waba: rated.waba,
        month: rated.month,
        category: rated.category,
        currency: rated.currency,
        amountMicros: 0,
        messages: 0,
        billable: 0,
      };
      byCurrency.push(acc);
      this.#groups.push(acc);
    }
    acc.amountMicros += rated.amountMicros;
    acc.messages++;
    if (rated.billable) acc.billable++;
  }

  /** One line per (waba, month, category, currency), sorted in that order. */
  monthTotals(): MonthTotal[] {
    return this.#groups
      .map((a) => ({ ...a }))
      .sort(
        (a, b) =>
          compare(a.waba, b.waba) ||
          compare(a.month, b.month) ||
          compare(a.category, b.category) ||
          compare(a.currency, b.currency),
      );
  }

  /** One line per currency, sorted by currency. */
  currencyTotals(): CurrencyTotal[] {
    const sums = new Map<string, number>();
    for (const a of this.#groups)
      sums.set(a.currency, (sums.get(a.currency) ?? 0) + a.amountMicros);
    return [...sums.entries()]
      .map(([currency, amountMicros]) => ({ currency, amountMicros }))
      .sort((a, b) => compare(a.currency, b.currency));
  }
}
