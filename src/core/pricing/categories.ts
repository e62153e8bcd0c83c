// The closed vocabularies of pricing (WHATSAPP_RULES.md §9, PRODUCT.md usage log and rate card).

/** Template categories a usage log may name for a delivered template (absent for free-form). */
export const TEMPLATE_CATEGORIES = [
  'marketing',
  'utility',
  'authentication',
  'authentication_international',
  'marketing_lite',
] as const;
export type TemplateCategory = (typeof TEMPLATE_CATEGORIES)[number];

/** Categories a rate card row may price: one per billable unit of every era. */
export const RATE_CATEGORIES = [
  'notification',
  'user_initiated',
  'business_initiated',
  'marketing',
  'utility',
  'authentication',
  'authentication_international',
  'marketing_lite',
  'service',
] as const;
export type RateCategory = (typeof RATE_CATEGORIES)[number];

/**
 * FEP-4: in the conversation eras the free entry point window is a conversation of its own,
 * reported under Meta's origin name; it is never priced.
 */
export const REFERRAL_CONVERSION = 'referral_conversion';

/** The category a rated message reports: a rate category, or the FEP conversation's. */
export type RatedCategory = RateCategory | typeof REFERRAL_CONVERSION;

/** PRC-2, in FEP-4 precedence order (the first that applies wins). */
export const PRICING_TYPES = [
  'free_entry_point',
  'free_customer_service',
  'free_tier',
  'regular',
] as const;
export type PricingType = (typeof PRICING_TYPES)[number];

export const PRICING_MODELS = ['NBP', 'CBP', 'PMP'] as const;
export type PricingModel = (typeof PRICING_MODELS)[number];

/** FEP-1: how a user arrived through a free entry point. */
export const ENTRY_POINTS = ['ctwa', 'page_cta'] as const;
export type EntryPoint = (typeof ENTRY_POINTS)[number];

export function isTemplateCategory(value: string): value is TemplateCategory {
  return (TEMPLATE_CATEGORIES as readonly string[]).includes(value);
}

export function isRateCategory(value: string): value is RateCategory {
  return (RATE_CATEGORIES as readonly string[]).includes(value);
}

export function isEntryPoint(value: string): value is EntryPoint {
  return (ENTRY_POINTS as readonly string[]).includes(value);
}
