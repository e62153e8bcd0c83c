// What a template of each category would cost if delivered now to one contact on one number:
// the live ledger's own rating of a message that does not exist yet (eligibility endpoint).
import { DEFAULT_TIME_ZONE } from '../../core/pricing/local-calendar.ts';
import { formatMicros } from '../../core/pricing/money.ts';
import type { PricingType, TemplateCategory } from '../../core/pricing/categories.ts';
import type { PairKey, UsageRecord } from '../../ports/billing-store.ts';
import type { Channel, Contact, Store } from '../../ports/store.ts';
import { createCountryResolver } from '../pricing/recipient-country.ts';
import {
  applyMonth,
  calendarFor,
  MonthCounters,
  pairReplayRows,
  ratePairs,
} from './ledger-rating.ts';
import { wabaOf } from './ledger.ts';
import { workspaceRateCard } from './rate-cards.ts';

export interface TemplatePrice {
  /** Decimal string in the rate card's currency ("0.0529"). */
  readonly amount: string;
  readonly currency: string;
  readonly pricingType: PricingType;
}

/** The template categories the eligibility endpoint prices. */
export const QUOTED_CATEGORIES = ['marketing', 'utility', 'authentication'] as const;

export type TemplateCategoryPrices = Record<
  (typeof QUOTED_CATEGORIES)[number],
  TemplatePrice | null
>;

const countryOf = createCountryResolver(10_000);
/** Sorts after every stored id: the quoted message comes after everything of the same instant. */
const LAST_ID = '\uffff';

/**
 * The price of a marketing, utility and authentication template delivered now (PMP-1..5,
 * S26-2..3, FEP-4, CSW windows, the month's volume tier), or null where the rate card has no
 * rate or the number has no market (PRC-5: unpriced, never 0).
 * @see https://developers.facebook.com/docs/whatsapp/pricing
 */
export async function templatePrices(
  store: Store,
  channel: Channel,
  contact: Contact,
  now: number,
): Promise<TemplateCategoryPrices> {
  const waba = wabaOf(channel);
  const workspaceId = channel.workspaceId;
  const account = await store.billing.account(workspaceId, waba);
  const zone = account?.timeZone ?? DEFAULT_TIME_ZONE;
  const calendar = calendarFor(zone);
  const { card } = await workspaceRateCard(store, workspaceId);
  const pair: PairKey = { workspaceId, waba, channelId: channel.id, contact: `+${contact.waId}` };
  const month = calendar.dayOf(now).month;
  const probe = (templateCategory: TemplateCategory | null): UsageRecord => ({
    id: LAST_ID,
    workspaceId,
    waba,
    channelId: channel.id,
    contactId: contact.id,
    contact: pair.contact,
    type: 'delivered',
    at: now,
    month,
    messageId: 'quote',
    entryPoint: null,
    templateCategory,
    rating: null,
    providerPricing: null,
    providerConversation: null,
    createdAt: now,
    updatedAt: now,
  });
  const history = (
    await pairReplayRows(store.billing, pair, { at: now, id: LAST_ID }, calendar, [probe(null)])
  ).slice(0, -1);
  const stored = await store.billing.counters(workspaceId, waba, [month]);
  const prices: Partial<Record<string, TemplatePrice | null>> = {};
  for (const category of QUOTED_CATEGORIES) {
    const outcome = ratePairs([...history, probe(category)], {
      card,
      countryOf,
      zone,
    }).get(LAST_ID);
    if (outcome === undefined) {
      prices[category] = null;
      continue;
    }
    const rating = applyMonth(outcome, MonthCounters.from(stored), card, (conversation) => {
      const opener = history.find((r) => r.rating?.pair?.conversation === conversation);
      return opener?.rating?.figures?.pricingType;
    });
    const figures = rating.figures;
    prices[category] = figures
      ? {
          amount: formatMicros(figures.amountMicros),
          currency: figures.currency,
          pricingType: figures.pricingType,
        }
      : null;
  }
  return prices as TemplateCategoryPrices;
}
