// The pricing eras as data (WHATSAPP_RULES.md §9): when Meta changes a rule we add an era, we never edit one.
import type { PricingModel, RateCategory } from './categories.ts';

export const ERA_IDS = ['nbp', 'cbp2022', 'cbp2023', 'cbp2024', 'pmp2025', 'pmp2026'] as const;
export type EraId = (typeof ERA_IDS)[number];

/** A monthly allowance of free billable units per WABA (CBP-3, CAT-5). */
export interface FreeTier {
  /** Units free per WABA per local month, counted in the order they are opened or delivered. */
  readonly allowance: number;
  /** Which categories draw on the allowance; `all` for every category of the era. */
  readonly categories: 'all' | readonly RateCategory[];
}

export interface Era {
  readonly id: EraId;
  /** First local date (YYYY-MM-DD, in the WABA's zone) on which the era is in force. */
  readonly startsOn: string;
  readonly pricingModel: PricingModel;
  /**
   * What carries a charge: every delivered message (NBP-1, PMP-1), or only the message that
   * opens a conversation (PRC-1).
   */
  readonly unit: 'message' | 'conversation';
  /**
   * How a delivered message is categorised: every template as a `notification` (NBP), the
   * conversation's initiator (CBP-2), or the template's own category with free-form as
   * `service` (CAT-1, PMP-1).
   */
  readonly categories: 'notification' | 'initiation' | 'template';
  /** FEP-3: hours an FEP window lasts from the reply that opens it; null where FEP did not exist. */
  readonly fepHours: number | null;
  /** Categories that are free whatever the window (NBP free-form, SVC-1, PMP-3): `free_customer_service`. */
  readonly alwaysFree: readonly RateCategory[];
  /** Categories free while the customer service window is open (NBP-2, PMP-2): `free_customer_service`. */
  readonly freeInCareWindow: readonly RateCategory[];
  readonly freeTier: FreeTier | null;
  /** PMP-5/PRC-4: rate card volume tiers apply (counted per WABA, local month, market, category). */
  readonly volumeTiers: boolean;
}

/**
 * The era table. Start dates are local dates in the WABA's zone.
 * @see https://developers.facebook.com/docs/whatsapp/pricing
 * @see https://developers.facebook.com/docs/whatsapp/pricing/conversation-based-pricing
 */
export const ERAS: readonly Era[] = [
  {
    id: 'nbp',
    startsOn: '0000-01-01',
    pricingModel: 'NBP',
    unit: 'message',
    categories: 'notification',
    fepHours: null,
    // NBP-1/NBP-2: only templates outside the window are billed; everything inside it is free.
    alwaysFree: ['service'],
    freeInCareWindow: ['notification'],
    freeTier: null,
    volumeTiers: false,
  },
  {
    id: 'cbp2022',
    startsOn: '2022-02-01',
    pricingModel: 'CBP',
    unit: 'conversation',
    categories: 'initiation',
    // FEP-3: in 2022 the free entry point conversation was an ordinary 24-hour conversation.
    fepHours: 24,
    alwaysFree: [],
    freeInCareWindow: [],
    freeTier: { allowance: 1000, categories: 'all' },
    volumeTiers: false,
  },
  {
    id: 'cbp2023',
    startsOn: '2023-06-01',
    pricingModel: 'CBP',
    unit: 'conversation',
    categories: 'template',
    fepHours: 72,
    alwaysFree: [],
    freeInCareWindow: [],
    freeTier: { allowance: 1000, categories: ['service'] },
    volumeTiers: false,
  },
  {
    id: 'cbp2024',
    startsOn: '2024-11-01',
    pricingModel: 'CBP',
    unit: 'conversation',
    categories: 'template',
    fepHours: 72,
    alwaysFree: ['service'],
    freeInCareWindow: [],
    freeTier: null,
    volumeTiers: false,
  },
  {
    id: 'pmp2025',
    startsOn: '2025-07-01',
    pricingModel: 'PMP',
    unit: 'message',
    categories: 'template',
    fepHours: 72,
    alwaysFree: ['service'],
    freeInCareWindow: ['utility'],
    freeTier: null,
    volumeTiers: true,
  },
  {
    id: 'pmp2026',
    startsOn: '2026-10-01',
    pricingModel: 'PMP',
    unit: 'message',
    categories: 'template',
    fepHours: 72,
    alwaysFree: [],
    freeInCareWindow: [],
    // S26: no free monthly allowance is documented; if Meta publishes one it goes here.
    freeTier: null,
    volumeTiers: true,
  },
];

/** The era in force on a local date (YYYY-MM-DD); `eras` must be sorted by `startsOn`. */
export function eraOn(localDate: string, eras: readonly Era[] = ERAS): Era {
  let found = eras[0];
  for (const era of eras) {
    if (era.startsOn <= localDate) found = era;
    else break;
  }
  if (found === undefined) throw new Error('the era table is empty');
  return found;
}
