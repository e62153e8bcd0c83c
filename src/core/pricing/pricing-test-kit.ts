// Test kit for the pricing core: a small rate card and a scenario driver with readable times.
import { RateCard } from './rate-card.ts';
import {
  RatingEngine,
  type RatedMessage,
  type RatingProblem,
  type RatingEngineOptions,
} from './rating-engine.ts';
import type { EntryPoint, TemplateCategory } from './categories.ts';

/** Builds a card from `effective_from,market,category,currency,rate,volume_from` lines (no quoting). */
export function cardFrom(text: string): RateCard {
  const lines = text
    .trim()
    .split('\n')
    .map((l) => l.trim());
  const rows = lines.slice(1).map((l, i) => {
    const [
      effectiveFrom = '',
      market = '',
      category = '',
      currency = '',
      rate = '',
      volumeFrom = '',
    ] = l.split(',');
    return { line: i + 2, effectiveFrom, market, category, currency, rate, volumeFrom };
  });
  const result = RateCard.fromRows(rows);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.card;
}

/** Rates chosen so every era and category has its own figure (USD, illustrative). */
export const TEST_CARD = cardFrom(`
effective_from,market,category,currency,rate,volume_from
2018-01-01,United Kingdom,notification,USD,0.0400,
2022-02-01,United Kingdom,user_initiated,USD,0.0300,
2022-02-01,United Kingdom,business_initiated,USD,0.0500,
2023-06-01,United Kingdom,marketing,USD,0.0700,
2023-06-01,United Kingdom,utility,USD,0.0300,
2023-06-01,United Kingdom,authentication,USD,0.0350,
2023-06-01,United Kingdom,service,USD,0.0380,
2024-06-01,United Kingdom,authentication_international,USD,0.0600,
2025-07-01,United Kingdom,marketing,USD,0.0500,
2025-07-01,United Kingdom,utility,USD,0.0200,
2025-07-01,United Kingdom,utility,USD,0.0150,3
2025-07-01,United Kingdom,utility,USD,0.0100,5
2025-07-01,United Kingdom,authentication,USD,0.0300,
2025-07-01,United Kingdom,authentication,USD,0.0250,3
2025-07-01,United Kingdom,marketing_lite,USD,0.0450,
2026-10-01,United Kingdom,service,USD,0.0100,
2023-06-01,India,marketing,USD,0.0100,
2025-07-01,India,marketing,USD,0.0110,
2025-07-01,India,utility,USD,0.0014,
2025-07-01,India,utility,USD,0.0010,3
2025-07-01,North America,marketing,USD,0.0250,
2025-07-01,Other,marketing,USD,0.0600,
`);

export const UK = '+447700900123';

/** Country by calling code, enough for the tests (the app resolves with libphonenumber-js). */
export function testCountryOf(contact: string): string | null {
  if (contact.startsWith('+44')) return 'GB';
  if (contact.startsWith('+91')) return 'IN';
  if (contact.startsWith('+1416')) return 'CA';
  if (contact.startsWith('+1')) return 'US';
  if (contact.startsWith('+49')) return 'DE';
  if (contact.startsWith('+55')) return 'BR';
  if (contact.startsWith('+98')) return 'IR';
  if (contact.startsWith('+263')) return 'ZW';
  return null;
}

export interface Who {
  readonly waba?: string;
  readonly channel?: string;
  readonly contact?: string;
  readonly tz?: string;
}

/** Drives one engine with ISO times; delivered messages are numbered m1, m2 … unless named. */
export class Scenario {
  readonly engine: RatingEngine;
  #n = 0;

  constructor(options: Partial<RatingEngineOptions> = {}) {
    this.engine = new RatingEngine({ rates: TEST_CARD, countryOf: testCountryOf, ...options });
  }

  /** A user message; `entryPoint` makes it a free entry point (FEP-1). */
  inbound(at: string, who: Who & { entryPoint?: EntryPoint } = {}): void {
    const r = this.engine.rate({
      type: 'inbound',
      at: Date.parse(at),
      waba: who.waba ?? 'W1',
      channel: who.channel ?? 'C1',
      contact: who.contact ?? UK,
      entryPoint: who.entryPoint,
      tz: who.tz,
    });
    if (r !== null) throw new Error(`inbound at ${at} was refused: ${JSON.stringify(r)}`);
  }

  /** A delivered message (free-form without `category`), expected to be rated. */
  deliver(
    at: string,
    category?: TemplateCategory,
    who: Who & { message?: string } = {},
  ): RatedMessage {
    const r = this.try(at, category, who);
    if (r.kind !== 'rated') throw new Error(`delivery at ${at} was not rated: ${r.detail}`);
    return r;
  }

  /** A delivered message whose outcome may be a problem. */
  try(
    at: string,
    category?: TemplateCategory,
    who: Who & { message?: string } = {},
  ): RatedMessage | RatingProblem {
    this.#n++;
    const r = this.engine.rate({
      type: 'delivered',
      at: Date.parse(at),
      waba: who.waba ?? 'W1',
      channel: who.channel ?? 'C1',
      contact: who.contact ?? UK,
      message: who.message ?? `m${this.#n}`,
      templateCategory: category,
      tz: who.tz,
    });
    if (r === null) throw new Error('a delivered event must be answered');
    return r;
  }
}

/** The line's money as a plain summary for compact assertions. */
export function brief(r: RatedMessage): string {
  return `${r.era} ${r.category} ${r.pricingType} ${r.billable ? 'billable' : 'free'} ${r.amountMicros}`;
}
