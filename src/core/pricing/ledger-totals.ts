// Month totals of rated messages: per (WABA, local month, category, currency), and per currency.
import type { RatedCategory } from './categories.ts';
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
  /** waba → month → category → currency → group: nested so no key string is built per message. */
  readonly #index = new Map<string, Map<string, Map<string, Map<string, Accumulator>>>>();

  add(rated: RatedMessage): void {
    let months = this.#index.get(rated.waba);
    if (months === undefined)
      this.#index.set(
        rated.waba,
        (months = new Map<string, Map<string, Map<string, Accumulator>>>()),
      );
    let categories = months.get(rated.month);
    if (categories === undefined)
      months.set(rated.month, (categories = new Map<string, Map<string, Accumulator>>()));
    let currencies = categories.get(rated.category);
    if (currencies === undefined)
      categories.set(rated.category, (currencies = new Map<string, Accumulator>()));
    let acc = currencies.get(rated.currency);
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
      currencies.set(rated.currency, acc);
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
